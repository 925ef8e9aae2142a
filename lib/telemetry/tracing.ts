// OpenTelemetry traces, exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set (the
// standard OTEL_* variables apply: OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_HEADERS…). Unset, no
// SDK is loaded and every helper here returns at its first line: tracing costs nothing.
//
// One trace follows an alert: the API call (Next's own span, or ours for the alert calls served
// in front of Next), `mon1tor.alert.enqueue`, then, in
// whichever process sends it, `mon1tor.delivery.claim` and one `mon1tor.delivery.attempt` per
// attempt. The call's context crosses from the web process to the worker through the database:
// the event row keeps its W3C traceparent. Spans carry ids and status classes, never a URL, a
// secret, a signature or a custom header.
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context } from "@opentelemetry/api";

// On globalThis: Next bundles instrumentation.ts apart from the routes, each with its own copy of
// this module, and the routes must see what instrumentation started.
const state = globalThis as unknown as { mon1torTracing?: boolean };

/** Whether this process exports traces (startTracing ran with an endpoint set). */
export const tracingEnabled = () => state.mon1torTracing === true;

/**
 * Starts the SDK for this process, if OTEL_EXPORTER_OTLP_ENDPOINT is set. Returns a function that
 * flushes and stops it (at shutdown), or null when tracing is off.
 */
export async function startTracing(serviceName: string): Promise<(() => Promise<void>) | null> {
  if (!process.env.OTEL_EXPORTER_OTLP_ENDPOINT || tracingEnabled()) return null;
  const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] = await Promise.all([
    import("@opentelemetry/sdk-trace-node"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
  ]);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": process.env.OTEL_SERVICE_NAME || serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 1_000 })],
  });
  // The global provider, AsyncLocalStorage context and W3C propagation: Next's own spans join too.
  provider.register();
  state.mon1torTracing = true;
  return () => provider.shutdown();
}

const tracer = () => trace.getTracer("mon1tor");

/** Runs `work` inside a span (a child of the current one); the span records a thrown error. */
export async function inSpan<T>(name: string, attributes: Attributes, work: () => Promise<T>): Promise<T> {
  if (!tracingEnabled()) return work();
  return tracer().startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await work();
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : "error" });
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * A call served in front of Next (lib/api/front.ts): a server span like Next's own for a route,
 * continuing the caller's trace when it sent a traceparent, with the answer's status.
 */
export async function inServerSpan<T extends { status: number }>(
  name: string,
  headers: Record<string, string | string[] | undefined>,
  attributes: Attributes,
  work: () => Promise<T>,
): Promise<T> {
  if (!tracingEnabled()) return work();
  return tracer().startActiveSpan(name, { kind: SpanKind.SERVER, attributes }, propagation.extract(ROOT_CONTEXT, headers), async (span) => {
    try {
      const result = await work();
      span.setAttribute("http.response.status_code", result.status);
      if (result.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      return result;
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : "error" });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** The current span's W3C traceparent, to store with what it queues; null when tracing is off. */
export function currentTraceparent(): string | null {
  if (!tracingEnabled()) return null;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ?? null;
}

function parentOf(traceparent: string | null): Context {
  return traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent }) : ROOT_CONTEXT;
}

/** A span that already happened (from `start` to `end`), in the trace of `traceparent`. */
export function recordSpan(name: string, traceparent: string | null, start: Date, end: Date, attributes: Attributes, failed = false) {
  if (!tracingEnabled() || !traceparent) return;
  const span = tracer().startSpan(name, { startTime: start, attributes, kind: SpanKind.CLIENT }, parentOf(traceparent));
  if (failed) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end(end);
}
