// The served contract: generated from the code's zod schemas, and the README's examples
// must satisfy it (checked with an independent JSON Schema validator, ajv).
import fs from "node:fs";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { describe, expect, it } from "vitest";
import { GET } from "@/app/api/v1/openapi.json/route";
import { ingestAlert } from "@/lib/alerts/ingest";
import { db } from "@/lib/db";
import { createActiveEndpoint, createTeam } from "@/lib/testing/factories";

async function spec() {
  const response = await GET(new Request("http://localhost/api/v1/openapi.json"));
  expect(response.status).toBe(200);
  return (await response.json()) as {
    openapi: string;
    paths: Record<string, { post: { requestBody: { content: Record<string, { schema: object }> }; responses: Record<string, unknown> } }>;
    webhooks: Record<string, { post: { requestBody: { content: Record<string, { schema: object }> }; parameters: { name: string }[] } }>;
  };
}

const validator = (schema: object) => {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv.compile(schema);
};
const readme = fs.readFileSync("README.md", "utf8");

describe("OpenAPI", () => {
  it("is served as OpenAPI 3.1 with the alert API, mon1tor listen's relay routes and the three webhooks, headers included", async () => {
    const document = await spec();
    expect(document.openapi).toBe("3.1.0");
    expect(Object.keys(document.paths)).toEqual([
      "/api/v1/alerts",
      "/api/v1/alerts/batch",
      "/api/v1/integrations/alertmanager",
      "/api/v1/relays/listen",
      "/api/v1/relays/{relayId}/responses",
    ]);
    expect(Object.keys(document.paths["/api/v1/alerts"]!.post.responses)).toEqual(expect.arrayContaining(["202", "401", "422", "429", "503"]));
    expect(Object.keys(document.webhooks).sort()).toEqual(["alert.resolved", "alert.triggered", "webhook.test"]);
    expect(document.webhooks["alert.triggered"]!.post.parameters.map((p) => p.name)).toEqual(
      expect.arrayContaining(["x-mon1tor-sha256-wh", "webhook-id", "webhook-timestamp", "webhook-signature"]),
    );
    expect(readme).toContain("/api/v1/openapi.json");
  });

  it("the README's curl example and payload example satisfy the spec; a broken one does not", async () => {
    const document = await spec();
    const request = validator(document.paths["/api/v1/alerts"]!.post.requestBody.content["application/json"]!.schema);
    const curlBody = JSON.parse(/-d '(\{.*\})'/.exec(readme)![1]!);
    expect(request(curlBody), JSON.stringify(request.errors)).toBe(true);
    expect(request({ ...curlBody, severity: "apocalyptic" })).toBe(false);
    expect(request({ ...curlBody, unknownField: 1 })).toBe(false);

    const payload = validator(document.webhooks["alert.triggered"]!.post.requestBody.content["application/json"]!.schema);
    const example = JSON.parse(/## What receivers get[\s\S]*?```json\n([\s\S]*?)```/.exec(readme)![1]!);
    expect(payload(example), JSON.stringify(payload.errors)).toBe(true);
    expect(payload({ ...example, data: { alert: { ...example.data.alert, sequence: 0 } } })).toBe(false);
  });

  it("a payload we really send satisfies the webhook schema", async () => {
    const document = await spec();
    const payload = validator(document.webhooks["alert.resolved"]!.post.requestBody.content["application/json"]!.schema);
    const team = await createTeam();
    await createActiveEndpoint(team.id, "https://example.com/spec");
    await db.$transaction((tx) => ingestAlert(tx, team, { title: "disk", severity: "warning", status: "triggered", dedupKey: "d", monitor: { id: "m", name: "M" } }));
    const resolved = await db.$transaction((tx) => ingestAlert(tx, team, { title: "disk", severity: "warning", status: "resolved", dedupKey: "d" }));
    const event = await db.event.findUniqueOrThrow({ where: { id: resolved.eventId! } });
    const body = JSON.parse(event.body);
    expect(payload(body), JSON.stringify(payload.errors)).toBe(true);
    expect(body.data.alert).toMatchObject({ sequence: 2, status: "resolved" });
  });
});
