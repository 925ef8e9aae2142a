// Every server action, fuzzed (fast-check) the way a crafted request can call it: random JSON,
// wrong types, huge strings, deep nesting, NUL and broken surrogates, as objects and as
// FormData, with real ids of the caller's team mixed in so the inputs get past "not found".
// No call may throw or answer "internal" (the UI's 500), and a refused call changes no row.
// Next's request context (session, cookies, headers) is simulated; everything below it is real.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

const request = vi.hoisted(() => ({ userId: null as string | null, teamId: null as string | null }));
vi.mock("next-auth", async (importOriginal) => ({
  ...(await importOriginal<typeof import("next-auth")>()),
  getServerSession: async () => (request.userId ? { user: { id: request.userId } } : null),
}));
vi.mock("next/headers", () => ({
  cookies: async () => ({
    get: (name: string) => (name === "mon1tor-team" && request.teamId ? { name, value: request.teamId } : undefined),
    set: () => {},
  }),
  headers: async () => new Headers(),
}));
vi.mock("next/cache", () => ({ revalidatePath: () => {} }));
vi.mock("next/server", async (importOriginal) => ({
  ...(await importOriginal<typeof import("next/server")>()),
  after: (task: () => unknown) => void Promise.resolve().then(task),
}));

import fc from "fast-check";
import * as authActions from "@/app/(auth)/actions";
import * as dashboardActions from "@/app/(dashboard)/actions";
import * as apiKeyActions from "@/app/(dashboard)/settings/api-keys/actions";
import * as webhookActions from "@/app/(dashboard)/settings/webhooks/actions";
import * as teamActions from "@/app/(dashboard)/settings/team/actions";
import type { ActionInput, ActionResult } from "@/lib/actions/define-action";
import { ingestAlert } from "@/lib/alerts/ingest";
import { db } from "@/lib/db";
import { createActiveEndpoint, createMember } from "@/lib/testing/factories";
import { startReceiver, type Receiver } from "@/lib/testing/receiver";

type Action = (input: ActionInput) => Promise<ActionResult<unknown>>;
const actions = (Object.entries({ ...authActions, ...dashboardActions, ...apiKeyActions, ...webhookActions, ...teamActions }) as [string, unknown][]).filter(
  (entry): entry is [string, Action] => typeof entry[1] === "function" && entry[0].endsWith("Action"),
);

let receiver: Receiver;
let ids: { endpointId: string; deliveryId: string; teamId: string; membershipId: string };
beforeAll(async () => {
  receiver = await startReceiver(() => ({ status: 204 }));
  const owner = await createMember("owner");
  const member = await createMember("member", owner.team);
  const { endpoint } = await createActiveEndpoint(owner.team.id, `${receiver.url}/fuzz`);
  const accepted = await db.$transaction((tx) => ingestAlert(tx, owner.team, { title: "fuzz", severity: "info", status: "triggered" }));
  const membership = await db.membership.findFirstOrThrow({ where: { teamId: owner.team.id, userId: member.user.id } });
  ids = { endpointId: endpoint.id, deliveryId: accepted.deliveryIds[0]!, teamId: owner.team.id, membershipId: membership.id };
  request.userId = owner.user.id;
  request.teamId = owner.team.id;
});
afterAll(() => receiver.close());

// The names the actions' schemas read, so random values reach the schemas' own rules.
const FIELDS = [
  "endpointId", "deliveryId", "membershipId", "inviteId", "apiKeyId", "teamId", "url", "description", "name", "role",
  "email", "password", "team", "token", "overlap", "backlog", "which", "received", "computed", "header", "value",
  "severities", "types", "monitorIds", "maxDeliveriesPerMinute", "skipOutdatedStates", "deliveriesPerMinute",
];

const nasty = fc.constantFrom("", " ", "\u0000", "\ud800", "\u202e", "a".repeat(300_000), "0x10", "-1", "1e400", "NaN", "__proto__", "constructor", "https://127.0.0.1/", "javascript:alert(1)");
const deep = fc.integer({ min: 1, max: 3_000 }).map((depth) => {
  let value: unknown = "x";
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
  return value;
});
const value = fc.oneof(fc.string(), fc.string({ unit: "binary" }), nasty, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.jsonValue(), deep, fc.array(fc.string(), { maxLength: 5 }));
const realId = () => fc.constantFrom(ids.endpointId, ids.deliveryId, ids.teamId, ids.membershipId);
const fields = () => fc.dictionary(fc.constantFrom(...FIELDS), fc.oneof(value, realId()), { maxKeys: 6 });
const input = () =>
  fc.oneof(
    fields(),
    fields().map((entries) => {
      const form = new FormData();
      for (const [name, entry] of Object.entries(entries)) form.append(name, typeof entry === "string" ? entry : JSON.stringify(entry) ?? "");
      return form;
    }),
    fc.anything({ maxDepth: 4 }),
  );

const counts = async () => {
  const [teams, memberships, endpoints, deliveries, apiKeys, invites, alerts] = await Promise.all([
    db.team.count(), db.membership.count(), db.webhookEndpoint.count(), db.delivery.count(), db.apiKey.count(), db.invite.count(), db.alert.count(),
  ]);
  return { teams, memberships, endpoints, deliveries, apiKeys, invites, alerts };
};

describe("server actions under random input", () => {
  it("finds every action", () => {
    expect(actions.length).toBeGreaterThanOrEqual(25);
  });

  // Found by this fuzz (seed -3026909): 1,000 levels of {"a": [...]} overflowed the stack in
  // the NUL/surrogate check and answered "Something went wrong on our side".
  it("an input nested 10,000 levels deep is refused by field, not an internal error", async () => {
    let deepValue: unknown = "x";
    for (let i = 0; i < 10_000; i++) deepValue = i % 2 ? [deepValue] : { a: deepValue };
    const result = await webhookActions.updateEndpointAction({ endpointId: deepValue } as ActionInput);
    expect(result).toMatchObject({ ok: false, code: "validation", fieldErrors: { "endpointId.0": [expect.stringMatching(/nested more than 16 levels/)] } });
  });

  it.each(actions.map(([name, action]) => [name, action] as const))("%s: never throws, never 'internal', and a refusal writes nothing", async (_name, action) => {
    await fc.assert(
      fc.asyncProperty(input(), async (fuzzed) => {
        const before = await counts();
        const result = await action(fuzzed as ActionInput);
        expect(result.ok === false ? result.code : "ok").not.toBe("internal");
        if (!result.ok) {
          expect(typeof result.message).toBe("string");
          expect(await counts()).toEqual(before);
        }
      }),
      { numRuns: 25 },
    );
  }, 120_000);
});
