// bench phase (1): the raw baseline, signed keep-alive POSTs straight from a loop, no database.
import crypto from "node:crypto";
import { Agent, request } from "undici";
import { ask, type BenchContext, ENDPOINTS, fmt, peerBody, rate, RAW_TOTAL, say } from "../lib";

export async function raw(ctx: BenchContext) {
  const { only, base, receiver, stats, reset, results, deliveryHeaders } = ctx;
  // (1) The raw baseline: signed keep-alive POSTs straight from a loop, no database, at 64
  // and at 512 in flight, long enough to reach steady state.
  if (only.has("raw")) {
    const secrets = Object.fromEntries(Array.from({ length: ENDPOINTS }, (_, i) => [`/raw/${i}`, `whsec_${crypto.randomBytes(32).toString("base64")}`]));
    await ask(receiver, { secrets }, "ok");
    const body = await peerBody();
    for (const inFlight of [64, 512]) {
      say(`\n(1) raw undici keep-alive POST loop: ${fmt(RAW_TOTAL)} requests, ${inFlight} in flight over 64 connections`);
      const agent = new Agent({ connections: 64, keepAliveTimeout: 10_000 });
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (next < RAW_TOTAL) {
            const n = next++;
            const prefix = `/raw/${n % ENDPOINTS}`;
            const headers = deliveryHeaders(secrets[prefix]!, `msg_raw_${inFlight}_${n}`, Math.floor(Date.now() / 1000), body);
            const response = await request(`${base}${prefix}`, { method: "POST", headers, body, dispatcher: agent });
            await response.body.dump();
          }
        }),
      );
      const elapsed = performance.now() - started;
      await agent.close();
      const s = await stats();
      results[`rawLoop${inFlight}`] = rate(RAW_TOTAL, elapsed);
      say(`    ${fmt(rate(RAW_TOTAL, elapsed))} req/s (${fmt(elapsed / 1000, 2)} s); received ${fmt(s.received)}, bad signatures ${s.invalid}`);
      await reset();
    }
    results.raw = Math.max(results.rawLoop64!, results.rawLoop512!);
  }
}
