import "server-only";
import { apiRoute } from "@/lib/api/route";
import { authenticateApiKey, requirePermission, type AuthenticatedKey } from "@/lib/api-keys/keys";
import type { ApiKeyPermission } from "@/lib/api-keys/permissions";
import { httpStatus, type ErrorCode } from "@/lib/errors";
import { metrics, type IngestSource } from "@/lib/metrics/metrics";
import { enforce, limits, type Limit } from "@/lib/rate-limit";

const codeOfStatus = new Map(Object.entries(httpStatus).map(([code, status]) => [status, code as ErrorCode]));

export const API_KEY_LIMIT_NAME = "requests for this API key";

/**
 * The wrapper for routes called with a team API key: authenticates the key (401 missing or
 * unknown, 403 revoked), counts the request against the key's limit (429), and hands the
 * handler the key with its team, to put in every query. With `countsRequest`, the handler
 * counts the request itself, in its own statement (the alert API's one-round-trip path),
 * and must answer 429 with `rateLimited(limit, API_KEY_LIMIT_NAME, …)`. With `ingest`, the call is
 * timed (mon1tor_ingest_duration_seconds) and a refused call counted by its error code; the
 * handler counts what it accepted. The key must have `permission` (by default, sending alerts): 403 otherwise.
 */
export function apiKeyRoute(
  handler: (request: Request, context: { apiKey: AuthenticatedKey; limit: Limit }) => Promise<Response>,
  options: { countsRequest?: boolean; ingest?: IngestSource; permission?: ApiKeyPermission } = {},
) {
  const route = apiRoute(async (request: Request) => {
    const apiKey = await authenticateApiKey(request.headers.get("authorization"));
    requirePermission(apiKey, options.permission ?? "alerts:send");
    const limit = limits.alertApiPerKey(apiKey.id);
    if (!options.countsRequest) await enforce(limit, API_KEY_LIMIT_NAME);
    return handler(request, { apiKey, limit });
  });
  const source = options.ingest;
  if (!source) return route;
  return async (request: Request) => {
    const m = metrics();
    const end = m.ingestDuration.startTimer({ source });
    const response = await route(request);
    end();
    if (response.status >= 400) m.alertsRefused.inc({ source, reason: codeOfStatus.get(response.status) ?? String(response.status) });
    return response;
  };
}
