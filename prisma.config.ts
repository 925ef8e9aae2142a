import path from "node:path";
import { defineConfig } from "prisma/config";
import { PrismaPg } from "@prisma/adapter-pg";

// The CLI needs a URL even for `generate`, or it tries to download a native engine.
process.env.DATABASE_URL ??= "postgresql://postgres@127.0.0.1:5433/mon1tor";

export default defineConfig({
  schema: path.join("prisma", "schema.prisma"),
  experimental: { adapter: true },
  engine: "js",
  // A short idle timeout lets each CLI command exit as soon as it is done.
  adapter: async () => new PrismaPg({ connectionString: process.env.DATABASE_URL, idleTimeoutMillis: 500 }),
});
