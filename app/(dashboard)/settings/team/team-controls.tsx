"use client";

import { ConfirmButton } from "@/components/confirm-button";
import { CopyButton } from "@/components/copy-button";
import { buttonClass } from "@/components/ui";
import { fieldErrors, FormMessage, SelectField, SubmitButton, TextField, useAction, useFormSubmit } from "@/components/form";
import type { Role } from "@/lib/generated/prisma/enums";
import { changeRoleAction, createInviteAction, removeMemberAction, revokeInviteAction, updateTeamSettingsAction } from "./actions";

export function TeamSettingsForm({ requireOwnershipConfirmation, endpointRateLimitPerMinute }: { requireOwnershipConfirmation: boolean; endpointRateLimitPerMinute: number | null }) {
  const { state, pending, onSubmit } = useFormSubmit(updateTeamSettingsAction);
  return (
    <form onSubmit={onSubmit} className="space-y-4" noValidate>
      <div className="flex items-start gap-2">
        <input
          id="require-ownership"
          name="requireOwnershipConfirmation"
          type="checkbox"
          defaultChecked={requireOwnershipConfirmation}
          aria-describedby="require-ownership-hint"
          className="mt-1"
        />
        <div>
          <label htmlFor="require-ownership" className="text-sm font-medium text-slate-700">
            Require ownership confirmation
          </label>
          <p id="require-ownership-hint" className="text-xs text-slate-500">
            An endpoint becomes active only if its validation response body contains the token we send. Applies from each endpoint&apos;s next validation.
          </p>
        </div>
      </div>
      <TextField
        label="Delivery cap per endpoint (per minute)"
        name="endpointRateLimitPerMinute"
        inputMode="numeric"
        defaultValue={endpointRateLimitPerMinute ?? ""}
        hint="Empty: no cap for endpoints that confirmed ownership. Unconfirmed endpoints are always capped (5,000 a minute by default). Deliveries over a cap wait; none is dropped."
        errors={fieldErrors(state, "endpointRateLimitPerMinute")}
      />
      <FormMessage state={state} success="Settings saved." />
      <SubmitButton pending={pending} pendingLabel="Saving…">Save settings</SubmitButton>
    </form>
  );
}

export function InviteForm({ roles }: { roles: readonly Role[] }) {
  const { state, pending, onSubmit } = useFormSubmit(createInviteAction);
  const link = state?.ok ? `${window.location.origin}/invite/${state.data.token}` : null;
  return (
    <form onSubmit={onSubmit} className="space-y-3">
      <div className="flex items-end gap-3">
        <SelectField label="Role" name="role" options={roles} defaultValue="member" id="invite-role" />
        <SubmitButton pending={pending} pendingLabel="Creating link…">Create invite link</SubmitButton>
      </div>
      <FormMessage state={state} />
      {link ? (
        <div role="status" className="rounded-md bg-green-50 p-3 text-sm">
          <label htmlFor="invite-link" className="block font-medium text-green-900">
            Invite link (single use, expires in 7 days)
          </label>
          <div className="mt-1 flex gap-2">
            <input id="invite-link" readOnly value={link} className="w-full rounded border border-green-200 bg-white px-2 py-1 font-mono text-xs" />
            <CopyButton value={link} label="Copy invite link" />
          </div>
        </div>
      ) : null}
    </form>
  );
}

export function MemberControls({
  membershipId,
  email,
  role,
  roles,
  self,
}: {
  membershipId: string;
  email: string;
  role: Role;
  roles: readonly Role[];
  self: boolean;
}) {
  const { result, pending, run } = useAction<null>();
  return (
    <div className="flex flex-col items-end gap-2">
      <div className="flex items-center gap-2">
        <label htmlFor={`role-${membershipId}`} className="sr-only">
          Role for {email}
        </label>
        <select
          id={`role-${membershipId}`}
          defaultValue={role}
          disabled={pending}
          onChange={(event) => {
            const next = event.target.value;
            run(() => changeRoleAction({ membershipId, role: next }));
          }}
          className="rounded-md border border-slate-300 bg-white px-2 py-1 text-sm"
        >
          {(roles.includes(role) ? roles : [role, ...roles]).map((option) => (
            <option key={option} value={option}>
              {option}
            </option>
          ))}
        </select>
        <ConfirmButton
          label={self ? "Leave team" : `Remove`}
          question={self ? "Leave this team?" : `Remove ${email}?`}
          confirmLabel={self ? "Leave" : "Remove"}
          pendingLabel="Removing…"
          pending={pending}
          onConfirm={() => run(() => removeMemberAction({ membershipId }))}
        />
      </div>
      {result && !result.ok ? <FormMessage state={result} /> : null}
    </div>
  );
}

export function RevokeInviteButton({ inviteId }: { inviteId: string }) {
  const { result, pending, run } = useAction<null>();
  return (
    <span className="flex items-center gap-2">
      {result && !result.ok ? <FormMessage state={result} /> : null}
      <button type="button" className={buttonClass("secondary")} disabled={pending} onClick={() => run(() => revokeInviteAction({ inviteId }))}>
        {pending ? "Revoking…" : "Revoke"}
      </button>
    </span>
  );
}
