// Aim mon1tor at loopback, private or metadata addresses in every notation: with private
// destinations disallowed, nothing reaches the receiver, at save time or at send time.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestAlert } from "@/lib/alerts/ingest";
import { db } from "@/lib/db";
import { createActiveEndpoint, createMember } from "@/lib/testing/factories";
import { startReceiver, type Receiver } from "@/lib/testing/receiver";
import { Dispatcher } from "@/lib/webhooks/delivery/dispatch";
import { createEndpoint } from "@/lib/webhooks/endpoints/lifecycle";
import { sendOutbound } from "@/lib/webhooks/delivery/outbound";
import { blockedKind, systemResolver, type DestinationPolicy, type Resolver } from "@/lib/webhooks/delivery/ssrf";
import { validateEndpoint } from "@/lib/webhooks/endpoints/validation";

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver(() => ({ status: 204 }));
});
afterAll(() => receiver.close());

const blocked = (resolve: Resolver = systemResolver): DestinationPolicy => ({ allowPrivate: false, allowedCidrs: [], requireHttps: false, resolve });
const allowed = (resolve: Resolver = systemResolver): DestinationPolicy => ({ allowPrivate: true, allowedCidrs: [], requireHttps: false, resolve });

describe("blockedKind", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["10.0.0.5", "private"],
    ["172.16.3.4", "private"],
    ["192.168.1.1", "private"],
    ["169.254.169.254", "link-local"],
    ["100.64.0.1", "carrier-grade NAT"],
    ["0.0.0.0", "unspecified"],
    ["255.255.255.255", "broadcast"],
    ["224.0.0.1", "multicast"],
    ["192.0.2.1", "reserved (documentation, benchmark or future use)"],
    ["198.18.0.1", "reserved (documentation, benchmark or future use)"],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["fe80::1", "link-local"],
    ["fd00::1", "unique-local"],
    ["ff02::1", "multicast"],
    ["2001:db8::1", "reserved (documentation, benchmark or future use)"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:a9fe:a9fe", "link-local"],
    ["::7f00:1", "loopback"],
    ["64:ff9b::a00:5", "private"],
    ["2002:7f00:1::", "loopback"],
  ])("%s is %s", (address, kind) => {
    expect(blockedKind(address)).toBe(kind);
  });

  it.each(["93.184.216.34", "8.8.8.8", "2606:4700::1111", "64:ff9b::808:808", "::ffff:8.8.8.8"])("%s is public", (address) => {
    expect(blockedKind(address)).toBeNull();
  });
});

describe("outbound guard against a real loopback receiver", () => {
  const port = () => receiver.port;
  const notations = () => [
    `http://127.0.0.1:${port()}/hook`,
    `http://2130706433:${port()}/hook`,
    `http://0x7f000001:${port()}/hook`,
    `http://0177.0.0.1:${port()}/hook`,
    `http://127.1:${port()}/hook`,
    `http://localhost:${port()}/hook`,
    `http://localhost.:${port()}/hook`,
    `http://[::ffff:127.0.0.1]:${port()}/hook`,
    `http://[::ffff:7f00:1]:${port()}/hook`,
    `http://[::1]:${port()}/hook`,
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.5/hook",
    "http://[64:ff9b::a9fe:a9fe]/hook",
  ];

  it("refuses every notation at save time, with the reason, saving nothing", async () => {
    const member = await createMember("member");
    const before = receiver.requests.length;
    for (const url of notations()) {
      const error = await createEndpoint(member, { url, description: null }, blocked()).catch((e: unknown) => e);
      expect(error, url).toMatchObject({ code: "validation", message: expect.stringMatching(/^This URL (points to an? .+ address \(.+\)|resolves to an? [a-z -]+ address), which is not allowed\.$/) });
    }
    expect(await db.webhookEndpoint.count({ where: { teamId: member.team.id } })).toBe(0);
    expect(receiver.requests.length).toBe(before);
  });

  it("names the kind of address a hostname resolves to, never the address itself", async () => {
    const member = await createMember("member");
    const policy = blocked(async () => ["10.0.0.5"]);
    const error = await createEndpoint(member, { url: "https://hooks.example.com/x", description: null }, policy).catch((e: unknown) => e);
    expect(error).toMatchObject({ message: "This URL resolves to a private address, which is not allowed." });
    expect(JSON.stringify(error)).not.toContain("10.0.0.5");
    // A literal address in the URL is the user's own input: it may be named.
    await expect(createEndpoint(member, { url: "https://10.0.0.5/x", description: null }, policy)).rejects.toMatchObject({
      message: "This URL points to a private address (10.0.0.5), which is not allowed.",
    });
  });

  it("refuses every notation again at send time: validation and delivery record the reason, the receiver sees nothing", async () => {
    const member = await createMember("member");
    const before = receiver.requests.length;
    for (const url of notations()) {
      const endpoint = await db.webhookEndpoint.create({ data: { teamId: member.team.id, url, secretCiphertext: "unused" } });
      const outcome = await validateEndpoint(endpoint, blocked());
      expect(outcome.ok, url).toBe(false);
      expect(outcome.reason, url).toMatch(/(points to an? .+ address \(.+\)|resolves to an? [a-z -]+ address), which is not allowed/);
    }
    const team = member.team;
    const { endpoint } = await createActiveEndpoint(team.id, `http://0x7f000001:${port()}/deliver`);
    await db.$transaction((tx) => ingestAlert(tx, team, { title: "x", severity: "info", status: "triggered" }));
    await new Dispatcher({ policy: blocked(), timeoutMs: 2_000 }).drain();
    const attempt = await db.deliveryAttempt.findFirstOrThrow({ where: { delivery: { endpointId: endpoint.id } } });
    expect(attempt).toMatchObject({ errorClass: "blocked", errorMessage: "points to a loopback address (127.0.0.1), which is not allowed" });
    expect(receiver.requests.length).toBe(before);
  });

  it("with private destinations allowed, the same URLs reach the receiver", async () => {
    const reachable = notations().filter((url) => url.includes(`:${port()}/`) && !url.includes("[::1]"));
    const member = await createMember("member");
    for (const url of reachable) {
      const endpoint = await db.webhookEndpoint.create({ data: { teamId: member.team.id, url, secretCiphertext: "unused" } });
      const before = receiver.requests.length;
      const outcome = await validateEndpoint(endpoint, allowed());
      expect(outcome, url).toEqual({ ok: true, reason: null, statusCode: 204, ownershipConfirmed: false });
      expect(receiver.requests.length, url).toBe(before + 1);
    }
  });

  it("one URL object, sent once where private destinations are allowed, is still refused under a policy that blocks them", async () => {
    // sendOutbound keeps what it learned per URL object (the dispatcher reuses one per endpoint): the check must not be kept across policies.
    const url = new URL(`http://127.0.0.1:${port()}/same-url`);
    const before = receiver.requests.length;
    const send = (policy: DestinationPolicy) => sendOutbound({ method: "POST", url, headers: { "content-type": "application/json" }, body: "{}", timeoutMs: 2_000 }, policy);
    expect(await send(allowed())).toMatchObject({ ok: true, statusCode: 204 });
    expect(await send(blocked())).toMatchObject({ ok: false, errorClass: "blocked", reason: "points to a loopback address (127.0.0.1), which is not allowed" });
    expect(receiver.requests.length).toBe(before + 1);
  });

  it("an allow-list CIDR lets just that range through", async () => {
    const member = await createMember("member");
    const policy: DestinationPolicy = { ...blocked(), allowedCidrs: ["127.0.0.0/8"] };
    const endpoint = await db.webhookEndpoint.create({ data: { teamId: member.team.id, url: `http://127.0.0.1:${port()}/cidr`, secretCiphertext: "x" } });
    expect((await validateEndpoint(endpoint, policy)).ok).toBe(true);
    const other = await db.webhookEndpoint.create({ data: { teamId: member.team.id, url: "http://10.1.2.3/cidr", secretCiphertext: "x" } });
    expect((await validateEndpoint(other, policy)).reason).toBe("points to a private address (10.1.2.3), which is not allowed");
  });

  it("DNS rebinding: public at save, loopback at send, is refused at send and nothing is sent", async () => {
    // The first lookup (the save-time check) answers a public address; every later one, loopback.
    // Nothing ever connects to the public address: validation looks the name up again first.
    let lookups = 0;
    const policy = blocked(async () => (lookups++ === 0 ? ["93.184.216.34"] : ["127.0.0.1"]));
    const member = await createMember("member");
    const before = receiver.requests.length;
    const { endpointId, validation } = await createEndpoint(member, { url: `http://rebind.test:${port()}/hook`, description: null }, policy);
    expect(validation).toMatchObject({ ok: false, reason: "resolves to a loopback address, which is not allowed" });
    expect(await db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpointId } })).toMatchObject({ status: "failed" });
    expect(lookups).toBe(2);
    expect(receiver.requests.length).toBe(before);
  });

  it("connects to the checked address while keeping the Host header", async () => {
    const member = await createMember("member");
    const endpoint = await db.webhookEndpoint.create({ data: { teamId: member.team.id, url: `http://hooks.customer.test:${port()}/host`, secretCiphertext: "x" } });
    const before = receiver.requests.length;
    const outcome = await validateEndpoint(endpoint, allowed(async () => ["127.0.0.1"]));
    expect(outcome.ok).toBe(true);
    expect(receiver.requests[before]!.headers.host).toBe(`hooks.customer.test:${port()}`);
  });

  it("production policy: http:// is refused when https is required", async () => {
    const member = await createMember("member");
    await expect(
      createEndpoint(member, { url: "http://hooks.example.com/x", description: null }, { ...allowed(async () => ["93.184.216.34"]), requireHttps: true }),
    ).rejects.toMatchObject({ message: "This URL uses http://, but this mon1tor only sends to https:// URLs." });
  });
});
