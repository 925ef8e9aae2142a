// `npm start` (scripts/start.ts) where nothing was built: it says what to run, before it starts or
// migrates any database.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";

describe("npm start", () => {
  it("without a production build, exits at once saying to run `npm run build`, and starts no database", () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "mon1tor-unbuilt-"));
    onTestFinished(() => fs.rmSync(empty, { recursive: true, force: true }));
    const result = spawnSync(process.execPath, ["--import", import.meta.resolve("tsx"), path.resolve("scripts/start.ts")], {
      cwd: empty,
      env: { ...process.env, NODE_ENV: "production", MON1TOR_DATA_DIR: path.join(empty, "data") },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("no production build here: run `npm run build` first");
    expect(result.stdout).not.toContain("embedded PostgreSQL");
    expect(fs.existsSync(path.join(empty, "data"))).toBe(false);
  });
});
