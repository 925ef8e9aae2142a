// OpenTelemetry as an operator turns it on: `npm start` with OTEL_EXPORTER_OTLP_ENDPOINT pointing
// at a collector (here a real OTLP/HTTP JSON receiver on 127.0.0.1). One alert whose first attempt
// fails and whose retry succeeds makes one trace: the API call, its enqueue, the claims and both
// attempts, across the web process and the worker. No URL, secret or signature is in any span.
import { spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { expect, test } from "@playwright/test";
import { startReceiver, type Receiver } from "../lib/testing/receiver";
import { stopProcess } from "../lib/testing/worker-process";
import { freePort } from "../scripts/lib/embedded-postgres";
import { addActiveEndpoint, createApiKey, freshDatabase, newAccount, revealSecret, signUp } from "./helpers";

type Span = { traceId: string; spanId: string; parentSpanId?: string; name: string; attributes: { key: string; value: Record<string, unknown> }[]; service: string };

let receiver: Receiver;
let app: ChildProcess | undefined;
let collector: http.Server | undefined;
const output: string[] = [];

test.afterAll(async () => {
  if (app) await stopProcess(app);
  collector?.close();
  await receiver?.close();
});

test("one trace follows an alert from the API call to its enqueue, claims and each attempt", async ({ browser }) => {
  test.setTimeout(180_000);
  const spans: Span[] = [];
  const raw: string[] = [];
  collector = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      raw.push(body);
      if (req.url === "/v1/traces") {
        const payload = JSON.parse(body) as {
          resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: Omit<Span, "service">[] }[] }[];
        };
        for (const rs of payload.resourceSpans) {
          const service = rs.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue ?? "";
          for (const ss of rs.scopeSpans) for (const span of ss.spans) spans.push({ ...span, service });
        }
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => collector!.listen(0, "127.0.0.1", resolve));
  const otlp = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;

  let calls = 0;
  receiver = await startReceiver((r) => (r.method === "POST" && r.path.startsWith("/traced/") && ++calls === 1 ? { status: 500 } : { status: 200 }));
  const port = await freePort();
  const baseURL = `http://localhost:${port}`;
  app = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    env: { ...process.env, NODE_ENV: "production", PORT: String(port), NEXTAUTH_URL: baseURL, DATABASE_URL: await freshDatabase("tracing"), OTEL_EXPORTER_OTLP_ENDPOINT: otlp },
    stdio: ["ignore", "pipe", "pipe"],
  });
  app.stdout!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  app.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  await expect.poll(async () => (await fetch(`${baseURL}/api/health/ready`).catch(() => null))?.status ?? 0, { timeout: 90_000, message: output.join("") }).toBe(200);

  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await signUp(page, newAccount("tracing"));
  const hook = `${receiver.url}/traced/hook?token=query-secret-value`;
  await addActiveEndpoint(page, hook);
  const secret = await revealSecret(page);
  const key = await createApiKey(page);
  const response = await fetch(`${baseURL}/api/v1/alerts`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ title: "traced disk full", severity: "critical" }),
  });
  expect(response.status).toBe(202);
  const { eventId } = (await response.json()) as { eventId: string };

  // 500, then the retry 5 s later: 200.
  await expect.poll(() => calls, { timeout: 60_000, message: output.join("") }).toBe(2);
  const attemptsOf = () => spans.filter((s) => s.name === "mon1tor.delivery.attempt");
  await expect.poll(() => attemptsOf().length, { timeout: 30_000, message: `spans: ${JSON.stringify(spans.filter((s) => /mon1tor|alerts/.test(s.name)).map((s) => [s.name, s.service, s.traceId.slice(0, 6)]))} ${output.join("").slice(-2000)}` }).toBe(2);
  const [first, second] = attemptsOf();
  expect(second!.traceId).toBe(first!.traceId);
  const attr = (span: Span, key: string) => {
    const value = span.attributes.find((a) => a.key === key)?.value;
    return value ? (value.stringValue ?? value.intValue ?? value.boolValue) : undefined;
  };
  expect([attr(first!, "mon1tor.status_class"), attr(second!, "mon1tor.status_class")].sort()).toEqual(["2xx", "5xx"]);
  expect(attr(first!, "mon1tor.endpoint.id")).toMatch(/^\w+/);

  await expect.poll(() => spans.filter((s) => s.traceId === first!.traceId).map((s) => s.name).sort().join(","), { timeout: 30_000 }).toContain("mon1tor.alert.enqueue");
  const trace = spans.filter((s) => s.traceId === first!.traceId);
  const names = trace.map((s) => s.name);
  expect(names.filter((n) => n === "mon1tor.delivery.claim").length).toBeGreaterThanOrEqual(2);
  // The API call itself, as Next traces it, is the root; the enqueue is inside it.
  const enqueue = trace.find((s) => s.name === "mon1tor.alert.enqueue")!;
  const root = trace.find((s) => !s.parentSpanId)!;
  expect(root.service).toBe("mon1tor-web");
  expect(root.name).toMatch(/POST|api\/v1\/alerts/);
  expect(enqueue.parentSpanId).toBeTruthy();
  // The worker's retry joined the same trace from another process.
  expect(new Set(trace.map((s) => s.service))).toContain("mon1tor-worker");
  expect(eventId).toBeTruthy();

  // Nothing secret anywhere in what was exported.
  const everything = raw.join("\n");
  expect(everything).not.toContain("query-secret-value");
  expect(everything).not.toContain("/traced/hook");
  expect(everything).not.toContain(secret);
  expect(everything).not.toContain(key);
});
