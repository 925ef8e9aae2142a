"use client";

import { buttonClass } from "@/components/ui";

// Anything unexpected ends here: a plain apology and a way to retry, never a stack trace.
export default function ErrorPage({ reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <main className="mx-auto max-w-md px-4 py-16 text-center">
      <h1 className="text-xl font-semibold">Something went wrong on our side</h1>
      <p className="mt-2 text-sm text-slate-600">Nothing you entered was lost. Try again; if it keeps happening, tell your mon1tor admin.</p>
      <button type="button" className={`${buttonClass("primary")} mt-6`} onClick={reset}>
        Try again
      </button>
    </main>
  );
}
