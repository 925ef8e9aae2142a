// The embedded server runs in a process group of its own and is not referenced while it runs;
// stopping it must still keep the caller alive until it has stopped. It did not: `npm test`
// awaited the stop as its last step and exited with code 0 at once, without its summary line.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { expect, it } from "vitest";

it("a process that stops its embedded PostgreSQL as its last step goes on to its next line", () => {
  const script = `
    import fs from "node:fs"; import os from "node:os"; import path from "node:path";
    const { freePort, startEmbeddedPostgres } = await import(${JSON.stringify(new URL("./lib/embedded-postgres.ts", import.meta.url).pathname)});
    const db = await startEmbeddedPostgres({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), "mon1tor-stop-")), port: await freePort(), password: "x", throwaway: true });
    await db.stop();
    console.log("after the stop");`;
  const run = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8", timeout: 60_000 });
  expect(run.stdout, run.stderr).toContain("after the stop");
  expect(run.status).toBe(0);
}, 90_000);

it("a throwaway server whose process ends without stopping it (a crashed bench) goes down with it, and its files after it", async () => {
  const script = `
    import fs from "node:fs"; import os from "node:os"; import path from "node:path";
    const { freePort, startEmbeddedPostgres } = await import(${JSON.stringify(new URL("./lib/embedded-postgres.ts", import.meta.url).pathname)});
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "mon1tor-crashed-"));
    await startEmbeddedPostgres({ dataDir, port: await freePort(), password: "x", throwaway: true });
    const pid = Number(fs.readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\\n")[0]);
    console.log(JSON.stringify({ dataDir, pid }));
    throw new Error("the bench crashed");`;
  const run = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8", timeout: 60_000 });
  expect(run.status, run.stderr).not.toBe(0);
  const { dataDir, pid } = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as { dataDir: string; pid: number };
  expect(pid).toBeGreaterThan(0);
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  await expect.poll(alive, { timeout: 20_000 }).toBe(false);
  await expect.poll(() => fs.existsSync(dataDir), { timeout: 20_000 }).toBe(false);
}, 90_000);
