// Rows for tests, each with unique names so tests never collide.
import crypto from "node:crypto";
import { hashPassword } from "@/lib/auth/password";
import type { TeamContext } from "@/lib/auth/context";
import { encrypt } from "@/lib/crypto/encryption";
import { db, type Db } from "@/lib/db";
import { generateSecret } from "@/lib/webhooks/endpoints/secret";
import type { Role } from "@/lib/generated/prisma/enums";

export const TEST_PASSWORD = "correct horse battery staple";
const unique = () => crypto.randomBytes(5).toString("hex");

let passwordHash: Promise<string> | undefined;

export async function createUser(name = "Test User") {
  passwordHash ??= hashPassword(TEST_PASSWORD);
  return db.user.create({ data: { name, email: `user-${unique()}@example.test`, passwordHash: await passwordHash } });
}

export async function createTeam(name = `Team ${unique()}`) {
  return db.team.create({ data: { name } });
}

/** A user with `role` in a team (a new team unless one is given), as the context actions see. */
export async function createMember(role: Role, team?: { id: string; name: string }): Promise<TeamContext> {
  const theTeam = team ?? (await createTeam());
  const user = await createUser(`${role} ${unique()}`);
  await db.membership.create({ data: { teamId: theTeam.id, userId: user.id, role } });
  return { user: { id: user.id, name: user.name, email: user.email }, team: { id: theTeam.id, name: theTeam.name }, role, ip: "127.0.0.1" };
}

/** An endpoint that is already active and has proved ownership (validation is tested elsewhere), with its plain secret. */
export async function createActiveEndpoint(teamId: string, url: string, client: Db = db) {
  const secret = generateSecret();
  const endpoint = await client.webhookEndpoint.create({
    data: { teamId, url, status: "active", activatedAt: new Date(), ownershipConfirmedAt: new Date(), secretCiphertext: encrypt(secret) },
  });
  return { endpoint, secret };
}
