// A receiver that misbehaves on purpose, speaking raw HTTP over TCP on 127.0.0.1 so it can
// send what no well-behaved server library would: NUL and invalid UTF-8 in bodies,
// compressed bodies, hundreds of headers, odd status lines, resets mid-response and
// bodies that trickle in a byte at a time.
import net from "node:net";
import zlib from "node:zlib";

export const hostileBehaviours = [
  "nul-body",
  "invalid-utf8",
  "binary",
  "gzip",
  "many-headers",
  "huge-headers",
  "odd-status",
  "status-999",
  "reset-mid-body",
  "reset-before-status",
  "trickle",
  "huge-body",
  "early-hints",
] as const;
export type HostileBehaviour = (typeof hostileBehaviours)[number];

export type HostileReceiver = { url: string; hits: Map<string, number>; close(): Promise<void> };

const head = (status: string, headers: string[], length: number | null) =>
  `HTTP/1.1 ${status}\r\n${headers.map((h) => `${h}\r\n`).join("")}${length === null ? "" : `Content-Length: ${length}\r\n`}Connection: close\r\n\r\n`;

function reply(socket: net.Socket, behaviour: HostileBehaviour) {
  const send = (status: string, body: Buffer, headers: string[] = []) => {
    socket.write(head(status, headers, body.length));
    socket.end(body);
  };
  switch (behaviour) {
    case "nul-body":
      return send("200 OK", Buffer.from("ok\u0000\u0000 thanks\u0000", "utf8"));
    case "invalid-utf8":
      return send("200 OK", Buffer.from([0x6f, 0x6b, 0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xf0, 0x28, 0x8c, 0x28]));
    case "binary":
      return send("200 OK", Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 37) % 256)), ["Content-Type: application/octet-stream"]);
    case "gzip":
      return send("200 OK", zlib.gzipSync(Buffer.from("compressed thanks ".repeat(100))), ["Content-Encoding: gzip"]);
    case "many-headers":
      return send("200 OK", Buffer.from("ok"), Array.from({ length: 300 }, (_, i) => `X-Noise-${i}: ${i}`));
    case "huge-headers":
      return send("200 OK", Buffer.from("ok"), Array.from({ length: 400 }, (_, i) => `X-Big-${i}: ${"v".repeat(60)}`));
    case "odd-status":
      return send("599 Totally \u00ff Weird", Buffer.from("nope"));
    case "status-999":
      return send("999 Whatever", Buffer.from("nope"));
    case "reset-mid-body":
      socket.write(head("200 OK", [], 1000));
      socket.write("partial");
      return setTimeout(() => socket.resetAndDestroy(), 20);
    case "reset-before-status":
      return socket.resetAndDestroy();
    case "trickle": {
      socket.write(head("200 OK", [], 100_000));
      const timer = setInterval(() => (socket.destroyed ? clearInterval(timer) : socket.write("x")), 200);
      socket.on("close", () => clearInterval(timer));
      return;
    }
    case "huge-body": {
      // Says 50 MB and keeps sending: only the first 64 KB are read, then the connection is dropped.
      socket.write(head("200 OK", [], 50 * 1024 * 1024));
      const chunk = Buffer.alloc(16 * 1024, "a");
      const pump = () => {
        while (!socket.destroyed && socket.write(chunk));
      };
      socket.on("drain", pump);
      return pump();
    }
    case "early-hints":
      socket.write("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n");
      return send("200 OK", Buffer.from("ok after the hints"));
  }
}

/** Serves `/<behaviour>/…`: each path answers as its behaviour says. */
export async function startHostileReceiver(): Promise<HostileReceiver> {
  const hits = new Map<string, number>();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buffered = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf("\r\n\r\n");
      if (end < 0) return;
      const headerText = buffered.subarray(0, end).toString("latin1");
      const length = Number(/content-length:\s*(\d+)/i.exec(headerText)?.[1] ?? 0);
      if (buffered.length < end + 4 + length) return;
      socket.removeAllListeners("data");
      const path = headerText.split(" ")[1] ?? "/";
      const behaviour = path.split("/")[1] as HostileBehaviour;
      hits.set(behaviour, (hits.get(behaviour) ?? 0) + 1);
      if (!hostileBehaviours.includes(behaviour)) return send404(socket);
      reply(socket, behaviour);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function send404(socket: net.Socket) {
  socket.end(head("404 Not Found", [], 0));
}
