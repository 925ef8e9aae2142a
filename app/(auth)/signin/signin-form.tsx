"use client";

import { signIn } from "next-auth/react";
import { useRouter } from "next/navigation";
import { useActionState } from "react";
import { FormMessage, SubmitButton, TextField } from "@/components/form";
import type { FormState } from "@/lib/actions/define-action";

export function SignInForm({ callbackUrl }: { callbackUrl: string }) {
  const router = useRouter();
  const [state, formAction] = useActionState(async (_previous: FormState, form: FormData): Promise<FormState> => {
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
  }, null);

  return (
    <form action={formAction} className="space-y-4">
      <TextField label="Email" name="email" type="email" autoComplete="email" required />
      <TextField label="Password" name="password" type="password" autoComplete="current-password" required />
      <FormMessage state={state} />
      <SubmitButton pendingLabel="Signing in…" className="w-full">
        Sign in
      </SubmitButton>
    </form>
  );
}
