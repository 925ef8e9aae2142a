// @ts-check
const production = process.env.NODE_ENV === "production";

// Next's inline bootstrap scripts need 'unsafe-inline'; 'unsafe-eval' is only for dev's fast refresh.
const csp = [
  "default-src 'self'",
  `script-src 'self' 'unsafe-inline'${production ? "" : " 'unsafe-eval'"}`,
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

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
        headers: [
          { key: "Content-Security-Policy", value: csp },
          { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "X-Frame-Options", value: "DENY" },
          { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=(), payment=(), usb=()" },
        ],
      },
    ];
  },
};

export default nextConfig;
