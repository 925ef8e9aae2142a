import { expect, test } from "@playwright/test";
import { createInviteLink, joinWithInvite, newAccount, ownerPage, signIn, signUp } from "./helpers";

test("sign out, then sign in again; wrong credentials get one message that reveals nothing", async ({ page }) => {
  const account = newAccount();
  await signUp(page, account);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin/);

  // Protected pages send signed-out visitors to sign-in.
  await page.goto("/settings/team");
  await expect(page).toHaveURL(/\/signin/);

  await signIn(page, account.email, "not-the-password");
  await expect(page.getByRole("main").getByRole("alert")).toHaveText("Wrong email or password.");
  await signIn(page, "nobody-at-all@example.test", "whatever-password");
  await expect(page.getByRole("main").getByRole("alert")).toHaveText("Wrong email or password.");

  await signIn(page, account.email);
  await expect(page.getByText(`${account.email} · owner`)).toBeVisible();
});

test("a duplicate email is refused next to the field", async ({ page, browser }) => {
  const { account } = await ownerPage(browser);
  await page.goto("/signup");
  await page.getByLabel("Your name").fill("Someone");
  await page.getByLabel("Email").fill(account.email);
  await page.getByLabel("Password").fill("another-long-password");
  await page.getByLabel("Team name").fill("Other team");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByText("An account with this email already exists. Sign in instead.").first()).toBeVisible();
});

test("invite → join as viewer in a second browser; the invite link is single-use", async ({ browser }) => {
  const owner = await ownerPage(browser);
  const link = await createInviteLink(owner.page, "viewer");
  const viewer = await joinWithInvite(browser, link, "viewer");
  await expect(viewer.page.getByText(`${viewer.account.email} · viewer`)).toBeVisible();

  await owner.page.reload();
  await expect(owner.page.getByRole("row", { name: new RegExp(viewer.account.email) })).toContainText("viewer");

  // Used once: a third person gets a clear message.
  const third = await browser.newPage();
  await third.goto(link);
  await expect(third.getByRole("main").getByRole("alert")).toHaveText("This invite has already been used. Ask for a new one.");
  // A viewer sees the team but no member controls.
  await viewer.page.goto("/settings/team");
  await expect(viewer.page.getByRole("button", { name: "Create invite link" })).toHaveCount(0);
  await expect(viewer.page.getByRole("combobox", { name: /Role for/ })).toHaveCount(0);
});

test("an existing user signs in through an invite and switches between teams", async ({ browser }) => {
  const owner = await ownerPage(browser, "alpha");
  const other = await ownerPage(browser, "beta");
  const link = await createInviteLink(owner.page, "member");
  await other.page.goto(link);
  await other.page.getByRole("button", { name: "Join team" }).click();
  await expect(other.page.getByText(`${other.account.email} · member`)).toBeVisible();
  const switcher = other.page.getByLabel("Team", { exact: true });
  await expect(switcher.locator("option")).toHaveCount(2);
  await switcher.selectOption({ label: other.account.team });
  await expect(other.page.getByText(`${other.account.email} · owner`)).toBeVisible();
});

test("the owner changes a role; the last owner can be neither demoted nor removed", async ({ browser }) => {
  const owner = await ownerPage(browser);
  const member = await joinWithInvite(browser, await createInviteLink(owner.page, "member"), "member");
  await owner.page.reload();
  await owner.page.getByLabel(`Role for ${member.account.email}`).selectOption("admin");
  await expect(owner.page.getByRole("row", { name: new RegExp(member.account.email) }).getByRole("cell").nth(2)).toHaveText("admin");
  await member.page.reload();
  await expect(member.page.getByText(`${member.account.email} · admin`)).toBeVisible();

  await owner.page.getByLabel(`Role for ${owner.account.email}`).selectOption("member");
  await expect(owner.page.getByRole("main").getByRole("alert")).toHaveText(
    "The team's last owner cannot be demoted. Make someone else an owner first.",
  );
  const ownerRow = owner.page.getByRole("row", { name: new RegExp(owner.account.email) });
  await ownerRow.getByRole("button", { name: "Leave team" }).click();
  await ownerRow.getByRole("button", { name: "Leave", exact: true }).click();
  await expect(owner.page.getByRole("main").getByRole("alert")).toHaveText(
    "The team's last owner cannot be removed. Make someone else an owner first.",
  );
  await owner.page.reload();
  await expect(ownerRow.getByRole("cell").nth(2)).toHaveText("owner");
});

test("repeated failed sign-ins are limited with a clear message", async ({ page }) => {
  const account = newAccount();
  await signUp(page, account);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin/);
  for (let attempt = 0; attempt < 5; attempt++) {
    await signIn(page, account.email, `wrong-password-${attempt}`);
    await expect(page.getByRole("main").getByRole("alert")).toHaveText("Wrong email or password.");
  }
  await signIn(page, account.email);
  await expect(page.getByRole("main").getByRole("alert")).toHaveText(/^Too many failed sign-in attempts\. Try again in \d+ minutes?\.$/);
});
