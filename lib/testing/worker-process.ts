// Runs `scripts/worker.ts` as a real child process, for crash and concurrency tests.
import { spawn, type ChildProcess } from "node:child_process";

export function spawnWorker(env: Record<string, string | undefined> = {}): ChildProcess & { output: string[] } {
  const output: string[] = [];
  // node itself, with tsx as a loader: the pid is the worker's, so SIGKILL really kills it
  // (the tsx CLI would run the worker in a grandchild that outlives a SIGKILL).
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/worker.ts"], {
    env: { ...process.env, MON1TOR_DELIVERY_TIMEOUT_MS: "2000", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  return Object.assign(child, { output });
}

export function stopProcess(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill(signal);
  });
}

export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // The database may be restarting; keep asking.
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
