import { expect, test } from "@playwright/test";
import { createInviteLink, joinWithInvite, ownerPage } from "./helpers";

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
  await owner.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit log" }).click();
  const table = owner.page.getByRole("table", { name: "Audit log" });
  await expect(table).toContainText("team.create");
  await expect(table).toContainText("member.invite");
  await owner.page.getByLabel("Action").selectOption("member.invite");
  await owner.page.getByRole("button", { name: "Filter" }).click();
  await expect(owner.page).toHaveURL(/action=member\.invite/);
  await expect(table.getByRole("row")).toHaveCount(2);

  const viewer = await joinWithInvite(browser, link, "viewer");
  await expect(viewer.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit log" })).toHaveCount(0);
  await viewer.page.goto("/settings/audit-log");
  await expect(viewer.page.getByRole("main").getByRole("alert")).toHaveText("Only owners and admins can see the audit log.");
  await expect(viewer.page.getByRole("table", { name: "Audit log" })).toHaveCount(0);
});
