"use client";

import { useRouter } from "next/navigation";
import { FormMessage, SubmitButton, useFormSubmit } from "@/components/form";
import { acceptInviteAction } from "../../actions";

export function AcceptInviteForm({ token, email }: { token: string; email: string }) {
  const router = useRouter();
  const { state, pending, onSubmit } = useFormSubmit(async (form) => {
    const result = await acceptInviteAction(form);
    if (result.ok) {
      router.push("/settings/team");
      router.refresh();
    }
    return result;
  });
  return (
    <form onSubmit={onSubmit} className="space-y-4">
      <input type="hidden" name="token" value={token} />
      <p className="text-sm text-slate-600">Signed in as {email}.</p>
      <FormMessage state={state} />
      <SubmitButton pending={pending} pendingLabel="Joining…" className="w-full">
        Join team
      </SubmitButton>
    </form>
  );
}
