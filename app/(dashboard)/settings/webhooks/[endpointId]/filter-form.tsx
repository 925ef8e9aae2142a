"use client";

// What the endpoint gets: event types, severities, monitor ids, and its delivery options.
import { Checkboxes, fieldErrors, FormMessage, SubmitButton, TextField, useFormSubmit } from "@/components/form";
import { updateFilterAction } from "../actions";

const typeOptions = [
  ["alert.triggered", "Triggered"],
  ["alert.resolved", "Resolved"],
] as const;
const severityOptions = [
  ["critical", "Critical"],
  ["warning", "Warning"],
  ["info", "Info"],
] as const;

/** A filter stored empty means every value (lib/webhooks/endpoints/filters.ts): each box checked. */
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
