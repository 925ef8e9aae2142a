// Admission in front of the web server's handler (lib/alerts/admission.ts), on a real HTTP server
// whose handler stands in for Next: slow enough that calls pile up.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Admission, ADMISSION_BURST, ADMISSION_MIN_IN_FLIGHT, admitAlertCallsInFront, MAX_RETRY_AFTER_SECONDS } from "@/lib/alerts/admission";

let server: http.Server;
let base: string;
let release: () => void = () => {};
let front: ReturnType<typeof admitAlertCallsInFront>;
const handled: string[] = [];

beforeAll(async () => {
  // No burst allowance here: the limit itself is what these tests hold calls against.
  front = admitAlertCallsInFront(new Admission(0));
  // Holds every call it gets until release(): the calls in flight stay in flight.
  const gate = new Promise<void>((resolve) => (release = resolve));
  server = http.createServer((request, response) => {
    handled.push(`${request.method} ${request.url}`);
    request.resume();
    void gate.then(() => {
      response.writeHead(202, { "content-type": "application/json" });
      response.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  release();
  front.stop();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const post = (path: string) =>
  fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ title: "x", severity: "info" }) });

describe("admission in front of the handler", () => {
  it("refuses the calls past what is in flight with a 503 and Retry-After at once, before the handler sees them; other calls go through", async () => {
    const extra = 60;
    const held = Array.from({ length: ADMISSION_MIN_IN_FLIGHT }, () => post("/api/v1/alerts"));
    // Every held call has reached the handler and waits there.
    await expect.poll(() => handled.length, { timeout: 10_000 }).toBe(ADMISSION_MIN_IN_FLIGHT);

    const refused = await Promise.all([
      ...Array.from({ length: extra - 2 }, () => post("/api/v1/alerts")),
      post("/api/v1/alerts/batch"),
      post("/api/v1/integrations/alertmanager?x=1"),
    ]);
    // Answered while the admitted ones are still held: nobody waited for them.
    for (const response of refused) {
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("1");
      expect(await response.json()).toEqual({ error: { code: "unavailable", message: expect.stringMatching(/^mon1tor is taking in more alerts than it can store right now/) } });
    }
    expect(handled).toHaveLength(ADMISSION_MIN_IN_FLIGHT);
    expect(front.admission.inFlight).toBe(ADMISSION_MIN_IN_FLIGHT);

    // Not alert calls: never refused, even now.
    const others = [post("/api/v1/relays/listen"), fetch(`${base}/api/v1/alerts`), post("/api/v1/alertsfoo"), post("/settings")];
    await expect.poll(() => handled.length, { timeout: 10_000 }).toBe(ADMISSION_MIN_IN_FLIGHT + others.length);

    release();
    for (const response of await Promise.all([...held, ...others])) expect(response.status).toBe(202);
    // Each admitted call, once answered, frees its place.
    await expect.poll(() => front.admission.inFlight).toBe(0);
    expect((await post("/api/v1/alerts")).status).toBe(202);
  });

  it("asks refused clients to wait longer as more of them wait, so their retries come no faster than calls complete", () => {
    vi.useFakeTimers({ toFake: ["performance"] });
    try {
      const admission = new Admission(0);
      // A second at 200 completed calls a second, with 2,000 refused (each client told to wait 1 s).
      const second = (completed: number, refused: number) => {
        for (let i = 0; i < completed; i++) {
          expect(admission.admit()).toBe(true);
          admission.done();
        }
        for (let i = 0; i < ADMISSION_MIN_IN_FLIGHT; i++) admission.admit();
        for (let i = 0; i < refused; i++) expect(admission.admit()).toBe(false);
        admission.inFlight -= ADMISSION_MIN_IN_FLIGHT;
        vi.advanceTimersByTime(1_000);
      };
      expect(admission.retryAfterSeconds).toBe(1);
      second(200, 2_000);
      void admission.capacity;
      // 2,000 waiting clients over 200 calls a second: 10 s apart.
      expect(admission.retryAfterSeconds).toBe(10);
      // They now come back 10 s apart, 200 a second: the wait holds.
      second(200, 200);
      void admission.capacity;
      expect(admission.retryAfterSeconds).toBe(10);
      // A storm far past that is capped; once nobody is refused, back to 1 s.
      second(200, 100_000);
      void admission.capacity;
      expect(admission.retryAfterSeconds).toBe(MAX_RETRY_AFTER_SECONDS);
      second(200, 0);
      void admission.capacity;
      expect(admission.retryAfterSeconds).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it("takes a burst past the limit once (every client retrying after a restart), and refuses a storm that outlasts it", () => {
    vi.useFakeTimers({ toFake: ["performance"] });
    try {
      const admission = new Admission();
      // 400 at once on a process just started: all in.
      for (let i = 0; i < 400; i++) expect(admission.admit()).toBe(true);
      for (let i = 0; i < 400; i++) admission.done();
      // A second later, with the limit never full meanwhile, the allowance is whole again.
      vi.advanceTimersByTime(1_000);
      expect(admission.admit()).toBe(true);
      admission.done();
      // A storm: past the limit, the allowance is spent once, then everything past the limit is refused…
      for (let i = 0; i < ADMISSION_MIN_IN_FLIGHT + ADMISSION_BURST; i++) expect(admission.admit()).toBe(true);
      expect(admission.admit()).toBe(false);
      // …even when its calls complete down to under the limit now and then: it stays spent while the limit keeps filling.
      for (let i = 0; i < ADMISSION_BURST + 1; i++) admission.done();
      vi.advanceTimersByTime(500);
      expect(admission.admit()).toBe(true);
      expect(admission.admit()).toBe(false);
      // A second with the limit never full: given back.
      for (let i = 0; i < 50; i++) admission.done();
      vi.advanceTimersByTime(1_000);
      expect(admission.admit()).toBe(true);
      for (let i = 0; i < ADMISSION_BURST; i++) expect(admission.admit()).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});
