"use client";

import { useState } from "react";
import { ConfirmButton } from "@/components/confirm-button";
import { CopyButton } from "@/components/copy-button";
import { Checkboxes, fieldErrors, FormMessage, PendingButton, SubmitButton, TextField, useAction, useFormSubmit } from "@/components/form";
import { buttonClass } from "@/components/ui";
import type { DebugReport } from "@/lib/webhooks/signature-debugger";
import {
  addHeaderAction,
  debugSignatureAction,
  endSecretOverlapAction,
  removeHeaderAction,
  revealSecretAction,
  rollSecretAction,
  updateFilterAction,
} from "../actions";

function RevealableSecret({ endpointId, which, label }: { endpointId: string; which: "current" | "previous"; label: string }) {
  const reveal = useAction<{ secret: string }>();
  const secret = reveal.result?.ok ? reveal.result.data.secret : null;
  return (
    <div className="space-y-2">
      <input
        readOnly
        aria-label={label}
        value={secret ?? "whsec_••••••••••••••••••••••••"}
        className="w-full rounded-md border border-slate-300 bg-slate-50 px-2 py-1 font-mono text-xs"
      />
      <div className="flex gap-2">
        {secret ? (
          <CopyButton value={secret} label={`Copy ${label.toLowerCase()}`} />
        ) : (
          <PendingButton
            variant="secondary"
            aria-label={which === "current" ? "Reveal" : "Reveal previous secret"}
            pending={reveal.pending}
            pendingLabel="Revealing…"
            onClick={() => reveal.run(() => revealSecretAction({ endpointId, which }))}
          >
            Reveal
          </PendingButton>
        )}
      </div>
      {reveal.result && !reveal.result.ok ? <FormMessage state={reveal.result} /> : null}
    </div>
  );
}

const overlaps = [
  ["24h", "24 hours (recommended)"],
  ["1h", "1 hour"],
  ["7d", "7 days"],
  ["now", "No overlap: the old secret stops now"],
] as const;

export function SecretPanel({
  endpointId,
  canRoll,
  previousExpiresAt,
  rolledAt,
}: {
  endpointId: string;
  canRoll: boolean;
  previousExpiresAt: string | null;
  rolledAt: string | null;
}) {
  const [overlap, setOverlap] = useState<(typeof overlaps)[number][0]>("24h");
  const roll = useAction<{ previousExpiresAt: string | null }>();
  const end = useAction<null>();
  // Each roll or switch makes other secrets current: a secret revealed before it must not stay
  // on screen (and on the copy button) as if it were still the one in use. A new key remounts
  // the fields, masked again, and drops what they held.
  const [generation, setGeneration] = useState(0);
  const afterChange = (result: { ok: boolean }) => result.ok && setGeneration((n) => n + 1);
  return (
    <div className="space-y-4">
      <p className="text-sm text-slate-600">Use it to verify the signature of every request we send.</p>
      <RevealableSecret key={`current-${generation}`} endpointId={endpointId} which="current" label="Signing secret" />
      {previousExpiresAt ? (
        <div className="space-y-2 rounded-md border border-amber-200 bg-amber-50 p-3">
          <p className="text-sm text-amber-900">
            Rolled {rolledAt}. The previous secret still signs <code>x-mon1tor-sha256-wh</code> until {previousExpiresAt}; the new one signs{" "}
            <code>x-mon1tor-sha256-wh-next</code>, and <code>webhook-signature</code> carries both.
          </p>
          <RevealableSecret key={`previous-${generation}`} endpointId={endpointId} which="previous" label="Previous signing secret" />
          {canRoll ? (
            <ConfirmButton
              label="Switch now"
              question="Stop signing with the previous secret now?"
              confirmLabel="Switch to the new secret"
              pendingLabel="Switching…"
              pending={end.pending}
              onConfirm={() => end.run(() => endSecretOverlapAction({ endpointId }), afterChange)}
            />
          ) : null}
          {end.result && !end.result.ok ? <FormMessage state={end.result} /> : null}
        </div>
      ) : null}
      {canRoll ? (
        <div className="space-y-2 border-t border-slate-100 pt-3">
          <label htmlFor="roll-overlap" className="block text-sm font-medium text-slate-700">
            Keep the old secret valid for
          </label>
          <select
            id="roll-overlap"
            value={overlap}
            onChange={(event) => setOverlap(event.target.value as typeof overlap)}
            className="block rounded-md border border-slate-300 bg-white px-3 py-2 text-sm"
          >
            {overlaps.map(([value, text]) => (
              <option key={value} value={value}>
                {text}
              </option>
            ))}
          </select>
          <ConfirmButton
            label="Roll secret"
            question="Generate a new signing secret?"
            confirmLabel="Roll secret now"
            pendingLabel="Rolling…"
            pending={roll.pending}
            onConfirm={() => roll.run(() => rollSecretAction({ endpointId, overlap }), afterChange)}
          />
          {roll.result?.ok ? (
            <p role="status" className="text-sm text-slate-700">
              New secret generated.{roll.result.data.previousExpiresAt ? " Both secrets are valid during the overlap." : " The old one no longer signs."}
            </p>
          ) : null}
          {roll.result && !roll.result.ok ? <FormMessage state={roll.result} /> : null}
        </div>
      ) : null}
    </div>
  );
}

const typeOptions = [
  ["alert.triggered", "Triggered"],
  ["alert.resolved", "Resolved"],
] as const;
const severityOptions = [
  ["critical", "Critical"],
  ["warning", "Warning"],
  ["info", "Info"],
] as const;

/** A filter stored empty means every value (lib/webhooks/filters.ts): each box checked. */
const allIfEmpty = (checked: string[], options: readonly (readonly [string, string])[]) => (checked.length === 0 ? options.map(([value]) => value) : checked);

export function FilterForm({
  endpointId,
  eventTypes,
  severities,
  monitorIds,
  skipOutdatedStates,
  revalidateDaily,
  summary,
}: {
  endpointId: string;
  eventTypes: string[];
  severities: string[];
  monitorIds: string[];
  skipOutdatedStates: boolean;
  revalidateDaily: boolean;
  summary: string;
}) {
  const submit = (form: FormData) =>
    updateFilterAction({
      endpointId,
      eventTypes: form.getAll("eventTypes").map(String),
      severities: form.getAll("severities").map(String),
      monitorIds: String(form.get("monitorIds") ?? ""),
      skipOutdatedStates: form.get("skipOutdatedStates") === "on",
      revalidateDaily: form.get("revalidateDaily") === "on",
    });
  const { state, pending, onSubmit } = useFormSubmit(submit);
  return (
    <form onSubmit={onSubmit} className="space-y-4" noValidate>
      <p className="text-sm text-slate-600" data-testid="filter-summary">
        Gets: {state?.ok ? state.data.summary : summary}
      </p>
      <Checkboxes legend="Event types" name="eventTypes" options={typeOptions} checked={allIfEmpty(eventTypes, typeOptions)} errors={fieldErrors(state, "eventTypes")} />
      <Checkboxes legend="Severities" name="severities" options={severityOptions} checked={allIfEmpty(severities, severityOptions)} errors={fieldErrors(state, "severities")} />
      <TextField
        label="Only these monitor ids (optional)"
        name="monitorIds"
        defaultValue={monitorIds.join(", ")}
        hint="Comma-separated; spaces belong to an id. Empty: every monitor. Test alerts always go through."
        errors={fieldErrors(state, "monitorIds")}
      />
      <div className="flex items-start gap-2">
        <input id="skip-outdated" name="skipOutdatedStates" type="checkbox" defaultChecked={skipOutdatedStates} aria-describedby="skip-outdated-hint" className="mt-1" />
        <div>
          <label htmlFor="skip-outdated" className="text-sm font-medium text-slate-700">
            Skip outdated alert states
          </label>
          <p id="skip-outdated-hint" className="text-xs text-slate-500">
            When an alert&apos;s newer state (say, resolved) is queued while an older one (triggered) still waits to be retried, the older one is
            marked superseded and not sent. Off: every state is delivered, in order.
          </p>
        </div>
      </div>
      <div className="flex items-start gap-2">
        <input id="revalidate-daily" name="revalidateDaily" type="checkbox" defaultChecked={revalidateDaily} aria-describedby="revalidate-daily-hint" className="mt-1" />
        <div>
          <label htmlFor="revalidate-daily" className="text-sm font-medium text-slate-700">
            Re-validate daily
          </label>
          <p id="revalidate-daily-hint" className="text-xs text-slate-500">
            Once a day mon1tor repeats the token GET. A failure is shown and notified but does not stop deliveries; three failed daily validations in a
            row mark the endpoint Validation failed.
          </p>
        </div>
      </div>
      <FormMessage state={state} success="Settings saved." />
      <SubmitButton pending={pending} pendingLabel="Saving…">Save</SubmitButton>
    </form>
  );
}

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
