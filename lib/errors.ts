// One error type for everything a user may be told. Anything else is a bug: it is logged
// and the user sees a generic message, never a stack trace or a database detail.
export type ErrorCode =
  | "bad_request"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "method_not_allowed"
  | "conflict"
  | "validation"
  | "rate_limited"
  | "payload_too_large"
  | "unsupported_media_type"
  | "unavailable"
  | "internal";

export const httpStatus: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  validation: 422,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
};

/**
 * Marks an AppError wherever its class was loaded from. Next bundles a module into each route's
 * chunks, so one process can hold several copies of this class: an AppError made by a copy in
 * one route's chunk (the group commit's overload refusal, shared by every alert route) failed
 * `instanceof` in another's and was answered 500 instead of 503.
 */
const APP_ERROR = Symbol.for("mon1tor.AppError");

export class AppError extends Error {
  readonly [APP_ERROR] = true;

  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as { [APP_ERROR]?: unknown })[APP_ERROR] === true;
  }

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fields?: Record<string, string[]>,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "AppError";
  }
}

export const notFound = (what = "Not found") => new AppError("not_found", what);

/** True when Prisma refused a write because a unique constraint already holds the value. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "P2002";
}

// Connection-level failures: the database is down, restarting or unreachable. Class 08 is
// "connection exception", 57P01-57P03 are shutdowns and "cannot connect now"; P1001/P1002/
// P1017 are Prisma's names for the same, and P2037 its name for 53300. Class 53 is "insufficient
// resources": no session left (53300, too many clients), its disk full (53100), out of memory: the
// server is there but cannot take the work now, which a retry later can fix. Answered 500 before,
// with nothing to say retry.
const UNAVAILABLE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "57P01", "57P02", "57P03", "P1001", "P1002", "P1017", "P2037"]);
const UNAVAILABLE_MESSAGES = /Connection terminated|connection error|terminating connection|timeout exceeded when trying to connect|the database system is (starting up|shutting down)|Can't reach database server|ECONNREFUSED/i;

/** True when `error` (or anything in its cause chain) means the database cannot be reached right now. */
export function isDatabaseUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current && depth < 8; depth++) {
    if (typeof current !== "object") return false;
    const { code, message, cause, originalCode } = current as { code?: unknown; message?: unknown; cause?: unknown; originalCode?: unknown };
    for (const value of [code, originalCode]) {
      if (typeof value === "string" && (UNAVAILABLE_CODES.has(value) || value.startsWith("08") || value.startsWith("53"))) return true;
    }
    if (typeof message === "string" && UNAVAILABLE_MESSAGES.test(message)) return true;
    current = cause;
  }
  return false;
}

/** Shown when PostgreSQL is down: retry later, nothing accepted was lost. */
export const databaseUnavailable = () =>
  new AppError("unavailable", "mon1tor's database is unavailable right now. Nothing you sent before was lost; retry shortly.", undefined, 5);
