// GET/POST /api/auth/* — next-auth's sign-in, sign-out and session endpoints.
import NextAuth from "next-auth";
import { otherMethods } from "@/lib/api/route";
import { authOptions } from "@/lib/auth/options";

const handler = NextAuth(authOptions);
// The credentials callback is a form POST. next-auth answers a GET of it with a 500 ("Callback
// for provider type credentials not supported"), found by e2e/fuzz.spec.ts: it gets a 405 instead.
const { GET: refuseGet } = otherMethods("POST");

type Context = { params: Promise<{ nextauth: string[] }> };
async function GET(request: Request, context: Context) {
  const { nextauth } = await context.params;
  if (nextauth[0] === "callback" && nextauth[1] === "credentials") return refuseGet(request);
  return handler(request, context);
}

export { GET, handler as POST };
