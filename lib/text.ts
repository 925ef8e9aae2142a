// Names people see in lists, headers, the audit log and emails (teams, members, API keys,
// endpoint descriptions) are one line of visible text. A line break, a tab or another control
// character would only arrive through a hand-made request, and a text-direction override
// (U+202A-U+202E, U+2066-U+2069) can make a name read as something it is not.
import { z } from "zod";

const NOT_ONE_LINE = /[\p{Cc}\u202A-\u202E\u2066-\u2069]/u;

export const oneLine = <T extends z.ZodType<string | undefined>>(schema: T) =>
  schema.refine((value) => value === undefined || !NOT_ONE_LINE.test(value), "Use one line of visible text: no line breaks, tabs, control characters or text-direction marks.");
