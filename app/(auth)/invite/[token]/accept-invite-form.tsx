"use client";

import { useRouter } from "next/navigation";
import { useActionState } from "react";
import { FormMessage, SubmitButton } from "@/components/form";
import type { FormState } from "@/lib/actions/define-action";
import { acceptInviteAction } from "../../actions";

export function AcceptInviteForm({ token, email }: { token: string; email: string }) {
  const router = useRouter();
  const [state, formAction] = useActionState(async (_previous: FormState<{ teamId: string }>, form: FormData) => {
    const result = await acceptInviteAction(form);
    if (result.ok) router.push("/team");
    return result;
  }, null);
  return (
    <form action={formAction} className="space-y-4">
      <input type="hidden" name="token" value={token} />
      <p className="text-sm text-slate-600">Signed in as {email}.</p>
      <FormMessage state={state} />
      <SubmitButton pendingLabel="Joining…" className="w-full">
        Join team
      </SubmitButton>
    </form>
  );
}
