import "server-only";
import { apiRoute } from "@/lib/api/route";
import { authenticateApiKey, type AuthenticatedKey } from "@/lib/api-keys/keys";
import { enforce, limits } from "@/lib/rate-limit";

/**
 * The wrapper for routes called with a team API key: authenticates the key (401 missing or
 * unknown, 403 revoked), counts the request against the key's limit (429), and hands the
 * handler the key with its team, to put in every query.
 */
export function apiKeyRoute(handler: (request: Request, context: { apiKey: AuthenticatedKey }) => Promise<Response>) {
  return apiRoute(async (request: Request) => {
    const apiKey = await authenticateApiKey(request.headers.get("authorization"));
    await enforce(limits.alertApiPerKey(apiKey.id), "requests for this API key");
    return handler(request, { apiKey });
  });
}
