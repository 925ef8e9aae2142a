import { NextResponse } from "next/server";
import { otherMethods } from "@/lib/api/route";
import { healthAnswer } from "@/lib/health";

export const dynamic = "force-dynamic";

// GET /api/health/live — for load balancers and orchestrators (lib/health.ts).
export async function GET() {
  const { status, body } = await healthAnswer("live");
  return NextResponse.json(body, { status, headers: { "cache-control": "no-store" } });
}

export const { POST, PUT, PATCH, DELETE, OPTIONS } = otherMethods("GET");
