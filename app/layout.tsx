import type { Metadata } from "next";
import "./globals.css";
import { publicUrl } from "@/lib/env";

export const metadata: Metadata = {
  metadataBase: new URL(publicUrl()),
  title: { default: "mon1tor", template: "%s · mon1tor" },
  description: "Webhook notifications for mon1tor alerts",
  // From public/, rendered by scripts/brand-assets.ts.
  icons: {
    icon: [
      { url: "/favicon.svg", type: "image/svg+xml" },
      { url: "/icon-32.png", sizes: "32x32", type: "image/png" },
      { url: "/icon-192.png", sizes: "192x192", type: "image/png" },
    ],
    apple: "/apple-touch-icon.png",
  },
  openGraph: {
    title: "mon1tor",
    description: "Signed, ordered webhooks for every alert",
    images: [{ url: "/og.png", width: 1200, height: 630, alt: "mon1tor" }],
  },
};

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body className="min-h-screen">{children}</body>
    </html>
  );
}
