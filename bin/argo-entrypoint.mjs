#!/usr/bin/env node
// `npx argo-entrypoint ...`: the admin CLI from the compiled build (`npm run build` first).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const compiled = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
if (!existsSync(compiled)) {
  process.stderr.write("argo-entrypoint: run `npm run build` first, or use `npm run cli -- <command>`\n");
  process.exit(1);
}
process.argv[1] = compiled;
await import(compiled);
