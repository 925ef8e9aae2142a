// Every server action, called directly the way a crafted request would: the role matrix
// holds, and another team's ids are "not found", exactly like ids that do not exist.
// Next's request context (session, cookies, headers) is simulated; everything below it is real.
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

const request = vi.hoisted(() => {
  // One proxy in front: the audit log records the address it saw, not a client-chosen entry.
  process.env.MON1TOR_TRUSTED_PROXIES = "1";
  return { userId: null as string | null, teamId: null as string | null };
});
vi.mock("next-auth", async (importOriginal) => ({
  ...(await importOriginal<typeof import("next-auth")>()),
  getServerSession: async () => (request.userId ? { user: { id: request.userId } } : null),
}));
vi.mock("next/headers", () => ({
  cookies: async () => ({
    get: (name: string) => (name === "mon1tor-team" && request.teamId ? { name, value: request.teamId } : undefined),
    set: () => {},
  }),
  headers: async () => new Headers({ "x-forwarded-for": "6.6.6.6, 198.51.100.7" }),
}));
vi.mock("next/cache", () => ({ revalidatePath: () => {} }));
vi.mock("next/server", async (importOriginal) => ({
  ...(await importOriginal<typeof import("next/server")>()),
  after: (task: () => unknown) => void Promise.resolve().then(task),
}));

import crypto from "node:crypto";
import * as apiKeyActions from "@/app/(dashboard)/settings/api-keys/actions";
import * as webhookActions from "@/app/(dashboard)/settings/webhooks/actions";
import * as teamActions from "@/app/(dashboard)/settings/team/actions";
import * as dashboardActions from "@/app/(dashboard)/actions";
import { ingestAlert } from "@/lib/alerts/ingest";
import type { TeamContext } from "@/lib/auth/context";
import { db } from "@/lib/db";
import { signUpSchema } from "@/lib/teams/accounts";
import type { Role } from "@/lib/generated/prisma/enums";
import { createActiveEndpoint, createMember } from "@/lib/testing/factories";
import { startReceiver, type Receiver } from "@/lib/testing/receiver";

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver(() => ({ status: 204 }));
});
afterAll(() => receiver.close());

const as = (member: TeamContext) => {
  request.userId = member.user.id;
  request.teamId = member.team.id;
};

/** A team with one member of each role, an active endpoint, a delivery, an API key and an invite. */
async function world() {
  const owner = await createMember("owner");
  const members = { owner } as Record<Role, TeamContext>;
  for (const role of ["admin", "member", "viewer"] as const) members[role] = await createMember(role, owner.team);
  const { endpoint } = await createActiveEndpoint(owner.team.id, `${receiver.url}/authz/${owner.team.id}`);
  const accepted = await db.$transaction((tx) => ingestAlert(tx, owner.team, { title: "authz", severity: "info", status: "triggered" }));
  const apiKey = await db.apiKey.create({ data: { teamId: owner.team.id, name: "k", prefix: crypto.randomBytes(6).toString("hex"), hash: "h", createdById: owner.user.id } });
  const invite = await db.invite.create({ data: { teamId: owner.team.id, role: "member", tokenHash: `t-${Math.random()}`, createdById: owner.user.id, expiresAt: new Date(Date.now() + 86_400_000) } });
  const viewerMembership = await db.membership.findFirstOrThrow({ where: { teamId: owner.team.id, userId: members.viewer.user.id } });
  return { members, team: owner.team, endpoint, deliveryId: accepted.deliveryIds[0]!, apiKey, invite, viewerMembershipId: viewerMembership.id };
}

type World = Awaited<ReturnType<typeof world>>;
type Call = { name: string; run: (w: World) => Promise<{ ok: boolean; code?: string; message?: string }>; allowed: Role[] };

const manage: Role[] = ["owner", "admin", "member"];
const admins: Role[] = ["owner", "admin"];

// Read-only or reversible forms of each action, so one world serves all roles.
const calls: Call[] = [
  { name: "createEndpoint", allowed: manage, run: () => webhookActions.createEndpointAction({ url: `${receiver.url}/new/${Math.random()}` }) },
  { name: "updateEndpoint", allowed: manage, run: (w) => webhookActions.updateEndpointAction({ endpointId: w.endpoint.id, url: w.endpoint.url, description: "d" }) },
  { name: "validateEndpoint", allowed: manage, run: (w) => webhookActions.validateEndpointAction({ endpointId: w.endpoint.id }) },
  { name: "pauseEndpoint", allowed: manage, run: (w) => webhookActions.pauseEndpointAction({ endpointId: w.endpoint.id }) },
  { name: "resumeEndpoint", allowed: manage, run: (w) => webhookActions.resumeEndpointAction({ endpointId: w.endpoint.id, backlog: "replay" }) },
  { name: "revealSecret", allowed: manage, run: (w) => webhookActions.revealSecretAction({ endpointId: w.endpoint.id }) },
  { name: "sendTestAlert", allowed: manage, run: (w) => webhookActions.sendTestAlertAction({ endpointId: w.endpoint.id }) },
  { name: "redeliver", allowed: manage, run: (w) => webhookActions.redeliverAction({ deliveryId: w.deliveryId }) },
  { name: "rollSecret", allowed: admins, run: (w) => webhookActions.rollSecretAction({ endpointId: w.endpoint.id, overlap: "24h" }) },
  { name: "endSecretOverlap", allowed: admins, run: (w) => webhookActions.endSecretOverlapAction({ endpointId: w.endpoint.id }) },
  { name: "updateFilter", allowed: manage, run: (w) => webhookActions.updateFilterAction({ endpointId: w.endpoint.id, eventTypes: ["alert.triggered"], severities: ["critical", "warning", "info"], monitorIds: "" }) },
  { name: "addHeader", allowed: manage, run: (w) => webhookActions.addHeaderAction({ endpointId: w.endpoint.id, name: "Authorization", value: "Bearer matrix" }) },
  { name: "removeHeader", allowed: manage, run: (w) => webhookActions.removeHeaderAction({ endpointId: w.endpoint.id, name: "Authorization" }) },
  { name: "debugSignature", allowed: manage, run: (w) => webhookActions.debugSignatureAction({ endpointId: w.endpoint.id, deliveryId: w.deliveryId }) },
  { name: "updateTeamSettings", allowed: ["owner"], run: () => teamActions.updateTeamSettingsAction({ endpointRateLimitPerMinute: "" }) },
  { name: "createApiKey", allowed: admins, run: () => apiKeyActions.createApiKeyAction({ name: "matrix" }) },
  { name: "createInvite", allowed: admins, run: () => teamActions.createInviteAction({ role: "viewer" }) },
  { name: "changeRole", allowed: admins, run: (w) => teamActions.changeRoleAction({ membershipId: w.viewerMembershipId, role: "member" }) },
];

// Destructive ones, each on a fresh world.
const destructive: Call[] = [
  { name: "deleteEndpoint", allowed: manage, run: (w) => webhookActions.deleteEndpointAction({ endpointId: w.endpoint.id }) },
  { name: "revokeApiKey", allowed: admins, run: (w) => apiKeyActions.revokeApiKeyAction({ apiKeyId: w.apiKey.id }) },
  { name: "revokeInvite", allowed: admins, run: (w) => teamActions.revokeInviteAction({ inviteId: w.invite.id }) },
  { name: "removeMember", allowed: admins, run: (w) => teamActions.removeMemberAction({ membershipId: w.viewerMembershipId }) },
];

beforeEach(() => {
  request.userId = null;
  request.teamId = null;
});

describe("role matrix, enforced in every server action", () => {
  const roles: Role[] = ["owner", "admin", "member", "viewer"];
  for (const role of roles) {
    it(`${role}`, async () => {
      const w = await world();
      as(w.members[role]);
      for (const call of calls) {
        const result = await call.run(w);
        if (call.allowed.includes(role)) expect(result, `${role} → ${call.name}: ${result.message}`).toMatchObject({ ok: true });
        else expect(result, `${role} → ${call.name}`).toMatchObject({ ok: false, code: "forbidden", message: `Your role (${role}) does not allow this.` });
      }
      for (const call of destructive) {
        const fresh = await world();
        as(fresh.members[role]);
        const result = await call.run(fresh);
        if (call.allowed.includes(role)) expect(result, `${role} → ${call.name}: ${result.message}`).toMatchObject({ ok: true });
        else expect(result, `${role} → ${call.name}`).toMatchObject({ ok: false, code: "forbidden" });
      }
    }, 60_000);
  }

  it("a viewer's refused calls change nothing and write no audit rows", async () => {
    const w = await world();
    as(w.members.viewer);
    const before = { endpoint: await db.webhookEndpoint.findUniqueOrThrow({ where: { id: w.endpoint.id } }), audit: await db.auditLog.count({ where: { teamId: w.team.id } }) };
    for (const call of [...calls, ...destructive]) await call.run(w);
    expect(await db.webhookEndpoint.findUniqueOrThrow({ where: { id: w.endpoint.id } })).toEqual(before.endpoint);
    expect(await db.auditLog.count({ where: { teamId: w.team.id } })).toBe(before.audit);
    expect(await db.apiKey.findUniqueOrThrow({ where: { id: w.apiKey.id } })).toMatchObject({ revokedAt: null });
  });

  it("no session is an error before anything runs", async () => {
    const w = await world();
    for (const call of [...calls, ...destructive]) {
      expect(await call.run(w), call.name).toMatchObject({ ok: false, code: "unauthorized", message: "Your session has ended. Sign in again." });
    }
    expect(await db.webhookEndpoint.count({ where: { id: w.endpoint.id } })).toBe(1);
  });
});

describe("IDOR sweep: team 1's owner with team 2's ids", () => {
  it("gets 'not found', the same answer as for ids that do not exist, and nothing changes", async () => {
    const mine = await world();
    const theirs = await world();
    as(mine.members.owner);
    const snapshot = async () => ({
      endpoint: await db.webhookEndpoint.findUniqueOrThrow({ where: { id: theirs.endpoint.id } }),
      delivery: await db.delivery.findUniqueOrThrow({ where: { id: theirs.deliveryId } }),
      apiKey: await db.apiKey.findUniqueOrThrow({ where: { id: theirs.apiKey.id } }),
      invite: await db.invite.findUniqueOrThrow({ where: { id: theirs.invite.id } }),
      membership: await db.membership.findUniqueOrThrow({ where: { id: theirs.viewerMembershipId } }),
      audit: await db.auditLog.count({ where: { teamId: theirs.team.id } }),
    });
    const before = await snapshot();
    const ghost: World = { ...theirs, endpoint: { ...theirs.endpoint, id: "does-not-exist" }, deliveryId: "msg_nope", apiKey: { ...theirs.apiKey, id: "nope" }, invite: { ...theirs.invite, id: "nope" }, viewerMembershipId: "nope" };
    const targeted = [...calls, ...destructive].filter((call) => !["createEndpoint", "createApiKey", "createInvite", "updateTeamSettings"].includes(call.name));
    for (const call of targeted) {
      const other = await call.run(theirs);
      const missing = await call.run(ghost);
      expect(other, call.name).toMatchObject({ ok: false, code: "not_found" });
      expect(other, call.name).toEqual(missing);
    }
    expect(await snapshot()).toEqual(before);
  }, 60_000);

  it("a forged team cookie for a team the user is not in falls back to their own team", async () => {
    const mine = await world();
    const theirs = await world();
    request.userId = mine.members.owner.user.id;
    request.teamId = theirs.team.id;
    const result = await webhookActions.revealSecretAction({ endpointId: theirs.endpoint.id });
    expect(result).toMatchObject({ ok: false, code: "not_found" });
  });
});

describe("audit log", () => {
  it("every audited action writes who, what, which target and from where", async () => {
    const w = await world();
    as(w.members.owner);
    for (const call of calls) expect((await call.run(w)).ok, call.name).toBe(true);
    for (const call of destructive) expect((await call.run(w)).ok, call.name).toBe(true);
    const rows = await db.auditLog.findMany({ where: { teamId: w.team.id } });
    expect(new Set(rows.map((row) => row.action))).toEqual(
      new Set([
        "endpoint.create", "endpoint.update", "endpoint.validate", "endpoint.pause", "endpoint.resume", "endpoint.secret_reveal",
        "endpoint.test_send", "delivery.redeliver", "endpoint.delete", "api_key.create", "api_key.revoke",
        "member.invite", "invite.revoke", "member.role_change", "member.remove",
        "endpoint.secret_roll", "endpoint.secret_switch", "endpoint.filter", "endpoint.headers", "team.settings",
      ]),
    );
    for (const row of rows) {
      expect(row).toMatchObject({ actorId: w.members.owner.user.id, actorLabel: w.members.owner.user.email, ip: "198.51.100.7" });
      expect(row.targetType).toBeTruthy();
    }
    // The reveal is on record, but the secret is not.
    const secret = (await webhookActions.revealSecretAction({ endpointId: (await db.webhookEndpoint.findFirstOrThrow({ where: { teamId: w.team.id } })).id })) as { ok: true; data: { secret: string } };
    expect(JSON.stringify(await db.auditLog.findMany({ where: { teamId: w.team.id } }))).not.toContain(secret.data.secret);
  }, 60_000);
});

describe("text PostgreSQL cannot store", () => {
  it("a NUL character in any action's field is refused by name, not answered 'something went wrong', and nothing is written", async () => {
    const { members, team } = await world();
    as(members.owner);
    const refusal = { ok: false, code: "validation", message: "Remove the NUL (\\u0000) character: it cannot be stored." };
    const form = new FormData();
    form.set("name", "key\u0000name");
    expect(await apiKeyActions.createApiKeyAction(form)).toEqual({ ...refusal, fieldErrors: { name: [refusal.message] } });
    expect(await dashboardActions.createTeamAction({ name: "<b>\u0000</b>" })).toEqual({ ...refusal, fieldErrors: { name: [refusal.message] } });
    expect(await webhookActions.createEndpointAction({ url: `${receiver.url}/nul`, description: "a\u0000b" })).toEqual({
      ...refusal,
      fieldErrors: { description: [refusal.message] },
    });
    expect(await db.apiKey.count({ where: { teamId: team.id, name: { startsWith: "key" } } })).toBe(0);
    expect(await db.webhookEndpoint.count({ where: { teamId: team.id, url: `${receiver.url}/nul` } })).toBe(0);
    expect(await db.membership.count({ where: { userId: members.owner.user.id } })).toBe(1);
  });

  it("an unpaired UTF-16 surrogate is refused by name too: it would be stored as U+FFFD", async () => {
    const { members, team } = await world();
    as(members.owner);
    const message = "This text holds a broken character (half of a UTF-16 surrogate pair): retype it.";
    expect(await dashboardActions.createTeamAction({ name: "Team \ud800" })).toEqual({ ok: false, code: "validation", message, fieldErrors: { name: [message] } });
    expect(await webhookActions.createEndpointAction({ url: `${receiver.url}/half`, description: "\udc00" })).toEqual({
      ok: false,
      code: "validation",
      message,
      fieldErrors: { description: [message] },
    });
    expect(await db.webhookEndpoint.count({ where: { teamId: team.id, url: `${receiver.url}/half` } })).toBe(0);
    expect(await db.membership.count({ where: { userId: members.owner.user.id } })).toBe(1);
  });
});

describe("names other people see", () => {
  it("are one line of visible text: a line break, a tab or a text-direction override is refused by field, and nothing is written", async () => {
    const { members, team } = await world();
    as(members.owner);
    const message = "Use one line of visible text: no line breaks, tabs, control characters or text-direction marks.";
    const refused = (field: string) => ({ ok: false, code: "validation", message, fieldErrors: { [field]: [message] } });
    expect(await dashboardActions.createTeamAction({ name: "Ops\nAdmins" })).toEqual(refused("name"));
    const form = new FormData();
    form.set("name", "deploy\u202Egnp.exe");
    expect(await apiKeyActions.createApiKeyAction(form)).toEqual(refused("name"));
    expect(await webhookActions.createEndpointAction({ url: `${receiver.url}/one-line`, description: "a\tb" })).toEqual(refused("description"));
    expect(await db.apiKey.count({ where: { teamId: team.id, name: { startsWith: "deploy" } } })).toBe(0);
    expect(await db.webhookEndpoint.count({ where: { teamId: team.id, url: `${receiver.url}/one-line` } })).toBe(0);
    expect(await db.membership.count({ where: { userId: members.owner.user.id } })).toBe(1);
    const signUp = signUpSchema.safeParse({ name: "Ada\u2066Lovelace", email: "ada@example.test", password: "a-long-enough-password", teamName: "Ops\rTeam" });
    expect(signUp.error?.issues.map((issue) => [issue.path.join("."), issue.message])).toEqual([["name", message], ["teamName", message]]);
    // Surrounding whitespace, a pasted trailing newline among it, is trimmed as before.
    expect(await dashboardActions.createTeamAction({ name: "  Ops team\n" })).toMatchObject({ ok: true });
  });
});

describe("the team's delivery cap", () => {
  it("is read as a plain decimal: 0x10, 1e3 and 0b1 are refused with the field's message and the cap is unchanged", async () => {
    const { members, team } = await world();
    as(members.owner);
    expect(await teamActions.updateTeamSettingsAction({ endpointRateLimitPerMinute: "250" })).toMatchObject({ ok: true });
    const message = "Enter a whole number of deliveries per minute, or leave it empty.";
    for (const value of ["0x10", "1e3", "0b1", "Infinity"]) {
      expect(await teamActions.updateTeamSettingsAction({ endpointRateLimitPerMinute: value })).toMatchObject({
        ok: false,
        code: "validation",
        fieldErrors: { endpointRateLimitPerMinute: [message] },
      });
    }
    expect(await teamActions.updateTeamSettingsAction({ endpointRateLimitPerMinute: "1.5" })).toMatchObject({ fieldErrors: { endpointRateLimitPerMinute: ["Enter a whole number."] } });
    expect(await teamActions.updateTeamSettingsAction({ endpointRateLimitPerMinute: "-1" })).toMatchObject({ fieldErrors: { endpointRateLimitPerMinute: ["Use at least 1."] } });
    expect((await db.team.findUniqueOrThrow({ where: { id: team.id } })).endpointRateLimitPerMinute).toBe(250);
  });
});
