// Prisma CLI configuration. The CLI is only used to generate the two clients and to author
// migrations (`npm run db:diff`); the service applies migrations itself at start-up.
// `engine: "js"` keeps every command on the wasm schema engine, so nothing is downloaded.
import path from "node:path";
import { defineConfig } from "prisma/config";
import { PrismaLibSQL } from "@prisma/adapter-libsql";
import { PrismaPg } from "@prisma/adapter-pg";

const url = process.env.DATABASE_URL ?? "file:./data/argo-entrypoint.db";
const postgres = /^postgres(ql)?:/.test(url);

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: postgres ? path.join("prisma", "postgresql", "schema.prisma") : path.join("prisma", "schema.prisma"),
  migrations: { path: postgres ? path.join("prisma", "postgresql", "migrations") : path.join("prisma", "migrations") },
  adapter: async () => (postgres ? new PrismaPg({ connectionString: url }) : new PrismaLibSQL({ url })),
});
