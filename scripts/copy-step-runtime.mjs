// The running step's runtime (a shell script and Python files) is not TypeScript, so the build
// copies it beside the compiled step runner: dist/steps/runtime.
import { cpSync, rmSync } from "node:fs";

rmSync("dist/steps/runtime", { recursive: true, force: true });
cpSync("src/steps/runtime", "dist/steps/runtime", { recursive: true });
