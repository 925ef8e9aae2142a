"use client";

// "My signature check fails": compares what a receiver got with what we sent.
import { fieldErrors, FormMessage, SubmitButton, TextField, useFormSubmit } from "@/components/form";
import type { DebugReport } from "@/lib/webhooks/endpoints/signature-debugger";
import { debugSignatureAction } from "../actions";

export function SignatureDebugger({ endpointId, deliveries }: { endpointId: string; deliveries: { id: string; label: string }[] }) {
  const submit = (form: FormData) =>
    debugSignatureAction({
      endpointId,
      deliveryId: String(form.get("deliveryId") ?? ""),
      received: String(form.get("received") ?? ""),
      computed: String(form.get("computed") ?? ""),
    });
  const { state, pending, onSubmit } = useFormSubmit<DebugReport>(submit);
  return (
    <form onSubmit={onSubmit} className="space-y-4" noValidate>
      <p className="text-sm text-slate-600">
        Paste what your receiver got, or pick a delivery. We check it step by step on the server and name the first thing that differs. Nothing you paste is stored.
      </p>
      <div>
        <label htmlFor="debug-delivery" className="block text-sm font-medium text-slate-700">
          Recent delivery
        </label>
        <select id="debug-delivery" name="deliveryId" className="mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm">
          <option value="">— none: use what I paste —</option>
          {deliveries.map((delivery) => (
            <option key={delivery.id} value={delivery.id}>
              {delivery.label}
            </option>
          ))}
        </select>
      </div>
      <div>
        <label htmlFor="debug-received" className="block text-sm font-medium text-slate-700">
          What your receiver got
        </label>
        <textarea
          id="debug-received"
          name="received"
          rows={8}
          aria-describedby="debug-received-hint debug-received-error"
          className="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 font-mono text-xs"
        />
        <p id="debug-received-hint" className="mt-1 text-xs text-slate-500">
          The headers, one per line, then a blank line, then the raw body. Or a curl command with -H and --data-raw.
        </p>
        <p id="debug-received-error" aria-live="polite" className="mt-1 text-sm text-red-700">
          {fieldErrors(state, "received")?.join(" ")}
        </p>
      </div>
      <TextField label="The signature your code computed (optional)" name="computed" autoComplete="off" errors={fieldErrors(state, "computed")} />
      <FormMessage state={state} />
      <SubmitButton pending={pending} pendingLabel="Checking…">Check signature</SubmitButton>
      {state?.ok ? (
        <div role="status" aria-label="Signature check result" className="space-y-2">
          <ol className="space-y-1 text-sm">
            {state.data.steps.map((step, index) => (
              <li key={index} className={step.ok ? "text-green-800" : "font-medium text-red-800"}>
                {step.ok ? "✓" : "✗"} {step.title}: {step.detail}
              </li>
            ))}
          </ol>
          <p className="text-sm font-medium" data-testid="debug-verdict">
            {state.data.verdict}
          </p>
        </div>
      ) : null}
    </form>
  );
}
