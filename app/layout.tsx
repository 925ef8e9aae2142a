import type { Metadata } from "next";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "mon1tor", template: "%s · mon1tor" },
  description: "Webhook notifications for mon1tor alerts",
};

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body className="min-h-screen">{children}</body>
    </html>
  );
}
