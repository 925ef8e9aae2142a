import "server-only";
import { z } from "zod";
import { requestIp, requireTeam, requireUser, type TeamContext, type UserContext } from "@/lib/auth/context";
import type { Permission } from "@/lib/auth/permissions";
import { AppError, databaseUnavailable, isDatabaseUnavailable, type ErrorCode } from "@/lib/errors";
import { hasLoneSurrogate, hasNul } from "@/lib/text";

export type ActionResult<T = null> =
  | { ok: true; data: T }
  | { ok: false; code: ErrorCode; message: string; fieldErrors?: Record<string, string[]> };

export type ActionInput = FormData | Record<string, unknown>;

type Access = "public" | "user" | Permission;
export type PublicContext = { ip: string | null };
type ContextFor<A extends Access> = A extends "public" ? PublicContext : A extends "user" ? UserContext : TeamContext;

const toObject = (input: ActionInput) =>
  input instanceof FormData ? Object.fromEntries(input.entries()) : input;

export function toFailure(error: unknown): ActionResult<never> {
  if (isDatabaseUnavailable(error)) error = databaseUnavailable();
  if (error instanceof AppError) {
    return { ok: false, code: error.code, message: error.message, fieldErrors: error.fields };
  }
  console.error("[mon1tor] action failed:", error instanceof Error ? error.stack : error);
  return { ok: false, code: "internal", message: "Something went wrong on our side. Please try again." };
}

/**
 * Zod's issues by field (dotted path). An issue about the input as a whole is filed under `root`:
 * "form" for a server action's form, "body" for an API call's body, "" for an item of a batch
 * (lib/alerts/batch.ts names it by its index).
 */
export function fieldErrorsOf(error: z.ZodError, root = "form"): Record<string, string[]> {
  // A Map, not an object: field names come from the input, and an unknown key such as
  // "constructor" or "__proto__" would otherwise find Object.prototype's members.
  const fields = new Map<string, string[]>();
  const add = (key: string, message: string) => fields.set(key, [...(fields.get(key) ?? []), message]);
  for (const issue of error.issues) {
    // An unknown key is named as the field at fault, not reported against its parent object.
    if (issue.code === "unrecognized_keys") {
      for (const unknown of issue.keys) add([...issue.path, unknown].join("."), "Unknown field");
      continue;
    }
    add(issue.path.join(".") || root, issue.message);
  }
  return Object.fromEntries(fields);
}

const NUL_MESSAGE = "Remove the NUL (\\u0000) character: it cannot be stored.";
const SURROGATE_MESSAGE = "This text holds a broken character (half of a UTF-16 surrogate pair): retype it.";
const MAX_DEPTH = 16;
const DEPTH_MESSAGE = `This value is nested more than ${MAX_DEPTH} levels deep: send plain fields.`;
/** Fields kept as they are typed and never stored: a password is hashed, so any character may be in it. */
const UNSTORED = new Set(["password"]);

/** Why PostgreSQL cannot store this text as it is, or null. */
function unstorable(text: string): string | null {
  if (hasNul(text)) return NUL_MESSAGE;
  if (hasLoneSurrogate(text)) return SURROGATE_MESSAGE;
  return null;
}

/**
 * The fields (dotted paths) whose text PostgreSQL cannot store: a NUL character, which text
 * refuses, or a lone surrogate, which would be written as U+FFFD (or fail the write). Refused by
 * name before any schema runs, as the alert API does.
 */
function unstorableFields(value: unknown, path: string[] = []): [string, string][] {
  if (typeof value === "string") {
    const reason = UNSTORED.has(path.at(-1) ?? "") ? null : unstorable(value);
    return reason ? [[path.join(".") || "form", reason]] : [];
  }
  if (value === null || typeof value !== "object" || value instanceof Blob) return [];
  // No form of ours nests; a crafted request thousands of levels deep would overflow the stack.
  if (path.length >= MAX_DEPTH) return [[path.slice(0, 2).join(".") || "form", DEPTH_MESSAGE]];
  return Object.entries(value).flatMap(([key, inner]) => unstorableFields(inner, [...path, key]));
}

/**
 * Every server action goes through here: parse input with zod, load the session, resolve
 * the team and check the permission, then run the handler. The session check comes
 * before any query, and the handler gets the team id to put in its `where` clauses.
 */
export function defineAction<A extends Access, S extends z.ZodType, T>(
  access: A,
  schema: S,
  handler: (input: z.output<S>, context: ContextFor<A>) => Promise<T>,
): (input: ActionInput) => Promise<ActionResult<T>> {
  return async (input) => {
    try {
      const context = (
        access === "public" ? { ip: await requestIp() } : access === "user" ? await requireUser() : await requireTeam(access as Permission)
      ) as ContextFor<A>;
      const fields = toObject(input);
      const refused = unstorableFields(fields);
      if (refused.length > 0) {
        const fieldErrors = Object.fromEntries(refused.map(([field, reason]) => [field, [reason]]));
        return { ok: false, code: "validation", message: refused[0]![1], fieldErrors };
      }
      const parsed = schema.safeParse(fields);
      if (!parsed.success) {
        const fieldErrors = fieldErrorsOf(parsed.error);
        const first = Object.values(fieldErrors)[0]?.[0] ?? "Check the form.";
        return { ok: false, code: "validation", message: first, fieldErrors };
      }
      return { ok: true, data: await handler(parsed.data, context) };
    } catch (error) {
      return toFailure(error);
    }
  };
}
