"use client";

import { useActionState, useRef } from "react";
import { fieldErrors, FormMessage, SubmitButton, TextField } from "@/components/form";
import type { FormState } from "@/lib/actions/define-action";
import type { ValidationOutcome } from "@/lib/webhooks/validate";
import { createEndpointAction } from "./actions";

type Result = FormState<{ endpointId: string; validation: ValidationOutcome }>;

export function AddEndpointForm() {
  const formRef = useRef<HTMLFormElement>(null);
  const [state, formAction] = useActionState(async (_previous: Result, form: FormData): Promise<Result> => {
    const result = await createEndpointAction(form);
    if (result.ok) formRef.current?.reset();
    return result;
  }, null);
  const success = state?.ok
    ? state.data.validation.ok
      ? "Endpoint added and validated: it is active and will receive alerts."
      : `Endpoint added, but validation failed: ${state.data.validation.reason}. Fix the receiver and press Validate again.`
    : undefined;
  return (
    <form ref={formRef} action={formAction} className="space-y-4" noValidate>
      <TextField
        label="Endpoint URL"
        name="url"
        type="url"
        inputMode="url"
        placeholder="https://www.example.com/webhook/mon1tor"
        hint="We validate it by calling this URL with a token appended as one more path segment."
        errors={fieldErrors(state, "url")}
        required
      />
      <TextField label="Description (optional)" name="description" errors={fieldErrors(state, "description")} maxLength={500} />
      <FormMessage state={state && !state.ok && !state.fieldErrors ? state : null} />
      {success ? (
        <p role="status" className={`rounded-md px-3 py-2 text-sm ${state?.ok && state.data.validation.ok ? "bg-green-50 text-green-800" : "bg-amber-50 text-amber-900"}`}>
          {success}
        </p>
      ) : null}
      <SubmitButton pendingLabel="Adding and validating…">Add endpoint</SubmitButton>
    </form>
  );
}
