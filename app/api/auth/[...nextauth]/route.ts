// GET/POST /api/auth/* — next-auth's sign-in, sign-out and session endpoints.
import NextAuth from "next-auth";
import type { NextRequest } from "next/server";
import { errorResponse, otherMethods } from "@/lib/api/route";
import { AppError } from "@/lib/errors";
import { authOptions } from "@/lib/auth/options";

const handler = NextAuth(authOptions);
// Two inputs next-auth answers with a 500, found by e2e/fuzz.spec.ts: a GET of the credentials
// callback, which is a form POST ("Callback for provider type credentials not supported"): a 405;
// and a POST declared as JSON that is not JSON (its req.json() throws): a 400.
const { GET: refuseGet } = otherMethods("POST");

type Context = { params: Promise<{ nextauth: string[] }> };
async function GET(request: NextRequest, context: Context) {
  const { nextauth } = await context.params;
  if (nextauth[0] === "callback" && nextauth[1] === "credentials") return refuseGet(request);
  return handler(request, context);
}

async function POST(request: NextRequest, context: Context) {
  if ((request.headers.get("content-type") ?? "").includes("application/json")) {
    try {
      JSON.parse(await request.clone().text());
    } catch {
      return errorResponse(new AppError("bad_request", "The request body is not valid JSON."));
    }
  }
  return handler(request, context);
}

export { GET, POST };
