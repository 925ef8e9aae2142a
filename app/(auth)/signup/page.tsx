import Link from "next/link";
import { redirect } from "next/navigation";
import { currentUser } from "@/lib/auth/context";
import { signupOpen } from "@/lib/teams/accounts";
import { SignUpForm } from "./signup-form";

export const metadata = { title: "Sign up" };

export default async function SignUpPage() {
  if (await currentUser()) redirect("/");
  const open = await signupOpen();
  return (
    <>
      <h1 className="mb-1 text-lg font-semibold">Create your mon1tor account</h1>
      {open ? (
        <>
          <p className="mb-5 text-sm text-slate-600">You will be the owner of a new team.</p>
          <SignUpForm />
        </>
      ) : (
        <p role="alert" className="my-4 text-sm text-slate-700">
          Sign-up on this mon1tor is by invitation only. Ask a team owner or admin for an invite link.
        </p>
      )}
      <p className="mt-5 text-center text-sm text-slate-600">
        Already have an account?{" "}
        <Link className="font-medium text-brand-600 underline" href="/signin">
          Sign in
        </Link>
      </p>
    </>
  );
}
