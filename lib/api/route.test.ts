import { describe, expect, it, vi } from "vitest";
import { apiRoute } from "@/lib/api/route";
import { AppError } from "@/lib/errors";

describe("apiRoute", () => {
  it("answers an AppError made by another copy of lib/errors (another route's chunk) with its own status, not 500", async () => {
    vi.resetModules();
    const other = await import("@/lib/errors");
    expect(other.AppError).not.toBe(AppError);
    const refusal = new other.AppError("unavailable", "Busy; retry after the delay in Retry-After.", undefined, 1);
    expect(refusal instanceof AppError).toBe(true);
    const response = await apiRoute(async () => {
      throw refusal;
    })(new Request("http://localhost/api/v1/alerts", { method: "POST" }));
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("1");
    expect(await response.json()).toMatchObject({ error: { code: "unavailable" } });
  });

  it("still answers 500, with nothing of the error, for what is not an AppError", async () => {
    const spy = vi.spyOn(console, "error").mockImplementation(() => {});
    const response = await apiRoute(async () => {
      throw Object.assign(new Error("secret detail"), { code: "unavailable" });
    })(new Request("http://localhost/x"));
    spy.mockRestore();
    expect(response.status).toBe(500);
    expect(await response.text()).not.toContain("secret detail");
  });
});
