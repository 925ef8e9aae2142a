import Link from "next/link";
import { currentUser } from "@/lib/auth/context";
import { AppError } from "@/lib/errors";
import { findUsableInvite, type InviteView } from "@/lib/teams/invites";
import { SignUpForm } from "../../signup/signup-form";
import { AcceptInviteForm } from "./accept-invite-form";

export const metadata = { title: "Join a team" };

export default async function InvitePage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  let invite: InviteView;
  try {
    invite = await findUsableInvite(token);
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return (
      <>
        <h1 className="mb-3 text-lg font-semibold">This invite can’t be used</h1>
        <p role="alert" className="text-sm text-slate-700">
          {error.message}
        </p>
      </>
    );
  }
  const signedIn = await currentUser();
  return (
    <>
      <h1 className="mb-1 text-lg font-semibold">Join {invite.team.name}</h1>
      <p className="mb-5 text-sm text-slate-600">
        You are invited as <strong>{invite.role}</strong>.
      </p>
      {signedIn ? (
        <AcceptInviteForm token={token} email={signedIn.user.email} />
      ) : (
        <>
          <SignUpForm invite={token} />
          <p className="mt-5 text-center text-sm text-slate-600">
            Already have an account?{" "}
            <Link className="font-medium text-brand-600 underline" href={`/signin?callbackUrl=/invite/${encodeURIComponent(token)}`}>
              Sign in to join
            </Link>
          </p>
        </>
      )}
    </>
  );
}
