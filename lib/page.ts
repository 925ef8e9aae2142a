import "server-only";
import { notFound } from "next/navigation";
import { AppError, isDatabaseUnavailable } from "@/lib/errors";

/** The digest app/error.tsx recognises: production hides messages from the client, not digests. */
export const DATABASE_UNAVAILABLE_DIGEST = "MON1TOR_DATABASE_UNAVAILABLE";

/** For pages and layouts: a database outage becomes the "database unavailable" page, not the generic error. */
export async function orUnavailable<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    if (isDatabaseUnavailable(error)) {
      throw Object.assign(new Error("The database is unavailable."), { digest: DATABASE_UNAVAILABLE_DIGEST });
    }
    throw error;
  }
}

/** For pages: a query's "not found" (including another team's id) becomes the 404 page. */
export function orNotFound<T>(promise: Promise<T>): Promise<T> {
  return promise.catch((error: unknown) => {
    if (error instanceof AppError && error.code === "not_found") notFound();
    throw error;
  });
}
