"use client";

import { useRouter } from "next/navigation";
import { useActionState } from "react";
import { fieldErrors, FormMessage, SubmitButton, TextField } from "@/components/form";
import type { FormState } from "@/lib/actions/define-action";
import { createTeamAction } from "../../actions";

export function CreateTeamForm() {
  const router = useRouter();
  const [state, formAction] = useActionState(async (_previous: FormState<{ teamId: string }>, form: FormData) => {
    const result = await createTeamAction(form);
    if (result.ok) {
      router.push("/team");
      router.refresh();
    }
    return result;
  }, null);
  return (
    <form action={formAction} className="space-y-4">
      <TextField label="Team name" name="name" required errors={fieldErrors(state, "name")} />
      <FormMessage state={state} />
      <SubmitButton pendingLabel="Creating team…">Create team</SubmitButton>
    </form>
  );
}
