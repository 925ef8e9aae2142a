import { NextResponse } from "next/server";
import { cronRoute } from "@/lib/api/route";
import { webDispatcher } from "@/lib/webhooks/web-dispatcher";

export const dynamic = "force-dynamic";
export const maxDuration = 60;

// GET /api/cron/dispatch — the scheduler's entry point: sends due deliveries for up to 45 s.
export const GET = cronRoute(async () => {
  const stats = await webDispatcher().drain({ budgetMs: 45_000 });
  return NextResponse.json(stats);
});
