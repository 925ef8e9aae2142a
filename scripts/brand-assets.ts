// `node --import tsx scripts/brand-assets.ts`: renders public/favicon.svg into the PNG icons
// and the Open Graph image in public/, with the same Chromium the E2E suite uses. Run it
// again when the logo changes; the PNGs are committed.
import fs from "node:fs";
import path from "node:path";
import { chromium } from "@playwright/test";

const svg = fs.readFileSync(path.resolve("public/favicon.svg"), "utf8");
const executablePath = process.env.CHROMIUM_PATH ?? ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((candidate) => fs.existsSync(candidate));
const browser = await chromium.launch({ executablePath });
const render = async (file: string, width: number, height: number, html: string) => {
  const page = await browser.newPage({ viewport: { width, height } });
  await page.setContent(`<html><body style="margin:0">${html}</body></html>`);
  await page.screenshot({ path: path.resolve("public", file), omitBackground: true });
  await page.close();
};
for (const size of [32, 180, 192, 512]) {
  await render(size === 180 ? "apple-touch-icon.png" : `icon-${size}.png`, size, size, svg.replace("<svg ", `<svg width="${size}" height="${size}" `));
}
await render(
  "og.png",
  1200,
  630,
  `<div style="width:1200px;height:630px;background:linear-gradient(135deg,#eef6ff,#fff);display:flex;align-items:center;gap:48px;padding:0 96px;box-sizing:border-box;font-family:sans-serif">
     ${svg.replace("<svg ", '<svg width="220" height="220" ')}
     <div><div style="font-size:88px;font-weight:700;color:#1848ad">mon1tor</div>
     <div style="font-size:40px;color:#334155;margin-top:16px">Signed, ordered webhooks for every alert</div></div>
   </div>`,
);
await browser.close();
console.log("wrote public/icon-32.png, icon-192.png, icon-512.png, apple-touch-icon.png, og.png");
