// The CLI's own rules, without a server: how it names the local receiver's failures (what the
// delivery log then shows) and its default relay name. e2e/relay.spec.ts runs the CLI whole.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { defaultRelayName, describeLocalError } from "@/lib/cli/listen";
import { relayNameSchema } from "@/lib/relay/protocol";
import { freePort } from "@/scripts/lib/embedded-postgres";

const failureOf = async (url: URL, init: RequestInit = {}) => {
  try {
    await fetch(url, { method: "POST", body: "{}", ...init });
  } catch (error) {
    return describeLocalError(error, url);
  }
  throw new Error("the request did not fail");
};

describe("mon1tor listen", () => {
  it("names a receiver that is down by its host and port, as the delivery log shows it", async () => {
    const url = new URL(`http://127.0.0.1:${await freePort()}/webhook`);
    expect(await failureOf(url)).toEqual({ class: "refused", message: `connection refused on ${url.host}` });
  });

  it("names a receiver that closes the connection without answering, and one that is too slow", async () => {
    const server = http.createServer((request) => {
      if (request.url === "/reset") request.socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await failureOf(new URL(`${origin}/reset`))).toMatchObject({ class: "reset", message: expect.stringContaining("closed the connection before answering") });
      expect(await failureOf(new URL(`${origin}/slow`), { signal: AbortSignal.timeout(200) })).toMatchObject({ class: "timeout", message: expect.stringMatching(/^timed out after/) });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("names the relay after this machine and the local port, a name the server accepts", () => {
    const name = defaultRelayName(new URL("http://localhost:4000/webhook"));
    expect(name).toMatch(/-4000$/);
    expect(relayNameSchema.safeParse(name).success).toBe(true);
    expect(defaultRelayName(new URL("https://localhost/hook"))).toMatch(/-443$/);
  });
});
