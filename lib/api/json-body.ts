import "server-only";
import { frontBodyOf } from "@/lib/api/front";
import { AppError } from "@/lib/errors";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * A JSON request body, read with the checks every JSON route shares: `application/json` (415
 * otherwise), no Content-Encoding (415), at most `maxBytes` (413, also when the length is not
 * declared), strict UTF-8 (a byte-order mark is dropped), valid JSON (400). Returns the raw text,
 * for idempotency hashes, and the parsed value.
 */
export async function readJsonBody(request: Request, maxBytes: number, what = "the request"): Promise<{ raw: string; json: unknown }> {
  const contentType = request.headers.get("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(contentType)) {
    throw new AppError("unsupported_media_type", `Send ${what} as JSON with 'Content-Type: application/json'.`);
  }
  const encoding = request.headers.get("content-encoding");
  if (encoding !== null && !/^\s*identity\s*$/i.test(encoding)) {
    throw new AppError("unsupported_media_type", `Content-Encoding '${encoding.slice(0, 40)}' is not supported: send ${what} uncompressed.`);
  }
  const tooLarge = () => new AppError("payload_too_large", `The request body is larger than ${formatSize(maxBytes)}.`);
  if (Number(request.headers.get("content-length") ?? 0) > maxBytes) throw tooLarge();
  const bytes = await bodyBytes(request, maxBytes);
  if (bytes === null) throw tooLarge();
  let raw: string;
  try {
    raw = utf8.decode(bytes);
  } catch {
    throw new AppError("bad_request", "The request body is not valid UTF-8 text.");
  }
  try {
    return { raw, json: JSON.parse(raw) as unknown };
  } catch {
    throw new AppError("bad_request", "The request body is not valid JSON.");
  }
}

/** The body, or null once it passed `maxBytes` (its reading then stops). */
async function bodyBytes(request: Request, maxBytes: number): Promise<Uint8Array | null> {
  // Served in front of Next (lib/api/front.ts): read off the socket, no web stream.
  const front = frontBodyOf(request);
  if (front) return front.read(maxBytes);
  const chunks: Uint8Array[] = [];
  const reader = request.body?.getReader();
  let size = 0;
  for (;;) {
    if (!reader) break;
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

const formatSize = (bytes: number) => (bytes >= 1024 * 1024 ? `${bytes / 1024 / 1024} MB` : `${bytes / 1024} KB`);
