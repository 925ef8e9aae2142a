import crypto from "node:crypto";
import { expect, test } from "@playwright/test";
import { startReceiver, type Receiver } from "../lib/testing/receiver";
import { addActiveEndpoint, createApiKey, openEndpointTab, ownerPage, revealSecret } from "./helpers";

let receiver: Receiver;
test.beforeAll(async () => {
  receiver = await startReceiver(() => ({ status: 200 }));
});
test.afterAll(() => receiver.close());

const hex = (secret: string, body: string) => crypto.createHmac("sha256", secret).update(body).digest("hex");

test("roll the secret with a 24 h overlap: both secrets verify, the page shows both, Switch now ends it", async ({ browser }) => {
  const { page } = await ownerPage(browser);
  const path = `/roll/${Date.now()}`;
  await addActiveEndpoint(page, `${receiver.url}${path}`);
  const oldSecret = await revealSecret(page);

  await expect(page.getByLabel("Keep the old secret valid for")).toHaveValue("24h");
  await page.getByRole("button", { name: "Roll secret" }).click();
  await page.getByRole("button", { name: "Roll secret now" }).click();
  await expect(page.getByRole("status").filter({ hasText: "New secret generated. Both secrets are valid during the overlap." })).toBeVisible();
  await page.reload();
  await page.getByRole("button", { name: "Reveal", exact: true }).click();
  const current = page.getByRole("textbox", { name: "Signing secret", exact: true });
  await expect(current).toHaveValue(/^whsec_[A-Za-z0-9+/]{43}=$/);
  const newSecret = await current.inputValue();
  expect(newSecret).not.toBe(oldSecret);
  await page.getByRole("button", { name: "Reveal previous secret" }).click();
  await expect(page.getByRole("textbox", { name: "Previous signing secret" })).toHaveValue(oldSecret);

  await page.getByRole("button", { name: "Send test alert" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Test alert delivered" })).toBeVisible();
  const sent = receiver.requests.filter((r) => r.path === path && r.method === "POST").at(-1)!;
  expect(sent.headers["x-mon1tor-sha256-wh"]).toBe(hex(oldSecret, sent.body));
  expect(sent.headers["x-mon1tor-sha256-wh-next"]).toBe(hex(newSecret, sent.body));

  await page.getByRole("button", { name: "Switch now" }).click();
  await page.getByRole("button", { name: "Switch to the new secret" }).click();
  await expect(page.getByRole("textbox", { name: "Previous signing secret" })).toHaveCount(0);
});

test("after a roll, without a reload, the page masks the secret again and Reveal shows the new one, never the old", async ({ browser }) => {
  const { page } = await ownerPage(browser);
  await addActiveEndpoint(page, `${receiver.url}/roll-stale/${Date.now()}`);
  const oldSecret = await revealSecret(page);
  const current = page.getByRole("textbox", { name: "Signing secret", exact: true });
  await expect(page.getByRole("button", { name: "Copy signing secret" })).toBeVisible();

  await page.getByLabel("Keep the old secret valid for").selectOption("now");
  await page.getByRole("button", { name: "Roll secret" }).click();
  await page.getByRole("button", { name: "Roll secret now" }).click();
  await expect(page.getByRole("status").filter({ hasText: "New secret generated. The old one no longer signs." })).toBeVisible();
  // Masked again, and no copy button holding the old value.
  await expect(current).toHaveValue(/•/);
  await expect(page.getByRole("button", { name: "Copy signing secret" })).toHaveCount(0);
  const newSecret = await revealSecret(page);
  expect(newSecret).not.toBe(oldSecret);
  // Nothing in the page still holds the old secret.
  expect(await page.content()).not.toContain(oldSecret);
});

test("filter events with checkboxes: a warning alert is not delivered to a critical-only endpoint", async ({ browser, request }) => {
  const { page } = await ownerPage(browser);
  const path = `/filtered/${Date.now()}`;
  await addActiveEndpoint(page, `${receiver.url}${path}`);
  await openEndpointTab(page, "Settings");
  const endpointUrl = page.url();
  const filter = page.getByRole("region", { name: "What this endpoint gets" });
  await expect(filter.getByTestId("filter-summary")).toHaveText("Gets: All severities, triggered and resolved");
  await filter.getByRole("group", { name: "Severities" }).getByLabel("Warning").uncheck();
  await filter.getByRole("group", { name: "Severities" }).getByLabel("Info").uncheck();
  await filter.getByRole("group", { name: "Severities" }).getByLabel("Critical").uncheck();
  await filter.getByRole("button", { name: "Save", exact: true }).click();
  await expect(filter.getByText("Choose at least one severity.")).toBeVisible();
  await filter.getByRole("group", { name: "Severities" }).getByLabel("Critical").check();
  await filter.getByRole("button", { name: "Save", exact: true }).click();
  await expect(filter.getByTestId("filter-summary")).toHaveText("Gets: Critical, triggered and resolved");

  const key = await createApiKey(page);
  const send = (severity: string, title: string) =>
    request.post("/api/v1/alerts", { headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, data: { title, severity } });
  expect(await (await send("warning", "just a warning")).json()).toMatchObject({ deliveriesQueued: 0 });
  expect(await (await send("critical", "the real thing")).json()).toMatchObject({ deliveriesQueued: 1 });
  await expect.poll(() => receiver.requests.filter((r) => r.path === path && r.method === "POST").map((r) => JSON.parse(r.body).data.alert.title)).toEqual(["the real thing"]);
  await page.goto(endpointUrl);
  await expect(page.getByRole("region", { name: "What this endpoint gets" }).getByTestId("filter-summary")).toHaveText("Gets: Critical, triggered and resolved");
  // The endpoint list shows the filter too.
  await page.goto("/settings/webhooks");
  await expect(page.getByRole("list", { name: "Webhook endpoints" }).getByRole("listitem").filter({ hasText: path })).toContainText("Gets: Critical, triggered and resolved");
});

test("custom headers: a forbidden name is refused, an Authorization header arrives and is masked", async ({ browser }) => {
  const { page } = await ownerPage(browser);
  const path = `/custom/${Date.now()}`;
  await addActiveEndpoint(page, `${receiver.url}${path}`);
  await openEndpointTab(page, "Settings");
  const panel = page.getByRole("region", { name: "Custom headers" });
  await panel.getByLabel("Header name").fill("Content-Type");
  await panel.getByLabel("Header value").fill("text/plain");
  await panel.getByRole("button", { name: "Add header" }).click();
  await expect(panel.getByText("“Content-Type” is set by mon1tor or its HTTP client and cannot be overridden.")).toBeVisible();
  await panel.getByLabel("Header name").fill("Authorization");
  await panel.getByLabel("Header value").fill("Bearer gw-secret-123");
  await panel.getByRole("button", { name: "Add header" }).click();
  await expect(panel.getByRole("list", { name: "Custom headers" })).toContainText("Authorization: •••••• (20 characters)");
  expect(await page.content()).not.toContain("gw-secret-123");

  await page.getByRole("button", { name: "Send test alert" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Test alert delivered" })).toBeVisible();
  expect(receiver.requests.filter((r) => r.path === path && r.method === "POST").at(-1)!.headers.authorization).toBe("Bearer gw-secret-123");
  await panel.getByRole("button", { name: "Remove header Authorization" }).click();
  await expect(panel.getByText("No custom headers.")).toBeVisible();
});

test("an oversized paste gets its own message and stays in the form: 2 MB from the field's rule, 5 MB before it is sent", async ({ browser }) => {
  const { page } = await ownerPage(browser);
  await addActiveEndpoint(page, `${receiver.url}/oversized/${Date.now()}`);
  await openEndpointTab(page, "Test & debug");
  const debuggerCard = page.getByRole("region", { name: "My signature check fails" });
  const field = debuggerCard.getByLabel("What your receiver got");
  const errors: string[] = [];
  page.on("response", (response) => void (response.status() >= 500 && errors.push(`${response.status()} ${response.url()}`)));

  // 2 MB: past Next's default 1 MB for a server action, which answered 500 and lost the page.
  const twoMegabytes = `content-type: application/json\n\n${"x".repeat(2 * 1024 * 1024)}`;
  await field.fill(twoMegabytes);
  await debuggerCard.getByRole("button", { name: "Check signature" }).click();
  await expect(debuggerCard.getByText("Paste at most 200 KB.")).toBeVisible();
  expect((await field.inputValue()).length).toBe(twoMegabytes.length);

  // 5 MB: more than any form may send; refused in the page, nothing sent.
  await field.fill("y".repeat(5 * 1024 * 1024));
  await debuggerCard.getByRole("button", { name: "Check signature" }).click();
  await expect(debuggerCard.getByText(/This is 5\.0 MB, more than the 3\.5 MB a form can send\. Nothing was sent/).first()).toBeVisible();
  expect((await field.inputValue()).length).toBe(5 * 1024 * 1024);
  expect(errors).toEqual([]);
});

test("the signature debugger names a trailing newline in what the receiver got", async ({ browser }) => {
  const { page } = await ownerPage(browser);
  const path = `/debugger/${Date.now()}`;
  await addActiveEndpoint(page, `${receiver.url}${path}`);
  await page.getByRole("button", { name: "Send test alert" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Test alert delivered" })).toBeVisible();
  const sent = receiver.requests.filter((r) => r.path === path && r.method === "POST").at(-1)!;
  await openEndpointTab(page, "Test & debug");
  const debuggerCard = page.getByRole("region", { name: "My signature check fails" });
  await debuggerCard.getByRole("button", { name: "Check signature" }).click();
  await expect(debuggerCard.getByText("Pick a recent delivery or paste what your receiver got.")).toBeVisible();
  const pasted = `x-mon1tor-sha256-wh: ${sent.headers["x-mon1tor-sha256-wh"]}\nwebhook-id: ${sent.headers["webhook-id"]}\n\n${sent.body}\n`;
  await debuggerCard.getByLabel("What your receiver got").fill(pasted);
  await debuggerCard.getByRole("button", { name: "Check signature" }).click();
  const result = debuggerCard.getByRole("status", { name: "Signature check result" });
  await expect(result.getByTestId("debug-verdict")).toHaveText(/^Body: the body is not byte-identical to what we sent .*: it ends with a newline we did not send/);
  await expect(result).toContainText("✓ Signature header");

  await debuggerCard.getByLabel("What your receiver got").fill("");
  await debuggerCard.getByLabel("Recent delivery").selectOption({ index: 1 });
  await debuggerCard.getByRole("button", { name: "Check signature" }).click();
  await expect(result.getByTestId("debug-verdict")).toHaveText(/^Everything we sent checks out/);
});
