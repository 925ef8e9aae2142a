"use client";

import { fieldErrors, FormMessage, SubmitButton, TextField, useFormSubmit } from "@/components/form";
import { createEndpointAction } from "./actions";

export function AddEndpointForm() {
  const { state, pending, onSubmit } = useFormSubmit(createEndpointAction, { resetOnSuccess: true });
  const validation = state?.ok ? state.data.validation : null;
  return (
    <form onSubmit={onSubmit} className="space-y-4" noValidate>
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
      <FormMessage state={state && !state.ok ? state : null} />
      {validation ? (
        <p role="status" className={`rounded-md px-3 py-2 text-sm ${validation.ok ? "bg-green-50 text-green-800" : "bg-amber-50 text-amber-900"}`}>
          {validation.ok
            ? "Endpoint added and validated: it is active and will receive alerts."
            : `Endpoint added, but validation failed: ${validation.reason}. Fix the receiver and press Validate again.`}
        </p>
      ) : null}
      <SubmitButton pending={pending} pendingLabel="Adding and validating…">
        Add endpoint
      </SubmitButton>
    </form>
  );
}
