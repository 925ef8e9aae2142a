import "server-only";
// The relay streams one web process holds. Requests for a relay are announced on RELAY_CHANNEL
// by whichever process dispatches them (lib/relay/transport.ts); the process holding that
// relay's stream takes them from RelayRequest and writes them to its CLI. With several web
// processes, each hears every announcement and only the holder acts. While it holds any stream
// the process listens, renews its streams every 2 s (lib/relay/relays.ts), takes up any
// announcement it missed, and pings each CLI every 15 s.
import type pg from "pg";
import { decrypt } from "@/lib/crypto/encryption";
import { pool, DB_NOW } from "@/lib/db";
import { RELAY_PING_MS, type StreamMessage } from "@/lib/relay/protocol";
import { disconnectRelay, disconnectStaleRelays, renewStreams, type ConnectedRelay } from "@/lib/relay/relays";
import { RELAY_CHANNEL } from "@/lib/relay/transport";

const TICK_MS = 2_000;
const SWEEP_MS = 10_000;

type Stream = { streamId: string; send(message: StreamMessage): boolean; end(message?: StreamMessage): void };

const encoder = new TextEncoder();
const line = (message: StreamMessage) => encoder.encode(`${JSON.stringify(message)}\n`);

const report = (what: string, error: unknown) => console.error(`[mon1tor] relay: ${what} failed: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);

class RelayHub {
  /** By relay (endpoint) id. */
  private readonly streams = new Map<string, Stream>();
  private listener: pg.PoolClient | null = null;
  private connecting: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastPing = Date.now();
  private lastSweep = 0;
  private stopping = false;

  constructor(private readonly pool: pg.Pool) {
    // A stopping server says so, and the CLI reconnects to the next one at once, instead of the
    // stream holding the stop until its grace runs out (lib/web-shutdown.ts).
    process.once("SIGTERM", () => {
      this.stopping = true;
      for (const stream of [...this.streams.values()]) stream.end({ type: "closed", reason: "the server is stopping" });
    });
  }

  /** The response that carries `relay`'s stream until the CLI goes (`signal`) or the server ends it. */
  open(relay: ConnectedRelay, signal: AbortSignal): Response {
    const { id, streamId } = relay;
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let ended = false;
    const finish = () => {
      if (ended) return;
      ended = true;
      signal.removeEventListener("abort", finish);
      if (this.streams.get(id)?.streamId === streamId) this.streams.delete(id);
      void disconnectRelay(this.pool, id, streamId).catch((error) => report("disconnecting a relay", error));
      if (this.streams.size === 0) this.idle();
    };
    const stream: Stream = {
      streamId,
      send: (message) => {
        if (ended) return false;
        try {
          controller.enqueue(line(message));
          return true;
        } catch {
          finish();
          return false;
        }
      },
      end: (message) => {
        if (message) stream.send(message);
        finish();
        try {
          controller.close();
        } catch {
          // Already closed by the client.
        }
      },
    };
    const body = new ReadableStream<Uint8Array>({
      start: (c) => {
        controller = c;
        c.enqueue(line({ type: "ready", relay: { id, name: relay.name, filter: relay.filter }, secret: relay.secret }));
      },
      cancel: finish,
    });
    signal.addEventListener("abort", finish, { once: true });
    this.streams.get(id)?.end({ type: "closed", reason: "another mon1tor listen took over this relay" });
    this.streams.set(id, stream);
    if (this.stopping) stream.end({ type: "closed", reason: "the server is stopping" });
    this.timer ??= setInterval(() => void this.tick(), TICK_MS);
    void this.listen().then(() => this.push([id]));
    return new Response(body, {
      headers: { "content-type": "application/x-ndjson; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" },
    });
  }

  private idle() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.listener?.release();
    this.listener = null;
  }

  private listen(): Promise<void> {
    if (this.listener || this.streams.size === 0) return Promise.resolve();
    this.connecting ??= (async () => {
      const client = await this.pool.connect();
      client.on("notification", (message) => {
        const endpointId = message.payload?.split(" ")[0];
        if (endpointId && this.streams.has(endpointId)) void this.push([endpointId]);
      });
      // Dropped (a database restart): the next tick listens again and takes up what it missed.
      client.on("error", () => {
        if (this.listener === client) this.listener = null;
        client.release(true);
      });
      await client.query(`LISTEN ${RELAY_CHANNEL}`);
      this.listener = client;
    })()
      .catch((error) => report("listening for relay requests", error))
      .finally(() => {
        this.connecting = null;
      });
    return this.connecting;
  }

  /** Hands the relays' waiting requests to their streams, each once. */
  private async push(endpointIds: string[]) {
    if (endpointIds.length === 0) return;
    try {
      const { rows } = await this.pool.query<{ id: string; endpointId: string; deliveryId: string; headersCiphertext: string; body: string }>(
        `UPDATE "RelayRequest" SET "pushedAt" = ${DB_NOW}
         WHERE "endpointId" = ANY($1::text[]) AND "pushedAt" IS NULL AND "answeredAt" IS NULL
         RETURNING id, "endpointId", "deliveryId", "headersCiphertext", body`,
        [endpointIds],
      );
      const unsent: string[] = [];
      for (const row of rows) {
        const headers = JSON.parse(decrypt(row.headersCiphertext)) as Record<string, string>;
        const sent = this.streams.get(row.endpointId)?.send({ type: "request", id: row.id, deliveryId: row.deliveryId, headers, body: row.body });
        if (!sent) unsent.push(row.id);
      }
      // The stream ended meanwhile: the next one to connect gets them.
      if (unsent.length > 0) await this.pool.query(`UPDATE "RelayRequest" SET "pushedAt" = NULL WHERE id = ANY($1::text[])`, [unsent]);
    } catch (error) {
      report("handing requests to mon1tor listen", error);
    }
  }

  private ticking = false;
  private async tick() {
    if (this.ticking) return;
    this.ticking = true;
    try {
      await this.listen();
      const held = new Map([...this.streams].map(([id, stream]) => [id, stream.streamId]));
      for (const id of await renewStreams(this.pool, held)) {
        this.streams.get(id)?.end({ type: "closed", reason: "this relay was deleted, or another mon1tor listen took it over" });
      }
      await this.push([...this.streams.keys()]);
      if (Date.now() - this.lastPing >= RELAY_PING_MS) {
        this.lastPing = Date.now();
        for (const stream of this.streams.values()) stream.send({ type: "ping" });
      }
      // Relays whose holder died (another web process) are found by whoever holds streams, and by housekeeping.
      if (Date.now() - this.lastSweep >= SWEEP_MS) {
        this.lastSweep = Date.now();
        await disconnectStaleRelays(this.pool);
      }
    } catch (error) {
      report("renewing relay streams", error);
    } finally {
      this.ticking = false;
    }
  }
}

const globalForHub = globalThis as unknown as { mon1torRelayHub?: RelayHub };
export const relayHub = () => (globalForHub.mon1torRelayHub ??= new RelayHub(pool));
