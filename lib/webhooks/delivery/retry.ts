// When to try a failed delivery again.
export const RETRY_DELAYS_SECONDS = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600] as const;
/** The first attempt plus one per delay: 8 attempts over about 27.5 hours. */
export const MAX_ATTEMPTS = RETRY_DELAYS_SECONDS.length + 1;
const RETRY_AFTER_CAP_MS = 2 * 3600 * 1000;

/**
 * Milliseconds until the next attempt after attempt number `attempt` (1-based) failed,
 * or null when no attempt is left. ±10% jitter spreads retries of a blip apart; a
 * Retry-After on 429/503 is honoured up to two hours past the backoff.
 */
export function retryDelayMs(
  attempt: number,
  failure: { statusCode: number | null; retryAfterSeconds: number | null },
  random: () => number = Math.random,
): number | null {
  if (attempt >= MAX_ATTEMPTS) return null;
  const base = RETRY_DELAYS_SECONDS[attempt - 1]! * 1000;
  const backoff = Math.round(base * (0.9 + 0.2 * random()));
  if ((failure.statusCode === 429 || failure.statusCode === 503) && failure.retryAfterSeconds !== null) {
    return Math.min(Math.max(backoff, failure.retryAfterSeconds * 1000), backoff + RETRY_AFTER_CAP_MS);
  }
  return backoff;
}

/** From a delivery's creation to its last possible attempt, jitter included. */
export const RETRY_WINDOW_MS = Math.ceil(RETRY_DELAYS_SECONDS.reduce((sum, seconds) => sum + seconds, 0) * 1000 * 1.1);
