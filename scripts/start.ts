// `npm run dev` / `npm start`: database (embedded unless DATABASE_URL is set), migrations,
// then the web app and the dispatch worker side by side. Ctrl-C stops all of them.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { EnvError, parseServerEnv } from "../lib/env";
import { supervise } from "./lib/supervise";
import {
  applyDestinationDefaults,
  applyLocalDefaults,
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
  const env: NodeJS.ProcessEnv = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };
  let stopDatabase = async () => {};

  if (!env.DATABASE_URL) {
    say("DATABASE_URL is not set: starting the embedded PostgreSQL (data in .data/).");
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
  const web: ChildProcess = spawn(next, [production ? "start" : "dev", "--port", port], { env, stdio: "inherit" });
  // The worker is supervised: if it dies it comes back, and the web server keeps serving.
  const worker = supervise({
    name: "worker",
    // In production the bundled worker (npm run build) runs on plain node: no TypeScript loader in memory.
    start: () =>
      spawn(process.execPath, production && fs.existsSync(bundledWorker) ? [bundledWorker] : ["--import", "tsx", "scripts/worker.ts"], { env, stdio: "inherit" }),
    log: say,
    onGiveUp: (message) => {
      console.error(`[mon1tor] ${message} Fix the cause (see the worker's output above) and start again.`);
      void stop(1);
    },
  });
  say(`mon1tor is starting at http://localhost:${port}`);

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say("stopping…");
    await Promise.all([
      worker.stop(),
      new Promise<void>((resolve) => {
        if (web.exitCode !== null || web.signalCode !== null) return resolve();
        web.once("exit", () => resolve());
        web.kill("SIGTERM");
      }),
    ]);
    await stopDatabase();
    process.exit(code);
  };
  web.on("exit", (code) => void stop(code ?? 1));
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));
}

main().catch((error: unknown) => {
  console.error(`[mon1tor] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
