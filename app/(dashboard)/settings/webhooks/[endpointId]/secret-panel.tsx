"use client";

// The signing secret: revealed on request, rolled with an overlap, the overlap ended early.
import { useState } from "react";
import { ConfirmButton } from "@/components/confirm-button";
import { CopyButton } from "@/components/copy-button";
import { FormMessage, PendingButton, useAction } from "@/components/form";
import { endSecretOverlapAction, revealSecretAction, rollSecretAction } from "../actions";

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
