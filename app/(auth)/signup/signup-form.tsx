"use client";

import { signIn } from "next-auth/react";
import { useRouter } from "next/navigation";
import { fieldErrors, FormMessage, SubmitButton, TextField, useFormSubmit } from "@/components/form";
import { signUpAction } from "../actions";

export function SignUpForm({ invite }: { invite?: string }) {
  const router = useRouter();
  const { state, pending, onSubmit } = useFormSubmit(async (form) => {
    const result = await signUpAction(form);
    if (!result.ok) return result;
    const signedIn = await signIn("credentials", {
      email: String(form.get("email")),
      password: String(form.get("password")),
      redirect: false,
    });
    if (signedIn?.error) {
      return { ok: false as const, code: "internal" as const, message: `Your account was created, but signing in failed: ${signedIn.error}` };
    }
    router.push("/");
    router.refresh();
    return result;
  });

  return (
    <form onSubmit={onSubmit} className="space-y-4" noValidate>
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
      {invite ? null : <TextField label="Team name" name="teamName" required errors={fieldErrors(state, "teamName")} />}
      <FormMessage state={state} />
      <SubmitButton pending={pending} pendingLabel="Creating account…" className="w-full">
        Create account
      </SubmitButton>
    </form>
  );
}
