import type { EndpointKind } from "@/lib/generated/prisma/enums";

type Named = { url: string; kind: EndpointKind; relayName: string | null; relayStreamId: string | null };

/** How people see an endpoint: its URL, or for a CLI relay its name and whether mon1tor listen holds it. */
export function endpointName(endpoint: Named): string {
  if (endpoint.kind !== "relay") return endpoint.url;
  return `CLI relay: ${endpoint.relayName ?? endpoint.url}, ${endpoint.relayStreamId ? "connected" : "disconnected"}`;
}
