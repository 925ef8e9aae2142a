import { apiRoute, otherMethods } from "@/lib/api/route";
import { AppError } from "@/lib/errors";
import { exposition, SCRAPE_REFUSED, scrapeAllowed } from "@/lib/metrics/serve";

export const dynamic = "force-dynamic";

// GET /api/metrics — Prometheus metrics of this web process (docs/operating.md).
export const GET = apiRoute(async (request: Request) => {
  if (!scrapeAllowed(request.headers.get("authorization"))) {
    throw new AppError("unauthorized", SCRAPE_REFUSED);
  }
  const { contentType, body } = await exposition();
  return new Response(body, { headers: { "content-type": contentType, "cache-control": "no-store" } });
});

export const { POST, PUT, PATCH, DELETE, OPTIONS } = otherMethods("GET");
