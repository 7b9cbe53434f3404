import { existsSync } from "node:fs";
import { copyFile, cp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const STEP_RUNNER_FILE = "step-runner.mjs";
/** The running step's script, the KFP runner and the Python stand-ins (src/steps/runtime). */
export const PROGRAM_RUNTIME_DIR = "runtime";

/**
 * Puts the built-in step program and the running step's runtime in `dir`, the one directory of
 * this service a sandboxed step can see: the compiled `dist/steps/step-runner.js` after a build,
 * or, from source, the same file transpiled once (it imports only Node's standard library).
 */
export async function installStepRuntime(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const runtime = path.join(dir, PROGRAM_RUNTIME_DIR);
  await rm(runtime, { recursive: true, force: true });
  await cp(fileURLToPath(new URL("../../steps/runtime", import.meta.url)), runtime, { recursive: true });
  const target = path.join(dir, STEP_RUNNER_FILE);
  const compiled = fileURLToPath(new URL("../../steps/step-runner.js", import.meta.url));
  if (existsSync(compiled)) {
    await copyFile(compiled, target);
    return dir;
  }
  const source = fileURLToPath(new URL("../../steps/step-runner.ts", import.meta.url));
  const { default: ts } = await import("typescript");
  const output = ts.transpileModule(await readFile(source, "utf8"), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  await writeFile(target, output.outputText);
  return dir;
}
