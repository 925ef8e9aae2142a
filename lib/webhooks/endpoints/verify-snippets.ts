// How a receiver checks our signatures. Shown on the endpoint page and in docs/receivers.md,
// and executed by lib/webhooks/endpoints/verify-snippets.test.ts so the docs cannot rot.
export const verifySnippets = {
  node: `import crypto from "node:crypto";

// rawBody: the request body exactly as received (Buffer or string), before JSON.parse.
export function verifyMon1torSignature(rawBody, signatureHeader, secret) {
  const expected = crypto.createHmac("sha256", secret).update(rawBody).digest("hex");
  const given = String(signatureHeader ?? "");
  return given.length === expected.length &&
    crypto.timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}`,
  /** Replay protection on top of the mon1tor header (Node). */
  nodeReplay: `// x-mon1tor-sha256-wh signs the body only, so freshness and identity come from the
// signed body: its "createdAt" and its event "id". (webhook-timestamp and webhook-id are
// not covered by this signature; webhook-signature covers them.)
const MAX_AGE_MS = 48 * 3600 * 1000; // longer than mon1tor's retry window (about 28 h)

// seen: the event ids you processed, kept at least MAX_AGE_MS (a Set here; your database in production).
export function acceptMon1torWebhook(rawBody, signatureHeader, secret, seen, now = Date.now()) {
  if (!verifyMon1torSignature(rawBody, signatureHeader, secret)) return { ok: false, reason: "bad signature" };
  const event = JSON.parse(String(rawBody));
  if (!(now - Date.parse(event.createdAt) <= MAX_AGE_MS)) return { ok: false, reason: "stale" };
  // A duplicate is a retry (or a replay) of something you already handled: answer 2xx, do nothing.
  if (seen.has(event.id)) return { ok: false, reason: "duplicate" };
  seen.add(event.id);
  return { ok: true, event };
}`,
  /** Replay protection on top of the mon1tor header (Python). */
  pythonReplay: `import json
import time
from datetime import datetime

MAX_AGE_SECONDS = 48 * 3600  # longer than mon1tor's retry window (about 28 h)

# seen: the event ids you processed, kept at least MAX_AGE_SECONDS (a set here; your database in production).
def accept_mon1tor_webhook(raw_body: bytes, signature_header: str, secret: str, seen: set, now: float = None):
    if not verify_mon1tor_signature(raw_body, signature_header, secret):
        return False, "bad signature"
    event = json.loads(raw_body)
    created = datetime.fromisoformat(event["createdAt"].replace("Z", "+00:00")).timestamp()
    if (now if now is not None else time.time()) - created > MAX_AGE_SECONDS:
        return False, "stale"
    # A duplicate is a retry (or a replay) of something you already handled: answer 2xx, do nothing.
    if event["id"] in seen:
        return False, "duplicate"
    seen.add(event["id"])
    return True, event`,
  /** After a secret roll, a receiver holding the new secret accepts either header (Node). */
  nodeRolled: `// During a roll's overlap x-mon1tor-sha256-wh is signed with the old secret and
// x-mon1tor-sha256-wh-next with the new one; afterwards only the first, with the new.
export function verifyEitherHeader(rawBody, headers, secret) {
  return verifyMon1torSignature(rawBody, headers["x-mon1tor-sha256-wh"], secret) ||
    verifyMon1torSignature(rawBody, headers["x-mon1tor-sha256-wh-next"], secret);
}`,
  /** After a secret roll, a receiver holding the new secret accepts either header (Python). */
  pythonRolled: `# During a roll's overlap x-mon1tor-sha256-wh is signed with the old secret and
# x-mon1tor-sha256-wh-next with the new one; afterwards only the first, with the new.
def verify_either_header(raw_body: bytes, headers: dict, secret: str) -> bool:
    return verify_mon1tor_signature(raw_body, headers.get("x-mon1tor-sha256-wh", ""), secret) or \\
        verify_mon1tor_signature(raw_body, headers.get("x-mon1tor-sha256-wh-next", ""), secret)`,
  python: `import hashlib
import hmac

def verify_mon1tor_signature(raw_body: bytes, signature_header: str, secret: str) -> bool:
    expected = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature_header or "")`,
  go: `import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

func VerifyMon1torSignature(rawBody []byte, signatureHeader, secret string) bool {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(rawBody)
	expected := hex.EncodeToString(mac.Sum(nil))
	return hmac.Equal([]byte(expected), []byte(signatureHeader))
}`,
} as const;
