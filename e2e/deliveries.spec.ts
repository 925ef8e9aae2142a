import crypto from "node:crypto";
import { expect, test } from "@playwright/test";
import { Webhook } from "standardwebhooks";
import { startReceiver, type Received, type Receiver } from "../lib/testing/receiver";
import { addActiveEndpoint, createApiKey, openEndpointTab, ownerPage, revealSecret } from "./helpers";

let receiver: Receiver;
test.beforeAll(async () => {
  receiver = await startReceiver();
});
test.afterAll(() => receiver.close());

function verify(request: Received, secret: string) {
  const expected = crypto.createHmac("sha256", secret).update(request.body).digest("hex");
  expect(request.headers["x-mon1tor-sha256-wh"]).toBe(expected);
  return new Webhook(secret).verify(request.body, {
    "webhook-id": String(request.headers["webhook-id"]),
    "webhook-timestamp": String(request.headers["webhook-timestamp"]),
    "webhook-signature": String(request.headers["webhook-signature"]),
  }) as { type: string; data: { alert: { title: string } } };
}

test("send a test alert from the UI: the log shows Delivered 2xx and the copy verifies with the revealed secret", async ({ browser }) => {
  const { page } = await ownerPage(browser);
  const path = `/test-alert/${Date.now()}`;
  receiver.respond(() => ({ status: 200, body: "thanks" }));
  await addActiveEndpoint(page, `${receiver.url}${path}`);
  const endpointPage = page.url();
  await expect(page.getByText("No deliveries yet")).toBeVisible();
  await page.getByRole("button", { name: "Send test alert" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Test alert delivered: answered 200." })).toBeVisible();

  const row = page.getByRole("table", { name: "Deliveries" }).getByRole("row").nth(1);
  await expect(row.getByTestId("delivery-status")).toHaveText("Delivered");
  await expect(row.getByRole("cell").nth(3)).toHaveText(/^2\d\d$/);
  await expect(page.getByTestId("success-rate")).toHaveText("100.0%");

  const secret = await revealSecret(page);
  const received = receiver.requests.filter((r) => r.path === path && r.method === "POST");
  expect(received).toHaveLength(1);
  const event = verify(received[0]!, secret);
  expect(event.type).toBe("webhook.test");

  // The detail page shows the request (with signatures, not the secret) and the response.
  await openEndpointTab(page, "Deliveries");
  await row.getByRole("link", { name: "webhook.test" }).click();
  await expect(page.getByRole("table", { name: "Request headers" })).toContainText(String(received[0]!.headers["x-mon1tor-sha256-wh"]));
  await expect(page.getByRole("table", { name: "Request headers" })).toContainText(String(received[0]!.headers["webhook-id"]));
  expect(await page.content()).not.toContain(secret);
  await expect(page.getByText("thanks")).toBeVisible();

  // A page cursor that is not a delivery id (a NUL byte was a 500) shows the newest deliveries.
  for (const before of ["%00", "msg_unknown"]) {
    await page.goto(`${endpointPage}?before=${before}`);
    await expect(page.getByRole("table", { name: "Deliveries" }).getByRole("row").nth(1).getByTestId("delivery-status")).toHaveText("Delivered");
  }
});

test("an alert sent through the API with a key created in the UI arrives signed", async ({ browser, request }) => {
  const { page } = await ownerPage(browser);
  const path = `/api-alert/${Date.now()}`;
  receiver.respond(() => ({ status: 204 }));
  await addActiveEndpoint(page, `${receiver.url}${path}`);
  const endpointPage = page.url();
  const secret = await revealSecret(page);
  const key = await createApiKey(page);

  const response = await request.post("/api/v1/alerts", {
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    data: { title: "Disk almost full", severity: "warning", monitor: { id: "disk-1", name: "db-1 disk" } },
  });
  expect(response.status()).toBe(202);
  const accepted = await response.json();
  expect(accepted).toMatchObject({ deliveriesQueued: 1, deduplicated: false });

  const delivered = await expect.poll(() => receiver.requests.filter((r) => r.path === path && r.method === "POST").length).toBe(1);
  void delivered;
  const [copy] = receiver.requests.filter((r) => r.path === path && r.method === "POST");
  const event = verify(copy!, secret);
  expect(event.type).toBe("alert.triggered");
  expect(event.data.alert.title).toBe("Disk almost full");

  // The endpoint's delivery log names the alert of each delivery, not only its type.
  await page.goto(endpointPage);
  await expect(page.getByRole("table", { name: "Deliveries" }).getByRole("row").nth(1)).toContainText("Disk almost full");

  await page.goto("/alerts");
  await page.getByRole("link", { name: "Disk almost full" }).click();
  await expect(page.getByRole("heading", { name: "Disk almost full" })).toBeVisible();
  await expect(page.getByTestId("delivery-status")).toHaveText("Delivered");
  await page.goto("/settings/api-keys");
  await expect(page.getByRole("table", { name: "API keys" })).not.toContainText("never");
});

test("a failing receiver shows Retrying with the next time; Redeliver sends a fresh attempt", async ({ browser }) => {
  const { page } = await ownerPage(browser);
  const path = `/failing/${Date.now()}`;
  receiver.respond((r) => (r.method === "GET" ? { status: 204 } : { status: 500, body: "boom" }));
  await addActiveEndpoint(page, `${receiver.url}${path}`);
  await page.getByRole("button", { name: "Send test alert" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Test alert not delivered yet: answered 500 Internal Server Error." })).toBeVisible();
  const row = page.getByRole("table", { name: "Deliveries" }).getByRole("row").nth(1);
  await expect(row.getByTestId("delivery-status")).toHaveText("Retrying");
  await expect(row).toContainText(/next attempt \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
  // Past that time (about 5 s) the attempt is due or under way: the row says so, not a past time.
  await expect(async () => {
    await page.reload();
    await expect(row).toContainText("next attempt due now", { timeout: 1000 });
  }).toPass({ timeout: 20_000 });

  receiver.respond(() => ({ status: 200 }));
  await row.getByRole("link", { name: "webhook.test" }).click();
  await page.getByRole("button", { name: "Redeliver" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Queued: a fresh attempt is on its way." })).toBeVisible();
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId("delivery-status")).toHaveText("Delivered", { timeout: 1000 });
  }).toPass();
  await expect(page.getByText(/^Attempt 2 · .* answered 200$/)).toBeVisible();
  const posts = receiver.requests.filter((r) => r.path === path && r.method === "POST");
  expect(posts).toHaveLength(2);
  expect(posts[0]!.headers["webhook-id"]).toBe(posts[1]!.headers["webhook-id"]);
  expect(posts[0]!.body).toBe(posts[1]!.body);
});
