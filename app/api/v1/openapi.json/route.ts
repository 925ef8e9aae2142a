import { NextResponse } from "next/server";
import { apiRoute } from "@/lib/api/route";
import { openApiDocument } from "@/lib/api/openapi";

export const dynamic = "force-dynamic";

// GET /api/v1/openapi.json — the API and webhook contract, generated from the code's own zod schemas.
export const GET = apiRoute(async () => NextResponse.json(openApiDocument((process.env.NEXTAUTH_URL ?? "http://localhost:3000").replace(/\/+$/, ""))));
