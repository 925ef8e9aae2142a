import { z } from "zod";

export const MAX_URL_LENGTH = 2048;

function parseEndpointUrl(input: string): { ok: true; url: URL } | { ok: false; message: string } {
  const value = input.trim();
  if (!value) return { ok: false, message: "Enter the URL of your webhook endpoint." };
  if (value.length > MAX_URL_LENGTH) {
    return { ok: false, message: `The URL is too long: at most ${MAX_URL_LENGTH.toLocaleString("en")} characters.` };
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { ok: false, message: "Enter a valid URL, such as https://www.example.com/webhook/mon1tor." };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { ok: false, message: `The ${url.protocol} scheme is not allowed: use an http:// or https:// URL.` };
  }
  if (url.username || url.password) {
    return { ok: false, message: "Remove the username and password from the URL: mon1tor signs each request instead." };
  }
  if (url.hash || value.includes("#")) {
    return { ok: false, message: "Remove the #fragment: browsers keep it and servers never receive it." };
  }
  if (!url.hostname) return { ok: false, message: "The URL needs a host name." };
  if (url.href.length > MAX_URL_LENGTH) {
    return { ok: false, message: `The URL is too long: at most ${MAX_URL_LENGTH.toLocaleString("en")} characters.` };
  }
  return { ok: true, url };
}

/** An endpoint URL as stored: parsed, normalized (punycode host, lowercase), http(s) only. */
export const endpointUrlSchema = z.string({ error: "Enter the URL of your webhook endpoint." }).transform((value, ctx) => {
  const result = parseEndpointUrl(value);
  if (!result.ok) {
    ctx.addIssue({ code: "custom", message: result.message });
    return z.NEVER;
  }
  return result.url.href;
});

/** The validation URL: the token appended as one more path segment, before any query. */
export function withTokenSegment(endpointUrl: string, token: string): string {
  const url = new URL(endpointUrl);
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/${encodeURIComponent(token)}`;
  return url.href;
}
