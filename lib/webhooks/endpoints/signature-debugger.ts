// "My signature check fails": checks, step by step, what a receiver got against what we
// sent and the secrets we hold, and names the first thing that differs. Runs on the
// server; no secret goes to the browser and nothing pasted is stored.
import crypto from "node:crypto";
import { z } from "zod";
import type { TeamContext } from "@/lib/auth/context";
import { decrypt } from "@/lib/crypto/encryption";
import { db } from "@/lib/db";
import { findEndpoint } from "@/lib/webhooks/endpoints/lifecycle";
import { livePreviousSecret, secretKeyBytes } from "@/lib/webhooks/endpoints/secret";
import { deliveryHeaders, mon1torSignature, NEXT_SIGNATURE_HEADER, SIGNATURE_HEADER, standardSignature } from "@/lib/webhooks/delivery/sign";

export const TIMESTAMP_TOLERANCE_SECONDS = 5 * 60;

export const debugSignatureSchema = z
  .object({
    endpointId: z.string().min(1).max(64),
    deliveryId: z.string().max(64).optional().transform((v) => v || undefined),
    received: z.string().max(200_000, "Paste at most 200 KB.").optional().transform((v) => v || undefined),
    computed: z.string().trim().max(200).optional().transform((v) => v || undefined),
  })
  .refine((input) => input.deliveryId || input.received, { message: "Pick a recent delivery or paste what your receiver got.", path: ["received"] });

export type DebugStep = { title: string; ok: boolean; detail: string };
export type DebugReport = { steps: DebugStep[]; verdict: string };

type Received = { headers: Map<string, string>; body: string };

/** Headers then a blank line then the body, or a curl command with -H and -d/--data-raw. */
export function parseReceived(text: string): Received {
  const headers = new Map<string, string>();
  if (/^\s*curl\s/.test(text) || /(^|\s)(-H|--header)\s/.test(text)) {
    const quoted = String.raw`'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"`;
    for (const match of text.matchAll(new RegExp(String.raw`(?:-H|--header)\s+(?:${quoted})`, "g"))) {
      const line = match[1] ?? match[2] ?? "";
      const colon = line.indexOf(":");
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const data = new RegExp(String.raw`(?:-d|--data|--data-raw|--data-binary)\s+(?:${quoted})`).exec(text);
    return { headers, body: (data?.[1] ?? data?.[2] ?? "").replace(/\\'/g, "'").replace(/\\"/g, '"') };
  }
  const split = /\r?\n\r?\n/.exec(text);
  const head = split ? text.slice(0, split.index) : text;
  for (const line of head.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0 && !/^(POST|GET|HTTP)\b/.test(line)) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body: split ? text.slice(split.index + split[0].length) : "" };
}

const hmac = (key: string | Buffer, body: string) => crypto.createHmac("sha256", key).update(body);

/** JSON with object keys sorted, to tell "same data" from "other data". */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : v,
  );

/** What about `received` differs from `sent`, in the words a developer needs; null if identical. */
export function bodyDifference(received: string, sent: string): string | null {
  if (received === sent) return null;
  if (received.replace(/\r?\n$/, "") === sent) return "it ends with a newline we did not send (an editor, a logger or your framework added it)";
  if (received.charCodeAt(0) === 0xfeff && received.slice(1) === sent) return "it starts with a byte order mark (BOM) we did not send";
  if (received.includes("\r\n") && received.replace(/\r\n/g, "\n") === sent) return "its line endings were changed to CRLF";
  if (Buffer.from(received, "latin1").toString("utf8") === sent || Buffer.from(sent, "utf8").toString("latin1") === received) {
    return "it was decoded with the wrong character encoding (Latin-1 instead of UTF-8): read the raw bytes";
  }
  try {
    const parsed: unknown = JSON.parse(received);
    const crlf = received.includes("\r\n") ? ", with CRLF line endings" : "";
    if (JSON.stringify(parsed) === sent) return `it is the same JSON re-serialized with other whitespace (pretty-printed?${crlf}): sign the raw bytes, before JSON.parse`;
    if (canonical(parsed) === canonical(JSON.parse(sent))) {
      return "it is the same data re-serialized (key order or escaping changed): sign the raw bytes, before JSON.parse";
    }
  } catch {
    // not JSON at all: fall through
  }
  let at = 0;
  while (at < received.length && received[at] === sent[at]) at++;
  return `it differs from what we sent from character ${at + 1} on`;
}

export async function debugSignature(context: TeamContext, input: z.output<typeof debugSignatureSchema>): Promise<DebugReport> {
  const endpoint = await findEndpoint(context.team.id, input.endpointId);
  const current = decrypt(endpoint.secretCiphertext);
  const previousCiphertext = livePreviousSecret(endpoint);
  const previous = previousCiphertext ? decrypt(previousCiphertext) : null;
  const steps: DebugStep[] = [];
  const fail = (title: string, detail: string): DebugReport => {
    steps.push({ title, ok: false, detail });
    return { steps, verdict: `${title}: ${detail}` };
  };
  const pass = (title: string, detail: string) => steps.push({ title, ok: true, detail });

  // 1. What the receiver got.
  let received: Received;
  let deliveryId = input.deliveryId;
  if (input.received) {
    received = parseReceived(input.received);
    deliveryId = received.headers.get("webhook-id") ?? deliveryId;
  } else {
    const delivery = await db.delivery.findFirst({ where: { id: deliveryId, teamId: context.team.id, endpointId: endpoint.id }, include: { event: true, attemptLog: { orderBy: { number: "desc" }, take: 1 } } });
    if (!delivery) return fail("Delivery", "That delivery does not exist for this endpoint.");
    const timestamp = Math.floor((delivery.attemptLog[0]?.startedAt ?? delivery.createdAt).getTime() / 1000);
    // Exactly what an attempt now would carry.
    received = { body: delivery.event.body, headers: new Map(Object.entries(deliveryHeaders(current, delivery.id, timestamp, delivery.event.body, { previousSecret: previous }))) };
  }

  // 2. The header: present and well-formed.
  const header = received.headers.get(SIGNATURE_HEADER);
  if (header === undefined) {
    return fail("Signature header", `there is no ${SIGNATURE_HEADER} header in what you pasted. Paste the headers exactly as your receiver got them: a proxy in front of it may strip them.`);
  }
  if (/^[0-9A-F]{64}$/.test(header) && /[A-F]/.test(header)) return fail("Signature header", "it is upper-case hex; we send lower-case hex. Something between us and your code changed it.");
  if (!/^[0-9a-f]{64}$/.test(header)) {
    return fail("Signature header", /^[A-Za-z0-9+/]{43}=$/.test(header) ? "it looks like base64; we send 64 lower-case hex characters." : "it is not 64 lower-case hex characters, so it is not one we sent.");
  }
  pass("Signature header", `${SIGNATURE_HEADER} is present and well-formed (64 lower-case hex characters).`);

  // 3. The body, byte for byte, against what we sent.
  const delivery = deliveryId
    ? await db.delivery.findFirst({ where: { id: deliveryId, teamId: context.team.id }, include: { event: true, endpoint: { select: { url: true } } } })
    : null;
  const sent = delivery?.event.body ?? null;
  if (sent === null) {
    pass("Body", "no webhook-id we know was pasted, so the body cannot be compared with what we sent; the next checks use the body as pasted.");
  } else {
    const difference = bodyDifference(received.body, sent);
    if (difference) return fail("Body", `the body is not byte-identical to what we sent for ${delivery!.id}: ${difference}.`);
    pass("Body", `byte-identical to what we sent for delivery ${delivery!.id}.`);
  }
  const body = sent ?? received.body;

  // 4. Which secret the header was made with.
  const others = await db.webhookEndpoint.findMany({ where: { teamId: context.team.id, id: { not: endpoint.id } }, select: { url: true, secretCiphertext: true } });
  const matches = (secret: string) => mon1torSignature(secret, body) === header;
  if (matches(current)) {
    pass("Secret", "the header is valid for this body with this endpoint's current secret.");
  } else if (previous && matches(previous)) {
    pass("Secret", `the header is valid with this endpoint's previous secret, which signs ${SIGNATURE_HEADER} until the overlap ends; the new secret signs ${NEXT_SIGNATURE_HEADER}.`);
  } else {
    const other = others.find((o) => matches(decrypt(o.secretCiphertext)));
    if (other) return fail("Secret", `the header was made with the secret of another endpoint of this team (${other.url}): this request was sent there.`);
    return fail("Secret", "the header matches none of this endpoint's secrets for this body: the secret was rolled since, or the body was changed.");
  }

  // 5. The receiver's own computation, when given.
  if (input.computed) {
    const computed = input.computed.replace(/^sha256=/, "");
    const keyBytes = secretKeyBytes(current);
    const variants: [boolean, string][] = [
      [computed === header, ""],
      [computed.toLowerCase() === header, "you compare upper-case hex: compare lower-case"],
      [computed === hmac(current, body).digest("base64"), "you encoded the HMAC as base64; this header is hex"],
      [computed === hmac(keyBytes, body).digest("hex") || computed === hmac(keyBytes, body).digest("base64"), "you keyed the HMAC with the base64-decoded secret; x-mon1tor-sha256-wh is keyed with the whole secret string, whsec_ included, as UTF-8 (the decoded key is for webhook-signature)"],
      [previous !== null && computed === mon1torSignature(previous, body), "you used the previous secret; it was rolled, so compare with the new one (or check both headers during the overlap)"],
      [computed === hmac(current, `${body}\n`).digest("hex"), "you signed the body with a trailing newline added"],
      [(() => { try { return computed === hmac(current, JSON.stringify(JSON.parse(body), null, 2)).digest("hex"); } catch { return false; } })(), "you signed a re-serialized (pretty-printed) body; sign the raw bytes, before JSON.parse"],
      [sent !== null && received.body !== sent && computed === hmac(current, received.body).digest("hex"), "your computation is right, but over a body that differs from what we sent"],
    ];
    const other = others.find((o) => computed === mon1torSignature(decrypt(o.secretCiphertext), body));
    if (other) return fail("Your computation", `you used the secret of another endpoint (${other.url}).`);
    const hit = variants.findIndex(([match]) => match);
    if (hit === 0) pass("Your computation", "your value equals the header: compare the two whole strings, in constant time, and check what your code does with the result.");
    else if (hit > 0) return fail("Your computation", `${variants[hit]![1]}.`);
    else return fail("Your computation", "your value matches none of the usual mistakes: check that the secret is exactly the revealed one and that you sign the raw body.");
  }

  // 6. The Standard Webhooks timestamp and signature, when present.
  const timestamp = received.headers.get("webhook-timestamp");
  if (timestamp !== undefined) {
    const age = Math.floor(Date.now() / 1000) - Number(timestamp);
    if (!Number.isFinite(age)) return fail("Timestamp", "webhook-timestamp is not a number of seconds.");
    if (Math.abs(age) > TIMESTAMP_TOLERANCE_SECONDS) {
      return fail("Timestamp", `webhook-timestamp is ${Math.round(Math.abs(age) / 60)} minutes ${age > 0 ? "old" : "in the future"}: outside the ${TIMESTAMP_TOLERANCE_SECONDS / 60}-minute tolerance, so Standard Webhooks libraries reject it (a stale replay, or a clock that is off).`);
    }
    const id = received.headers.get("webhook-id") ?? "";
    const given = (received.headers.get("webhook-signature") ?? "").split(" ");
    const valid = [current, ...(previous ? [previous] : [])].some((key) => given.includes(standardSignature(key, id, Number(timestamp), body)));
    if (!valid) return fail("webhook-signature", "no v1 signature in it matches this body, webhook-id and webhook-timestamp with this endpoint's secrets.");
    pass("Timestamp", `webhook-timestamp is within the ${TIMESTAMP_TOLERANCE_SECONDS / 60}-minute tolerance and webhook-signature is valid.`);
  }
  return { steps, verdict: "Everything we sent checks out. If your code still rejects it, compute over the raw body before parsing, key with the whole secret string, hex-encode, and compare in constant time." };
}
