// Shedding a storm in the web process: each request is stamped with its arrival as Node's HTTP
// server parses it, a client cannot forge the stamp, and an alert call that waited too long in
// the process is refused at once with a 503 and Retry-After, before anything is written.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it, vi } from "vitest";

vi.mock("next/server", async (importOriginal) => ({
  ...(await importOriginal<typeof import("next/server")>()),
  after: () => {},
}));
import { POST } from "@/app/api/v1/alerts/route";
import { ARRIVED_HEADER, MAX_QUEUED_MS, queuedMs, stampArrivals } from "@/lib/api/arrival";
import { createApiKey } from "@/lib/api-keys/keys";
import { db } from "@/lib/db";
import { createMember } from "@/lib/testing/factories";

describe("arrival stamps", () => {
  it("every request is stamped as it is parsed, over any value the client sent", async () => {
    stampArrivals();
    const seen: (string | undefined)[] = [];
    const server = http.createServer((request, response) => {
      seen.push(request.headers[ARRIVED_HEADER] as string | undefined);
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const before = Date.now();
      await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { headers: { [ARRIVED_HEADER]: "1" } });
      expect(Number(seen[0])).toBeGreaterThanOrEqual(before);
    } finally {
      server.close();
    }
  });

  it("an alert call that waited longer than the limit in this process is refused with 503 and Retry-After, and nothing is stored", async () => {
    const owner = await createMember("owner");
    const { key } = await createApiKey(owner, { name: "storm", permissions: ["alerts:send"] });
    const call = (arrived: number) =>
      POST(
        new Request("http://localhost/api/v1/alerts", {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json", [ARRIVED_HEADER]: String(arrived) },
          body: JSON.stringify({ title: "late", severity: "critical" }),
        }),
      );
    const late = await call(Date.now() - MAX_QUEUED_MS - 500);
    expect(late.status).toBe(503);
    expect(late.headers.get("retry-after")).toBe("1");
    expect((await late.json()).error.message).toContain("Nothing of this request was stored");
    expect(await db.alert.count({ where: { teamId: owner.team.id } })).toBe(0);
    // In time, the same call is taken.
    expect((await call(Date.now())).status).toBe(202);
    expect(queuedMs(new Request("http://localhost/", { headers: { [ARRIVED_HEADER]: "1000" } }), 1500)).toBe(500);
    expect(queuedMs(new Request("http://localhost/"))).toBeNull();
  });
});
