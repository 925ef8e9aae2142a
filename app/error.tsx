"use client";

import { buttonClass } from "@/components/ui";

// Must match DATABASE_UNAVAILABLE_DIGEST in lib/page.ts (a client file cannot import server-only code).
const DATABASE_UNAVAILABLE_DIGEST = "MON1TOR_DATABASE_UNAVAILABLE";

// Anything unexpected ends here: a plain apology and a way to retry, never a stack trace.
export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  const databaseDown = error.digest === DATABASE_UNAVAILABLE_DIGEST;
  return (
    <main className="mx-auto max-w-md px-4 py-16 text-center">
      <h1 className="text-xl font-semibold">{databaseDown ? "The database is unavailable" : "Something went wrong on our side"}</h1>
      <p className="mt-2 text-sm text-slate-600">
        {databaseDown
          ? "mon1tor cannot reach its database right now, so this page cannot be shown. Alerts already accepted are safe and will be delivered when it is back. Try again in a few seconds."
          : "Nothing you entered was lost. Try again; if it keeps happening, tell your mon1tor admin."}
      </p>
      <button type="button" className={`${buttonClass("primary")} mt-6`} onClick={reset}>
        Try again
      </button>
    </main>
  );
}
