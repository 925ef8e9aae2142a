// @ts-check
// The headers every answer of the app carries, pages and API alike: next.config.js sets them on
// what Next serves, lib/api/front.ts on the alert calls served in front of Next. Plain JavaScript,
// so that next.config.js can import it.

/** @param {boolean} production */
export function securityHeaders(production) {
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
  return [
    { key: "Content-Security-Policy", value: csp },
    { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
    { key: "X-Content-Type-Options", value: "nosniff" },
    { key: "X-Frame-Options", value: "DENY" },
    { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=(), payment=(), usb=()" },
  ];
}
