// `npm run bench:before-after`: PostgreSQL's CPU and WAL per alert at 200 alerts/s × 10 endpoints
// (the latency phase of `npm run bench`, BENCH_PG_STATS=1), the code from before the storm work
// against this tree, alternating (before, after, before, after) on the same machine in one run:
// issue 24 asks for both figures before and after. A figure measured on another day is no "before":
// this machine kind's speed moves by half from one day to the next.
//   BENCH_BEFORE=7dccbaf  the code to compare against (default: the last commit before group commit)
//   BENCH_ROUNDS=2        pairs of runs
// The "before" code is cloned into .data/bench/before-<commit> and installed with `npm ci` once.
// Each side prints its own figures with its own bench; this script reads the same lines from both.
// The WAL is per alert: each side's bench prints pg_stat_wal since its server started, which holds
// the setup too (migrations and the phase's team: about 10 MB on both sides, mostly full-page images
// of the catalog), so each side is also run once with no load and that run's WAL is taken off.
// Writes bench/results/before-after.json.
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fmt, say } from "./lib";

const BEFORE = process.env.BENCH_BEFORE ?? "7dccbaf";
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const RATE = 200;

type Run = { side: "before" | "after"; referenceMs: number; postgresUsPerAlert: number; walBytesPerAlert: number; walRecordsPerAlert: number; receiptP50Ms: number; receiptP99Ms: number };

/** The "before" tree, cloned and installed on first use. */
function beforeTree(root: string): { dir: string; commit: string } {
  const commit = execFileSync("git", ["rev-parse", "--verify", `${BEFORE}^{commit}`], { cwd: root, encoding: "utf8" }).trim();
  const dir = path.join(root, ".data", "bench", `before-${commit.slice(0, 12)}`);
  if (!fs.existsSync(path.join(dir, "node_modules"))) {
    fs.rmSync(dir, { recursive: true, force: true });
    execFileSync("git", ["clone", "--quiet", "--no-checkout", root, dir], { stdio: "inherit" });
    execFileSync("git", ["checkout", "--quiet", "--detach", commit], { cwd: dir, stdio: "inherit" });
    say(`installing ${commit.slice(0, 12)} in ${path.relative(root, dir)} (npm ci)`);
    execFileSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
  }
  return { dir, commit };
}

/**
 * This machine's speed just before a run: a million SHA-256 hashes in one process. It moved from
 * 1.7 to 3.1 s within an hour here, and every CPU figure moves with it; runs on a slower moment
 * show more microseconds for the same work.
 */
function referenceMs(): number {
  const script = `const c = require("node:crypto"); const t = performance.now(); for (let i = 0; i < 1e6; i++) c.createHash("sha256").update("x").digest(); console.log(performance.now() - t)`;
  return Number(execFileSync(process.execPath, ["-e", script], { encoding: "utf8" }));
}

const number = (text: string | undefined) => Number(text?.replace(/,/g, ""));

/** `dir`'s bench with only its 200/s latency phase (`extra` on top of that environment); what it printed. */
function bench(side: Run["side"], dir: string, extra: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    // Only the 200/s phase (this tree's bench also runs one at 400/s unless its rate is 0).
    // Its results file is not read (its output is): a scratch file, removed when it exits.
    const results = path.join(os.tmpdir(), `mon1tor-before-after-${process.pid}.json`);
    const env = { ...process.env, BENCH_ONLY: "latency", BENCH_PG_STATS: "1", BENCH_LATENCY_RATE: String(RATE), BENCH_LATENCY_HIGH_RATE: "0",
                  BENCH_RESULTS: results, ...extra };
    const child = spawn("npm", ["run", "--silent", "bench"], { cwd: dir, env, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.on("error", reject);
    child.on("exit", () => fs.rmSync(results, { force: true }));
    child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`${side}: the bench in ${dir} exited ${code}:\n${out.slice(-2_000)}`))));
  });
}

/** pg_stat_wal as the bench printed it after its (first) latency phase: since its server started. */
function walOf(side: Run["side"], out: string): { bytes: number; records: number } {
  const wal = /WAL: ([\d.,]+) MB in ([\d,]+) records/.exec(out);
  if (!wal) throw new Error(`${side}: no WAL line in the bench's output:\n${out.slice(-2_000)}`);
  return { bytes: number(wal[1]) * 1e6, records: number(wal[2]) };
}

type Setup = { walBytes: number; walRecords: number };

/**
 * The WAL of everything but the load, for one side: the same bench with a phase of no seconds and no
 * warm-up (it still starts its server, migrates, makes the phase's team and sends its 20 first alerts,
 * as the loaded runs do).
 */
async function setupRun(side: Run["side"], dir: string): Promise<Setup> {
  const wal = walOf(side, await bench(side, dir, { BENCH_LATENCY_SECONDS: "0", BENCH_LATENCY_WARM_SECONDS: "0" }));
  return { walBytes: wal.bytes, walRecords: wal.records };
}

/** One latency phase at 200/s in `dir`, with that tree's own bench; its figures as that bench printed them. */
async function latencyRun(side: Run["side"], dir: string, setup: Setup): Promise<Run> {
  const reference = referenceMs();
  const out = await bench(side, dir);
  // The first of each: the 200/s phase's (both benches print these lines the same way).
  const cpu = /CPU per alert:.*?postgres ([\d,]+) µs/.exec(out);
  const receipt = /deliveries measured; API call → receipt p50 ([\d,]+) ms, p99 ([\d,]+) ms/.exec(out);
  const phase = /latency: [\d,]+ alerts\/s × [\d,]+ endpoints for ([\d,]+) s, .*?after ([\d,]+) s/.exec(out);
  if (!cpu || !receipt || !phase) throw new Error(`${side}: the bench in ${dir} printed no figures:\n${out.slice(-2_000)}`);
  const wal = walOf(side, out);
  // Per alert sent, as PostgreSQL's CPU is: the phase and its warm-up, the setup's WAL taken off.
  const alerts = (number(phase[1]) + number(phase[2])) * RATE;
  return {
    side,
    referenceMs: reference,
    postgresUsPerAlert: number(cpu[1]),
    walBytesPerAlert: (wal.bytes - setup.walBytes) / alerts,
    walRecordsPerAlert: (wal.records - setup.walRecords) / alerts,
    receiptP50Ms: number(receipt[1]),
    receiptP99Ms: number(receipt[2]),
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function main() {
  const root = process.cwd();
  const head = execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
  say(`mon1tor before/after · ${new Date().toISOString()} · ${os.cpus().length} × ${os.cpus()[0]?.model.trim()} · ${RATE} alerts/s × 10 endpoints`);
  const before = beforeTree(root);
  say(`before: ${before.commit.slice(0, 12)} · after: this tree (HEAD ${head}${execFileSync("git", ["status", "--porcelain"], { cwd: root, encoding: "utf8" }).trim() ? ", with changes" : ""})`);
  const sides = [["before", before.dir], ["after", root]] as const;
  const setups = {} as Record<Run["side"], Setup>;
  for (const [side, dir] of sides) {
    setups[side] = await setupRun(side, dir);
    say(`  ${side.padEnd(6)} setup, no load: WAL ${fmt(setups[side].walBytes / 1e6, 1)} MB in ${fmt(setups[side].walRecords)} records (taken off each of its runs)`);
  }
  const runs: Run[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [side, dir] of sides) {
      const run = await latencyRun(side, dir, setups[side]);
      runs.push(run);
      say(`  ${side.padEnd(6)} round ${round} (reference ${fmt(run.referenceMs)} ms): PostgreSQL ${fmt(run.postgresUsPerAlert)} µs, WAL ${fmt(run.walBytesPerAlert)} bytes in ${fmt(run.walRecordsPerAlert, 1)} records per alert; receipt p50 ${fmt(run.receiptP50Ms)} ms, p99 ${fmt(run.receiptP99Ms)} ms`);
    }
  }
  const of = (side: Run["side"], key: keyof Omit<Run, "side">) => median(runs.filter((run) => run.side === side).map((run) => run[key]));
  const summary = Object.fromEntries(
    (["referenceMs", "postgresUsPerAlert", "walBytesPerAlert", "walRecordsPerAlert", "receiptP50Ms", "receiptP99Ms"] as const).map((key) => {
      const [b, a] = [of("before", key), of("after", key)];
      return [key, { before: Math.round(b * 10) / 10, after: Math.round(a * 10) / 10, ratio: Math.round((a / b) * 100) / 100 }];
    }),
  );
  say(`\nmedians of ${ROUNDS} round(s)          before        after   after ÷ before (issue 24 asks ≤ 0.5 of PostgreSQL's CPU and WAL)`);
  for (const [key, { before: b, after: a, ratio }] of Object.entries(summary)) say(`  ${key.padEnd(28)} ${fmt(b).padStart(8)} ${fmt(a).padStart(12)}   ${fmt(ratio, 2)}×`);
  const file = path.join(root, "bench", "results", "before-after.json");
  fs.writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), before: before.commit, after: head, rate: RATE, endpoints: 10, rounds: ROUNDS, setups, summary, runs }, null, 2)}\n`);
  say(`wrote ${path.relative(root, file)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
