-- The W3C traceparent of the API call that queued an event, when tracing is on: the worker's
-- claim and attempt spans join that call's trace (lib/telemetry/tracing.ts). Null otherwise.
ALTER TABLE "Event" ADD COLUMN "traceparent" TEXT;
