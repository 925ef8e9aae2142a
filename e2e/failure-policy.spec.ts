import { expect, test } from "@playwright/test";
import { startReceiver, type Receiver } from "../lib/testing/receiver";
import { addActiveEndpoint, createApiKey, ownerPage } from "./helpers";

let receiver: Receiver;
let postStatus = 500;
test.beforeAll(async () => {
  // Validation GETs pass; what POSTs get is up to the test.
  receiver = await startReceiver((r) => ({ status: r.method === "GET" ? 200 : postStatus }));
});
test.afterAll(() => receiver.close());

test("a failing endpoint raises a banner and a notification; resuming it offers replay or start fresh", async ({ browser, request }) => {
  const { page } = await ownerPage(browser, "policy");
  const path = `/failing/${Date.now()}`;
  const url = `${receiver.url}${path}`;
  await addActiveEndpoint(page, url);
  const endpointPage = page.url();
  const key = await createApiKey(page);
  const send = async (title: string) => {
    const response = await request.post("/api/v1/alerts", {
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      data: { title },
    });
    expect(response.status()).toBe(202);
  };
  // (Next's route announcer is also an alert region: pick ours by what it says.)
  const failureBanner = () => page.getByRole("alert").filter({ hasText: "deliveries in a row" });
  const posts = () => receiver.requests.filter((r) => r.path === path && r.method === "POST");

  for (let i = 0; i < 5; i++) await send(`down ${i}`);
  await expect.poll(() => posts().length).toBe(5);

  // The endpoint page: a banner with the count, the last reason and a link to the failing deliveries.
  await expect(async () => {
    await page.goto(endpointPage);
    await expect(failureBanner()).toContainText("This endpoint has failed 5 deliveries in a row.", { timeout: 1_000 });
  }).toPass();
  await expect(failureBanner()).toContainText("answered 500 Internal Server Error");

  // The Webhooks page says it too, and the link lands on the failing deliveries.
  await page.goto("/settings/webhooks");
  const banner = failureBanner().filter({ hasText: url });
  await expect(banner).toContainText("has failed 5 deliveries in a row.");
  await banner.getByRole("link", { name: "View failing deliveries" }).click();
  await expect(page.getByRole("navigation", { name: "Filter deliveries by status" }).getByRole("link", { name: "Failing" })).toHaveAttribute("aria-current", "page");
  await expect(page.getByRole("table", { name: "Deliveries" }).getByTestId("delivery-status").first()).toHaveText("Retrying");

  // The notification list, announced in the navigation until it is opened.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Notifications (1 new)" }).click();
  await expect(page.getByRole("table", { name: "Notifications" })).toContainText(`Webhook endpoint ${url} has failed 5 deliveries in a row.`);
  await page.reload();
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Notifications", exact: true })).toBeVisible();

  // Paused while the receiver is fixed; two more alerts are missed meanwhile.
  await page.goto(endpointPage);
  await page.getByRole("button", { name: "Pause" }).click();
  await expect(page.getByTestId("endpoint-status")).toHaveText("Paused");
  await send("while paused 1");
  await send("while paused 2");
  postStatus = 200;
  await page.reload();
  const choice = page.getByRole("group", { name: /Resume: 7 alerts missed since/ });
  await expect(choice.getByRole("button", { name: "Start fresh" })).toBeVisible();
  await choice.getByRole("button", { name: /^Replay the 7 alerts missed since / }).click();
  await expect(page.getByTestId("endpoint-status")).toHaveText("Active");

  // Serverless path: the cron route sends what was replayed.
  const cron = await request.get("/api/cron/dispatch", { headers: { authorization: `Bearer ${process.env.CRON_SECRET}` } });
  expect(cron.status()).toBe(200);
  await expect
    .poll(() => posts().filter((r) => /while paused/.test(r.body)).map((r) => JSON.parse(r.body).data.alert.title).sort())
    .toEqual(["while paused 1", "while paused 2"]);
  await page.reload();
  await expect(failureBanner()).toHaveCount(0);
});
