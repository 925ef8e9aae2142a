import { NextResponse } from "next/server";
import { apiRoute, otherMethods } from "@/lib/api/route";
import { openApiDocument } from "@/lib/api/openapi";
import { publicUrl } from "@/lib/env";

export const dynamic = "force-dynamic";

// GET /api/v1/openapi.json — the API and webhook contract, generated from the code's own zod schemas.
export const GET = apiRoute(async () => NextResponse.json(openApiDocument(publicUrl())));
export const { POST, PUT, PATCH, DELETE, OPTIONS } = otherMethods("GET");
