"use client";

import { ConfirmButton } from "@/components/confirm-button";
import { CopyButton } from "@/components/copy-button";
import { Checkboxes, fieldErrors, FormMessage, SubmitButton, TextField, useAction, useFormSubmit } from "@/components/form";
import { apiKeyPermissionLabels } from "@/lib/api-keys/permissions";
import { createApiKeyAction, revokeApiKeyAction } from "./actions";

export function CreateApiKeyForm() {
  const submit = (form: FormData) => createApiKeyAction({ name: String(form.get("name") ?? ""), permissions: form.getAll("permissions").map(String) });
  const { state, pending, onSubmit } = useFormSubmit(submit, { resetOnSuccess: true });
  return (
    <form onSubmit={onSubmit} className="space-y-4" noValidate>
      <div className="flex items-end gap-3">
        <TextField label="Key name" name="name" placeholder="Production monitors" errors={fieldErrors(state, "name")} className="grow" />
        <SubmitButton pending={pending} pendingLabel="Creating…" className="mb-6">
          Create key
        </SubmitButton>
      </div>
      <Checkboxes
        legend="Permissions"
        name="permissions"
        options={Object.entries(apiKeyPermissionLabels)}
        checked={["alerts:send"]}
        errors={fieldErrors(state, "permissions")}
      />
      <FormMessage state={state && !state.ok ? state : null} />
      {state?.ok ? (
        <div role="status" className="rounded-md bg-green-50 p-3 text-sm">
          <label htmlFor="new-api-key" className="block font-medium text-green-900">
            New API key (shown once: copy it now)
          </label>
          <div className="mt-1 flex gap-2">
            <input id="new-api-key" readOnly value={state.data.key} className="w-full rounded border border-green-200 bg-white px-2 py-1 font-mono text-xs" />
            <CopyButton value={state.data.key} label="Copy API key" />
          </div>
        </div>
      ) : null}
    </form>
  );
}

export function RevokeApiKeyButton({ apiKeyId, name }: { apiKeyId: string; name: string }) {
  const revoke = useAction<null>();
  return (
    <span className="inline-flex flex-col items-end gap-1">
      <ConfirmButton
        label="Revoke"
        question={`Revoke “${name}”? Requests using it will get 403.`}
        confirmLabel="Revoke key"
        pendingLabel="Revoking…"
        pending={revoke.pending}
        onConfirm={() => revoke.run(() => revokeApiKeyAction({ apiKeyId }))}
      />
      {revoke.result && !revoke.result.ok ? <FormMessage state={revoke.result} /> : null}
    </span>
  );
}
