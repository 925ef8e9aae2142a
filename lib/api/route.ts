import "server-only";
import { NextResponse } from "next/server";
import { AppError, databaseUnavailable, httpStatus, isDatabaseUnavailable } from "@/lib/errors";

export function errorResponse(error: AppError) {
  const response = NextResponse.json(
    { error: { code: error.code, message: error.message, ...(error.fields ? { fields: error.fields } : {}) } },
    { status: httpStatus[error.code] },
  );
  if (error.retryAfterSeconds) response.headers.set("retry-after", String(error.retryAfterSeconds));
  return response;
}

/** Every route handler's outer layer: AppErrors become their JSON status, a database outage 503, anything else a bare 500. */
export function apiRoute<Args extends unknown[]>(handler: (request: Request, ...args: Args) => Promise<Response>) {
  return async (request: Request, ...args: Args): Promise<Response> => {
    try {
      return await handler(request, ...args);
    } catch (error) {
      if (error instanceof AppError) return errorResponse(error);
      // A monitor that gets 503 with Retry-After retries; a 500 tells it we are broken.
      if (isDatabaseUnavailable(error)) return errorResponse(databaseUnavailable());
      console.error("[mon1tor] route failed:", error instanceof Error ? error.stack : error);
      return errorResponse(new AppError("internal", "Something went wrong on our side. Please retry."));
    }
  };
}
