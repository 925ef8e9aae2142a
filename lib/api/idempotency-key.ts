import { AppError } from "@/lib/errors";

/** The request's Idempotency-Key header, 1 to 255 characters, or null when it has none. */
export function idempotencyKeyOf(request: Request): string | null {
  const key = request.headers.get("idempotency-key");
  if (key !== null && (key.length === 0 || key.length > 255)) {
    throw new AppError("validation", "The Idempotency-Key header must be 1 to 255 characters.", { "Idempotency-Key": ["must be 1 to 255 characters"] });
  }
  return key;
}
