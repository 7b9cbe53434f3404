// Writes prisma/postgresql/schema.prisma from the SQLite source schema, so both providers share
// one model definition. Run by `npm run db:schemas` and by postinstall.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";

const source = readFileSync("prisma/schema.prisma", "utf8");
const postgres = source
  .replace('provider = "sqlite"', 'provider = "postgresql"')
  .replace('url      = "file:./unused.db"', 'url      = "postgresql://unused"')
  .replace('output          = "../generated/sqlite"', 'output          = "../../generated/postgresql"');
if (postgres === source || !postgres.includes('"postgresql"') || !postgres.includes("generated/postgresql")) {
  throw new Error("prisma-schemas: the source schema no longer has the expected provider, url or output lines");
}
mkdirSync("prisma/postgresql", { recursive: true });
writeFileSync(
  "prisma/postgresql/schema.prisma",
  "// Generated from prisma/schema.prisma by scripts/prisma-schemas.mjs: do not edit.\n" + postgres,
);
