"use client";

import { useRouter } from "next/navigation";
import { ConfirmButton } from "@/components/confirm-button";
import { CopyButton } from "@/components/copy-button";
import { fieldErrors, FormMessage, PendingButton, SubmitButton, TextField, useAction, useFormSubmit } from "@/components/form";
import type { EndpointStatus } from "@/lib/generated/prisma/enums";
import type { ValidationOutcome } from "@/lib/webhooks/endpoints/validation";
import {
  deleteEndpointAction,
  pauseEndpointAction,
  redeliverAction,
  resumeEndpointAction,
  sendTestAlertAction,
  updateEndpointAction,
  validateEndpointAction,
} from "../actions";

function validationMessage(validation: ValidationOutcome | null) {
  if (!validation) return null;
  if (!validation.ok) return `Validation failed: ${validation.reason}.`;
  return validation.ownershipConfirmed ? "Validated: the endpoint is active. Ownership confirmed." : "Validated: the endpoint is active.";
}

type Backlog = { count: number; since: string | null } | null;

/**
 * Bringing an endpoint back (Resume, or Re-enable which validates first): when alerts were
 * missed meanwhile, the owner chooses between replaying them and starting fresh.
 */
function ComeBackButtons({
  label,
  pendingLabel,
  backlog,
  pending,
  onChoose,
}: {
  label: string;
  pendingLabel: string;
  backlog: Backlog;
  pending: boolean;
  onChoose: (choice?: "replay" | "fresh") => void;
}) {
  if (!backlog || backlog.count === 0) {
    return (
      <PendingButton pending={pending} pendingLabel={pendingLabel} onClick={() => onChoose()}>
        {label}
      </PendingButton>
    );
  }
  const alerts = `${backlog.count} alert${backlog.count === 1 ? "" : "s"}`;
  return (
    <fieldset className="flex flex-wrap items-center gap-2 rounded-md border border-amber-200 bg-amber-50 p-2">
      <legend className="px-1 text-sm text-amber-900">
        {label}: {alerts} missed{backlog.since ? ` since ${backlog.since}` : ""}
      </legend>
      <PendingButton pending={pending} pendingLabel={pendingLabel} onClick={() => onChoose("replay")}>
        Replay the {alerts} missed{backlog.since ? ` since ${backlog.since}` : ""}
      </PendingButton>
      <PendingButton variant="secondary" pending={pending} pendingLabel={pendingLabel} onClick={() => onChoose("fresh")}>
        Start fresh
      </PendingButton>
    </fieldset>
  );
}

/**
 * `relay`: for a CLI relay, whether mon1tor listen is connected (null for an HTTP endpoint). A
 * relay is turned on by connecting, never by validating; paused by hand, it resumes only while connected.
 */
export function EndpointActions({ endpointId, status, backlog, relay = null }: { endpointId: string; status: EndpointStatus; backlog: Backlog; relay?: { connected: boolean } | null }) {
  const router = useRouter();
  const validate = useAction<ValidationOutcome>();
  const toggle = useAction<unknown>();
  const remove = useAction<null>();
  const test = useAction<{ deliveryId: string; status: string; statusCode: number | null; error: string | null }>();
  const validated = validate.result?.ok ? validationMessage(validate.result.data) : null;
  const comingBack = relay === null && (status === "disabled" || status === "failed");
  return (
    <div className="flex flex-col items-end gap-2">
      <div className="flex flex-wrap items-center justify-end gap-2">
        {comingBack ? (
          <ComeBackButtons
            label={status === "disabled" ? "Re-enable" : "Validate again"}
            pendingLabel="Validating…"
            backlog={backlog}
            pending={validate.pending}
            onChoose={(choice) => validate.run(() => validateEndpointAction({ endpointId, ...(choice ? { backlog: choice } : {}) }))}
          />
        ) : null}
        {status === "paused" && (relay === null || relay.connected) ? (
          <ComeBackButtons
            label="Resume"
            pendingLabel="Resuming…"
            backlog={backlog}
            pending={toggle.pending}
            onChoose={(choice) => toggle.run(() => resumeEndpointAction({ endpointId, ...(choice ? { backlog: choice } : {}) }))}
          />
        ) : null}
        {/* The likely next step is the primary button: validating one not validated yet, a test alert to one that is. */}
        {relay === null && (status === "active" || status === "pending") ? (
          <PendingButton
            variant={status === "active" ? "secondary" : "primary"}
            pending={validate.pending}
            pendingLabel="Validating…"
            onClick={() => validate.run(() => validateEndpointAction({ endpointId }))}
          >
            Validate again
          </PendingButton>
        ) : null}
        {status === "active" ? (
          <PendingButton pending={test.pending} pendingLabel="Sending…" onClick={() => test.run(() => sendTestAlertAction({ endpointId }))}>
            Send test alert
          </PendingButton>
        ) : null}
        {status === "active" || status === "pending" ? (
          <PendingButton variant="secondary" pending={toggle.pending} pendingLabel="Pausing…" onClick={() => toggle.run(() => pauseEndpointAction({ endpointId }))}>
            Pause
          </PendingButton>
        ) : null}
        <ConfirmButton
          label="Delete"
          question="Delete this endpoint? Queued deliveries to it stop."
          confirmLabel="Delete endpoint"
          pendingLabel="Deleting…"
          pending={remove.pending}
          onConfirm={() =>
            remove.run(
              () => deleteEndpointAction({ endpointId }),
              (outcome) => {
                if (outcome.ok) router.push("/settings/webhooks");
              },
            )
          }
        />
      </div>
      {validated ? (
        <p role="status" className="text-sm text-slate-700">
          {validated}
        </p>
      ) : null}
      {test.result?.ok ? (
        <p role="status" className="text-sm text-slate-700">
          {test.result.data.status === "delivered"
            ? `Test alert delivered: answered ${test.result.data.statusCode}.`
            : `Test alert not delivered yet: ${test.result.data.error ?? "queued"}. It will be retried.`}
        </p>
      ) : null}
      {[validate.result, toggle.result, remove.result, test.result].map((result, index) =>
        result && !result.ok ? <FormMessage key={index} state={result} /> : null,
      )}
    </div>
  );
}

export function EditEndpointForm({ endpointId, url, description }: { endpointId: string; url: string; description: string }) {
  const { state, pending, onSubmit } = useFormSubmit(updateEndpointAction);
  const success = state?.ok ? (validationMessage(state.data.validation) ?? "Saved.") : undefined;
  return (
    <form onSubmit={onSubmit} className="space-y-4" noValidate>
      <input type="hidden" name="endpointId" value={endpointId} />
      <TextField
        label="Endpoint URL"
        name="url"
        type="url"
        defaultValue={url}
        hint="Changing the URL validates it again; nothing is sent to the new URL until it passes."
        errors={fieldErrors(state, "url")}
        required
      />
      <TextField label="Description (optional)" name="description" defaultValue={description} errors={fieldErrors(state, "description")} />
      <FormMessage state={state} success={success} />
      <SubmitButton pending={pending} pendingLabel="Saving…">Save changes</SubmitButton>
    </form>
  );
}

export function RedeliverButton({ deliveryId }: { deliveryId: string }) {
  const redeliver = useAction<null>();
  return (
    <div className="flex flex-col items-end gap-2">
      <PendingButton pending={redeliver.pending} pendingLabel="Queuing…" onClick={() => redeliver.run(() => redeliverAction({ deliveryId }))}>
        Redeliver
      </PendingButton>
      {redeliver.result?.ok ? (
        <p role="status" className="text-sm text-slate-700">
          Queued: a fresh attempt is on its way.
        </p>
      ) : null}
      {redeliver.result && !redeliver.result.ok ? <FormMessage state={redeliver.result} /> : null}
    </div>
  );
}
