// The web server's part of a graceful stop. Next's own SIGTERM handler closes the listening
// socket and waits for every connection to end, but a client on HTTP keep-alive (a load
// balancer, an alert source sending a stream) keeps its connection busy, so the wait ran until
// the process was killed. From SIGTERM on, every response says `Connection: close` and idle
// connections are closed: each client finishes the request it has in flight, then moves on.
// Whatever is still open GRACE_MS after the signal is closed outright, so the stop is bounded
// (in the chaos soak, a few hundred connections under a retry storm never turned idle).
import diagnostics from "node:diagnostics_channel";
import type http from "node:http";

export const GRACE_MS = 10_000;

type RequestStart = { response: http.ServerResponse; server: http.Server };

export function closeConnectionsOnShutdown() {
  const servers = new Set<http.Server>();
  let stopping = false;
  diagnostics.subscribe("http.server.request.start", (message) => {
    const { response, server } = message as RequestStart;
    servers.add(server);
    if (stopping) response.setHeader("connection", "close");
  });
  process.once("SIGTERM", () => {
    stopping = true;
    const closeIdle = () => servers.forEach((server) => server.closeIdleConnections());
    closeIdle();
    // Connections that were busy at the signal turn idle one by one.
    setInterval(closeIdle, 100).unref();
    setTimeout(() => {
      console.error(`[mon1tor] still serving ${GRACE_MS / 1000} s after SIGTERM: closing the connections left`);
      servers.forEach((server) => server.closeAllConnections());
    }, GRACE_MS).unref();
  });
}
