import { describe, expect, it } from "vitest";
import { endpointUrlSchema, withTokenSegment } from "@/lib/webhooks/endpoints/url";

describe("withTokenSegment", () => {
  it.each([
    ["https://www.example.com/webhook/mon1tor", "https://www.example.com/webhook/mon1tor/123456789"],
    ["https://www.example.com/webhook/mon1tor/", "https://www.example.com/webhook/mon1tor/123456789"],
    ["https://www.example.com/webhook/mon1tor//", "https://www.example.com/webhook/mon1tor/123456789"],
    ["https://www.example.com", "https://www.example.com/123456789"],
    ["https://www.example.com/hook?team=a&x=1", "https://www.example.com/hook/123456789?team=a&x=1"],
    ["https://www.example.com/hook/?team=a", "https://www.example.com/hook/123456789?team=a"],
    ["https://www.example.com/caf%C3%A9/hook", "https://www.example.com/caf%C3%A9/hook/123456789"],
    ["http://127.0.0.1:8080/a%2Fb", "http://127.0.0.1:8080/a%2Fb/123456789"],
  ])("%s → %s", (url, expected) => {
    expect(withTokenSegment(url, "123456789")).toBe(expected);
  });

  it("keeps an IDN host in its punycode form", () => {
    const stored = endpointUrlSchema.parse("https://bücher.example/hook");
    expect(stored).toBe("https://xn--bcher-kva.example/hook");
    expect(withTokenSegment(stored, "tok")).toBe("https://xn--bcher-kva.example/hook/tok");
  });
});

describe("endpointUrlSchema", () => {
  const message = (input: string) => {
    const result = endpointUrlSchema.safeParse(input);
    return result.success ? null : result.error.issues[0]!.message;
  };

  it("accepts http and https URLs and normalizes them", () => {
    expect(endpointUrlSchema.parse("  HTTPS://WWW.Example.com/webhook/mon1tor ")).toBe("https://www.example.com/webhook/mon1tor");
    expect(endpointUrlSchema.parse("http://127.0.0.1:3000/x")).toBe("http://127.0.0.1:3000/x");
  });

  it.each([
    ["", "Enter the URL of your webhook endpoint."],
    ["   ", "Enter the URL of your webhook endpoint."],
    ["not a url", "Enter a valid URL, such as https://www.example.com/webhook/mon1tor."],
    ["javascript:alert(1)", "The javascript: scheme is not allowed: use an http:// or https:// URL."],
    ["file:///etc/passwd", "The file: scheme is not allowed: use an http:// or https:// URL."],
    ["ftp://example.com/x", "The ftp: scheme is not allowed: use an http:// or https:// URL."],
    ["https://user:pass@example.com/x", "Remove the username and password from the URL: mon1tor signs each request instead."],
    ["https://user@example.com/x", "Remove the username and password from the URL: mon1tor signs each request instead."],
    ["https://example.com/x#frag", "Remove the #fragment: browsers keep it and servers never receive it."],
    [`https://example.com/${"a".repeat(2040)}`, "The URL is too long: at most 2,048 characters."],
  ])("refuses %j", (input, expected) => {
    expect(message(input)).toBe(expected);
  });

  it("accepts a URL of exactly 2,048 characters", () => {
    const url = `https://example.com/${"a".repeat(2048 - "https://example.com/".length)}`;
    expect(url).toHaveLength(2048);
    expect(endpointUrlSchema.parse(url)).toBe(url);
  });
});
