// One alert in, whichever door it came through: the single alert API, the batch API and the
// Alertmanager receiver all come here. A new alert takes the storm path (one statement, in a
// group commit: lib/alerts/fast-ingest.ts); one whose answer depends on an existing alert (a
// resolved state for a dedupKey, or a dedupKey with an Idempotency-Key) takes the general path,
// ingestAlert in a transaction. Either way it is counted against the key's rate limit once.
import "server-only";
import { fastIngest, fastPathApplies } from "@/lib/alerts/fast-ingest";
import { ingestAlert, storedResponse, withIdempotency, type AlertInput } from "@/lib/alerts/ingest";
import { hit, type Limit, type LimitState } from "@/lib/rate-limit";
import { metrics, withTeam } from "@/lib/metrics/metrics";
import { inSpan } from "@/lib/telemetry/tracing";
import { env } from "@/lib/env";
import { workerListening } from "@/lib/webhooks/delivery/immediate-dispatch";

export type Accepted = { id: string; eventId: string | null; deliveriesQueued: number; deduplicated: boolean };

export type Outcome =
  | { kind: "accepted"; response: Accepted; deliveryIds: string[]; replayed: boolean }
  | { kind: "rate_limited"; state: LimitState };

type Idempotency = { key: string; hash: string } | null;

export function acceptAlert(
  team: { id: string; name: string },
  input: AlertInput,
  options: { limit: Limit; idempotency: Idempotency; admitted?: boolean },
): Promise<Outcome> {
  // Its trace continues in whichever process sends the deliveries (lib/telemetry/tracing.ts).
  return inSpan("mon1tor.alert.enqueue", { "mon1tor.team.id": team.id, "mon1tor.alert.status": input.status }, () => accept(team, input, options));
}

async function accept(
  team: { id: string; name: string },
  input: AlertInput,
  options: { limit: Limit; idempotency: Idempotency; admitted?: boolean },
): Promise<Outcome> {
  const { limit, idempotency } = options;
  if (fastPathApplies(input, idempotency?.key ?? null)) {
    // Into the event queue only when a worker will claim it: without one, this process sends the
    // deliveries it queued itself, by their rows (dispatchSoon).
    const eventQueue = env().MON1TOR_EVENT_QUEUE && (await workerListening());
    const result = await fastIngest(team, input, { limit, idempotency, admitted: options.admitted, eventQueue });
    switch (result.kind) {
      case "rate_limited":
        return { kind: "rate_limited", state: result.state };
      case "replay":
        return { kind: "accepted", response: withoutIds(await storedResponse<Accepted>(team.id, idempotency!.key, idempotency!.hash)), deliveryIds: [], replayed: true };
      case "deduplicated":
        return { kind: "accepted", response: { id: result.alertId, eventId: null, deliveriesQueued: 0, deduplicated: true }, deliveryIds: [], replayed: false };
      case "accepted":
        return { kind: "accepted", response: { id: result.alertId, eventId: result.eventId, deliveriesQueued: result.deliveryIds.length, deduplicated: false }, deliveryIds: result.deliveryIds, replayed: false };
    }
  }
  const state = await hit(limit);
  if (!state.allowed) return { kind: "rate_limited", state };
  let superseded = 0;
  const { response, replayed } = await withIdempotency(team.id, idempotency, async (tx) => {
    const accepted = await ingestAlert(tx, team, input);
    superseded = accepted.superseded;
    return { id: accepted.alertId, eventId: accepted.eventId, deliveriesQueued: accepted.deliveriesQueued, deduplicated: accepted.deduplicated, deliveryIds: accepted.deliveryIds };
  });
  // Committed now: the older states this one superseded are final.
  if (superseded > 0) metrics().deliveries.inc(withTeam({ outcome: "superseded" }, team.id), superseded);
  return { kind: "accepted", response: withoutIds(response), deliveryIds: replayed ? [] : response.deliveryIds, replayed };
}

const withoutIds = ({ id, eventId, deliveriesQueued, deduplicated }: Accepted & { deliveryIds?: unknown }): Accepted => ({ id, eventId, deliveriesQueued, deduplicated });
