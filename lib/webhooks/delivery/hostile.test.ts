// One healthy endpoint among hostile ones: whatever the hostile receivers send back is
// recorded as an ordinary attempt with a specific reason, and the healthy endpoint gets
// every alert exactly once, validly signed, over a window longer than the lease.
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestAlert } from "@/lib/alerts/ingest";
import { db } from "@/lib/db";
import { createActiveEndpoint, createTeam } from "@/lib/testing/factories";
import { hostileBehaviours, startHostileReceiver, type HostileBehaviour, type HostileReceiver } from "@/lib/testing/hostile-receiver";
import { startReceiver, type Receiver } from "@/lib/testing/receiver";
import { Dispatcher } from "@/lib/webhooks/delivery/dispatch";
import { STORED_EXCERPT_CHARS } from "@/lib/webhooks/delivery/response-excerpt";
import { RETRY_DELAYS_SECONDS } from "@/lib/webhooks/delivery/retry";

let healthy: Receiver;
let hostile: HostileReceiver;
beforeAll(async () => {
  healthy = await startReceiver(() => ({ status: 200, body: "ok" }));
  hostile = await startHostileReceiver();
});
afterAll(async () => {
  await healthy.close();
  await hostile.close();
});

const ALERTS = 20;
// Long enough that requests queued for the hostile origin's connections (220 of them, 128
// connections, the trickling ones holding theirs to the end) are answered within it on a busy
// machine: at 1 s, oversized headers were sometimes recorded as a timeout under load.
const TIMEOUT_MS = 3_000;
/** Answers that are read only as far as needed: tested on their own receiver (below). */
const readInPart: HostileBehaviour[] = ["huge-body", "early-hints"];

describe("hostile receivers", () => {
  it("cannot touch a healthy endpoint's deliveries, and each is recorded with a specific reason", async () => {
    const team = await createTeam();
    const { endpoint: good, secret } = await createActiveEndpoint(team.id, `${healthy.url}/healthy`);
    const bad = new Map<string, HostileBehaviour>();
    for (const behaviour of hostileBehaviours.filter((b) => !readInPart.includes(b))) {
      const { endpoint } = await createActiveEndpoint(team.id, `${hostile.url}/${behaviour}/hook`);
      bad.set(endpoint.id, behaviour);
    }
    await db.$transaction(async (tx) => {
      for (let i = 0; i < ALERTS; i++) await ingestAlert(tx, team, { title: `storm ${i}`, severity: "critical", status: "triggered" });
    });

    // A worker's loop, for longer than a lease (2 × timeout + 5 s): anything claimed and
    // never recorded would be claimed and sent again within this window.
    const dispatcher = new Dispatcher({ timeoutMs: TIMEOUT_MS, random: () => 0.5 });
    const windowMs = dispatcher.leaseMs + 2_000;
    const started = Date.now();
    while (Date.now() - started < windowMs) {
      await dispatcher.drain({ budgetMs: 2_000 });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    // The healthy endpoint: every alert exactly once, each signature valid.
    const received = healthy.requests.filter((r) => r.path === "/healthy");
    expect(received).toHaveLength(ALERTS);
    expect(new Set(received.map((r) => r.headers["webhook-id"])).size).toBe(ALERTS);
    for (const request of received) {
      const expected = crypto.createHmac("sha256", secret).update(request.body).digest("hex");
      expect(request.headers["x-mon1tor-sha256-wh"]).toBe(expected);
    }
    const goodDeliveries = await db.delivery.findMany({ where: { endpointId: good.id }, include: { attemptLog: true } });
    expect(goodDeliveries.every((d) => d.status === "delivered" && d.attempts === 1 && d.attemptLog.length === 1)).toBe(true);

    // Every hostile attempt is recorded, never beyond the schedule: within this window at
    // most the first attempt and the retry 5 s later.
    const allowed = 1 + RETRY_DELAYS_SECONDS.filter((_, i) => RETRY_DELAYS_SECONDS.slice(0, i + 1).reduce((a, b) => a + b, 0) * 1000 < windowMs).length;
    const byBehaviour = new Map<HostileBehaviour, { status: string; attempts: { statusCode: number | null; errorClass: string | null; errorMessage: string | null; responseExcerpt: string | null }[] }[]>();
    for (const [endpointId, behaviour] of bad) {
      const deliveries = await db.delivery.findMany({ where: { endpointId }, include: { attemptLog: { orderBy: { number: "asc" } } } });
      expect(deliveries).toHaveLength(ALERTS);
      let sent = 0;
      for (const delivery of deliveries) {
        expect(delivery.attempts, `${behaviour}: attempts`).toBeLessThanOrEqual(allowed);
        expect(delivery.attemptLog, `${behaviour}: one row per attempt`).toHaveLength(delivery.attempts);
        expect(delivery.leaseExpiresAt, `${behaviour}: nothing left claimed`).toBeNull();
        sent += delivery.attempts;
      }
      // Nothing reached the receiver that is not recorded.
      expect(hostile.hits.get(behaviour) ?? 0, `${behaviour}: requests received`).toBe(sent);
      byBehaviour.set(behaviour, deliveries.map((d) => ({ status: d.status, attempts: d.attemptLog })));
    }
    const first = (behaviour: HostileBehaviour) => byBehaviour.get(behaviour)![0]!;
    const everyFirst = (behaviour: HostileBehaviour) => byBehaviour.get(behaviour)!.map((d) => d.attempts[0]!);

    expect(first("nul-body").status).toBe("delivered");
    expect(first("nul-body").attempts[0]!.responseExcerpt).toBe("[mon1tor: NUL bytes escaped as \\u0000]\nok\\u0000\\u0000 thanks\\u0000");
    expect(first("invalid-utf8").status).toBe("delivered");
    expect(first("invalid-utf8").attempts[0]!.responseExcerpt).toMatch(/^\[mon1tor: invalid UTF-8 replaced with U\+FFFD\]\nok\uFFFD/);
    expect(first("binary").attempts[0]!.responseExcerpt).toMatch(/^\[mon1tor: invalid UTF-8 replaced with U\+FFFD; NUL bytes escaped as \\u0000\]/);
    expect(first("gzip").attempts[0]!.responseExcerpt).toMatch(/^\[mon1tor: gzip-encoded body of \d+ bytes, not decoded\]$/);
    expect(first("many-headers").status).toBe("delivered");
    for (const attempt of everyFirst("huge-headers")) {
      expect(attempt).toMatchObject({ errorClass: "protocol", errorMessage: "sent response headers larger than 16 KB" });
    }
    for (const attempt of everyFirst("odd-status")) expect(attempt).toMatchObject({ statusCode: 599, errorClass: "http_status", errorMessage: "answered 599" });
    for (const attempt of everyFirst("status-999")) expect(attempt).toMatchObject({ statusCode: 999, errorMessage: "answered 999" });
    for (const attempt of everyFirst("reset-mid-body")) {
      expect(attempt.statusCode).toBe(200);
      expect(attempt.errorMessage).toMatch(/^answered 200, then the response body failed: /);
    }
    for (const attempt of everyFirst("reset-before-status")) expect(attempt).toMatchObject({ statusCode: null, errorClass: "reset" });
    for (const attempt of everyFirst("trickle")) {
      expect(attempt).toMatchObject({ statusCode: 200, errorClass: "timeout", errorMessage: `answered 200, then the response body failed: timed out after ${TIMEOUT_MS / 1000} s` });
    }
  }, 60_000);

  it("reads a 50 MB answer only as far as it keeps, and waits past 103 Early Hints for the real answer", async () => {
    // A receiver of their own: on the first one's origin, these requests had queued for its
    // connections behind the trickling ones, and timed out there on a busy machine.
    const own = await startHostileReceiver();
    try {
      const team = await createTeam();
      const { endpoint: huge } = await createActiveEndpoint(team.id, `${own.url}/huge-body/hook`);
      const { endpoint: hints } = await createActiveEndpoint(team.id, `${own.url}/early-hints/hook`);
      await db.$transaction(async (tx) => {
        for (let i = 0; i < 5; i++) await ingestAlert(tx, team, { title: `big ${i}`, severity: "critical", status: "triggered" });
      });
      await new Dispatcher({ timeoutMs: 10_000 }).drain();
      const recorded = (endpointId: string) => db.delivery.findMany({ where: { endpointId }, include: { attemptLog: true } });
      for (const [endpoint, excerpt] of [[huge, "a".repeat(STORED_EXCERPT_CHARS)], [hints, "ok after the hints"]] as const) {
        const deliveries = await recorded(endpoint.id);
        expect(deliveries).toHaveLength(5);
        for (const delivery of deliveries) {
          expect(delivery.status).toBe("delivered");
          expect(delivery.attemptLog).toHaveLength(1);
          expect(delivery.attemptLog[0]).toMatchObject({ statusCode: 200, errorClass: null, responseExcerpt: excerpt });
        }
      }
    } finally {
      await own.close();
    }
  }, 30_000);
});
