// Signing a body given as bytes (what the dispatcher sends: Claimed.body, lib/webhooks/delivery/claim.ts)
// and as a string gives the same headers, both checked against an independent HMAC.
import crypto from "node:crypto";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { generateSecret } from "@/lib/webhooks/endpoints/secret";
import { signerFor } from "@/lib/webhooks/delivery/sign";

describe("signerFor", () => {
  it("signs a body's bytes exactly as the same body as a string, non-ASCII included", () => {
    const secret = generateSecret();
    const body = JSON.stringify({ id: "evt_1", title: "Disk 95% full on db-1 — café ☕ 🚨", note: "line\nbreak" });
    const sign = signerFor(secret);
    const now = Math.floor(Date.now() / 1000);
    const asString = sign("msg_abc", now, body);
    const asBytes = sign("msg_abc", now, Buffer.from(body));
    expect(asBytes).toEqual(asString);
    expect(asBytes["x-mon1tor-sha256-wh"]).toBe(crypto.createHmac("sha256", secret).update(Buffer.from(body, "utf8")).digest("hex"));
    // The official Standard Webhooks library accepts it.
    const headers = { "webhook-id": "msg_abc", "webhook-timestamp": String(now), "webhook-signature": asBytes["webhook-signature"]! };
    expect(new Webhook(secret).verify(body, headers)).toMatchObject({ id: "evt_1" });
  });
});
