"use client";

import { ConfirmButton } from "@/components/confirm-button";
import { CopyButton } from "@/components/copy-button";
import { buttonClass } from "@/components/ui";
import { FormMessage, SelectField, SubmitButton, useAction, useFormSubmit } from "@/components/form";
import type { Role } from "@/lib/generated/prisma/enums";
import { changeRoleAction, createInviteAction, removeMemberAction, revokeInviteAction } from "./actions";

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
