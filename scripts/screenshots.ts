// `npm run screenshots`: takes the README's screenshots from a running app (npm run dev, or
// SCREENSHOT_BASE_URL), with Playwright, so they show the UI as it is. It signs up a fresh
// account, adds an endpoint pointed at a receiver it runs on 127.0.0.1 (dev mode allows
// that), sends a few alerts, and writes docs/screenshots/*.png. Run it again when the UI changes.
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { chromium } from "@playwright/test";

const base = (process.env.SCREENSHOT_BASE_URL ?? "http://localhost:3000").replace(/\/+$/, "");
const out = path.resolve("docs/screenshots");
const executablePath = process.env.CHROMIUM_PATH ?? ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((candidate) => fs.existsSync(candidate));

// Every third delivery fails, so the log and the chart show both outcomes.
let count = 0;
const receiver = http.createServer((request, response) => {
  request.resume().on("end", () => {
    response.statusCode = request.method === "POST" && ++count % 3 === 0 ? 503 : 200;
    response.end(request.method === "GET" ? "ok" : "thanks");
  });
});
await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhook/mon1tor`;

const browser = await chromium.launch({ executablePath });
const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
try {
  await page.goto(`${base}/signup`);
  await page.getByLabel("Your name").fill("Ada Lovelace");
  await page.getByLabel("Email").fill(`ada-${Date.now()}@example.com`);
  await page.getByLabel("Password").fill("screenshots-password");
  await page.getByLabel("Team name").fill("Acme Operations");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("navigation", { name: "Main" }).waitFor();
  await page.goto(`${base}/settings/webhooks`);
  await page.getByLabel("Endpoint URL").fill(receiverUrl);
  await page.getByLabel("Description (optional)").fill("On-call paging bridge");
  await page.getByRole("button", { name: "Add endpoint" }).click();
  await page.getByRole("status").filter({ hasText: "Endpoint added and validated" }).waitFor();
  await page.getByRole("link", { name: receiverUrl }).click();
  await page.getByRole("heading", { name: "Webhook endpoint" }).waitFor();
  for (let i = 0; i < 4; i++) {
    await page.getByRole("button", { name: "Send test alert" }).click();
    await page.getByRole("status").filter({ hasText: /Test alert/ }).first().waitFor();
  }
  await page.reload();
  await page.screenshot({ path: path.join(out, "endpoint.png"), fullPage: false, caret: "initial" });
  await page.goto(`${base}/settings/webhooks`);
  await page.screenshot({ path: path.join(out, "webhooks.png"), fullPage: false, caret: "initial" });
  console.log(`wrote ${path.relative(process.cwd(), out)}/webhooks.png and endpoint.png from ${base}`);
} finally {
  await browser.close();
  receiver.close();
}
