"use client";

import { signIn } from "next-auth/react";
import { useRouter } from "next/navigation";
import { FormMessage, SubmitButton, TextField, useFormSubmit } from "@/components/form";
import type { ActionResult } from "@/lib/actions/define-action";

export function SignInForm({ callbackUrl }: { callbackUrl: string }) {
  const router = useRouter();
  const { state, pending, onSubmit } = useFormSubmit(async (form): Promise<ActionResult<null>> => {
    const result = await signIn("credentials", {
      email: String(form.get("email") ?? ""),
      password: String(form.get("password") ?? ""),
      redirect: false,
    });
    if (!result || result.error) {
      const message = result?.error && result.error !== "CredentialsSignin" ? result.error : "Wrong email or password.";
      return { ok: false, code: "unauthorized", message };
    }
    router.push(callbackUrl);
    router.refresh();
    return { ok: true, data: null };
  });

  return (
    <form onSubmit={onSubmit} className="space-y-4">
      <TextField label="Email" name="email" type="email" autoComplete="email" required />
      <TextField label="Password" name="password" type="password" autoComplete="current-password" required />
      <FormMessage state={state} />
      <SubmitButton pending={pending} pendingLabel="Signing in…" className="w-full">
        Sign in
      </SubmitButton>
    </form>
  );
}
