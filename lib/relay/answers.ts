// The CLI's report of one relayed attempt: what the local receiver answered (or why it did
// not), written into the request's row for the dispatcher waiting on it (lib/relay/transport.ts).
import type { AuthenticatedKey } from "@/lib/api-keys/keys";
import { db, DB_NOW_SQL } from "@/lib/db";
import { notFound } from "@/lib/errors";
import type { RelayAnswer } from "@/lib/relay/protocol";
import { parseRetryAfter } from "@/lib/webhooks/delivery/outbound";
import { storableText } from "@/lib/text";
import { responseExcerpt } from "@/lib/webhooks/delivery/response-excerpt";

const header = (headers: Record<string, string> | undefined, name: string) =>
  Object.entries(headers ?? {}).find(([key]) => key.toLowerCase() === name)?.[1];

export async function answerRelayRequest(apiKey: AuthenticatedKey, relayId: string, answer: RelayAnswer) {
  const excerpt =
    answer.statusCode === null || answer.body === undefined
      ? null
      : responseExcerpt(Buffer.from(answer.body, "utf8"), { encoding: header(answer.headers, "content-encoding"), truncated: false });
  const retryAfter = answer.statusCode === null ? null : parseRetryAfter(header(answer.headers, "retry-after"));
  // Scoped by the key's team through the relay: a request of another team's relay is not found.
  const updated = await db.$executeRaw`
    UPDATE "RelayRequest" r
    SET "answeredAt" = ${DB_NOW_SQL}, "statusCode" = ${answer.statusCode}, "durationMs" = ${answer.durationMs},
        "errorClass" = ${answer.error?.class ?? null}, reason = ${answer.error ? storableText(answer.error.message) : null},
        "responseExcerpt" = ${excerpt}, "retryAfterSeconds" = ${retryAfter}
    FROM "WebhookEndpoint" e
    WHERE r.id = ${answer.requestId} AND r."endpointId" = ${relayId} AND e.id = r."endpointId" AND e."teamId" = ${apiKey.team.id}
      AND e.kind = 'relay' AND r."answeredAt" IS NULL`;
  if (updated === 0) throw notFound("That relay request does not exist, or it was answered already or timed out.");
}
