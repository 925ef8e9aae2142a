// The alert API's storm path: a new alert in one statement, one round trip on the shared
// pg pool. It counts the request against the key's rate limit (in one of its 16 shards, so
// concurrent requests of one key do not queue on a single counter row), claims the Idempotency-Key,
// inserts the alert (the open-alert dedup index decides between concurrent triggers), its
// event and one delivery per matching active endpoint. All of it commits together or not at
// all, exactly like the transaction in ingest.ts. The caller wakes the workers after the
// commit (lib/webhooks/wake.ts): a NOTIFY in this statement serialized every ingest commit.
//
// Requests whose answer depends on an existing alert (a resolved state for a dedupKey, or a
// dedupKey together with an Idempotency-Key) take the general path, ingestAlert in a
// transaction: they need to read that alert first.
import { namedStatement, pool } from "@/lib/db";
import { alertFields, alertPayload, newAlertId, type AlertInput } from "@/lib/alerts/ingest";
import { counterKey, counterKeys, limitState, type Limit, type LimitState } from "@/lib/rate-limit";
import { newEventId, serializeEnvelope } from "@/lib/webhooks/envelope";

/** Whether `fastIngest` can answer this request without reading an existing alert. */
export const fastPathApplies = (input: AlertInput, idempotencyKey: string | null) =>
  !input.dedupKey || (input.status === "triggered" && idempotencyKey === null);

export type FastResult =
  | { kind: "accepted"; alertId: string; eventId: string; deliveryIds: string[] }
  | { kind: "deduplicated"; alertId: string }
  | { kind: "rate_limited"; state: LimitState }
  /** The Idempotency-Key was used before: the caller replays the stored answer. */
  | { kind: "replay" };

// Delivery ids like newDeliveryId()'s (msg_ + 16 base64url characters), made in PostgreSQL
// because the matching endpoints are only known there.
const DELIVERY_ID = `'msg_' || translate(encode(substring(uuid_send(gen_random_uuid()) FROM 1 FOR 12), 'base64'), '+/', '-_')`;

const SQL = `
WITH limited AS (
  INSERT INTO "RateLimit" AS r (key, count, "windowStart") VALUES ($1::text, 1, $3::timestamptz AT TIME ZONE 'UTC')
  ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN r."windowStart" <= ($3::timestamptz AT TIME ZONE 'UTC') - make_interval(secs => $2::int) THEN 1 ELSE r.count + 1 END,
    "windowStart" = CASE WHEN r."windowStart" <= ($3::timestamptz AT TIME ZONE 'UTC') - make_interval(secs => $2::int)
                         THEN $3::timestamptz AT TIME ZONE 'UTC' ELSE r."windowStart" END
  RETURNING r.count, r."windowStart"
), total AS (
  -- A sharded limit: this request's shard plus the others' counts in their windows.
  SELECT (SELECT count FROM limited) + COALESCE((
           SELECT sum(o.count)::int FROM "RateLimit" o
           WHERE o.key = ANY($20::text[]) AND o.key <> $1::text
             AND o."windowStart" > ($3::timestamptz AT TIME ZONE 'UTC') - make_interval(secs => $2::int)), 0) AS count
), targets AS (
  SELECT e.id FROM "WebhookEndpoint" e
  WHERE e."teamId" = $5::text AND e.status = 'active'
    AND (cardinality(e."eventTypes") = 0 OR $9::text = ANY(e."eventTypes"))
    AND (cardinality(e.severities) = 0 OR $11::text = ANY(e.severities))
    AND (cardinality(e."monitorIds") = 0 OR $15::text = ANY(e."monitorIds"))
), allowed AS (
  SELECT (SELECT count FROM total) <= $4::int AS ok
), claimed AS (
  INSERT INTO "IdempotencyRecord" ("teamId", key, "requestHash", response, "createdAt")
  SELECT $5::text, $6::text, $7::text, jsonb_build_object('id', $8::text, 'eventId', $10::text, 'deliveriesQueued', (SELECT count(*) FROM targets), 'deduplicated', false),
         $3::timestamptz AT TIME ZONE 'UTC'
  FROM allowed WHERE allowed.ok AND $6::text IS NOT NULL
  ON CONFLICT DO NOTHING
  RETURNING 1
), go AS (
  SELECT allowed.ok AND ($6::text IS NULL OR EXISTS (SELECT 1 FROM claimed)) AS ok FROM allowed
), alert AS (
  INSERT INTO "Alert" (id, "teamId", title, severity, status, message, "monitorId", "monitorName", "dedupKey", "startedAt", "resolvedAt",
                       "lastSequence", "lastEventId", "createdAt")
  SELECT $8::text, $5::text, $12::text, $11::text::"Severity", $13::text::"AlertStatus", $14::text, $15::text, $16::text, $17::text,
         $18::timestamptz AT TIME ZONE 'UTC', CASE WHEN $13::text = 'resolved' THEN $18::timestamptz AT TIME ZONE 'UTC' END,
         1, $10::text, $3::timestamptz AT TIME ZONE 'UTC'
  FROM go WHERE go.ok
  ON CONFLICT ("teamId", "dedupKey") WHERE status = 'triggered' AND "dedupKey" IS NOT NULL DO NOTHING
  RETURNING id
), event AS (
  INSERT INTO "Event" (id, "teamId", type, "alertId", sequence, body, "createdAt")
  SELECT $10::text, $5::text, $9::text, alert.id, 1, $19::text, $3::timestamptz AT TIME ZONE 'UTC' FROM alert
  RETURNING id
), deliveries AS (
  INSERT INTO "Delivery" (id, "teamId", "endpointId", "eventId", "alertId", sequence, "nextAttemptAt", "createdAt", "updatedAt")
  SELECT ${DELIVERY_ID}, $5::text, t.id, event.id, $8::text, 1, $3::timestamptz AT TIME ZONE 'UTC', $3::timestamptz AT TIME ZONE 'UTC', $3::timestamptz AT TIME ZONE 'UTC'
  FROM targets t, event
  RETURNING id
)
SELECT (SELECT count FROM total) AS "limitCount", (extract(epoch FROM (SELECT "windowStart" FROM limited)) * 1000)::float8 AS "windowStartMs",
       (SELECT ok FROM allowed) AS allowed, (SELECT ok FROM go) AS go, EXISTS (SELECT 1 FROM alert) AS inserted,
       ARRAY(SELECT id FROM deliveries) AS "deliveryIds"`;

type Row = { limitCount: number; windowStartMs: number; allowed: boolean; go: boolean; inserted: boolean; deliveryIds: string[] };

export async function fastIngest(
  team: { id: string; name: string },
  input: AlertInput,
  options: { limit: Limit; idempotency: { key: string; hash: string } | null; now?: Date },
): Promise<FastResult> {
  const now = options.now ?? new Date();
  const at = input.occurredAt ? new Date(input.occurredAt) : now;
  const alertId = newAlertId();
  const eventId = newEventId();
  const type = input.status === "resolved" ? "alert.resolved" : "alert.triggered";
  const body = serializeEnvelope({
    id: eventId,
    type,
    createdAt: now,
    team,
    alert: alertPayload({ id: alertId, ...alertFields(input, at) }, { sequence: 1, previousEventId: null }),
  });
  // Named, so PostgreSQL plans it once per connection (lib/db.ts).
  const { rows } = await pool.query<Row>(namedStatement(SQL, [
    counterKey(options.limit),
    options.limit.windowSeconds,
    now.toISOString(),
    options.limit.limit,
    team.id,
    options.idempotency?.key ?? null,
    options.idempotency?.hash ?? null,
    alertId,
    type,
    eventId,
    input.severity,
    input.title,
    input.status,
    input.message ?? null,
    input.monitor?.id ?? null,
    input.monitor?.name ?? null,
    input.dedupKey ?? null,
    at.toISOString(),
    body,
    counterKeys(options.limit),
  ]));
  const row = rows[0]!;
  if (!row.allowed) {
    return { kind: "rate_limited", state: limitState(options.limit, row.limitCount, new Date(row.windowStartMs), now) };
  }
  if (!row.go) return { kind: "replay" };
  if (row.inserted) return { kind: "accepted", alertId, eventId, deliveryIds: row.deliveryIds };
  // The dedup index refused it: an alert with this dedupKey is open (it waited for that commit).
  const open = await pool.query<{ id: string }>(`SELECT id FROM "Alert" WHERE "teamId" = $1 AND "dedupKey" = $2 AND status = 'triggered'`, [team.id, input.dedupKey]);
  return { kind: "deduplicated", alertId: open.rows[0]?.id ?? "" };
}
