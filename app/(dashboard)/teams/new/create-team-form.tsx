"use client";

import { useRouter } from "next/navigation";
import { fieldErrors, FormMessage, SubmitButton, TextField, useFormSubmit } from "@/components/form";
import { createTeamAction } from "../../actions";

export function CreateTeamForm() {
  const router = useRouter();
  const { state, pending, onSubmit } = useFormSubmit(async (form) => {
    const result = await createTeamAction(form);
    if (result.ok) {
      router.push("/settings/team");
      router.refresh();
    }
    return result;
  });
  return (
    <form onSubmit={onSubmit} className="space-y-4" noValidate>
      <TextField label="Team name" name="name" required errors={fieldErrors(state, "name")} />
      <FormMessage state={state} />
      <SubmitButton pending={pending} pendingLabel="Creating team…">
        Create team
      </SubmitButton>
    </form>
  );
}
