// `npm test`: every suite against a throwaway embedded PostgreSQL — Vitest (unit and
// integration), then a production build served to Playwright. Ends with one line
// "N passed, N failed" totalling both.
//   npm test                 everything
//   npm test -- vitest [..]  only Vitest (extra args go to vitest)
//   npm test -- e2e [..]     only Playwright (extra args go to playwright)
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { freePort, startEmbeddedPostgres } from "./lib/embedded-postgres";
import { dataDir, migrate } from "./lib/local-config";
import { TEMPLATE_DATABASE, testEnvironment, withoutRuntimeSecrets } from "./lib/test-environment";

const [only, ...extra] = process.argv.slice(2);
const runVitest = !only || only === "vitest";
const runE2e = !only || only === "e2e";
const resultsDir = path.join(dataDir, "test-results");

type Counts = { passed: number; failed: number; skipped: number };

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: "inherit" });
    child.on("exit", (code) => resolve(code ?? 1));
  });
}

function readJson(file: string): unknown {
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : null;
}

function vitestCounts(file: string, exitCode: number): Counts {
  const report = readJson(file) as { numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number } | null;
  if (!report) return { passed: 0, failed: exitCode === 0 ? 0 : 1, skipped: 0 };
  // A suite that fails to load has no failed test but a non-zero exit: count it.
  const failed = report.numFailedTests || (exitCode === 0 ? 0 : 1);
  return { passed: report.numPassedTests, failed, skipped: report.numPendingTests + report.numTodoTests };
}

function playwrightCounts(file: string, exitCode: number): Counts {
  const report = readJson(file) as { stats: { expected: number; unexpected: number; flaky: number; skipped: number } } | null;
  if (!report) return { passed: 0, failed: exitCode === 0 ? 0 : 1, skipped: 0 };
  const { expected, unexpected, flaky, skipped } = report.stats;
  return { passed: expected + flaky, failed: unexpected || (exitCode === 0 ? 0 : 1), skipped };
}

/** The Chromium Playwright will drive: CHROMIUM_PATH, else Debian's or Ubuntu's, else Playwright's own. */
function findChromium(): string | null {
  const candidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].filter(Boolean) as string[];
  return candidates.find((candidate) => fs.existsSync(candidate)) ?? null;
}

/** Installs Debian's `pkg` with apt when we are root (a fresh machine, CI); says whether `found()` holds after. */
function aptInstall(pkg: string, found: () => boolean): boolean {
  if (found()) return true;
  if (process.getuid?.() !== 0 || !fs.existsSync("/usr/bin/apt-get")) return false;
  console.log(`[test] installing Debian's ${pkg} with apt-get (one time)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const update = spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  const install = update.status === 0 ? spawnSync("apt-get", ["install", "-y", "-qq", pkg], { stdio: ["ignore", "ignore", "inherit"], env }) : update;
  return install.status === 0 && found();
}

/**
 * What the E2E suite needs beyond npm: a browser, the real Prometheus Alertmanager that
 * e2e/alertmanager.spec.ts sends alerts through, and the real Prometheus of e2e/prometheus.spec.ts. Installed by apt when we are root (as on a fresh
 * machine or CI); otherwise one clear line says what to do, before any suite runs.
 */
function ensureE2eTools(): boolean {
  const chromium = findChromium() !== null || fs.existsSync(path.join(process.env.HOME ?? "", ".cache", "ms-playwright")) || aptInstall("chromium", () => findChromium() !== null);
  if (!chromium) {
    console.error(
      "[test] The E2E suite needs Chromium: install it (Debian/Ubuntu: sudo apt-get install chromium) or set CHROMIUM_PATH to a Chromium binary, then run npm test again.",
    );
    return false;
  }
  const alertmanager = () => fs.existsSync(process.env.ALERTMANAGER_PATH ?? "/usr/bin/prometheus-alertmanager");
  if (!aptInstall("prometheus-alertmanager", alertmanager)) {
    console.error(
      "[test] The E2E suite runs a real Prometheus Alertmanager: install it (Debian/Ubuntu: sudo apt-get install prometheus-alertmanager) or set ALERTMANAGER_PATH, then run npm test again.",
    );
    return false;
  }
  // e2e/prometheus.spec.ts scrapes the app with a real Prometheus, and checks the example rules with its promtool.
  const prometheus = () => fs.existsSync(process.env.PROMETHEUS_PATH ?? "/usr/bin/prometheus");
  if (!aptInstall("prometheus", prometheus)) {
    console.error("[test] The E2E suite runs a real Prometheus: install it (Debian/Ubuntu: sudo apt-get install prometheus) or set PROMETHEUS_PATH, then run npm test again.");
    return false;
  }
  return true;
}

// CI reads the closing line. Should this process end before printing it (a promise that can never
// settle, as an unreferenced child's exit once was), it fails loudly instead of exiting 0 unseen.
let summarized = false;
process.on("exit", (code) => {
  if (summarized) return;
  console.log(`\n[test] ended before its summary (exit code ${code})\n0 passed, 1 failed`);
  process.exitCode = 1;
});

async function main() {
  if (runE2e && !ensureE2eTools()) {
    summarized = true;
    console.log("\n0 passed, 1 failed");
    process.exit(1);
  }
  fs.rmSync(resultsDir, { recursive: true, force: true });
  fs.mkdirSync(resultsDir, { recursive: true });
  const pgDir = path.join(dataDir, "test-postgres");
  // Tests never touch the dev data: they get their own cluster, rebuilt every run and removed
  // when the run ends. Its WAL is held to about 100 MB: each test file's database is a copy of
  // the template written through the WAL, and at PostgreSQL's default (1 GB) a run's WAL alone
  // had reached 385 MB, on a CI machine that then ran out of disk.
  fs.rmSync(pgDir, { recursive: true, force: true });
  const database = await startEmbeddedPostgres({
    dataDir: pgDir,
    port: await freePort(),
    password: "test",
    flags: ["-c", "max_wal_size=64MB", "-c", "min_wal_size=32MB"],
    throwaway: true,
  });
  const totals: Counts = { passed: 0, failed: 0, skipped: 0 };
  try {
    const templateUrl = await database.createDatabase(TEMPLATE_DATABASE, { recreate: true });
    await migrate({ ...process.env, DATABASE_URL: templateUrl });
    const env = testEnvironment(database.url("postgres"));

    if (runVitest) {
      const file = path.join(resultsDir, "vitest.json");
      const code = await run(
        "node_modules/.bin/vitest",
        ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${file}`, ...(only ? extra : [])],
        env,
      );
      add(totals, vitestCounts(file, code));
    }
    if (runE2e) {
      const e2eUrl = await database.createDatabase("mon1tor_e2e", { template: TEMPLATE_DATABASE, recreate: true });
      // Built as a release is (README: `npm run build`, then the secrets at `npm start`), so a
      // module that reads the runtime environment at import fails the suite here.
      // The whole release build, the bundled worker too: `npm start` runs dist/worker.mjs when it
      // exists, and a stale one from an earlier build would be tested instead of this code.
      const build = await run("npm", ["run", "--silent", "build"], withoutRuntimeSecrets(env));
      if (build !== 0) {
        add(totals, { passed: 0, failed: 1, skipped: 0 });
      } else {
        const file = path.join(resultsDir, "playwright.json");
        const code = await run("node_modules/.bin/playwright", ["test", ...(only ? extra : [])], {
          ...env,
          DATABASE_URL: e2eUrl,
          PLAYWRIGHT_JSON_OUTPUT_NAME: file,
        });
        add(totals, playwrightCounts(file, code));
      }
    }
  } finally {
    await database.stop();
  }
  summarized = true;
  console.log(`\n${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ""}`);
  process.exit(totals.failed > 0 ? 1 : 0);
}

function add(totals: Counts, counts: Counts) {
  totals.passed += counts.passed;
  totals.failed += counts.failed;
  totals.skipped += counts.skipped;
}

main().catch((error: unknown) => {
  console.error(error);
  summarized = true;
  console.log("\n0 passed, 1 failed");
  process.exit(1);
});
