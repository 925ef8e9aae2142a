import fs from "node:fs";
import { defineConfig, devices } from "@playwright/test";
import { nextStartArgs } from "./scripts/lib/next-start";

// Debian's Chromium where it is installed (CI installs it through apt); elsewhere
// Playwright's own browser, if the developer has one.
const chromium = process.env.CHROMIUM_PATH ?? ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((candidate) => fs.existsSync(candidate));
const port = Number(process.env.E2E_PORT ?? 3100);

export default defineConfig({
  testDir: "e2e",
  timeout: 60_000,
  expect: { timeout: 15_000 },
  workers: 2,
  reporter: [["list"], ["json"]],
  use: {
    baseURL: `http://localhost:${port}`,
    trace: "retain-on-failure",
    launchOptions: { executablePath: chromium },
  },
  projects: [
    // Runs alone on the empty database: the first visit must offer sign-up.
    { name: "first-run", testMatch: /first-run\.spec\.ts/, use: { ...devices["Desktop Chrome"] } },
    { name: "app", testIgnore: /first-run\.spec\.ts/, dependencies: ["first-run"], use: { ...devices["Desktop Chrome"] } },
  ],
  webServer: {
    command: ["node_modules/.bin/next", ...nextStartArgs(port)].join(" "),
    url: `http://localhost:${port}/signin`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      ...(Object.fromEntries(Object.entries(process.env).filter(([, value]) => value !== undefined)) as Record<string, string>),
      NEXTAUTH_URL: `http://localhost:${port}`,
    },
  },
});
