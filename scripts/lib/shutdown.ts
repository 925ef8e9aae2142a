// One way to stop, for `npm start` (scripts/start.ts) and `npm run worker` (scripts/worker.ts),
// however the signal arrives: to our pid alone (docker stop, Kubernetes), to the whole process
// group (systemd's KillMode=control-group, Ctrl-C in a terminal), or as the parent going away.
//
// The first SIGTERM or SIGINT starts a graceful stop. A second one at least a second later, or
// the time running out, stops at once. A copy that arrives within that second is the same
// request: when systemd signals the group, npm passes its own copy on to the script as well.
export const SAME_SIGNAL_WINDOW_MS = 1_000;

export type ShutdownHandlers = {
  /** Starts the graceful stop; `signal` names what asked for it. */
  graceful(signal: string): void;
  /** Stops at once: a second signal, or `timeoutMs` after the first. */
  immediate(reason: string): void;
  timeoutMs: number;
};

export function onShutdown({ graceful, immediate, timeoutMs }: ShutdownHandlers) {
  let firstAt = 0;
  const stop = (signal: string) => {
    if (firstAt === 0) {
      firstAt = Date.now();
      setTimeout(() => immediate(`still stopping after ${timeoutMs / 1000} s`), timeoutMs).unref();
      graceful(signal);
      return;
    }
    if (Date.now() - firstAt < SAME_SIGNAL_WINDOW_MS) return;
    immediate(`a second ${signal}`);
  };
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => stop(signal));
  // Started with an IPC channel (scripts/start.ts does): a parent that is gone, even by SIGKILL,
  // stops us too, rather than leave us running unsupervised.
  if (process.send) process.on("disconnect", () => stop("parent exit"));
}
