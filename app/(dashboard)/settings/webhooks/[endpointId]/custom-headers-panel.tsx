"use client";

// Static headers sent with every request to the endpoint; values are shown masked.
import { fieldErrors, FormMessage, SubmitButton, TextField, useAction, useFormSubmit } from "@/components/form";
import { buttonClass } from "@/components/ui";
import { addHeaderAction, removeHeaderAction } from "../actions";

export function CustomHeadersPanel({ endpointId, headers, max }: { endpointId: string; headers: { name: string; masked: string }[]; max: number }) {
  const submit = (form: FormData) => addHeaderAction({ endpointId, name: String(form.get("name") ?? ""), value: String(form.get("value") ?? "") });
  const { state, pending, onSubmit } = useFormSubmit(submit, { resetOnSuccess: true });
  const remove = useAction<null>();
  return (
    <div className="space-y-4">
      <p className="text-sm text-slate-600">
        Sent with every request to this endpoint, e.g. <code>Authorization</code> for a receiver behind an API gateway. Values are encrypted and never shown again.
      </p>
      {headers.length === 0 ? (
        <p className="text-sm text-slate-500">No custom headers.</p>
      ) : (
        <ul aria-label="Custom headers" className="divide-y divide-slate-100 text-sm">
          {headers.map((header) => (
            <li key={header.name} className="flex items-center justify-between gap-3 py-2">
              <span className="font-mono">
                {header.name}: {header.masked}
              </span>
              <button
                type="button"
                aria-label={`Remove header ${header.name}`}
                className={buttonClass("secondary")}
                disabled={remove.pending}
                onClick={() => remove.run(() => removeHeaderAction({ endpointId, name: header.name }))}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      {remove.result && !remove.result.ok ? <FormMessage state={remove.result} /> : null}
      {headers.length < max ? (
        <form onSubmit={onSubmit} className="grid gap-3 sm:grid-cols-2" noValidate>
          <TextField label="Header name" name="name" errors={fieldErrors(state, "name")} autoComplete="off" />
          <TextField label="Header value" name="value" type="password" errors={fieldErrors(state, "value")} autoComplete="off" />
          <div className="sm:col-span-2">
            <FormMessage state={state} success="Header saved." />
            <SubmitButton pending={pending} pendingLabel="Saving…">Add header</SubmitButton>
          </div>
        </form>
      ) : (
        <p className="text-sm text-slate-600">This endpoint has the most headers allowed ({max}).</p>
      )}
    </div>
  );
}
