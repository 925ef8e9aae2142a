import { expect, test, type Page } from "@playwright/test";
import { startReceiver, type Receiver } from "../lib/testing/receiver";
import { createInviteLink, joinWithInvite, openEndpointTab, ownerPage } from "./helpers";

let receiver: Receiver;
test.beforeAll(async () => {
  receiver = await startReceiver();
});
test.afterAll(() => receiver.close());

async function addEndpoint(page: Page, url: string) {
  await page.goto("/settings/webhooks");
  await page.getByLabel("Endpoint URL").fill(url);
  await page.getByRole("button", { name: "Add endpoint" }).click();
}

const endpointLink = (page: Page, url: string) => page.getByRole("link", { name: url });

async function openEndpoint(page: Page, url: string) {
  await endpointLink(page, url).click();
  await expect(page.getByRole("heading", { name: "Webhook endpoint" })).toBeVisible();
}

test("a member adds an endpoint, sees it become Active, reveals and copies the secret", async ({ browser }) => {
  const { page, context } = await ownerPage(browser);
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await page.goto("/settings/webhooks");
  await expect(page.getByText("No webhook endpoints yet")).toBeVisible();

  receiver.respond(() => ({ status: 204 }));
  const url = `${receiver.url}/webhook/mon1tor/${Date.now()}`;
  await page.getByLabel("Endpoint URL").fill(url);
  await page.getByRole("button", { name: "Add endpoint" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Endpoint added and validated" })).toBeVisible();
  const item = page.getByRole("listitem").filter({ has: endpointLink(page, url) });
  await expect(item.getByTestId("endpoint-status")).toHaveText("Active");

  await openEndpoint(page, url);
  await openEndpointTab(page, "Settings");
  const secretBox = page.getByRole("textbox", { name: "Signing secret" });
  await expect(secretBox).toHaveValue(/•/);
  // The secret is not in the page before it is revealed.
  expect(await page.content()).not.toMatch(/whsec_[A-Za-z0-9+/]{43}=/);
  await page.getByRole("button", { name: "Reveal" }).click();
  await expect(secretBox).toHaveValue(/^whsec_[A-Za-z0-9+/]{43}=$/);
  const secret = await secretBox.inputValue();
  await page.getByRole("button", { name: "Copy signing secret" }).click();
  await expect(page.getByRole("button", { name: "Copy signing secret" })).toHaveText("Copied");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
});

test("a failing endpoint shows its reason; fixing the receiver and validating again makes it Active", async ({ browser }) => {
  const { page } = await ownerPage(browser);
  receiver.respond(() => ({ status: 404 }));
  const url = `${receiver.url}/broken/${Date.now()}`;
  await addEndpoint(page, url);
  await expect(page.getByRole("status").filter({ hasText: "validation failed: answered 404 Not Found" })).toBeVisible();
  const item = page.getByRole("listitem").filter({ has: endpointLink(page, url) });
  await expect(item.getByTestId("endpoint-status")).toHaveText("Validation failed");
  await expect(item).toContainText("Reason: answered 404 Not Found");

  await openEndpoint(page, url);
  await expect(page.getByTestId("status-reason")).toHaveText("answered 404 Not Found");
  receiver.respond(() => ({ status: 200 }));
  await page.getByRole("button", { name: "Validate again" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Validated: the endpoint is active." })).toBeVisible();
  await expect(page.getByTestId("endpoint-status")).toHaveText("Active");
  await openEndpointTab(page, "Test & debug");
  await expect(page.getByRole("table", { name: "Validation history" })).toContainText("answered 404 Not Found");
});

test("bad input gets a specific message and saves nothing", async ({ browser }) => {
  const { page } = await ownerPage(browser);
  const cases: [string, string][] = [
    ["", "Enter the URL of your webhook endpoint."],
    ["not a url", "Enter a valid URL, such as https://www.example.com/webhook/mon1tor."],
    ["javascript:alert(1)", "The javascript: scheme is not allowed: use an http:// or https:// URL."],
    ["ftp://example.com/hook", "The ftp: scheme is not allowed: use an http:// or https:// URL."],
    ["https://user:secret@example.com/hook", "Remove the username and password from the URL: mon1tor signs each request instead."],
    [`https://example.com/${"x".repeat(2100)}`, "The URL is too long: at most 2,048 characters."],
  ];
  await page.goto("/settings/webhooks");
  for (const [input, message] of cases) {
    await page.getByLabel("Endpoint URL").fill(input);
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await expect(page.locator("#field-url-error")).toHaveText(message);
  }
  await expect(page.getByText("No webhook endpoints yet")).toBeVisible();

  receiver.respond(() => ({ status: 204 }));
  const url = `${receiver.url}/dup/${Date.now()}`;
  await addEndpoint(page, url);
  await expect(page.getByRole("status").filter({ hasText: "Endpoint added and validated" })).toBeVisible();
  await page.getByLabel("Endpoint URL").fill(url);
  await page.getByRole("button", { name: "Add endpoint" }).click();
  await expect(page.locator("#field-url-error")).toHaveText("This team already has an endpoint with this URL.");
  await expect(page.getByRole("list", { name: "Webhook endpoints" }).getByRole("listitem")).toHaveCount(1);
});

test("editing the URL sends the endpoint back through validation; pause, resume and delete", async ({ browser }) => {
  const { page } = await ownerPage(browser);
  receiver.respond(() => ({ status: 204 }));
  const url = `${receiver.url}/edit/${Date.now()}`;
  await addEndpoint(page, url);
  await openEndpoint(page, url);
  await expect(page.getByTestId("endpoint-status")).toHaveText("Active");

  // The new URL answers slowly enough to see the pending state, then fails.
  receiver.respond(async () => {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    return { status: 410 };
  });
  await openEndpointTab(page, "Settings");
  await page.getByLabel("Endpoint URL").fill(`${url}/v2`);
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByRole("button", { name: "Saving…" })).toBeDisabled();
  await expect(page.getByRole("status").filter({ hasText: "Validation failed: answered 410 Gone." })).toBeVisible();
  await openEndpointTab(page, "Overview");
  await expect(page.getByTestId("endpoint-status")).toHaveText("Validation failed");

  receiver.respond(() => ({ status: 204 }));
  await page.getByRole("button", { name: "Validate again" }).click();
  await expect(page.getByTestId("endpoint-status")).toHaveText("Active");
  await page.getByRole("button", { name: "Pause" }).click();
  await expect(page.getByTestId("endpoint-status")).toHaveText("Paused");
  await page.getByRole("button", { name: "Resume" }).click();
  await expect(page.getByTestId("endpoint-status")).toHaveText("Active");

  await page.getByRole("button", { name: "Delete" }).click();
  await page.getByRole("button", { name: "Delete endpoint" }).click();
  await expect(page).toHaveURL(/\/settings\/webhooks$/);
  await expect(page.getByText("No webhook endpoints yet")).toBeVisible();
});

test("a viewer sees endpoints but no controls, and the server refuses a crafted reveal", async ({ browser }) => {
  const owner = await ownerPage(browser);
  receiver.respond(() => ({ status: 204 }));
  const url = `${receiver.url}/viewer/${Date.now()}`;
  await addEndpoint(owner.page, url);
  await openEndpoint(owner.page, url);
  const endpointPath = new URL(owner.page.url()).pathname;
  const endpointId = endpointPath.split("/").pop()!;

  // Capture how the browser calls the reveal action, to replay it as the viewer.
  await openEndpointTab(owner.page, "Settings");
  const revealRequest = owner.page.waitForRequest((request) => request.method() === "POST" && !!request.headers()["next-action"]);
  await owner.page.getByRole("button", { name: "Reveal" }).click();
  const captured = await revealRequest;

  const viewer = await joinWithInvite(browser, await createInviteLink(owner.page, "viewer"), "viewer");
  await viewer.page.goto("/settings/webhooks");
  await expect(endpointLink(viewer.page, url)).toBeVisible();
  await expect(viewer.page.getByRole("button", { name: "Add endpoint" })).toHaveCount(0);
  await openEndpoint(viewer.page, url);
  await expect(viewer.page.getByTestId("endpoint-status")).toHaveText("Active");
  await expect(viewer.page.getByRole("button", { name: "Validate again" })).toHaveCount(0);
  await openEndpointTab(viewer.page, "Settings");
  for (const name of ["Validate again", "Pause", "Delete", "Reveal", "Save changes"]) {
    await expect(viewer.page.getByRole("button", { name })).toHaveCount(0);
  }
  await expect(viewer.page.getByText("Your role cannot reveal the signing secret.")).toBeVisible();

  const response = await viewer.page.request.post(captured.url(), {
    headers: { "next-action": captured.headers()["next-action"]!, "content-type": captured.headers()["content-type"] ?? "text/plain;charset=UTF-8", accept: "text/x-component" },
    data: captured.postData() ?? JSON.stringify([{ endpointId }]),
  });
  const body = await response.text();
  expect(body).toContain("Your role (viewer) does not allow this.");
  expect(body).not.toMatch(/whsec_/);
});
