// Keeps a child process running: when it dies it is started again after a backoff, and
// the reason is logged. Only repeated fast crashes end it (onGiveUp), so one bad moment in
// the worker never takes the web server down with it.
import type { ChildProcess } from "node:child_process";

export type SuperviseOptions = {
  name: string;
  start: () => ChildProcess;
  log: (line: string) => void;
  onGiveUp: (message: string) => void;
  /** A run shorter than this counts as a fast crash. */
  fastCrashMs?: number;
  /** This many fast crashes in a row and we give up. */
  maxFastCrashes?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
};

export type Supervised = { current(): ChildProcess | null; restarts(): number; stop(signal?: NodeJS.Signals): Promise<void> };

export function supervise(options: SuperviseOptions): Supervised {
  const { fastCrashMs = 10_000, maxFastCrashes = 5, backoffMs = 1_000, maxBackoffMs = 30_000 } = options;
  let child: ChildProcess | null = null;
  let stopping = false;
  let fastCrashes = 0;
  let restarts = 0;
  let timer: NodeJS.Timeout | undefined;

  const launch = () => {
    const startedAt = Date.now();
    const current = options.start();
    child = current;
    options.log(`${options.name} running (pid ${current.pid})`);
    current.once("exit", (code, signal) => {
      if (child === current) child = null;
      if (stopping) return;
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      fastCrashes = Date.now() - startedAt < fastCrashMs ? fastCrashes + 1 : 0;
      if (fastCrashes >= maxFastCrashes) {
        options.onGiveUp(`${options.name} ${how}, and crashed ${fastCrashes} times in a row within ${fastCrashMs / 1000} s of starting: giving up.`);
        return;
      }
      const wait = Math.min(maxBackoffMs, backoffMs * 2 ** Math.max(0, fastCrashes - 1));
      options.log(`${options.name} ${how}; restarting in ${wait / 1000} s`);
      restarts += 1;
      timer = setTimeout(launch, wait);
    });
  };
  launch();

  return {
    current: () => child,
    restarts: () => restarts,
    stop(signal = "SIGTERM") {
      stopping = true;
      clearTimeout(timer);
      const running = child;
      if (!running || running.exitCode !== null || running.signalCode !== null) return Promise.resolve();
      return new Promise<void>((resolve) => {
        running.once("exit", () => resolve());
        running.kill(signal);
      });
    },
  };
}
