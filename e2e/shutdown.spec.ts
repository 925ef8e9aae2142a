// Deploys as operators run them: `npm start` on its embedded PostgreSQL, a steady stream of
// alerts, a receiver that holds every POST for 1.2 s, and a stop in the middle, each way a
// stop arrives. SIGTERM to npm's pid alone (docker stop, Kubernetes), SIGTERM to the whole
// process group (systemd's KillMode=control-group), and a second SIGTERM that means "now".
// Across the restarts, every accepted alert arrives exactly once, and the API answers 503
// only while a stop is under way.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";
import pg from "pg";
import { startReceiver, type Receiver } from "../lib/testing/receiver";
import { freePort, isPortFree } from "../scripts/lib/embedded-postgres";
import { addActiveEndpoint, createApiKey, newAccount, signUp } from "./helpers";

const HOLD_MS = 1_200;
const TIMEOUT_MS = 4_000;

let receiver: Receiver;
let app: ChildProcess | undefined;
let dataDir: string;
const output: string[] = [];

test.afterAll(async () => {
  if (app?.pid && app.exitCode === null) process.kill(-app.pid, "SIGKILL");
  await receiver?.close();
  if (dataDir) {
    // A server left by a failed run is stopped by the next start on this folder; there is none.
    const pidFile = path.join(dataDir, "postgres", "postmaster.pid");
    if (fs.existsSync(pidFile)) process.kill(Number(fs.readFileSync(pidFile, "utf8").split("\n")[0]), "SIGINT");
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test("stopping mid-stream, by pid, by process group and twice: no duplicate, no loss, 503s only while stopping", async ({ browser }) => {
  test.setTimeout(360_000);
  const port = await freePort();
  const pgPort = await freePort();
  const baseURL = `http://localhost:${port}`;
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "mon1tor-shutdown-"));
  // The embedded database of `npm start`, not the suite's: its place in the stop is the point.
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), NEXTAUTH_URL: baseURL, MON1TOR_DATA_DIR: dataDir, MON1TOR_PG_PORT: String(pgPort) };
  delete env.DATABASE_URL;
  // The hurried stop's receiver holds past the timeout on purpose: 20 of those timeouts in a row
  // would disable the endpoint by the failure policy (seen in CI), which is not what this tests.
  Object.assign(env, { MON1TOR_DELIVERY_TIMEOUT_MS: String(TIMEOUT_MS), MON1TOR_FAILURE_DISABLE_AFTER: "100000", MON1TOR_ALLOW_PRIVATE_URLS: "true", MON1TOR_ALLOW_HTTP_URLS: "true" });

  const start = async () => {
    // Its own process group, as a service manager gives it, so the group can be signalled alone.
    app = spawn("npm", ["start", "--silent"], { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const stamp = (chunk: Buffer) => output.push(`${new Date().toISOString().slice(11, 23)} ${chunk.toString()}`);
    app.stdout!.on("data", stamp);
    app.stderr!.on("data", stamp);
    await expect.poll(async () => (await fetch(`${baseURL}/signin`).catch(() => null))?.status ?? 0, { timeout: 120_000, intervals: [250] }).toBe(200);
  };
  const stops: { from: number; to: number; how: string }[] = [];
  /** Signals the running app and waits for the whole process group to be gone. */
  const stop = async (how: string, signal: (pid: number) => void) => {
    const running = app!;
    const exited = new Promise<void>((resolve) => running.once("exit", () => resolve()));
    const from = Date.now();
    signal(running.pid!);
    await exited;
    // npm is gone: the group (web server, worker) and the database must be too.
    const log = () => output.join("").slice(-3_000);
    await expect.poll(() => groupAlive(running.pid!), { timeout: 5_000, message: log() }).toBe(false);
    await expect.poll(() => isPortFree(pgPort), { timeout: 5_000, message: `the database stopped too: ${log()}` }).toBe(true);
    stops.push({ from, to: Date.now(), how });
    return Date.now() - from;
  };

  const seen = new Map<string, number>();
  let holdMs = HOLD_MS;
  receiver = await startReceiver(async (r) => {
    if (r.method === "POST" && r.headers["webhook-id"]) {
      // Counted by the event the payload carries: a receiver deduplicates by it.
      const id = (JSON.parse(r.body) as { id: string }).id;
      seen.set(id, (seen.get(id) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, holdMs));
    }
    return { status: 200 };
  });

  await start();
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await signUp(page, newAccount("deploy"));
  await addActiveEndpoint(page, `${receiver.url}/deploy`);
  const key = await createApiKey(page);
  await context.close();

  // The stream: 20 alerts a second, each sent again with its Idempotency-Key until it gets a 202,
  // as a real client retries through a restart.
  const accepted = new Map<number, string>();
  const unavailable: number[] = [];
  const whyUnavailable = new Map<number, string>();
  let sending = true;
  const sendOne = async (i: number) => {
    for (;;) {
      const response = await fetch(`${baseURL}/api/v1/alerts`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "idempotency-key": `deploy-${i}` },
        body: JSON.stringify({ title: `deploy ${i}` }),
        signal: AbortSignal.timeout(10_000),
      }).catch(() => null);
      if (response?.status === 202) {
        accepted.set(i, ((await response.json()) as { eventId: string }).eventId);
        return;
      }
      if (response?.status === 503) {
        const at = Date.now();
        unavailable.push(at);
        whyUnavailable.set(at, ((await response.json().catch(() => ({}))) as { error?: { message?: string } }).error?.message ?? "");
      }
      else if (response) throw new Error(`alert ${i}: unexpected ${response.status} ${await response.text()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  const senders: Promise<void>[] = [];
  const stream = (async () => {
    for (let i = 0; sending; i++) {
      senders.push(sendOne(i));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  const midStream = () => new Promise((resolve) => setTimeout(resolve, 3_000));

  // 1. SIGTERM to npm's pid alone. npm passes it on; in-flight attempts finish and are recorded.
  await midStream();
  const byPid = await stop("SIGTERM to npm's pid", (pid) => process.kill(pid, "SIGTERM"));
  // The worker's documented bound: the delivery timeout and 5 s to record, well inside it here.
  expect(byPid, output.join("").slice(-3_000)).toBeLessThan(TIMEOUT_MS + 10_000);

  // 2. SIGTERM to the whole process group: the database, in a group of its own, stops last.
  await start();
  await midStream();
  const byGroup = await stop("SIGTERM to the process group", (pid) => process.kill(-pid, "SIGTERM"));
  expect(byGroup, output.join("").slice(-3_000)).toBeLessThan(TIMEOUT_MS + 10_000);

  // Up again: everything accepted so far arrives, and none of it twice.
  await start();
  const database = async <T,>(work: (client: pg.Client) => Promise<T>) => {
    const secrets = JSON.parse(fs.readFileSync(path.join(dataDir, "secrets.json"), "utf8")) as { postgresPassword: string };
    const client = new pg.Client({ connectionString: `postgresql://postgres:${encodeURIComponent(secrets.postgresPassword)}@127.0.0.1:${pgPort}/mon1tor` });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  const attemptsOf = (eventIds: string[]) =>
    database(async (client) =>
      (await client.query(
        `SELECT d."eventId", a.number, a."startedAt", a."durationMs", a."statusCode", a."errorClass", a."errorMessage"
         FROM "Delivery" d JOIN "DeliveryAttempt" a ON a."deliveryId" = d.id WHERE d."eventId" = ANY($1::text[]) ORDER BY 1, 2`,
        [eventIds],
      )).rows,
    );
  const delivered = async () => {
    const eventIds = [...accepted.values()];
    try {
      await expect
        .poll(() => eventIds.filter((id) => !seen.has(id)).length, { timeout: 90_000, message: "every accepted alert delivered" })
        .toBe(0);
    } catch (error) {
      // What the database says of them, and what the processes said: a stall or a slow machine.
      const [states, endpoints] = await database(async (client) => [
        await client.query(`SELECT status, count(*)::int AS n, count("leaseExpiresAt")::int AS leased, min("nextAttemptAt") AS next FROM "Delivery" GROUP BY status`),
        await client.query(`SELECT status, "consecutiveFailures", "deliveryRateCap" FROM "WebhookEndpoint"`),
      ]);
      console.error("[shutdown test]", JSON.stringify(states.rows), JSON.stringify(endpoints.rows), output.join("").slice(-4_000));
      throw error;
    }
    return eventIds;
  };
  const graceful = await delivered();
  expect(graceful.length).toBeGreaterThan(100);
  const twice = graceful.filter((id) => seen.get(id)! > 1);
  // Sent twice: each attempt's outcome and when, for the duplicates (a CI run once had 27, after attempts the worker counted failed).
  expect(twice, JSON.stringify(twice.length > 0 ? await attemptsOf(twice.slice(0, 5)) : [])).toEqual([]);

  // 3. Two SIGTERMs 1.5 s apart: the second stops at once. What was in flight was never
  // recorded: it is leased, and sent again when the lease ends (at least once).
  // The receiver now holds each POST past the delivery timeout: a graceful stop would wait for it.
  holdMs = 30_000;
  await midStream();
  // Right as a new batch goes out, so its attempts have the whole timeout still to run: signalled
  // late in a batch's timeout, the graceful stop ended before the second SIGTERM (seen in CI).
  const arrived = receiver.requests.length;
  await expect.poll(() => receiver.requests.length, { timeout: 30_000, intervals: [20] }).toBeGreaterThan(arrived);
  const hurried = await stop("a second SIGTERM", (pid) => {
    process.kill(pid, "SIGTERM");
    setTimeout(() => process.kill(pid, "SIGTERM"), 1_500);
  });
  expect(hurried).toBeLessThan(1_500 + 3_000);
  expect(output.join("")).toContain("a second SIGTERM: stopping now");
  holdMs = HOLD_MS;

  await start();
  await midStream();
  sending = false;
  await stream;
  await Promise.all(senders);
  await delivered();
  await stop("the end", (pid) => process.kill(pid, "SIGTERM"));

  // 503s only inside a stop (from the signal until the process group was gone).
  const outside = unavailable.filter((at) => !stops.some((s) => at >= s.from && at <= s.to + 1_000));
  expect(outside, JSON.stringify({ stops, why: outside.map((at) => whyUnavailable.get(at)) })).toEqual([]);
});

function groupAlive(pgid: number) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}
