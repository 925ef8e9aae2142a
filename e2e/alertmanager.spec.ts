// A real Prometheus Alertmanager (Debian's prometheus-alertmanager, installed by `npm test`)
// configured as its users would: a webhook_configs entry pointing at our receiver route, with our
// API key as its Bearer token. Alerts posted to Alertmanager's own API reach the team's endpoint
// signed, first triggered, then resolved.
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { startReceiver, type Receiver } from "../lib/testing/receiver";
import { stopProcess } from "../lib/testing/worker-process";
import { freePort } from "../scripts/lib/embedded-postgres";
import { API_KEY_PLACEHOLDER } from "../lib/api/send-snippets";
import { addActiveEndpoint, createApiKey, ownerPage, revealSecret } from "./helpers";

const ALERTMANAGER = process.env.ALERTMANAGER_PATH ?? "/usr/bin/prometheus-alertmanager";

let receiver: Receiver;
let alertmanager: ChildProcess | undefined;
let workDir: string;
test.afterAll(async () => {
  // Alertmanager writes its data folder while it stops: removed only once it has exited (it
  // failed with ENOTEMPTY in CI when removed at once).
  if (alertmanager) await stopProcess(alertmanager);
  await receiver?.close();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true, maxRetries: 5 });
});

test("Alertmanager's webhook: a firing alert arrives signed as alert.triggered, then alert.resolved", async ({ browser, baseURL }) => {
  test.setTimeout(120_000);
  receiver = await startReceiver(() => ({ status: 200 }));
  const { page } = await ownerPage(browser, "prometheus");
  const hookPath = `/am/${Date.now()}`;
  await addActiveEndpoint(page, `${receiver.url}${hookPath}`);
  const secret = await revealSecret(page);
  const key = await createApiKey(page, "Alertmanager");

  workDir = fs.mkdtempSync(path.join(os.tmpdir(), "mon1tor-alertmanager-"));
  const port = await freePort();
  // The configuration the API keys page shows, with the key in place and Alertmanager's group
  // timers shortened for the test: what a user copies is what runs.
  const shown = await page.getByLabel("Alertmanager receiver (alertmanager.yml)", { exact: true }).textContent();
  expect(shown).toContain(`${baseURL}/api/v1/integrations/alertmanager`);
  const config = shown!
    .replace(API_KEY_PLACEHOLDER, key)
    .replace("route:\n  receiver: mon1tor\n", 'route:\n  receiver: mon1tor\n  group_by: ["alertname"]\n  group_wait: 1s\n  group_interval: 2s\n  repeat_interval: 1h\n');
  expect(config).toContain("group_wait: 1s");
  fs.writeFileSync(path.join(workDir, "alertmanager.yml"), config);
  const output: string[] = [];
  alertmanager = spawn(
    ALERTMANAGER,
    [`--config.file=${path.join(workDir, "alertmanager.yml")}`, `--storage.path=${path.join(workDir, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--cluster.listen-address="],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  alertmanager.stdout!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  alertmanager.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  const am = `http://127.0.0.1:${port}`;
  await expect.poll(async () => (await fetch(`${am}/-/ready`).catch(() => null))?.status ?? 0, { timeout: 30_000, message: output.join("") }).toBe(200);

  const labels = { alertname: "DiskFull", instance: "db-1:9100", severity: "critical" };
  const annotations = { summary: "Disk 95% full on db-1", description: "/var at 95% for 10 minutes" };
  const post = (alert: Record<string, unknown>) =>
    fetch(`${am}/api/v2/alerts`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify([{ labels, annotations, generatorURL: "http://prometheus.example/graph", ...alert }]) });
  const startsAt = new Date(Date.now() - 60_000).toISOString();
  expect((await post({ startsAt })).status).toBe(200);

  const received = () =>
    receiver.requests
      .filter((r) => r.method === "POST" && r.path === hookPath)
      .map((r) => ({ request: r, body: JSON.parse(r.body) as { type: string; data: { alert: { id: string; title: string; severity: string; status: string; message: string; monitor: { id: string; name: string } } } } }));
  await expect.poll(() => received().map((r) => r.body.type), { timeout: 30_000, message: output.join("") }).toEqual(["alert.triggered"]);
  const [triggered] = received();
  expect(triggered!.request.headers["x-mon1tor-sha256-wh"]).toBe(crypto.createHmac("sha256", secret).update(triggered!.request.body).digest("hex"));
  expect(triggered!.body.data.alert).toMatchObject({
    title: "Disk 95% full on db-1",
    severity: "critical",
    status: "triggered",
    message: "/var at 95% for 10 minutes",
    monitor: { id: "DiskFull", name: "DiskFull on db-1:9100" },
  });

  // Resolved: the same alert posted again with endsAt in the past, as Prometheus does.
  expect((await post({ startsAt, endsAt: new Date(Date.now() - 1_000).toISOString() })).status).toBe(200);
  await expect.poll(() => received().map((r) => r.body.type), { timeout: 30_000, message: output.join("") }).toEqual(["alert.triggered", "alert.resolved"]);
  const resolved = received()[1]!;
  expect(resolved.request.headers["x-mon1tor-sha256-wh"]).toBe(crypto.createHmac("sha256", secret).update(resolved.request.body).digest("hex"));
  expect(resolved.body.data.alert).toMatchObject({ id: triggered!.body.data.alert.id, status: "resolved" });
  // Alertmanager saw every notification succeed.
  expect(output.join("")).not.toMatch(/level=error/);
});
