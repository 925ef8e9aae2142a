import "server-only";
import { apiRoute } from "@/lib/api/route";
import { safeEqual } from "@/lib/crypto/tokens";
import { env } from "@/lib/env";
import { AppError } from "@/lib/errors";

/** Cron callers prove themselves with `Authorization: Bearer $CRON_SECRET`, compared in constant time. */
export function withCron(handler: (request: Request) => Promise<Response>) {
  return apiRoute(async (request: Request) => {
    const given = request.headers.get("authorization") ?? "";
    if (!safeEqual(given, `Bearer ${env().CRON_SECRET}`)) {
      throw new AppError("unauthorized", "This endpoint is for the scheduler: send Authorization: Bearer $CRON_SECRET.");
    }
    return handler(request);
  });
}
