"use client";

import { signIn } from "next-auth/react";
import { useRouter } from "next/navigation";
import { useActionState } from "react";
import { fieldErrors, FormMessage, SubmitButton, TextField } from "@/components/form";
import type { ActionResult, FormState } from "@/lib/actions/define-action";
import { signUpAction } from "../actions";

type Result = FormState<{ teamId: string }>;

export function SignUpForm({ invite }: { invite?: string }) {
  const router = useRouter();
  const [state, formAction] = useActionState(async (_previous: Result, form: FormData): Promise<Result> => {
    const result = await signUpAction(form);
    if (!result.ok) return result;
    const signedIn = await signIn("credentials", {
      email: String(form.get("email")),
      password: String(form.get("password")),
      redirect: false,
    });
    if (signedIn?.error) {
      return { ok: false, code: "internal", message: `Your account was created, but signing in failed: ${signedIn.error}` } satisfies ActionResult<never>;
    }
    router.push("/");
    router.refresh();
    return result;
  }, null);

  return (
    <form action={formAction} className="space-y-4" noValidate>
      {invite ? <input type="hidden" name="invite" value={invite} /> : null}
      <TextField label="Your name" name="name" autoComplete="name" required errors={fieldErrors(state, "name")} />
      <TextField label="Email" name="email" type="email" autoComplete="email" required errors={fieldErrors(state, "email")} />
      <TextField
        label="Password"
        name="password"
        type="password"
        autoComplete="new-password"
        required
        hint="At least 10 characters."
        errors={fieldErrors(state, "password")}
      />
      {invite ? null : (
        <TextField label="Team name" name="teamName" required errors={fieldErrors(state, "teamName")} />
      )}
      <FormMessage state={state} />
      <SubmitButton pendingLabel="Creating account…" className="w-full">
        Create account
      </SubmitButton>
    </form>
  );
}
