import { NextResponse } from "next/server";
import { withCron } from "@/lib/cron/with-cron";
import { otherMethods } from "@/lib/api/route";
import { pool } from "@/lib/db";
import { env } from "@/lib/env";
import { runHousekeeping } from "@/lib/housekeeping";
import { webDispatcher } from "@/lib/webhooks/delivery/immediate-dispatch";

export const dynamic = "force-dynamic";
export const maxDuration = 60;
/** Time kept for the last attempts' recording and housekeeping after the drain stops claiming. */
const MARGIN_MS = 10_000;

// GET /api/cron/dispatch — the scheduler's entry point: everything the worker does. Sends due
// deliveries until the budget is spent (it stops claiming then; attempts in flight end within
// their timeout), then runs housekeeping, all inside maxDuration.
export const GET = withCron(async () => {
  const budgetMs = maxDuration * 1000 - env().MON1TOR_DELIVERY_TIMEOUT_MS - MARGIN_MS;
  const stats = await webDispatcher().drain({ budgetMs: Math.max(1_000, budgetMs) });
  const housekeeping = await runHousekeeping(pool, env().MON1TOR_RETENTION_DAYS);
  return NextResponse.json({ ...stats, housekeeping });
});

export const { POST, PUT, PATCH, DELETE, OPTIONS } = otherMethods("GET");
