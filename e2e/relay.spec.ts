// `mon1tor listen` end to end: the CLI as a real child process (bin/mon1tor.mjs), real local
// receivers on 127.0.0.1, the app's own server, and a second web process for the multi-process case.
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import http from "node:http";
import { expect, test, type Page } from "@playwright/test";
import pg from "pg";
import { startReceiver } from "../lib/testing/receiver";
import { stopProcess, waitUntil } from "../lib/testing/worker-process";
import { freePort } from "../scripts/lib/embedded-postgres";
import { nextStartArgs } from "../scripts/lib/next-start";
import { createApiKey, ownerPage } from "./helpers";

const baseURL = `http://localhost:${Number(process.env.E2E_PORT ?? 3100)}`;
const MANAGE = "Manage endpoints (mon1tor listen)";
const children: ChildProcess[] = [];

test.afterAll(async () => {
  await Promise.all(children.map((child) => stopProcess(child, "SIGKILL")));
});

type Cli = { child: ChildProcess; output: () => string; exit: Promise<number | null> };

function listen(args: string[], url = baseURL): Cli {
  const child = spawn(process.execPath, ["bin/mon1tor.mjs", "listen", "--url", url, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let text = "";
  child.stdout!.on("data", (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => text, exit };
}

/** Waits for the CLI's "Ready!" and returns the secret it printed. */
async function printedSecret(cli: Cli): Promise<string> {
  const pattern = /signing secret is (whsec_\S+) /;
  await expect.poll(cli.output, { timeout: 40_000 }).toMatch(pattern);
  return pattern.exec(cli.output())![1]!;
}

const signature = (secret: string, body: string) => crypto.createHmac("sha256", secret).update(body).digest("hex");
const auth = (key: string) => ({ authorization: `Bearer ${key}`, "content-type": "application/json" });

async function sendAlert(request: import("@playwright/test").APIRequestContext, key: string, title: string, url = baseURL) {
  const response = await request.post(`${url}/api/v1/alerts`, { headers: auth(key), data: { title, severity: "critical", monitor: { id: "disk-1", name: "db-1 disk" } } });
  expect(response.status(), await response.text()).toBe(202);
}

async function relayShown(page: Page, name: string, state: "connected" | "disconnected") {
  await expect(async () => {
    await page.goto("/settings/webhooks");
    await expect(page.getByRole("link", { name: `CLI relay: ${name}, ${state}` })).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
}

test("an alert reaches the local receiver through mon1tor listen, signed with the printed secret; the log shows the local answer; Ctrl-C stops cleanly", async ({ browser, request }) => {
  const { page } = await ownerPage(browser);
  const key = await createApiKey(page, "laptop", ["Send alerts", MANAGE]);
  const receiver = await startReceiver(() => ({ status: 200, body: "thanks from localhost" }));
  const cli = listen(["--forward-to", `${receiver.url}/webhook`, "--api-key", key, "--name", "dev-laptop", "--print-json"]);
  const secret = await printedSecret(cli);
  await relayShown(page, "dev-laptop", "connected");

  await sendAlert(request, key, "Disk full on db-1");
  const [copy] = await receiver.waitFor(1, 30_000);
  expect(copy!.method).toBe("POST");
  expect(copy!.path).toBe("/webhook");
  expect(copy!.headers["x-mon1tor-sha256-wh"]).toBe(signature(secret, copy!.body));
  expect(copy!.headers["webhook-id"]).toMatch(/^msg_/);
  expect(JSON.parse(copy!.body)).toMatchObject({ type: "alert.triggered", data: { alert: { title: "Disk full on db-1", severity: "critical" } } });
  // One line per delivery, and the payload with --print-json.
  await expect.poll(cli.output).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}alert\.triggered {2}"Disk full on db-1" {2}-> 200 {2}\d+ ms/);
  expect(cli.output()).toContain(`"title": "Disk full on db-1"`);

  // Recorded like any attempt: the log shows what the local receiver answered.
  await page.getByRole("link", { name: "CLI relay: dev-laptop, connected" }).click();
  await expect(page.getByTestId("relay-state")).toContainText("CLI relay: dev-laptop, connected");
  await expect(async () => {
    await page.reload();
    await expect(page.getByRole("table", { name: "Deliveries" }).getByTestId("delivery-status").first()).toHaveText("Delivered", { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  await page.getByRole("table", { name: "Deliveries" }).getByRole("link", { name: "alert.triggered" }).click();
  await expect(page.getByText(/^Attempt 1 · .* answered 200$/)).toBeVisible();
  await expect(page.getByLabel("Response to attempt 1")).toHaveText("thanks from localhost");

  cli.child.kill("SIGINT");
  expect(await cli.exit).toBe(0);
  expect(cli.output()).toContain("Stopped.");
  await relayShown(page, "dev-laptop", "disconnected");
  await receiver.close();
});

/** A receiver on a port of our choosing, so that it can go down and come back on the same one. */
function receiverOn(port: number, bodies: string[]) {
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      bodies.push(body);
      res.writeHead(204).end();
    });
  });
  return new Promise<http.Server>((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

test("a local receiver that is down is a failed attempt with the reason and the CLI keeps going; killed and restarted within the window, the CLI gets what waited", async ({ browser, request }) => {
  const { page } = await ownerPage(browser);
  const key = await createApiKey(page, "laptop", ["Send alerts", MANAGE]);
  const pinned = `whsec_${crypto.randomBytes(32).toString("base64")}`;
  const port = await freePort();
  const args = ["--forward-to", `http://127.0.0.1:${port}/hook`, "--api-key", key, "--name", "flaky", "--secret", pinned];
  let cli = listen(args);
  expect(await printedSecret(cli)).toBe(pinned);

  // Nothing listens on the port yet.
  await sendAlert(request, key, "Receiver down");
  await expect.poll(cli.output, { timeout: 30_000 }).toContain(`!! connection refused on 127.0.0.1:${port}`);
  await page.goto("/settings/webhooks");
  await page.getByRole("link", { name: "CLI relay: flaky, connected" }).click();
  await page.getByRole("table", { name: "Deliveries" }).getByRole("link", { name: "alert.triggered" }).click();
  await expect(page.getByText(`connection refused on 127.0.0.1:${port}`).first()).toBeVisible();
  expect(cli.child.exitCode).toBeNull();

  // The failed attempt is retried like any other (a worker sends it when due; this server has none).
  await expect(page.getByTestId("delivery-status")).toHaveText("Retrying");

  // It comes back: the next alert arrives.
  const bodies: string[] = [];
  const server = await receiverOn(port, bodies);
  await sendAlert(request, key, "Receiver back");
  await expect.poll(() => bodies.some((body) => body.includes("Receiver back")), { timeout: 30_000 }).toBe(true);

  // Killed outright: the relay disconnects, and an alert sent meanwhile waits for it.
  cli.child.kill("SIGKILL");
  await cli.exit;
  await relayShown(page, "flaky", "disconnected");
  await sendAlert(request, key, "While away");
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  expect(bodies.some((body) => body.includes("While away"))).toBe(false);
  cli = listen(args);
  expect(await printedSecret(cli)).toBe(pinned);
  await expect.poll(() => bodies.some((body) => body.includes("While away")), { timeout: 30_000 }).toBe(true);
  cli.child.kill("SIGINT");
  await cli.exit;
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test("two CLIs on one team, one of them on a second web process, each get every alert with their own secret", async ({ browser, request }) => {
  const { page } = await ownerPage(browser);
  const key = await createApiKey(page, "team", ["Send alerts", MANAGE]);
  const port = await freePort();
  const other = spawn("node_modules/.bin/next", nextStartArgs(port), { env: { ...process.env, NEXTAUTH_URL: `http://localhost:${port}` }, stdio: "ignore" });
  children.push(other);
  const otherURL = `http://localhost:${port}`;
  await waitUntil(async () => (await fetch(`${otherURL}/api/health/live`)).ok, 60_000, "the second web process");

  const first = await startReceiver(() => ({ status: 200 }));
  const second = await startReceiver(() => ({ status: 200 }));
  const alice = listen(["--forward-to", `${first.url}/a`, "--api-key", key, "--name", "alice"]);
  const bob = listen(["--forward-to", `${second.url}/b`, "--api-key", key, "--name", "bob"], otherURL);
  // A third with a filter, as on an endpoint: info alerts only.
  const third = await startReceiver(() => ({ status: 200 }));
  const carol = listen(["--forward-to", `${third.url}/c`, "--api-key", key, "--name", "carol", "--severities", "info"]);
  const [aliceSecret, bobSecret] = await Promise.all([printedSecret(alice), printedSecret(bob), printedSecret(carol)]);
  expect(aliceSecret).not.toBe(bobSecret);
  expect(carol.output()).toContain("Filter: Info, triggered and resolved.");
  await relayShown(page, "alice", "connected");
  await relayShown(page, "bob", "connected");

  await sendAlert(request, key, "Everyone gets this");
  const [a] = await first.waitFor(1, 30_000);
  const [b] = await second.waitFor(1, 30_000);
  // The same event: the same bytes to both.
  expect(a!.body).toBe(b!.body);
  expect(a!.headers["x-mon1tor-sha256-wh"]).toBe(signature(aliceSecret, a!.body));
  expect(b!.headers["x-mon1tor-sha256-wh"]).toBe(signature(bobSecret, b!.body));
  expect(a!.headers["webhook-id"]).not.toBe(b!.headers["webhook-id"]);
  // The critical alert is not for carol's filter.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect(third.requests).toHaveLength(0);

  // The same name twice is refused while the first is connected.
  const twin = listen(["--forward-to", `${first.url}/a`, "--api-key", key, "--name", "alice"]);
  await expect.poll(twin.output, { timeout: 20_000 }).toContain("A mon1tor listen named “alice” is already connected to this team.");
  await stopProcess(twin.child, "SIGKILL");
  for (const cli of [alice, bob, carol]) cli.child.kill("SIGINT");
  await Promise.all([alice.exit, bob.exit, carol.exit]);
  await third.close();
  await stopProcess(other);
  await first.close();
  await second.close();
});

test("a wrong, revoked or alerts-only key is refused with a clear message and exit code 1", async ({ browser }) => {
  const { page } = await ownerPage(browser);
  const forward = ["--forward-to", "http://127.0.0.1:9/hook"];
  const refused = async (args: string[], message: string) => {
    const cli = listen([...forward, ...args]);
    expect(await cli.exit).toBe(1);
    expect(cli.output()).toContain(message);
  };
  await refused([], "An API key is needed: pass --api-key <key> or set MON1TOR_API_KEY.");
  await refused(["--api-key", `mk_${"a".repeat(12)}_${"b".repeat(43)}`], "mon1tor refused the API key: This API key is not valid.");
  const alertsOnly = await createApiKey(page, "alerts only", ["Send alerts"]);
  await refused(["--api-key", alertsOnly], `does not have the “${MANAGE}” permission`);
  // A filter value the server does not know is refused by name.
  const manager = await createApiKey(page, "manager", [MANAGE]);
  await refused(["--api-key", manager, "--severities", "urgent"], "mon1tor refused to open the relay: Invalid severities:");
  const revoked = await createApiKey(page, "old laptop", [MANAGE]);
  await page.getByRole("row", { name: /old laptop/ }).getByRole("button", { name: "Revoke" }).click();
  await page.getByRole("button", { name: "Revoke key" }).click();
  await expect(page.getByRole("row", { name: /old laptop/ })).toContainText("Revoked");
  await refused(["--api-key", revoked], "mon1tor refused the API key: This API key has been revoked.");
  // A key that may manage endpoints but not send alerts cannot send alerts.
  const relayOnly = await createApiKey(page, "relay only", [MANAGE]);
  const response = await page.request.post("/api/v1/alerts", { headers: auth(relayOnly), data: { title: "x", severity: "info" } });
  expect(response.status()).toBe(403);
  expect((await response.json()).error.message).toContain("does not have the “Send alerts” permission");
});

test("over the connection rate limit the server answers 429 with Retry-After, and the CLI waits and connects", async ({ browser }) => {
  const { page } = await ownerPage(browser);
  const key = await createApiKey(page, "busy", [MANAGE]);
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    // This key's connections for the minute are used up, with 4 s of its window left.
    const prefix = key.split("_")[1]!;
    await client.query(
      `INSERT INTO "RateLimit" (key, count, "windowStart")
       SELECT 'relay:key:' || id, 30, (now() AT TIME ZONE 'UTC') - interval '56 seconds' FROM "ApiKey" WHERE prefix = $1`,
      [prefix],
    );
  } finally {
    await client.end();
  }
  const cli = listen(["--forward-to", "http://127.0.0.1:9/hook", "--api-key", key, "--name", "patient"]);
  await expect.poll(cli.output, { timeout: 20_000 }).toMatch(/mon1tor asks us to slow down: Too many relay connections for this API key: .* Retrying in [1-5] s\./);
  await printedSecret(cli);
  cli.child.kill("SIGINT");
  expect(await cli.exit).toBe(0);
});
