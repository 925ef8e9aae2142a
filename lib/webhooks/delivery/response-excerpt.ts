// What we keep of a receiver's answer. A receiver can send any bytes at all; PostgreSQL
// text holds valid UTF-8 without NUL. So the excerpt is decoded leniently, NUL is
// escaped, and a note at the top says what was changed: the stored row is always
// writable, and a person reading it is never misled.
import { storableText, truncate } from "@/lib/text";

/** Made once: a decoder is stateless between calls that do not stream, and making one per response was a share of every delivery's CPU in a storm. */
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const lenientUtf8 = new TextDecoder("utf-8");

/** Characters of the response body kept on the attempt row. */
export const STORED_EXCERPT_CHARS = 4 * 1024;

/**
 * The stored excerpt of a response body (`bytes` is what was read of it, `totalBytes` how
 * much there was, `encoding` its Content-Encoding). Returns null for an empty body.
 */
export function responseExcerpt(bytes: Buffer, { encoding, truncated }: { encoding?: string; truncated: boolean }): string | null {
  if (bytes.length === 0) return null;
  const notes: string[] = [];
  const contentEncoding = encoding?.trim().toLowerCase();
  if (contentEncoding && contentEncoding !== "identity") {
    // Decoding would let a tiny compressed answer expand without bound: name it, keep nothing.
    return `[mon1tor: ${contentEncoding}-encoded body of ${bytes.length}${truncated ? "+" : ""} bytes, not decoded]`;
  }
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    text = lenientUtf8.decode(bytes);
    // A multi-byte character cut by the read limit is not the receiver's fault.
    if (!truncated || !/^[^\uFFFD]*\uFFFD$/.test(text)) notes.push("invalid UTF-8 replaced with U+FFFD");
  }
  if (text.includes("\u0000")) notes.push("NUL bytes escaped as \\u0000");
  let excerpt = storableText(text);
  excerpt = truncate(excerpt, STORED_EXCERPT_CHARS);
  return notes.length > 0 ? `[mon1tor: ${notes.join("; ")}]\n${excerpt}` : excerpt;
}
