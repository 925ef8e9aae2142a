// What each endpoint gets: event types, severities and, optionally, monitor ids. An empty
// list means "all". Filtering happens at enqueue, in the alert's transaction, so a
// filtered-out endpoint gets no delivery row at all. webhook.test always goes through (it
// is sent to one endpoint by name).
import { z } from "zod";
import { checkedValues } from "@/lib/text";

export const filterableEventTypes = ["alert.triggered", "alert.resolved"] as const;
export const severityValues = ["critical", "warning", "info"] as const;

export type EndpointFilter = { eventTypes: string[]; severities: string[]; monitorIds: string[] };

const checked = <T extends readonly [string, ...string[]]>(values: T, what: string) =>
  checkedValues(values)
    .transform((list) => list ?? [])
    .refine((list) => list.length > 0, `Choose at least one ${what}.`)
    // All of them checked is stored as "all" (empty), so new values later are included too.
    .transform((list) => (list.length === values.length ? [] : list));

export const filterSchema = z.object({
  eventTypes: checked(filterableEventTypes, "event type"),
  severities: checked(severityValues, "severity"),
  monitorIds: z
    .string()
    .max(2_000)
    .optional()
    // Split on commas (and line breaks) only: an id the alert API took may hold spaces, as in "web server 1".
    .transform((value) => [...new Set((value ?? "").split(/[,\r\n]+/).map((id) => id.trim()).filter(Boolean))])
    .refine((ids) => ids.length <= 50, "Use at most 50 monitor ids.")
    .refine((ids) => ids.every((id) => id.length <= 200), "Each monitor id is at most 200 characters."),
});

/**
 * The filter rule, the one copy of it: endpoint row `e` takes an event whose type, severity and
 * monitor id are the given SQL expressions (parameters or columns). Every statement that picks
 * endpoints for an event inlines it: enqueue, the alert API's one-statement ingest, and replay.
 */
export const takesEventSql = (e: string, event: { type: string; severity: string; monitorId: string }) =>
  `(cardinality(${e}."eventTypes") = 0 OR ${event.type} = ANY(${e}."eventTypes"))
    AND (cardinality(${e}.severities) = 0 OR ${event.severity} = ANY(${e}.severities))
    AND (cardinality(${e}."monitorIds") = 0 OR ${event.monitorId} = ANY(${e}."monitorIds"))`;

const join = (words: string[]) => (words.length <= 1 ? (words[0] ?? "") : `${words.slice(0, -1).join(", ")} and ${words.at(-1)}`);
const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** One line for people, e.g. "Critical and warning, triggered and resolved". */
export function describeFilter(filter: EndpointFilter): string {
  const severities = filter.severities.length === 0 ? "All severities" : capitalized(join(severityValues.filter((s) => filter.severities.includes(s))));
  const types =
    filter.eventTypes.length === 0
      ? "triggered and resolved"
      : join(filterableEventTypes.filter((t) => filter.eventTypes.includes(t)).map((t) => t.replace("alert.", "")));
  const monitors = filter.monitorIds.length === 0 ? "" : `, monitor${filter.monitorIds.length === 1 ? "" : "s"} ${filter.monitorIds.join(", ")}`;
  return `${severities}, ${types}${monitors}`;
}
