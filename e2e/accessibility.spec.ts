import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { startReceiver, type Receiver } from "../lib/testing/receiver";
import { addActiveEndpoint, createApiKey, createInviteLink, newAccount, PASSWORD, signUp } from "./helpers";

let receiver: Receiver;
test.beforeAll(async () => {
  receiver = await startReceiver(() => ({ status: 200, body: "ok" }));
});
test.afterAll(() => receiver.close());

/** Serious and critical WCAG 2 A/AA violations on the page as it is now. */
async function seriousViolations(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  return results.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) => `${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(" ")).slice(0, 3).join(", ")})`);
}

test("every page, signed out and signed in with data on it, has no serious or critical axe violations", async ({ browser, request }) => {
  // A dozen pages, each loaded and analysed by axe: past a minute when the machine is slow
  // (both CI runs on 2026-12-02 stopped at 60 s, inside axe).
  test.setTimeout(180_000);
  const context = await browser.newContext();
  const page = await context.newPage();
  for (const path of ["/signin", "/signup"]) {
    await page.goto(path);
    expect(await seriousViolations(page), path).toEqual([]);
  }
  await signUp(page, newAccount("a11y"));
  const path = `/a11y/${Date.now()}`;
  await addActiveEndpoint(page, `${receiver.url}${path}`);
  const endpointUrl = new URL(page.url()).pathname;
  await page.getByRole("button", { name: "Send test alert" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Test alert delivered" })).toBeVisible();
  const key = await createApiKey(page);
  await request.post("/api/v1/alerts", { headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, data: { title: "Disk full", severity: "warning" } });
  await createInviteLink(page, "member");
  await page.goto(endpointUrl);
  await page.getByRole("table", { name: "Deliveries" }).getByRole("link").first().click();
  await expect(page).toHaveURL(/\/deliveries\//);
  const deliveryUrl = new URL(page.url()).pathname;
  await page.goto("/alerts");
  await page.getByRole("link", { name: "Disk full" }).click();
  await expect(page.getByRole("heading", { name: "Disk full" })).toBeVisible();
  const alertUrl = new URL(page.url()).pathname;

  for (const url of ["/settings/webhooks", endpointUrl, `${endpointUrl}/deliveries`, `${endpointUrl}/settings`, `${endpointUrl}/test`, deliveryUrl, "/alerts", alertUrl, "/settings/api-keys", "/settings/team", "/settings/audit-log", "/notifications"]) {
    await page.goto(url);
    await expect(page.getByRole("main")).toBeVisible();
    expect(await seriousViolations(page), url).toEqual([]);
  }
  await context.close();
});

test("at 320 px wide (WCAG reflow), no page scrolls sideways, even with a 300-character unbroken alert title, a long endpoint URL and team name", async ({ browser, request }) => {
  // Eight pages through axe, as in the walk above.
  test.setTimeout(180_000);
  const context = await browser.newContext({ viewport: { width: 320, height: 640 } });
  const page = await context.newPage();
  for (const path of ["/signin", "/signup"]) {
    await page.goto(path);
    expect(await sidewaysOverflow(page), path).toBe(0);
    expect(await seriousViolations(page), path).toEqual([]);
  }
  await signUp(page, { ...newAccount("reflow"), team: "T".repeat(80) });
  await addActiveEndpoint(page, `${receiver.url}/reflow/${"p".repeat(400)}`);
  const endpointUrl = new URL(page.url()).pathname;
  const key = await createApiKey(page, "k".repeat(100));
  const title = "A".repeat(300);
  const sent = await request.post("/api/v1/alerts", {
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    data: { title, message: "m".repeat(2000), monitor: { id: "i".repeat(200), name: "n".repeat(300) } },
  });
  expect(sent.status()).toBe(202);
  await page.goto("/alerts");
  await page.getByRole("link", { name: title }).click();
  await expect(page.getByRole("heading", { name: title })).toBeVisible();
  const alertUrl = new URL(page.url()).pathname;
  for (const url of ["/settings/webhooks", endpointUrl, `${endpointUrl}/settings`, `${endpointUrl}/test`, "/alerts", alertUrl, "/settings/api-keys", "/settings/team", "/settings/audit-log", "/notifications"]) {
    await page.goto(url);
    await expect(page.getByRole("main")).toBeVisible();
    expect(await sidewaysOverflow(page), url).toBe(0);
    // A table that scrolls inside its card must be reachable by keyboard too.
    expect(await seriousViolations(page), url).toEqual([]);
  }
  await context.close();
});

/** How far the page is wider than the window, in CSS pixels (a table scrolling inside its card does not count). */
const sidewaysOverflow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

/** Presses Tab until the focused element is the one named (at most 60 presses): keyboard only. */
async function tabTo(page: Page, name: string | RegExp) {
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => {
      const element = document.activeElement as HTMLElement | null;
      if (!element) return "";
      const labelled = element.getAttribute("aria-label") ?? (element.id ? document.querySelector(`label[for="${element.id}"]`)?.textContent : null);
      return (labelled ?? element.textContent ?? "").trim();
    });
    if (typeof name === "string" ? focused === name : name.test(focused)) return;
  }
  throw new Error(`could not reach ${name} with Tab`);
}

test("keyboard only: sign in, add an endpoint, reveal and copy the secret, send a test alert", async ({ browser }) => {
  // An account to sign in with, made the usual way in its own context.
  const account = newAccount("keys");
  const setup = await browser.newContext();
  await signUp(await setup.newPage(), account);
  await setup.close();

  const context = await browser.newContext({ permissions: ["clipboard-read", "clipboard-write"] });
  const page = await context.newPage();
  await page.goto("/signin");
  await tabTo(page, "Email");
  await page.keyboard.type(account.email);
  await tabTo(page, "Password");
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press("Enter");
  await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();

  await tabTo(page, "Webhooks");
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { name: "Webhooks", level: 1 })).toBeVisible();
  const url = `${receiver.url}/keyboard/${Date.now()}`;
  await tabTo(page, "Endpoint URL");
  await page.keyboard.type(url);
  await page.keyboard.press("Enter");
  await expect(page.getByRole("status").filter({ hasText: "Endpoint added and validated" })).toBeVisible();
  await tabTo(page, url);
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { name: "Webhook endpoint" })).toBeVisible();

  await tabTo(page, "Send test alert");
  await page.keyboard.press("Enter");
  await expect(page.getByRole("status").filter({ hasText: "Test alert delivered: answered 200." })).toBeVisible();

  // The endpoint's tabs come after its actions: its Settings tab, not the main bar's Settings.
  await tabTo(page, "Settings");
  await page.keyboard.press("Enter");
  await expect(page.getByRole("navigation", { name: "Endpoint" }).getByRole("link", { name: "Settings" })).toHaveAttribute("aria-current", "page");
  await tabTo(page, "Reveal");
  await page.keyboard.press("Enter");
  const secret = page.getByRole("textbox", { name: "Signing secret", exact: true });
  await expect(secret).toHaveValue(/^whsec_[A-Za-z0-9+/]{43}=$/);
  await tabTo(page, /^Copy signing secret/);
  await page.keyboard.press("Enter");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(await secret.inputValue());
  await context.close();
});

test("the inline confirm traps nothing and returns focus: Escape or Cancel goes back to the button that opened it", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signUp(page, newAccount("focus"));
  await addActiveEndpoint(page, `${receiver.url}/focus/${Date.now()}`);
  await page.getByRole("button", { name: "Delete" }).focus();
  await page.keyboard.press("Enter");
  await expect(page.getByRole("button", { name: "Delete endpoint" })).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(page.getByRole("button", { name: "Delete", exact: true })).toBeFocused();
  await page.keyboard.press("Enter");
  await page.keyboard.press("Tab");
  await expect(page.getByRole("button", { name: "Cancel" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.getByRole("button", { name: "Delete", exact: true })).toBeFocused();
  await context.close();
});

test("each form's main button looks like a button: the sign-in, sign-up and key forms' had lost their style to a layout class", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  // Tailwind's reset leaves an unstyled button transparent, like the text around it.
  const styled = async (name: string) => {
    const button = page.getByRole("button", { name, exact: true });
    await expect(button).toBeVisible();
    expect(await button.evaluate((element) => getComputedStyle(element).backgroundColor), name).not.toBe("rgba(0, 0, 0, 0)");
  };
  await page.goto("/signin");
  await styled("Sign in");
  await page.goto("/signup");
  await styled("Create account");
  await signUp(page, newAccount("buttons"));
  await page.goto("/settings/api-keys");
  await styled("Create key");
  await page.goto("/settings/webhooks");
  await styled("Add endpoint");
  await context.close();
});
