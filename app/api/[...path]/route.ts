// Any /api path no route handles: a JSON 404 an API client can read, not the HTML page.
import { errorResponse } from "@/lib/api/route";
import { AppError } from "@/lib/errors";

export const dynamic = "force-dynamic";

function notFound(request: Request) {
  const { pathname } = new URL(request.url);
  return errorResponse(new AppError("not_found", `No API route at ${request.method} ${pathname}. The API is described at /api/v1/openapi.json.`));
}

export { notFound as DELETE, notFound as GET, notFound as HEAD, notFound as OPTIONS, notFound as PATCH, notFound as POST, notFound as PUT };
