import "server-only";
import { jsonAnswer } from "@/lib/api/front";
import type { z } from "zod";
import { fieldErrorsOf } from "@/lib/actions/define-action";
import { AppError, databaseUnavailable, httpStatus, isDatabaseUnavailable } from "@/lib/errors";

export function errorResponse(error: AppError) {
  const response = jsonAnswer(
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

/**
 * The handlers for every method a route does not serve, and its OPTIONS: a JSON 405 naming the
 * ones it does in an Allow header, as HTTP requires (Next alone answers an empty 405 without
 * one, and its OPTIONS would list these handlers too). HEAD is served wherever GET is.
 */
export function otherMethods(...served: ("GET" | "POST")[]) {
  const allow = [...served, ...(served.includes("GET") ? ["HEAD"] : []), "OPTIONS"].join(", ");
  const refuse = (request: Request) => {
    const response = errorResponse(new AppError("method_not_allowed", `${request.method} is not supported here: use ${served.join(" or ")}.`));
    response.headers.set("allow", allow);
    return response;
  };
  const OPTIONS = () => new Response(null, { status: 204, headers: { allow } });
  return { GET: refuse, HEAD: refuse, POST: refuse, PUT: refuse, PATCH: refuse, DELETE: refuse, OPTIONS };
}

/** A 422 naming the first field a schema refused (`Invalid field 'x': …`), with every field in `fields`; `hint` follows the first message. */
export function invalidInput(error: z.ZodError, hint = "") {
  const fields = fieldErrorsOf(error, "body");
  const [field, messages] = Object.entries(fields)[0]!;
  return new AppError("validation", `Invalid field '${field}': ${messages[0]}${hint}`, fields);
}
