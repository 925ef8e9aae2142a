import "server-only";
import { apiRoute } from "@/lib/api/route";
import { authenticateApiKey, type AuthenticatedKey } from "@/lib/api-keys/keys";
import { enforce, limits, type Limit } from "@/lib/rate-limit";

export const API_KEY_LIMIT_NAME = "requests for this API key";

/**
 * The wrapper for routes called with a team API key: authenticates the key (401 missing or
 * unknown, 403 revoked), counts the request against the key's limit (429), and hands the
 * handler the key with its team, to put in every query. With `countsRequest`, the handler
 * counts the request itself, in its own statement (the alert API's one-round-trip path),
 * and must answer 429 with `rateLimited(limit, API_KEY_LIMIT_NAME, …)`.
 */
export function apiKeyRoute(
  handler: (request: Request, context: { apiKey: AuthenticatedKey; limit: Limit }) => Promise<Response>,
  options: { countsRequest?: boolean } = {},
) {
  return apiRoute(async (request: Request) => {
    const apiKey = await authenticateApiKey(request.headers.get("authorization"));
    const limit = limits.alertApiPerKey(apiKey.id);
    if (!options.countsRequest) await enforce(limit, API_KEY_LIMIT_NAME);
    return handler(request, { apiKey, limit });
  });
}
