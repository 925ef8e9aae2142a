import crypto from "node:crypto";
import { expect, type Browser, type Page } from "@playwright/test";
import pg from "pg";
import { TEMPLATE_DATABASE } from "../scripts/lib/test-environment";

export const PASSWORD = "a-long-enough-password";

export const uniqueEmail = (who = "user") => `${who}-${crypto.randomBytes(4).toString("hex")}@example.test`;

export type Account = { name: string; email: string; password: string; team: string };

export function newAccount(who = "owner"): Account {
  const id = crypto.randomBytes(3).toString("hex");
  return { name: `${who} ${id}`, email: uniqueEmail(who), password: PASSWORD, team: `Team ${id}` };
}

export async function signUp(page: Page, account: Account, { invite = false } = {}) {
  if (!invite) await page.goto("/signup");
  await page.getByLabel("Your name").fill(account.name);
  await page.getByLabel("Email").fill(account.email);
  await page.getByLabel("Password").fill(account.password);
  if (!invite) await page.getByLabel("Team name").fill(account.team);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
}

export async function signIn(page: Page, email: string, password = PASSWORD) {
  await page.goto("/signin");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** A fresh owner with their own team, signed in on a new page. */
export async function ownerPage(browser: Browser, who = "owner") {
  const context = await browser.newContext();
  const page = await context.newPage();
  const account = newAccount(who);
  await signUp(page, account);
  return { page, account, context };
}

/** The owner creates an invite link with `role`; returns the link. */
export async function createInviteLink(page: Page, role: string) {
  await page.goto("/settings/team");
  await page.getByLabel("Role", { exact: true }).selectOption(role);
  await page.getByRole("button", { name: "Create invite link" }).click();
  const link = page.getByLabel("Invite link (single use, expires in 7 days)");
  await expect(link).toHaveValue(/\/invite\//);
  return link.inputValue();
}

/** A second person joins the owner's team through an invite, in their own browser context. */
export async function joinWithInvite(browser: Browser, link: string, who: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const account = newAccount(who);
  await page.goto(link);
  await signUp(page, account, { invite: true });
  return { page, account, context };
}

/** Adds an endpoint through the form and waits until it is validated and active. */
export async function addActiveEndpoint(page: Page, url: string) {
  await page.goto("/settings/webhooks");
  await page.getByLabel("Endpoint URL").fill(url);
  await page.getByRole("button", { name: "Add endpoint" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Endpoint added and validated" })).toBeVisible();
  await page.getByRole("link", { name: url }).click();
  await expect(page.getByRole("heading", { name: "Webhook endpoint" })).toBeVisible();
}

/** Creates an API key in the UI and returns it; `permissions` as the form's boxes are labelled (default: sending alerts only). */
export async function createApiKey(page: Page, name = "E2E key", permissions: string[] = ["Send alerts"]) {
  await page.goto("/settings/api-keys");
  await page.getByLabel("Key name").fill(name);
  for (const box of ["Send alerts", "Manage endpoints (mon1tor listen)"]) await page.getByLabel(box).setChecked(permissions.includes(box));
  await page.getByRole("button", { name: "Create key" }).click();
  const field = page.getByLabel("New API key (shown once: copy it now)");
  await expect(field).toHaveValue(/^mk_/);
  return field.inputValue();
}

/** On an endpoint's page: opens one of its tabs (Overview, Deliveries, Settings, Test & debug). */
export async function openEndpointTab(page: Page, tab: "Overview" | "Deliveries" | "Settings" | "Test & debug") {
  await page.getByRole("navigation", { name: "Endpoint" }).getByRole("link", { name: tab, exact: true }).click();
  await expect(page.getByRole("navigation", { name: "Endpoint" }).getByRole("link", { name: tab, exact: true })).toHaveAttribute("aria-current", "page");
}

/** On an endpoint's page: reveals its signing secret (on the Settings tab, where this leaves the page). */
export async function revealSecret(page: Page) {
  await openEndpointTab(page, "Settings");
  await page.getByRole("button", { name: "Reveal" }).click();
  const box = page.getByRole("textbox", { name: "Signing secret" });
  // The masked placeholder also starts with whsec_: wait for the real thing.
  await expect(box).toHaveValue(/^whsec_[A-Za-z0-9+/]{43}=$/);
  return box.inputValue();
}

/** A database of its own, from the migrated template, for a spec that runs its own `npm start`. */
export async function freshDatabase(prefix: string) {
  const admin = new URL(process.env.TEST_PG_ADMIN_URL!);
  const name = `e2e_${prefix}_${crypto.randomBytes(4).toString("hex")}`;
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  await client.query(`CREATE DATABASE "${name}" TEMPLATE "${TEMPLATE_DATABASE}"`);
  await client.end();
  admin.pathname = `/${name}`;
  return admin.toString();
}
