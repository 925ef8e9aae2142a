import "server-only";
import { db } from "@/lib/db";

/** A team's API keys for the list: never the hash. */
export function listApiKeys(teamId: string) {
  return db.apiKey.findMany({
    where: { teamId },
    orderBy: { createdAt: "desc" },
    select: { id: true, name: true, permissions: true, prefix: true, createdAt: true, lastUsedAt: true, revokedAt: true },
  });
}
