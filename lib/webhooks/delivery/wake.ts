// Waking the dispatch workers after the alert API's one-statement ingest has committed.
//
// A NOTIFY inside the writing transaction makes PostgreSQL take its one notify lock at commit
// and hold it through the WAL flush, so every ingest commit waited for the one before it:
// at 200 alerts/s the ingest statement spent most of its 1.5 ms waiting. Here each process
// has at most one NOTIFY on the wire, in its own transaction (no WAL to flush), after the
// deliveries committed. Calls that arrive while one is on the wire are answered by one more
// NOTIFY that starts after it, so no commit is left without a wake that follows it.
import type pg from "pg";
import { namedStatement } from "@/lib/db";
import { DISPATCH_CHANNEL } from "@/lib/webhooks/delivery/enqueue";

const NOTIFY_SQL = `SELECT pg_notify('${DISPATCH_CHANNEL}', '')`;

/** The worker's LISTEN connection names itself so; the web process looks for it. */
export const WORKER_APPLICATION_NAME = "mon1tor-worker";
const WORKER_CHECK_MS = 5_000;
/**
 * How long a worker seen listening still counts after it is gone: one reconnecting after a
 * database restart, or started again by a deploy, is back within seconds. Sending from the web
 * process in that gap (what it does with no worker at all) raced the workers' own catch-up, and
 * in the soak held the web's memory 2.5× above its warm-up.
 */
const WORKER_GONE_MS = 30_000;

type Waker = { wake(): Promise<void>; workerListening(): Promise<boolean> };

export function createWaker(pool: pg.Pool, { workerCheckMs = WORKER_CHECK_MS, workerGoneMs = WORKER_GONE_MS } = {}): Waker {
  // Never rejects: workers still poll every second and the cron route drains, so a lost
  // wake only delays. Prepared once per connection: planned on every call, it took PostgreSQL
  // three times as long as running it (pg_stat_statements, one wake per alert at 200 alerts/s).
  const notify = () => pool.query(namedStatement(NOTIFY_SQL, [])).then(() => {}, () => {});
  let onWire: Promise<void> | null = null;
  let queued: Promise<void> | null = null;
  // Each caller waits for one NOTIFY that started after its call, and no longer: a promise
  // shared by every call of a storm would keep each request's context alive until it ended.
  const wake = (): Promise<void> => {
    if (!onWire) {
      onWire = notify().then(() => {
        onWire = null;
      });
      return onWire;
    }
    queued ??= onWire.then(() => {
      queued = null;
      return wake();
    });
    return queued;
  };

  let listening: { value: Promise<boolean>; at: number } | null = null;
  let lastSeen = -Infinity;
  const check = () =>
    pool
      .query<{ listening: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1) AS listening`,
        [WORKER_APPLICATION_NAME],
      )
      .then(
        ({ rows }) => rows[0]!.listening,
        () => false,
      )
      .then((seen) => {
        if (seen) lastSeen = Date.now();
        return seen || Date.now() - lastSeen < workerGoneMs;
      });
  return {
    wake,
    /**
     * Whether a dispatch worker holds a LISTEN connection to this database (cached for 5 s), or
     * held one within the last 30 s (a worker reconnecting or restarting).
     * Calls while a check is on the wire share it: in a storm, each expiry of the cache had
     * sent one check per request in flight.
     */
    workerListening() {
      if (!listening || Date.now() - listening.at >= workerCheckMs) listening = { value: check(), at: Date.now() };
      return listening.value;
    },
  };
}
