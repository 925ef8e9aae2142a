// The verification snippets we publish must accept our signature and reject a forgery.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generateSecret } from "@/lib/webhooks/endpoints/secret";
import { serializeEnvelope } from "@/lib/webhooks/delivery/envelope";
import { deliveryHeaders, mon1torSignature } from "@/lib/webhooks/delivery/sign";
import { verifySnippets } from "@/lib/webhooks/endpoints/verify-snippets";

const secret = generateSecret();
const body = JSON.stringify({ id: "evt_1", type: "alert.triggered", data: { alert: { title: "Ünïcødé ✓" } } });
const good = mon1torSignature(secret, body);
const bad = good.replace(/.$/, (c) => (c === "0" ? "1" : "0"));
/** A fresh and a three-day-old event, each signed as we sign them. */
function replayCase() {
  const event = (id: string, createdAt: Date) =>
    serializeEnvelope({ id, type: "alert.triggered", createdAt, team: { id: "t", name: "T" }, alert: { id: "a", title: "x" } as never });
  const fresh = event("evt_fresh", new Date());
  const stale = event("evt_stale", new Date(Date.now() - 3 * 24 * 3600 * 1000));
  return [fresh, mon1torSignature(secret, fresh), stale, mon1torSignature(secret, stale), secret];
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mon1tor-snippets-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("verification snippets", () => {
  it("Node: accepts our signature, rejects a wrong one", () => {
    const file = path.join(dir, "verify.mjs");
    fs.writeFileSync(
      file,
      `${verifySnippets.node}
const [body, good, bad, secret] = JSON.parse(process.argv[2]);
console.log(JSON.stringify([verifyMon1torSignature(Buffer.from(body), good, secret), verifyMon1torSignature(Buffer.from(body), bad, secret), verifyMon1torSignature(Buffer.from(body), undefined, secret)]));`,
    );
    const out = execFileSync(process.execPath, [file, JSON.stringify([body, good, bad, secret])], { encoding: "utf8" });
    expect(JSON.parse(out)).toEqual([true, false, false]);
  });

  it("Python (python3): accepts our signature, rejects a wrong one", () => {
    const file = path.join(dir, "verify.py");
    fs.writeFileSync(
      file,
      `${verifySnippets.python}

import json, sys
body, good, bad, secret = json.loads(sys.argv[1])
raw = body.encode()
print(json.dumps([verify_mon1tor_signature(raw, good, secret), verify_mon1tor_signature(raw, bad, secret), verify_mon1tor_signature(raw, "", secret)]))
`,
    );
    const out = execFileSync("python3", [file, JSON.stringify([body, good, bad, secret])], { encoding: "utf8" });
    expect(JSON.parse(out)).toEqual([true, false, false]);
  });

  it("Node: replay protection accepts a fresh event once, then refuses the replay, a stale event and a forgery", () => {
    const file = path.join(dir, "replay.mjs");
    fs.writeFileSync(
      file,
      `${verifySnippets.node}
${verifySnippets.nodeReplay}
const [fresh, freshSig, stale, staleSig, secret] = JSON.parse(process.argv[2]);
const seen = new Set();
console.log(JSON.stringify([
  acceptMon1torWebhook(Buffer.from(fresh), freshSig, secret, seen).ok,
  acceptMon1torWebhook(Buffer.from(fresh), freshSig, secret, seen).reason,
  acceptMon1torWebhook(Buffer.from(stale), staleSig, secret, seen).reason,
  acceptMon1torWebhook(Buffer.from(fresh.replace("alert", "alarm")), freshSig, secret, seen).reason,
]));`,
    );
    const out = execFileSync(process.execPath, [file, JSON.stringify(replayCase())], { encoding: "utf8" });
    expect(JSON.parse(out)).toEqual([true, "duplicate", "stale", "bad signature"]);
  });

  it("Python: replay protection accepts a fresh event once, then refuses the replay, a stale event and a forgery", () => {
    const file = path.join(dir, "replay.py");
    fs.writeFileSync(
      file,
      `${verifySnippets.python}

${verifySnippets.pythonReplay}

import sys
fresh, fresh_sig, stale, stale_sig, secret = json.loads(sys.argv[1])
seen = set()
print(json.dumps([
    accept_mon1tor_webhook(fresh.encode(), fresh_sig, secret, seen)[0],
    accept_mon1tor_webhook(fresh.encode(), fresh_sig, secret, seen)[1],
    accept_mon1tor_webhook(stale.encode(), stale_sig, secret, seen)[1],
    accept_mon1tor_webhook(fresh.replace("alert", "alarm").encode(), fresh_sig, secret, seen)[1],
]))
`,
    );
    const out = execFileSync("python3", [file, JSON.stringify(replayCase())], { encoding: "utf8" });
    expect(JSON.parse(out)).toEqual([true, "duplicate", "stale", "bad signature"]);
  });

  it("after a roll, receivers holding only the old or only the new secret both verify (Node and Python)", () => {
    const oldSecret = generateSecret();
    const newSecret = generateSecret();
    const headers = deliveryHeaders(newSecret, "msg_1", 1_800_000_000, body, { previousSecret: oldSecret });
    const stranger = generateSecret();
    const node = path.join(dir, "rolled.mjs");
    fs.writeFileSync(
      node,
      `${verifySnippets.node}
${verifySnippets.nodeRolled}
const [body, headers, secrets] = JSON.parse(process.argv[2]);
console.log(JSON.stringify(secrets.map((secret) => verifyEitherHeader(Buffer.from(body), headers, secret))));`,
    );
    const python = path.join(dir, "rolled.py");
    fs.writeFileSync(
      python,
      `${verifySnippets.python}

${verifySnippets.pythonRolled}

import json, sys
body, headers, secrets = json.loads(sys.argv[1])
print(json.dumps([verify_either_header(body.encode(), headers, secret) for secret in secrets]))
`,
    );
    const args = JSON.stringify([body, headers, [oldSecret, newSecret, stranger]]);
    expect(JSON.parse(execFileSync(process.execPath, [node, args], { encoding: "utf8" }))).toEqual([true, true, false]);
    expect(JSON.parse(execFileSync("python3", [python, args], { encoding: "utf8" }))).toEqual([true, true, false]);
  });

  it("the receivers' guide (docs/receivers.md, linked from the README) shows every snippet exactly as tested here", () => {
    const readme = fs.readFileSync(path.resolve("docs/receivers.md"), "utf8") + fs.readFileSync(path.resolve("docs/endpoints.md"), "utf8");
    // As a block of its own, or indented under a list item.
    const indented = (text: string) => text.split("\n").map((line) => (line ? `  ${line}` : line)).join("\n");
    for (const [name, snippet] of Object.entries(verifySnippets)) expect(readme.includes(snippet) || readme.includes(indented(snippet)), name).toBe(true);
  });

  it("Go: the snippet uses the same construction (not compiled here: no Go toolchain is assumed)", () => {
    expect(verifySnippets.go).toContain("hmac.New(sha256.New, []byte(secret))");
    expect(verifySnippets.go).toContain("hex.EncodeToString");
    expect(verifySnippets.go).toContain("hmac.Equal");
  });
});
