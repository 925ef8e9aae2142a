// Rules for text we are given.
//
// What PostgreSQL can store: text refuses NUL, and a lone UTF-16 surrogate would be written as
// U+FFFD (or fail the write). Server actions (lib/actions/define-action.ts) and the alert API
// (lib/alerts/ingest.ts) refuse both by field, each in its own words.
//
// Names people see in lists, headers, the audit log and emails (teams, members, API keys,
// endpoint descriptions) are one line of visible text. A line break, a tab or another control
// character would only arrive through a hand-made request, and a text-direction override
// (U+202A-U+202E, U+2066-U+2069) can make a name read as something it is not.
import { z } from "zod";

export const hasNul = (text: string) => text.includes("\u0000");

const NUL = /\u0000/g;

/** Any text made storable in a PostgreSQL text column (what others send us): NUL becomes the visible escape \u0000. */
export function storableText(text: string): string;
export function storableText(text: string | null): string | null;
export function storableText(text: string | null): string | null {
  return text === null ? null : text.replace(NUL, "\\u0000");
}
// With the u flag a well-formed pair is one code point: only a lone half matches.
export const hasLoneSurrogate = (text: string) => /\p{Cs}/u.test(text);

/**
 * At most `max` UTF-16 units of `text`, and one fewer where the cut would split a surrogate pair
 * (an emoji, say), so a cut never leaves a lone half. `ellipsis`: a cut ends in "…", within `max`.
 * Alertmanager's summaries cut at 300 by String.slice were refused as "unpaired surrogate" when
 * an emoji straddled the cut, and Alertmanager, answered per item, never sent them again.
 */
export function truncate(text: string, max: number, { ellipsis = false } = {}): string {
  if (text.length <= max) return text;
  let end = ellipsis ? max - 1 : max;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return ellipsis ? `${text.slice(0, end)}…` : text.slice(0, end);
}

const NOT_ONE_LINE = /[\p{Cc}\u202A-\u202E\u2066-\u2069]/u;

/**
 * A group of checkboxes, as a form sends it (one value, or the name repeated) or as a list from
 * other callers: the distinct values checked, sorted; undefined when none was sent.
 */
export const checkedValues = <T extends readonly [string, ...string[]]>(values: T) =>
  z
    .union([z.enum(values), z.array(z.enum(values))])
    .optional()
    .transform((value) => (value === undefined ? undefined : [...new Set(Array.isArray(value) ? value : [value])].sort()));

export const oneLine = <T extends z.ZodType<string | undefined>>(schema: T) =>
  schema.refine((value) => value === undefined || !NOT_ONE_LINE.test(value), "Use one line of visible text: no line breaks, tabs, control characters or text-direction marks.");

/** A name (a table's, a database's) as a PostgreSQL identifier, quoted: for the DDL that takes no parameters. */
export const quoteIdentifier = (name: string) => `"${name.replaceAll('"', '""')}"`;
