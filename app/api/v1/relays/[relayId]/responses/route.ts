import { NextResponse } from "next/server";
import { apiKeyRoute } from "@/lib/api/api-key-route";
import { readJsonBody } from "@/lib/api/json-body";
import { invalidInput, otherMethods } from "@/lib/api/route";
import { answerRelayRequest } from "@/lib/relay/answers";
import { relayAnswerSchema } from "@/lib/relay/protocol";

export const dynamic = "force-dynamic";

// POST /api/v1/relays/<relay id>/responses — `mon1tor listen` reports what the local receiver
// answered to one relayed request (lib/relay/protocol.ts).
export const POST = apiKeyRoute(
  async (request, { apiKey }) => {
    // The [relayId] segment (apiKeyRoute hands handlers the request alone).
    const relayId = decodeURIComponent(new URL(request.url).pathname.split("/").at(-2)!);
    const { json } = await readJsonBody(request, 128 * 1024, "the answer");
    const parsed = relayAnswerSchema.safeParse(json);
    if (!parsed.success) throw invalidInput(parsed.error);
    await answerRelayRequest(apiKey, relayId, parsed.data);
    return NextResponse.json({ recorded: true });
  },
  { permission: "endpoints:manage" },
);

export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = otherMethods("POST");
