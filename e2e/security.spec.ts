import { expect, test } from "@playwright/test";
import { startReceiver } from "../lib/testing/receiver";
import { addActiveEndpoint, createInviteLink, joinWithInvite, ownerPage } from "./helpers";

test("security headers are set on pages and API responses", async ({ request }) => {
  for (const path of ["/signin", "/api/v1/alerts"]) {
    const response = path.startsWith("/api") ? await request.post(path) : await request.get(path);
    const headers = response.headers();
    expect(headers["content-security-policy"], path).toContain("frame-ancestors 'none'");
    expect(headers["content-security-policy"], path).not.toContain("unsafe-eval");
    expect(headers["referrer-policy"], path).toBe("strict-origin-when-cross-origin");
    expect(headers["x-content-type-options"], path).toBe("nosniff");
    expect(headers["permissions-policy"], path).toContain("camera=()");
    expect(headers["x-powered-by"], path).toBeUndefined();
  }
});

test("owners see the audit log, filterable by action; viewers do not", async ({ browser }) => {
  const owner = await ownerPage(browser);
  const link = await createInviteLink(owner.page, "viewer");
  await owner.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
  await owner.page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "Audit log" }).click();
  const table = owner.page.getByRole("table", { name: "Audit log" });
  await expect(table).toContainText("team.create");
  await expect(table).toContainText("member.invite");
  await owner.page.getByLabel("Action").selectOption("member.invite");
  await owner.page.getByRole("button", { name: "Filter" }).click();
  await expect(owner.page).toHaveURL(/action=member\.invite/);
  await expect(table.getByRole("row")).toHaveCount(2);

  const viewer = await joinWithInvite(browser, link, "viewer");
  await viewer.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
  await expect(viewer.page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "Team" })).toBeVisible();
  await expect(viewer.page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "Audit log" })).toHaveCount(0);
  await viewer.page.goto("/settings/audit-log");
  await expect(viewer.page.getByRole("main").getByRole("alert")).toHaveText("Only owners and admins can see the audit log.");
  await expect(viewer.page.getByRole("table", { name: "Audit log" })).toHaveCount(0);
});

test("a viewer sees a delivery's headers with the signatures masked: nothing replayable", async ({ browser }) => {
  const receiver = await startReceiver(() => ({ status: 200 }));
  try {
    const owner = await ownerPage(browser);
    const path = `/masked/${Date.now()}`;
    await addActiveEndpoint(owner.page, `${receiver.url}${path}`);
    const endpointUrl = owner.page.url();
    await owner.page.getByRole("button", { name: "Send test alert" }).click();
    await expect(owner.page.getByRole("status").filter({ hasText: "Test alert delivered" })).toBeVisible();
    await owner.page.getByRole("table", { name: "Deliveries" }).getByRole("link", { name: "webhook.test" }).click();
    await expect(owner.page).toHaveURL(/\/deliveries\/msg_/);
    const deliveryUrl = owner.page.url();
    const sent = receiver.requests.find((r) => r.path === path && r.method === "POST")!;
    const signature = String(sent.headers["x-mon1tor-sha256-wh"]);
    await expect(owner.page.getByRole("table", { name: "Request headers" })).toContainText(signature);

    const viewer = await joinWithInvite(browser, await createInviteLink(owner.page, "viewer"), "viewer");
    await viewer.page.goto(endpointUrl);
    await viewer.page.goto(deliveryUrl);
    const headers = viewer.page.getByRole("table", { name: "Request headers" });
    await expect(headers.getByRole("row", { name: /x-mon1tor-sha256-wh/ })).toContainText("hidden: your role cannot see signatures");
    await expect(headers.getByRole("row", { name: /webhook-signature/ })).toContainText("hidden: your role cannot see signatures");
    await expect(headers).toContainText(String(sent.headers["webhook-id"]));
    expect(await viewer.page.content()).not.toContain(signature);
  } finally {
    await receiver.close();
  }
});

test("an owner requires ownership confirmation: only an endpoint that echoes the token becomes active", async ({ browser }) => {
  const receiver = await startReceiver((r) =>
    r.method === "GET" && r.path.startsWith("/echo/") ? { status: 200, body: `challenge=${r.path.split("/").at(-1)}` } : { status: 200 },
  );
  try {
    const owner = await ownerPage(browser);
    await owner.page.goto("/settings/team");
    await owner.page.getByLabel("Require ownership confirmation").check();
    await owner.page.getByLabel("Delivery cap per endpoint (per minute)").fill("lots");
    await owner.page.getByRole("button", { name: "Save settings" }).click();
    await expect(owner.page.getByText("Enter a whole number of deliveries per minute, or leave it empty.")).toBeVisible();
    await owner.page.getByLabel("Delivery cap per endpoint (per minute)").fill("");
    await owner.page.getByRole("button", { name: "Save settings" }).click();
    await expect(owner.page.getByRole("status").filter({ hasText: "Settings saved." })).toBeVisible();

    await owner.page.goto("/settings/webhooks");
    await owner.page.getByLabel("Endpoint URL").fill(`${receiver.url}/plain/hook`);
    await owner.page.getByRole("button", { name: "Add endpoint" }).click();
    await expect(owner.page.getByText(/did not echo the validation token/).first()).toBeVisible();

    await addActiveEndpoint(owner.page, `${receiver.url}/echo/hook`);
    await expect(owner.page.getByTestId("ownership")).toContainText("Confirmed");
  } finally {
    await receiver.close();
  }
});
