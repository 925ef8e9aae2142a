// Prometheus Alertmanager's webhook (payload version 4), mapped to our alerts. Each alert of the
// group becomes one batch item (lib/alerts/batch.ts), answered on its own:
//
// | Alertmanager                                  | mon1tor                                        |
// |-----------------------------------------------|------------------------------------------------|
// | `status: firing` / `resolved`                 | `status: triggered` / `resolved`               |
// | `fingerprint`                                 | `dedupKey`: a firing alert sent again while it is open is deduplicated; `resolved` closes it |
// | `labels.severity`                             | `severity`: critical, error, page, high → critical; warning, warn, medium → warning; info, low, none → info; missing or other → critical |
// | `annotations.summary`, else `labels.alertname` | `title` (cut to 300 characters)                |
// | `annotations.description`, else `annotations.message` | `message` (cut to 10,000 characters)    |
// | `labels.alertname`, and `labels.instance`     | `monitor.id`, and `monitor.name` (“alertname on instance”) |
// | `startsAt` (firing) / `endsAt` (resolved)     | `occurredAt`, when within our range            |
//
// A `resolved` whose fingerprint has no open alert here (it fired before this receiver was set
// up, or its resolve was sent twice) is answered `ignored`, with the reason, and nothing is sent.
import { z } from "zod";
import { refusedItem, type BatchItem } from "@/lib/alerts/batch";
import { alertInputSchema, type AlertInput } from "@/lib/alerts/ingest";
import { fieldErrorsOf } from "@/lib/actions/define-action";
import { db } from "@/lib/db";
import { truncate } from "@/lib/text";
import { MAX_BATCH_ITEMS } from "@/lib/alerts/batch-limits";

const labelMap = z.record(z.string(), z.string());

/** The group: what must hold for the call to be taken at all. */
export const alertmanagerPayloadSchema = z.object({
  version: z.string().optional(),
  status: z.enum(["firing", "resolved"]),
  groupKey: z.string().optional(),
  alerts: z.array(z.unknown()).max(MAX_BATCH_ITEMS, `must hold at most ${MAX_BATCH_ITEMS} alerts (set max_alerts in the webhook config)`),
});

const alertSchema = z.object({
  status: z.enum(["firing", "resolved"]),
  labels: labelMap,
  annotations: labelMap.default({}),
  startsAt: z.string().optional(),
  endsAt: z.string().optional(),
  fingerprint: z.string().min(1).max(255),
  generatorURL: z.string().optional(),
});

const SEVERITY: Record<string, AlertInput["severity"]> = {
  critical: "critical", error: "critical", page: "critical", high: "critical",
  warning: "warning", warn: "warning", medium: "warning",
  info: "info", informational: "info", low: "info", none: "info",
};

const cut = (text: string | undefined, max: number) => (text === undefined ? undefined : truncate(text, max, { ellipsis: true }));
const trimmed = (text: string | undefined) => (text?.trim() ? text.trim() : undefined);

/** An Alertmanager time inside our range, else none (the alert then takes its arrival time). */
function occurredAt(value: string | undefined) {
  const at = value ? Date.parse(value) : NaN;
  return Number.isFinite(at) && at >= 0 && at <= Date.now() ? new Date(at).toISOString() : undefined;
}

/** One alert of the group as a batch item; its field errors name the Alertmanager field (`alerts.2.labels.alertname`). */
export function alertmanagerItem(teamId: string, value: unknown, index: number): BatchItem {
  const refuse = (fields: Record<string, string[]>) => refusedItem(index, fields);
  const parsed = alertSchema.safeParse(value);
  if (!parsed.success) return refuse(fieldErrorsOf(parsed.error, ""));
  const { status, labels, annotations, startsAt, endsAt, fingerprint } = parsed.data;
  const alertname = trimmed(labels.alertname);
  const instance = trimmed(labels.instance);
  const candidate = {
    title: cut(trimmed(annotations.summary) ?? alertname ?? "Alertmanager alert", 300),
    severity: SEVERITY[labels.severity?.trim().toLowerCase() ?? ""] ?? "critical",
    status: status === "firing" ? "triggered" : "resolved",
    message: cut(annotations.description ?? annotations.message, 10_000),
    monitor: alertname ? { id: cut(alertname, 200), name: cut(instance ? `${alertname} on ${instance}` : alertname, 300) } : undefined,
    occurredAt: occurredAt(status === "firing" ? startsAt : endsAt),
    dedupKey: fingerprint,
  };
  // Our own rules (NUL, broken surrogates), reported against the Alertmanager field they came from.
  const checked = alertInputSchema.safeParse(candidate);
  if (!checked.success) {
    const source: Record<string, string> = { title: annotations.summary !== undefined ? "annotations.summary" : "labels.alertname", message: annotations.description !== undefined ? "annotations.description" : "annotations.message", "monitor.id": "labels.alertname", "monitor.name": "labels.instance", dedupKey: "fingerprint" };
    return refuse(Object.fromEntries(Object.entries(fieldErrorsOf(checked.error, "")).map(([field, messages]) => [source[field] ?? field, messages])));
  }
  const skip = async (input: AlertInput) => {
    if (input.status !== "resolved") return null;
    const open = await db.alert.findFirst({ where: { teamId, dedupKey: input.dedupKey, status: "triggered" }, select: { id: true } });
    return open ? null : `No open alert has fingerprint ${fingerprint}: it fired before this receiver was set up, or was resolved already. Nothing was sent.`;
  };
  return { input: checked.data, hashOf: value, skip };
}
