#!/usr/bin/env node
// `npx argo-entrypoint task ...`: the client CLI; any other command: the admin CLI. Both run from
// the compiled build (`npm run build` first); the client loads none of the service.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const client = process.argv[2] === "task";
const compiled = fileURLToPath(new URL(client ? "../dist/client/main.js" : "../dist/cli.js", import.meta.url));
if (!existsSync(compiled)) {
  process.stderr.write("argo-entrypoint: run `npm run build` first, or use `npm run cli -- <command>`\n");
  process.exit(client ? 5 : 1);
}
if (client) process.argv.splice(2, 1);
process.argv[1] = compiled;
await import(compiled);
