import Link from "next/link";
import { redirect } from "next/navigation";
import { currentUser } from "@/lib/auth/context";
import { signupOpen } from "@/lib/teams/accounts";
import { SignInForm } from "./signin-form";

export const metadata = { title: "Sign in" };

/** Only same-site paths: an open redirect would let a link send people elsewhere after sign-in. */
function safeCallback(value: string | string[] | undefined) {
  const url = typeof value === "string" ? value : "/";
  try {
    const parsed = new URL(url, "http://mon1tor.local");
    return parsed.origin === "http://mon1tor.local" ? `${parsed.pathname}${parsed.search}` : "/";
  } catch {
    return "/";
  }
}

export default async function SignInPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const callbackUrl = safeCallback((await searchParams).callbackUrl);
  if (await currentUser()) redirect(callbackUrl);
  return (
    <>
      <h1 className="mb-5 text-lg font-semibold">Sign in to mon1tor</h1>
      <SignInForm callbackUrl={callbackUrl} />
      {(await signupOpen()) ? (
        <p className="mt-5 text-center text-sm text-slate-600">
          New here?{" "}
          <Link className="font-medium text-brand-600 underline" href="/signup">
            Create an account
          </Link>
        </p>
      ) : null}
    </>
  );
}
