// `npm run dev` / `npm start`: database (embedded unless DATABASE_URL is set), migrations,
// then the web app and the dispatch worker side by side. Ctrl-C stops all of them.
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { EnvError, parseServerEnv } from "../lib/env";
import { onShutdown } from "./lib/shutdown";
import { nextStartArgs } from "./lib/next-start";
import { supervise } from "./lib/supervise";
import {
  applyDestinationDefaults,
  applyLocalDefaults,
  dataDir,
  loadOrCreateLocalSecrets,
  localDatabaseUrl,
  migrate,
  startLocalDatabase,
} from "./lib/local-config";

const production = process.env.NODE_ENV === "production";
const bundledWorker = path.resolve("dist/worker.mjs");
const port = process.env.PORT ?? "3000";
const say = (line: string) => console.log(`[mon1tor] ${line}`);

async function main() {
  // `next start` serves a build (.next/BUILD_ID): without one it exits after the database was
  // started and migrated, with a message about Next rather than about us.
  if (production && !fs.existsSync(path.resolve(".next/BUILD_ID"))) {
    console.error("[mon1tor] no production build here: run `npm run build` first, then `npm start` (or `npm run dev` to develop).");
    process.exit(1);
  }
  const env: NodeJS.ProcessEnv = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };
  let stopDatabase = async () => {};

  if (!env.DATABASE_URL) {
    say(`DATABASE_URL is not set: starting the embedded PostgreSQL (data in ${path.relative(process.cwd(), dataDir) || "."}/).`);
    const secrets = loadOrCreateLocalSecrets();
    const database = await startLocalDatabase((line) => {
      if (/FATAL|ERROR|PANIC/.test(line)) console.error(`[postgres] ${line}`);
    });
    stopDatabase = () => database.stop();
    applyLocalDefaults(env, secrets, localDatabaseUrl(secrets));
  }
  env.NEXTAUTH_URL ??= `http://localhost:${port}`;
  for (const warning of applyDestinationDefaults(env, production)) console.warn(warning);

  try {
    parseServerEnv(env);
  } catch (error) {
    if (error instanceof EnvError) {
      console.error(error.message);
      await stopDatabase();
      process.exit(1);
    }
    throw error;
  }

  say("applying migrations…");
  await migrate(env);

  const next = path.resolve("node_modules/.bin/next");
  // Each child runs in a process group of its own, with an IPC channel: only this process
  // signals them, once, in order (scripts/lib/shutdown.ts), and they stop if it is gone.
  const childOptions: SpawnOptions = { env, stdio: ["inherit", "inherit", "inherit", "ipc"], detached: true };
  const web: ChildProcess = spawn(next, production ? nextStartArgs(port) : ["dev", "--port", port], childOptions);
  // The worker is supervised: if it dies it comes back, and the web server keeps serving.
  const worker = supervise({
    name: "worker",
    // In production the bundled worker (npm run build) runs on plain node: no TypeScript loader in memory.
    start: () =>
      spawn(process.execPath, production && fs.existsSync(bundledWorker) ? [bundledWorker] : ["--import", "tsx", "scripts/worker.ts"], childOptions),
    log: say,
    onGiveUp: (message) => {
      console.error(`[mon1tor] ${message} Fix the cause (see the worker's output above) and start again.`);
      void stop("the worker gave up", 1);
    },
  });
  say(`mon1tor is starting at http://localhost:${port}`);

  const exited = (child: ChildProcess | null) =>
    !child || child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let stopping = false;
  // The web server stops taking requests and finishes those it holds; the worker stops claiming,
  // finishes its attempts in flight and records them. Only then does the database stop.
  const stop = async (why: string, code: number) => {
    if (stopping) return;
    stopping = true;
    say(`${why}: stopping (the web server and the worker first, then the database)…`);
    if (web.exitCode === null && web.signalCode === null) web.kill("SIGTERM");
    await Promise.all([worker.stop(), exited(web)]);
    await stopDatabase();
    say("stopped");
    process.exit(code);
  };
  const stopNow = async (why: string) => {
    say(`${why}: stopping now`);
    for (const child of [web, worker.current()]) if (child && child.exitCode === null) child.kill("SIGKILL");
    await Promise.all([exited(web), exited(worker.current())]);
    await stopDatabase();
    process.exit(1);
  };
  web.on("exit", (code) => void stop("the web server exited", code ?? 1));
  onShutdown({
    // The worker's own bound (delivery timeout + 5 s to record) and a little more.
    timeoutMs: Number(env.MON1TOR_DELIVERY_TIMEOUT_MS ?? 15_000) + 10_000,
    graceful: (signal) => void stop(signal, 0),
    immediate: (reason) => void stopNow(reason),
  });
}

main().catch((error: unknown) => {
  console.error(`[mon1tor] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
