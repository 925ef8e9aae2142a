import { apiKeyRoute } from "@/lib/api/api-key-route";
import { readJsonBody } from "@/lib/api/json-body";
import { invalidInput, otherMethods } from "@/lib/api/route";
import { requestIp } from "@/lib/auth/context";
import { enforce, limits } from "@/lib/rate-limit";
import { relayHub } from "@/lib/relay/hub";
import { relayHelloSchema } from "@/lib/relay/protocol";
import { connectRelay } from "@/lib/relay/relays";
import { dispatchSoon } from "@/lib/webhooks/delivery/immediate-dispatch";

export const dynamic = "force-dynamic";

// POST /api/v1/relays/listen — `mon1tor listen` opens its relay and holds the answer open: a
// stream of newline-delimited JSON (lib/relay/protocol.ts) that carries the relay's requests.
export const POST = apiKeyRoute(
  async (request, { apiKey }) => {
    await enforce(limits.relayConnectPerKey(apiKey.id), "relay connections for this API key");
    const { json } = await readJsonBody(request, 16 * 1024, "the relay's settings");
    const parsed = relayHelloSchema.safeParse(json);
    if (!parsed.success) throw invalidInput(parsed.error);
    const relay = await connectRelay(apiKey, parsed.data, await requestIp());
    const stream = relayHub().open(relay, request.signal);
    // What waited for this CLI goes now, not at the next poll (not in after(): the stream's answer never ends).
    void dispatchSoon(relay.waiting);
    return stream;
  },
  { permission: "endpoints:manage" },
);

export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = otherMethods("POST");
