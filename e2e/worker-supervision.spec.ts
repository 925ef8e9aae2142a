// `npm start` as an operator runs it: web server and supervised worker. The worker is
// killed with SIGKILL under load; the app keeps answering, the worker is back within
// seconds, and no delivery is lost.
import { spawn, type ChildProcess } from "node:child_process";
import { expect, test } from "@playwright/test";
import pg from "pg";
import { startReceiver, type Receiver } from "../lib/testing/receiver";
import { stopProcess } from "../lib/testing/worker-process";
import { freePort } from "../scripts/lib/embedded-postgres";
import { addActiveEndpoint, createApiKey, freshDatabase, newAccount, signUp } from "./helpers";

let receiver: Receiver;
let app: ChildProcess | undefined;
const output: string[] = [];

test.afterAll(async () => {
  if (app) await stopProcess(app);
  await receiver?.close();
});

const workerPids = () => [...output.join("").matchAll(/worker running \(pid (\d+)\)/g)].map((m) => Number(m[1]));

test("kill -9 of the worker under load: the app keeps answering, the worker comes back, nothing is lost", async ({ browser }) => {
  test.setTimeout(180_000);
  // Every other alert's first attempt fails, so its retry (5 s later) is the worker's job.
  // (Not all of them: 20 failed deliveries in a row would disable the endpoint, by policy.)
  const seen = new Map<string, number>();
  const needsRetry = new Set<string>();
  receiver = await startReceiver((r) => {
    if (r.method !== "POST") return { status: 200 };
    const id = String(r.headers["webhook-id"]);
    seen.set(id, (seen.get(id) ?? 0) + 1);
    const index = Number(/load (\d+)/.exec(JSON.parse(r.body).data.alert.title)?.[1]);
    if (index % 2 === 0) needsRetry.add(id);
    return { status: index % 2 === 0 && seen.get(id) === 1 ? 500 : 200 };
  });
  const port = await freePort();
  const baseURL = `http://localhost:${port}`;
  const databaseUrl = await freshDatabase("supervision");
  app = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    env: { ...process.env, NODE_ENV: "production", PORT: String(port), NEXTAUTH_URL: baseURL, DATABASE_URL: databaseUrl, MON1TOR_DELIVERY_TIMEOUT_MS: "2000" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  app.stdout!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  app.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  await expect.poll(async () => (await fetch(`${baseURL}/signin`).catch(() => null))?.status ?? 0, { timeout: 90_000 }).toBe(200);
  await expect.poll(() => workerPids().length).toBe(1);

  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await signUp(page, newAccount("supervised"));
  await addActiveEndpoint(page, `${receiver.url}/supervised`);
  const key = await createApiKey(page);

  const statuses: number[] = [];
  const send = async (i: number) => {
    const response = await fetch(`${baseURL}/api/v1/alerts`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ title: `load ${i}` }),
    });
    statuses.push(response.status);
  };
  for (let i = 0; i < 10; i++) await send(i);
  const [firstPid] = workerPids();
  process.kill(firstPid!, "SIGKILL");
  // Right after the kill: the web server still answers, pages and API alike.
  expect((await fetch(`${baseURL}/signin`)).status).toBe(200);
  for (let i = 10; i < 20; i++) await send(i);
  expect(statuses).toEqual(Array(20).fill(202));

  await expect.poll(() => output.join(""), { timeout: 15_000 }).toContain("worker was killed by SIGKILL; restarting in 1 s");
  await expect.poll(() => workerPids().length, { timeout: 15_000 }).toBe(2);
  expect(workerPids()[1]).not.toBe(firstPid);

  // Every alert arrived, and each one that failed first got its successful retry or has it
  // booked: none lost. A delivery the killed worker had claimed waits for its lease (2 × timeout
  // + 5 s) to run out, and that claim counted an attempt, sent or not (the attempt cap holds even
  // for a worker that dies mid-attempt). If it had not been sent, the attempt after it is the
  // second, whose failure books the third 5 minutes later, by the schedule.
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const booked = async () =>
    (
      await db.query<{ id: string }>(
        `SELECT id FROM "Delivery" WHERE id = ANY($1::text[]) AND status = 'retrying' AND attempts >= 2 AND "nextAttemptAt" > now() AT TIME ZONE 'UTC'`,
        [[...needsRetry]],
      )
    ).rows.map((row) => row.id);
  try {
    await expect
      .poll(
        async () => {
          const later = new Set(await booked());
          return { arrived: seen.size, retriedOrBooked: [...needsRetry].filter((id) => seen.get(id)! >= 2 || later.has(id)).length };
        },
        { timeout: 60_000 },
      )
      .toEqual({ arrived: 20, retriedOrBooked: 10 });
    // The restarted worker did retry: at least the alerts whose first attempt it saw fail.
    expect([...needsRetry].filter((id) => seen.get(id)! >= 2).length).toBeGreaterThan(0);
  } finally {
    await db.end();
  }
  await context.close();
});
