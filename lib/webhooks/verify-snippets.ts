// How a receiver checks our signatures. Shown on the endpoint page and in the README,
// and executed by lib/webhooks/verify-snippets.test.ts so the docs cannot rot.
export const SIGNATURE_HEADER = "x-mon1tor-sha256-wh";

export const verifySnippets = {
  node: `import crypto from "node:crypto";

// rawBody: the request body exactly as received (Buffer or string), before JSON.parse.
export function verifyMon1torSignature(rawBody, signatureHeader, secret) {
  const expected = crypto.createHmac("sha256", secret).update(rawBody).digest("hex");
  const given = String(signatureHeader ?? "");
  return given.length === expected.length &&
    crypto.timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}`,
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
