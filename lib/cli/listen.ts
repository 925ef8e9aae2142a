// `mon1tor listen`: relays a team's signed deliveries to a URL on this machine. It holds a
// stream open to the server (lib/relay/protocol.ts), POSTs each request it carries to
// --forward-to with the same bytes and headers an HTTP endpoint gets, and reports the local
// answer back, so the attempt is recorded like any other. Imports stay relative: the CLI runs
// from any directory, without the app's path aliases.
import os from "node:os";
import { RELAY_EXCERPT_CHARS, streamMessageSchema, type RelayAnswer, type RelayHello, type StreamMessage } from "../relay/protocol";
import { truncate } from "../text";

export type ListenOptions = {
  forwardTo: URL;
  url: URL;
  apiKey: string;
  name: string;
  secret?: string;
  eventTypes?: string[];
  severities?: string[];
  monitorIds?: string[];
  printJson: boolean;
};

/** How long the local receiver may take: under the server's delivery timeout (15 s by default). */
const LOCAL_TIMEOUT_MS = 10_000;
/** The stream carries a ping every 15 s: silence for longer than this means it is dead. */
const STREAM_SILENCE_MS = 40_000;
/** While the name is held by a connection the server has not seen end yet (a restart). */
const NAME_HELD_PATIENCE_MS = 40_000;

/** Headers the local request gets from the relayed one: all but those that describe the hop. */
const HOP_HEADERS = new Set(["host", "content-length", "connection", "transfer-encoding", "keep-alive"]);

export class FatalError extends Error {}

export const defaultRelayName = (forwardTo: URL) =>
  `${os.hostname().replace(/[^A-Za-z0-9._-]/g, "-").replace(/^[^A-Za-z0-9]+/, "") || "laptop"}-${forwardTo.port || (forwardTo.protocol === "https:" ? "443" : "80")}`.slice(0, 64);

/** Waits `ms`, or until `signal` aborts; the abort listener goes with the wait (a reconnect loop waits many times). */
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });

const time = () => {
  const now = new Date();
  return `${now.toLocaleDateString("sv-SE")} ${now.toLocaleTimeString("sv-SE")}`;
};

/** The server's error message, from its JSON error body when it sent one. */
async function serverMessage(response: Response): Promise<string> {
  const text = await response.text().catch(() => "");
  try {
    const parsed = JSON.parse(text) as { error?: { message?: string } };
    if (parsed.error?.message) return parsed.error.message;
  } catch {
    // Not JSON: a proxy's page, say.
  }
  return `${response.status} ${response.statusText}`.trim();
}

const retryAfterMs = (response: Response, fallback: number) => {
  const seconds = Number(response.headers.get("retry-after"));
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 300) * 1000 : fallback;
};

/** Why the local request got no answer, as a person would say it. */
export function describeLocalError(error: unknown, target: URL): NonNullable<RelayAnswer["error"]> {
  const chain: (Error & { code?: string })[] = [];
  for (let current = error; current instanceof Error && chain.length < 5; current = (current as { cause?: unknown }).cause) chain.push(current);
  const code = chain.find((e) => typeof e.code === "string")?.code ?? "";
  const where = target.host;
  if (chain.some((e) => e.name === "TimeoutError")) return { class: "timeout", message: `timed out after ${LOCAL_TIMEOUT_MS / 1000} s on ${where}` };
  if (code === "ECONNREFUSED") return { class: "refused", message: `connection refused on ${where}` };
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return { class: "dns", message: `could not resolve ${target.hostname}` };
  if (code === "ECONNRESET" || code === "UND_ERR_SOCKET" || code === "EPIPE") return { class: "reset", message: `${where} closed the connection before answering` };
  if (code.startsWith("HPE_")) return { class: "protocol", message: `${where} sent an invalid HTTP response (${code})` };
  return { class: "network", message: `${where}: ${(chain.at(-1)?.message ?? String(error)).slice(0, 300)}` };
}

/** What the delivery line names: the event type and the alert's title, when the body has them. */
function summary(body: string): { type: string; title: string } {
  try {
    const parsed = JSON.parse(body) as { type?: string; data?: { alert?: { title?: string } } };
    return { type: parsed.type ?? "event", title: parsed.data?.alert?.title ?? "" };
  } catch {
    return { type: "event", title: "" };
  }
}

export class Listener {
  private readonly stop = new AbortController();
  private stream: AbortController | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private relayId: string | null = null;
  private connectedBefore = false;

  constructor(
    private readonly options: ListenOptions,
    private readonly out: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
    private readonly err: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {}

  private get authorization() {
    return { authorization: `Bearer ${this.options.apiKey}` };
  }

  /** Ctrl-C: stop taking requests, let those in flight finish and be reported (up to 5 s), then end. */
  async shutdown() {
    this.stop.abort();
    this.stream?.abort();
    await Promise.race([Promise.all(this.inFlight), sleep(5_000)]);
  }

  /** Runs until shutdown(); throws FatalError for what retrying cannot fix (a bad key, say). */
  async run(): Promise<void> {
    const { options } = this;
    const hello: RelayHello = {
      name: options.name,
      ...(options.secret ? { secret: options.secret } : {}),
      ...(options.eventTypes ? { eventTypes: options.eventTypes } : {}),
      ...(options.severities ? { severities: options.severities } : {}),
      ...(options.monitorIds ? { monitorIds: options.monitorIds } : {}),
    };
    let backoff = 1_000;
    let nameHeldSince: number | null = null;
    while (!this.stop.signal.aborted) {
      this.stream = new AbortController();
      const signal = AbortSignal.any([this.stop.signal, this.stream.signal]);
      let response: Response;
      try {
        response = await fetch(new URL("/api/v1/relays/listen", options.url), {
          method: "POST",
          headers: { ...this.authorization, "content-type": "application/json" },
          body: JSON.stringify(hello),
          signal,
        });
      } catch (error) {
        if (this.stop.signal.aborted) break;
        this.err(`Cannot reach mon1tor at ${options.url.origin} (${describeLocalError(error, options.url).message}). Retrying in ${backoff / 1000} s.`);
        await sleep(backoff, this.stop.signal);
        backoff = Math.min(backoff * 2, 30_000);
        continue;
      }
      if (response.status === 429 || response.status === 503) {
        const wait = retryAfterMs(response, backoff);
        this.err(`mon1tor asks us to slow down: ${await serverMessage(response)} Retrying in ${Math.ceil(wait / 1000)} s.`);
        await sleep(wait, this.stop.signal);
        backoff = Math.min(backoff * 2, 30_000);
        continue;
      }
      if (response.status === 409) {
        // The name is held. Right after a restart the server may not have seen the old stream end yet.
        nameHeldSince ??= Date.now();
        const message = await serverMessage(response);
        if (Date.now() - nameHeldSince > NAME_HELD_PATIENCE_MS) throw new FatalError(message);
        this.err(`${message} Trying again in 2 s.`);
        await sleep(2_000, this.stop.signal);
        continue;
      }
      if (!response.ok) {
        const message = await serverMessage(response);
        if (response.status === 401 || response.status === 403) throw new FatalError(`mon1tor refused the API key: ${message}`);
        if (response.status < 500) throw new FatalError(`mon1tor refused to open the relay: ${message}`);
        this.err(`mon1tor answered ${response.status}: ${message} Retrying in ${backoff / 1000} s.`);
        await sleep(backoff, this.stop.signal);
        backoff = Math.min(backoff * 2, 30_000);
        continue;
      }
      nameHeldSince = null;
      backoff = 1_000;
      const reason = await this.readStream(response, this.stream);
      if (this.stop.signal.aborted) break;
      this.err(`Disconnected from mon1tor (${reason}). Reconnecting…`);
      await sleep(500, this.stop.signal);
    }
  }

  /** Reads the stream until it ends; returns why it ended. */
  private async readStream(response: Response, stream: AbortController): Promise<string> {
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let buffered = "";
    let silence = setTimeout(() => stream.abort(), STREAM_SILENCE_MS);
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return "the server closed the stream";
        clearTimeout(silence);
        silence = setTimeout(() => stream.abort(), STREAM_SILENCE_MS);
        buffered += decoder.decode(value, { stream: true });
        let newline: number;
        while ((newline = buffered.indexOf("\n")) >= 0) {
          const text = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          if (!text.trim()) continue;
          const parsed = streamMessageSchema.safeParse(JSON.parse(text));
          if (!parsed.success) continue; // A newer server's message: not for this CLI.
          const closed = this.onMessage(parsed.data);
          if (closed) return closed;
        }
      }
    } catch (error) {
      if (this.stop.signal.aborted) return "stopped";
      return stream.signal.aborted ? `no word from the server for ${STREAM_SILENCE_MS / 1000} s` : describeLocalError(error, this.options.url).message;
    } finally {
      clearTimeout(silence);
      stream.abort();
    }
  }

  private onMessage(message: StreamMessage): string | null {
    switch (message.type) {
      case "ready": {
        this.relayId = message.relay.id;
        if (this.connectedBefore) {
          this.out(`${time()}  Reconnected: relay ${message.relay.name} is receiving again.`);
        } else {
          this.out(`Ready! Relaying this team's deliveries to ${this.options.forwardTo.href} (relay "${message.relay.name}").`);
          this.out(`Your webhook signing secret is ${message.secret} (keep it across runs with --secret).`);
          this.out(`Filter: ${message.relay.filter}. Press Ctrl-C to stop.`);
        }
        this.connectedBefore = true;
        return null;
      }
      case "request": {
        const task = this.forward(message).finally(() => this.inFlight.delete(task));
        this.inFlight.add(task);
        return null;
      }
      case "closed":
        return message.reason;
      case "ping":
        return null;
    }
  }

  private async forward(request: Extract<StreamMessage, { type: "request" }>) {
    const { forwardTo, printJson } = this.options;
    const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => !HOP_HEADERS.has(name.toLowerCase())));
    const started = performance.now();
    let answer: RelayAnswer;
    try {
      const response = await fetch(forwardTo, { method: "POST", headers, body: request.body, redirect: "manual", signal: AbortSignal.timeout(LOCAL_TIMEOUT_MS) });
      const text = await response.text();
      const kept = ["content-type", "content-encoding", "retry-after"].flatMap((name) => {
        const value = response.headers.get(name);
        return value === null ? [] : [[name, value.slice(0, 2_000)] as const];
      });
      answer = {
        requestId: request.id,
        statusCode: response.status,
        durationMs: Math.round(performance.now() - started),
        headers: Object.fromEntries(kept),
        body: truncate(text, RELAY_EXCERPT_CHARS),
      };
    } catch (error) {
      answer = { requestId: request.id, statusCode: null, durationMs: Math.round(performance.now() - started), error: describeLocalError(error, forwardTo) };
    }
    const { type, title } = summary(request.body);
    const outcome = answer.statusCode === null ? `!! ${answer.error!.message}` : `${answer.statusCode}`;
    this.out(`${time()}  ${type}  ${title ? `"${title}"  ` : ""}-> ${outcome}  ${answer.durationMs} ms  [${request.deliveryId}]`);
    if (printJson) {
      try {
        this.out(JSON.stringify(JSON.parse(request.body), null, 2));
      } catch {
        this.out(request.body);
      }
    }
    await this.report(answer);
  }

  /** Reports the local answer; over the rate limit it waits as told, within the attempt's time. */
  private async report(answer: RelayAnswer) {
    const deadline = Date.now() + 12_000;
    let backoff = 250;
    while (Date.now() < deadline) {
      try {
        const response = await fetch(new URL(`/api/v1/relays/${encodeURIComponent(this.relayId ?? "")}/responses`, this.options.url), {
          method: "POST",
          headers: { ...this.authorization, "content-type": "application/json" },
          body: JSON.stringify(answer),
        });
        if (response.ok || response.status === 404) return; // 404: it timed out meanwhile, and will be retried.
        if (response.status === 429 || response.status >= 500) {
          const wait = retryAfterMs(response, backoff);
          this.err(`Reporting the answer: ${await serverMessage(response)} Retrying in ${Math.ceil(wait / 1000)} s.`);
          await sleep(Math.min(wait, Math.max(0, deadline - Date.now())));
          backoff *= 2;
          continue;
        }
        this.err(`Reporting the answer failed: ${await serverMessage(response)}`);
        return;
      } catch {
        await sleep(backoff);
        backoff *= 2;
      }
    }
    this.err("Could not report the local answer in time: mon1tor will retry this delivery.");
  }
}
