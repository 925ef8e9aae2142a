export {};

// One dispatch worker in its own process, running the real Dispatcher. The bench tells it
// when to start and it reports how long the drain took and its peak RSS.
const { Dispatcher } = await import("../lib/webhooks/delivery/dispatch");
const { createDispatchPool } = await import("../lib/db");
// The pool runWorker gives its Dispatcher (lib/webhooks/delivery/worker.ts).
const dispatcher = new Dispatcher({ pool: createDispatchPool(), timeoutMs: Number(process.env.BENCH_TIMEOUT_MS ?? 15_000) });

process.on("message", async (message: unknown) => {
  if (message === "exit") process.exit(0);
  if (message !== "drain") return;
  const started = performance.now();
  const stats = await dispatcher.drain();
  process.send!({ elapsedMs: performance.now() - started, stats, maxRssMb: process.resourceUsage().maxRSS / 1024 });
});
process.send!({ ready: true });
