// Signed-out visitors of the dashboard go to sign-in. Pages and actions check the
// session themselves as well; this is the first gate, not the only one.
import { withAuth } from "next-auth/middleware";

export default withAuth({ pages: { signIn: "/signin" } });

export const config = { matcher: ["/team/:path*", "/teams/:path*", "/settings/:path*", "/alerts/:path*"] };
