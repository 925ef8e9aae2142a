// How every production web server is started (`npm start`, the E2E suite, the bench and the soak).
//
// Idle keep-alive connections are kept for 65 s, not Node's 5 s. A client that keeps its
// connections longer than the server (a load balancer, whose idle timeout is commonly 60 s, or
// Playwright's request context) reuses one just as the server closes it and gets ECONNRESET for a
// request the server never saw: a POST /api/v1/alerts in the E2E suite did, after 5 s of page
// navigation between two calls. The server should be the side that closes last.
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** `next start`'s arguments for a port. */
export const nextStartArgs = (port: number | string) => ["start", "--port", String(port), "--keepAliveTimeout", String(KEEP_ALIVE_TIMEOUT_MS)];
