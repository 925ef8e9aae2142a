// The bench's storm phases against `next start` (bench/run.ts starts it and a worker):
// overload (more alerts offered than the machine can take, each retried as a real client does)
// and batch ingest (100 alerts per call).
import diagnostics from "node:diagnostics_channel";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Agent, request } from "undici";

export type StormContext = {
  base: string;
  key: string;
  agent: Agent;
  /** Alerts stored for the phase's team whose title starts with `prefix`. */
  stored(prefix: string): Promise<{ rows: number; distinct: number }>;
  /** Waits until the receiver has `expected` deliveries; returns its stats. */
  waitForDeliveries(expected: number, timeoutMs: number): Promise<{ received: number; duplicates: number }>;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function summarizeSlowCalls(calls: { startedS: number; status: number }[]) {
  let first = Infinity;
  let last = -Infinity;
  const byStatus: Record<string, number> = {};
  for (const call of calls) {
    first = Math.min(first, call.startedS);
    last = Math.max(last, call.startedS);
    const answer = call.status === 0 ? "no answer" : String(call.status);
    byStatus[answer] = (byStatus[answer] ?? 0) + 1;
  }
  return { firstStartedS: Math.round(first * 10) / 10, lastStartedS: Math.round(last * 10) / 10, byStatus };
}

/**
 * Where each call of the load generator waited, from undici's diagnostics channels, keyed by the
 * call's own header: for a connection of the agent's pool (every one busy: undici builds the
 * request only once one is free), then for the response after its headers went out (the server,
 * the network and the kernel). With the generator's own event-loop delay and the connections it
 * opened, it tells a slow server from a queueing or starved client.
 */
const CALL_HEADER = "x-bench-call";
function watchCalls() {
  const times = new Map<string, { created: number; sent?: number }>();
  const callOf = (req: { headers?: unknown }) => {
    const headers = Array.isArray(req.headers) ? (req.headers as string[]) : [];
    const at = headers.findIndex((name, index) => index % 2 === 0 && name.toLowerCase() === CALL_HEADER);
    return at < 0 ? null : headers[at + 1]!;
  };
  const onCreate = (message: unknown) => {
    const call = callOf((message as { request: { headers?: unknown } }).request);
    if (call) times.set(call, { created: performance.now() });
  };
  const onSend = (message: unknown) => {
    const call = callOf((message as { request: { headers?: unknown } }).request);
    const entry = call ? times.get(call) : undefined;
    if (entry) entry.sent = performance.now();
  };
  let connections = 0;
  const onConnected = () => void (connections += 1);
  const channels = { "undici:request:create": onCreate, "undici:client:sendHeaders": onSend, "undici:client:connected": onConnected };
  for (const [name, fn] of Object.entries(channels)) diagnostics.subscribe(name, fn);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const slow = { waitedOver1sForConnection: 0, waitedOver1sAfterSending: 0, longestConnectionWaitMs: 0, longestAfterSendingMs: 0 };
  return {
    /** Call `call` started at `at` and was answered now: if it took over 2 s, where. Forgets the call. */
    answered(call: string, at: number) {
      const entry = times.get(call);
      times.delete(call);
      const now = performance.now();
      if (!entry || now - at <= 2_000) return;
      const forConnection = entry.created - at;
      const afterSending = now - (entry.sent ?? entry.created);
      if (forConnection > 1_000) slow.waitedOver1sForConnection += 1;
      if (afterSending > 1_000) slow.waitedOver1sAfterSending += 1;
      slow.longestConnectionWaitMs = Math.max(slow.longestConnectionWaitMs, Math.round(forConnection));
      slow.longestAfterSendingMs = Math.max(slow.longestAfterSendingMs, Math.round(afterSending));
    },
    stop() {
      for (const [name, fn] of Object.entries(channels)) diagnostics.unsubscribe(name, fn);
      loop.disable();
      return { ...slow, connectionsOpened: connections, generatorLoopDelayMaxMs: Math.round(loop.max / 1e6) };
    },
  };
}

/**
 * `perSecond` alerts a second for `seconds`, open loop. Each alert is sent with its own
 * Idempotency-Key until a 202, waiting what Retry-After says (with jitter) after a 503 or 429, as a
 * well-behaved client does. Measures the longest single call, and how long after the offer ends
 * every alert is accepted and delivered.
 */
export async function overload(ctx: StormContext, perSecond: number, seconds: number) {
  const tag = `overload-${Date.now()}`;
  const from = performance.now();
  let maxCallMs = 0;
  let refusedCalls = 0;
  /** Calls over 2 s: when each started (seconds into the offer) and how it was answered (0: no answer). */
  const callsOver2s: { startedS: number; status: number }[] = [];
  const accepted = new Set<number>();
  const watched = watchCalls();
  const send = async (i: number) => {
    for (let attempt = 0; attempt < 200; attempt++) {
      const at = performance.now();
      const call = `${i}.${attempt}`;
      let wait = 1_000;
      try {
        const response = await request(`${ctx.base}/api/v1/alerts`, {
          method: "POST",
          headers: { authorization: `Bearer ${ctx.key}`, "content-type": "application/json", "idempotency-key": `${tag}-${i}`, [CALL_HEADER]: call },
          body: JSON.stringify({ title: `${tag} ${i}`, severity: "critical" }),
          dispatcher: ctx.agent,
          headersTimeout: 30_000,
          bodyTimeout: 30_000,
        });
        await response.body.dump();
        watched.answered(call, at);
        const ms = performance.now() - at;
        maxCallMs = Math.max(maxCallMs, ms);
        if (ms > 2_000) callsOver2s.push({ startedS: (at - from) / 1_000, status: response.statusCode });
        if (response.statusCode === 202) return void accepted.add(i);
        refusedCalls += 1;
        wait = Number(response.headers["retry-after"] ?? 1) * 1_000;
      } catch {
        watched.answered(call, at);
        const ms = performance.now() - at;
        maxCallMs = Math.max(maxCallMs, ms);
        if (ms > 2_000) callsOver2s.push({ startedS: (at - from) / 1_000, status: 0 });
      }
      await sleep(wait * (0.5 + Math.random()));
    }
  };
  const senders: Promise<void>[] = [];
  for (let i = 0; i < perSecond * seconds; i++) {
    const due = from + (i * 1_000) / perSecond - performance.now();
    if (due > 0) await sleep(due);
    senders.push(send(i));
  }
  const offeredAt = performance.now();
  await Promise.all(senders);
  const where = watched.stop();
  const stored = await ctx.stored(tag);
  const deliveries = await ctx.waitForDeliveries(stored.rows, 300_000);
  const secondsToDrain = (performance.now() - offeredAt) / 1_000;
  return {
    offered: perSecond * seconds,
    offeredPerSecond: perSecond,
    accepted: accepted.size,
    lost: accepted.size - stored.distinct,
    duplicates: stored.rows - stored.distinct + deliveries.duplicates,
    deliveriesLost: Math.max(0, stored.distinct - deliveries.received),
    maxCallMs: Math.round(maxCallMs),
    callsOver2s: callsOver2s.length,
    /** Where the calls over 2 s were: the seconds of the offer they started in, and their answers. */
    over2s: callsOver2s.length === 0 ? null : { ...summarizeSlowCalls(callsOver2s), ...where },
    refusedCalls,
    secondsToDrain: Math.round(secondsToDrain * 10) / 10,
  };
}

/** `callers` clients in a closed loop for `seconds`, each sending `perCall` alerts per call to the batch API. */
export async function batchIngest(ctx: StormContext, perCall: number, callers: number, seconds: number) {
  const tag = `batch-${Date.now()}`;
  let acceptedItems = 0;
  const refusedItems: Record<string, number> = {};
  let calls = 0;
  let next = 0;
  const end = performance.now() + seconds * 1_000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < end) {
        const first = next;
        next += perCall;
        const body = JSON.stringify({ alerts: Array.from({ length: perCall }, (_, i) => ({ title: `${tag} ${first + i}`, severity: "warning" })) });
        const response = await request(`${ctx.base}/api/v1/alerts/batch`, {
          method: "POST",
          headers: { authorization: `Bearer ${ctx.key}`, "content-type": "application/json", "idempotency-key": `${tag}-${first}` },
          body,
          dispatcher: ctx.agent,
        });
        const json = (await response.body.json()) as { accepted?: number; results?: { status: string; error?: { code: string } }[] };
        calls += 1;
        acceptedItems += json.accepted ?? 0;
        // Items not accepted, by why (a quota reached shows here, not as a lower rate alone).
        for (const item of json.results ?? []) {
          if (item.status === "accepted") continue;
          const why = item.error?.code ?? item.status;
          refusedItems[why] = (refusedItems[why] ?? 0) + 1;
        }
        if (!json.results) refusedItems[`call ${response.statusCode}`] = (refusedItems[`call ${response.statusCode}`] ?? 0) + perCall;
        if (response.statusCode === 503) await sleep(Number(response.headers["retry-after"] ?? 1) * 1_000);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1_000;
  const stored = await ctx.stored(tag);
  const deliveries = await ctx.waitForDeliveries(stored.rows, 300_000);
  return {
    perCall,
    callers,
    calls,
    accepted: acceptedItems,
    notAccepted: refusedItems,
    alertsPerSecond: Math.round(acceptedItems / elapsed),
    lost: acceptedItems - stored.distinct,
    deliveriesLost: Math.max(0, stored.distinct - deliveries.received),
  };
}
