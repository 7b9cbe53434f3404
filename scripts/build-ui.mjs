// The dashboard: its TypeScript compiled to ES modules the browser loads as they are (no
// bundler), beside its page and stylesheet, into dist/ui (served at /ui).
import { execFileSync } from "node:child_process";
import { cpSync, rmSync } from "node:fs";
import { createRequire } from "node:module";

const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
rmSync("dist/ui", { recursive: true, force: true });
execFileSync(process.execPath, [tsc, "-p", "ui/tsconfig.json"], { stdio: "inherit" });
cpSync("ui/static", "dist/ui", { recursive: true });
