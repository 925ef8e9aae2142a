// Static headers a team adds to every request to an endpoint (e.g. Authorization for a
// receiver behind an API gateway). Stored encrypted like the secret, masked in the UI,
// never logged. They can never replace what mon1tor itself sends.
import { z } from "zod";
import { decrypt, encrypt } from "@/lib/crypto/encryption";
import { SIGNATURE_HEADER } from "@/lib/webhooks/delivery/sign";

export const MAX_CUSTOM_HEADERS = 5;
export type CustomHeader = { name: string; value: string };

// Ours, or hop-by-hop headers an HTTP client owns: never settable.
const RESERVED = new Set(["content-type", "content-length", "host", "user-agent", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer", "expect"]);

/** Why a header name may not be used, or null when it may. */
export function reservedReason(name: string): string | null {
  const lower = name.toLowerCase();
  if (lower === SIGNATURE_HEADER || lower.startsWith("x-mon1tor-")) return `“${name}” is mon1tor's own signature header and cannot be set.`;
  if (lower.startsWith("webhook-")) return `“${name}” belongs to the Standard Webhooks headers mon1tor sends and cannot be set.`;
  if (lower.startsWith("proxy-") || RESERVED.has(lower)) return `“${name}” is set by mon1tor or its HTTP client and cannot be overridden.`;
  return null;
}

export const customHeaderSchema = z.object({
  name: z
    .string()
    .trim()
    .min(1, "Enter a header name.")
    .max(64, "Use at most 64 characters.")
    .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "A header name uses letters, digits and - only (no spaces or colons).")
    .superRefine((name, context) => {
      const reason = reservedReason(name);
      if (reason) context.addIssue({ code: "custom", message: reason });
    }),
  // Trimmed, as receivers read it. Printable ASCII and tabs only: the HTTP client refuses any
  // other character (every delivery would fail), and a Latin-1 letter goes out as one byte that
  // no UTF-8 reader decodes.
  value: z
    .string()
    .trim()
    .min(1, "Enter a value.")
    .max(1_024, "Use at most 1,024 characters.")
    .superRefine((value, context) => {
      if (/[\r\n]/.test(value)) return context.addIssue({ code: "custom", message: "A header value cannot contain line breaks." });
      const other = /[^\t\x20-\x7e]/u.exec(value)?.[0];
      if (other) context.addIssue({ code: "custom", message: `A header value can use printable ASCII characters only, not ${describeCharacter(other)}.` });
    }),
});

/** A character as a person can read it in a message: control characters by code point. */
function describeCharacter(character: string): string {
  const code = `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
  return /\p{Cc}|\p{Cf}|\p{Z}/u.test(character) ? code : `“${character}” (${code})`;
}

export function readCustomHeaders(ciphertext: string | null): CustomHeader[] {
  return ciphertext ? (JSON.parse(decrypt(ciphertext)) as CustomHeader[]) : [];
}

export function sealCustomHeaders(headers: CustomHeader[]): string | null {
  return headers.length === 0 ? null : encrypt(JSON.stringify(headers));
}

/** Nothing of the value, only its length: a header value may be a credential. */
export const maskValue = (value: string) => `•••••• (${value.length} characters)`;
