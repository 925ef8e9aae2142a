// @ts-check
import { securityHeaders } from "./lib/http/security-headers.mjs";

/** @type {import('next').NextConfig} */
const nextConfig = {
  poweredByHeader: false,
  // The dev-mode badge would show up in the README screenshots (scripts/screenshots.ts).
  devIndicators: false,
  // Above every field limit of ours (the signature debugger takes 200 KB): an oversized field
  // then gets its own message from its schema, and the form refuses anything larger before it
  // is sent (components/form.tsx, MAX_FORM_BYTES).
  experimental: { serverActions: { bodySizeLimit: "4mb" } },
  async headers() {
    return [
      {
        source: "/:path*",
        headers: securityHeaders(process.env.NODE_ENV === "production"),
      },
    ];
  },
};

export default nextConfig;
