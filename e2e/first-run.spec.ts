import { expect, test } from "@playwright/test";
import { newAccount } from "./helpers";

test("the first visit of a new install offers sign-up, and the first user owns a new team", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/signup$/);
  await expect(page.getByRole("heading", { name: "Create your mon1tor account" })).toBeVisible();
  const account = newAccount("first");
  await page.getByLabel("Your name").fill(account.name);
  await page.getByLabel("Email").fill(account.email);
  await page.getByLabel("Password").fill("short");
  await page.getByRole("button", { name: "Create account" }).click();
  // Each problem is told next to its field, and nothing is created.
  await expect(page.getByText("Use at least 10 characters.")).toBeVisible();
  await page.getByLabel("Password").fill(account.password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByText("Enter a team name.").first()).toBeVisible();
  await page.getByLabel("Team name").fill(account.team);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByText(`${account.email} · owner`)).toBeVisible();
  // "Open Settings and add your webhook": one click, and the form is there.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
  await expect(page).toHaveURL(/\/settings\/webhooks$/);
  await expect(page.getByRole("heading", { name: "Webhooks", level: 1 })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" })).toHaveAttribute("aria-current", "page");
  await expect(page.getByLabel("Endpoint URL")).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "Webhooks" })).toHaveAttribute("aria-current", "page");
  await page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "Team" }).click();
  await expect(page).toHaveURL(/\/settings\/team$/);
  await expect(page.getByRole("heading", { name: account.team })).toBeVisible();
  await expect(page.getByRole("row", { name: new RegExp(account.email) })).toContainText("owner");
  // The old address of the team's page still arrives.
  await page.goto("/team");
  await expect(page).toHaveURL(/\/settings\/team$/);
});
