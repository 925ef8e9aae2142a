import { expect, test, type Page } from "@playwright/test";
import { startReceiver, type Receiver } from "../lib/testing/receiver";
import { addActiveEndpoint, createApiKey, openEndpointTab, ownerPage } from "./helpers";

let receiver: Receiver;
test.beforeAll(async () => {
  // Validation GETs pass; POSTs to a path ending in /down fail.
  receiver = await startReceiver((r) => ({ status: r.method === "POST" && r.path.endsWith("/down") ? 500 : 200 }));
});
test.afterAll(() => receiver.close());

const posts = (path: string) => receiver.requests.filter((r) => r.path === path && r.method === "POST");

async function sendAlerts(page: Page, request: import("@playwright/test").APIRequestContext, alerts: object[]) {
  const key = await createApiKey(page);
  for (const data of alerts) {
    const response = await request.post("/api/v1/alerts", { headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, data });
    expect(response.status()).toBe(202);
  }
}

test("each endpoint is watched like a monitor: health badges on the list, numbers and charts on the endpoint", async ({ browser, request }) => {
  const { page } = await ownerPage(browser, "health");
  const stamp = Date.now();
  const goodUrl = `${receiver.url}/health-${stamp}/up`;
  const badUrl = `${receiver.url}/health-${stamp}/down`;
  await addActiveEndpoint(page, badUrl);
  const badPage = page.url();
  await addActiveEndpoint(page, goodUrl);
  const goodPage = page.url();

  // Before any delivery there is nothing to judge.
  await expect(page.getByTestId("health-badge")).toHaveText("Health: No recent traffic");

  await sendAlerts(page, request, [1, 2, 3].map((i) => ({ title: `health ${i}`, severity: "critical" })));
  await expect.poll(() => posts(new URL(goodUrl).pathname).length).toBe(3);
  await expect.poll(() => posts(new URL(badUrl).pathname).length).toBeGreaterThanOrEqual(3);

  // The healthy endpoint: badge, 24 h and 7 d numbers, and both charts.
  await expect(async () => {
    await page.goto(goodPage);
    await expect(page.getByTestId("health-badge")).toHaveText("Health: Healthy", { timeout: 1_000 });
  }).toPass();
  await expect(page.getByTestId("health-reason")).toHaveText("100.0% of 3 attempts succeeded in 24 h");
  const table = page.getByRole("table", { name: "Endpoint health" });
  await expect(table.getByRole("row", { name: /Success rate/ })).toHaveText(/Success rate\s*100\.0%\s*100\.0%/);
  await expect(table.getByRole("row", { name: /Attempts/ })).toHaveText(/Attempts\s*3\s*3/);
  await expect(table.getByRole("row", { name: /p95 response/ })).toHaveText(/p95 response\s*\d+ ms\s*\d+ ms/);
  await expect(page.getByRole("img", { name: "Delivery attempts per hour, last 24 hours: 3 attempts, 0 failed" })).toBeVisible();
  await expect(page.getByRole("img", { name: "Delivery attempts per day, last 7 days: 3 attempts, 0 failed" })).toBeVisible();
  await expect(page.getByTestId("failure-run")).toHaveText("none");
  await expect(page.getByTestId("tls-certificate")).toHaveText("Not https: no certificate.");
  await expect(page.getByTestId("revalidation")).toHaveText(/^Daily\. Next: /);

  // The failing one: every attempt failed, so the badge says Failing and why.
  await page.goto(badPage);
  await expect(page.getByTestId("health-badge")).toHaveText("Health: Failing");
  await expect(page.getByTestId("health-reason")).toHaveText(/^0\.0% of attempts succeeded in 24 h \(under 90\.0%\)$/);
  const chart = page.getByRole("img", { name: /^Delivery attempts per hour, last 24 hours: / });
  const label = (await chart.getAttribute("aria-label"))!;
  const [, attempts, failed] = /: (\d+) attempts, (\d+) failed$/.exec(label)!;
  expect(Number(attempts)).toBeGreaterThanOrEqual(3);
  expect(failed).toBe(attempts);
  await expect(page.getByTestId("failure-run")).toContainText("3 deliveries, last");

  // The team overview on the Webhooks page: both at a glance, with the last failure reason.
  await page.goto("/settings/webhooks");
  const item = (url: string) => page.getByRole("list", { name: "Webhook endpoints" }).getByRole("listitem").filter({ hasText: url });
  await expect(item(goodUrl).getByTestId("health-badge")).toHaveText("Health: Healthy");
  await expect(item(goodUrl).getByTestId("endpoint-health")).toContainText("Last 24 h: 100.0% success · p95");
  await expect(item(badUrl).getByTestId("health-badge")).toHaveText("Health: Failing");
  await expect(item(badUrl).getByTestId("endpoint-health")).toContainText("0.0% success");
  await expect(item(badUrl).getByTestId("endpoint-health")).toContainText("Last failure");
  await expect(item(badUrl).getByTestId("endpoint-health")).toContainText("answered 500 Internal Server Error");

  // Daily re-validation can be turned off per endpoint.
  await page.goto(goodPage);
  await openEndpointTab(page, "Settings");
  await page.getByRole("checkbox", { name: "Re-validate daily" }).uncheck();
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: "Settings saved." })).toBeVisible();
  await page.reload();
  await expect(page.getByRole("checkbox", { name: "Re-validate daily" })).not.toBeChecked();
  await openEndpointTab(page, "Overview");
  await expect(page.getByTestId("revalidation")).toHaveText("Off.");
});

test("a triggered state still being retried when its resolved state arrives shows as Superseded in the log, with why", async ({ browser, request }) => {
  const { page } = await ownerPage(browser, "superseded");
  const url = `${receiver.url}/superseded-${Date.now()}/down`;
  await addActiveEndpoint(page, url);
  const endpointPage = page.url();
  await sendAlerts(page, request, [{ title: "db-1 down", dedupKey: "db-1" }]);
  await expect.poll(() => posts(new URL(url).pathname).length).toBe(1);
  await sendAlerts(page, request, [{ title: "db-1 down", dedupKey: "db-1", status: "resolved" }]);
  await expect.poll(() => posts(new URL(url).pathname).length).toBeGreaterThanOrEqual(2);

  await page.goto(`${endpointPage}?status=superseded`);
  const rows = page.getByRole("table", { name: "Deliveries" }).getByRole("row");
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(1).getByRole("link", { name: "alert.triggered" })).toBeVisible();
  await expect(rows.nth(1).getByTestId("delivery-status")).toHaveText("Superseded");
  await expect(rows.nth(1)).toContainText(/superseded by evt_\S+ \(alert\.resolved\): a newer state of this alert was queued/);
  // Only the resolved state is still retried.
  const sent = posts(new URL(url).pathname).map((r) => JSON.parse(r.body).type as string);
  expect(sent[0]).toBe("alert.triggered");
  expect(sent.slice(1).every((type) => type === "alert.resolved")).toBe(true);
});
