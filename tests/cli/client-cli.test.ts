/** `argo-entrypoint task ...` as a CI job runs it: a subprocess against a running service (local engine). */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import {
  registerPipeline,
  registerProject,
  registerTrainingDataset,
  startListeningService,
  trainingBody,
  type PipelineFixture,
} from "../support/task-fixture.js";
import type { TestService, TestUser } from "../support/test-service.js";

const TSX_LOADER = new URL("../../node_modules/tsx/dist/loader.mjs", import.meta.url).href;
const ENTRY = path.resolve("src/client/main.ts");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  argv: string[];
}

describe("The client CLI", () => {
  let running: { service: TestService; url: string; close(): Promise<void> };
  let service: TestService;
  let user: TestUser;
  let good: PipelineFixture;
  let failing: PipelineFixture;
  let dataset: string;
  const dir = mkdtempSync(path.join(os.tmpdir(), "argo-entrypoint-client-"));

  /** The CLI with the user's credentials in the environment only. */
  const cli = (args: string[], env: Record<string, string> = {}, stdin?: string): Promise<Run> =>
    new Promise((resolve) => {
      const argv = ["--import", TSX_LOADER, ENTRY, ...args];
      const child = execFile(
        process.execPath,
        argv,
        {
          env: {
            PATH: process.env.PATH,
            HOME: dir,
            ARGO_ENTRYPOINT_URL: running.url,
            ARGO_ENTRYPOINT_ACCESS_KEY: user.accessKey,
            ARGO_ENTRYPOINT_SECRET_KEY: user.secretKey,
            ...env,
          },
          timeout: 60_000,
        },
        (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr, argv }),
      );
      if (stdin !== undefined) child.stdin!.end(stdin);
    });
  const bodyFile = (name: string, body: Record<string, unknown>) => {
    const file = path.join(dir, name);
    writeFileSync(file, JSON.stringify(body));
    return file;
  };

  beforeAll(async () => {
    running = await startListeningService({ LOCAL_CONCURRENCY: "2" });
    service = running.service;
    user = await service.user();
    const project = await registerProject(service, user);
    dataset = await registerTrainingDataset(service, user, project.project);
    const pipeline = (program: string) =>
      registerPipeline(service, user, project.application, { type: "training", program, extension: "sh", config: {} });
    good = await pipeline('for i in 1 2 3; do echo "epoch $i"; sleep 0.3; done\ntouch "$OUTPUTS_DIR/$OUTPUT_FILE_NAME"\n');
    failing = await pipeline('echo "boom" >&2\nexit 4\n');
  });

  afterAll(async () => {
    await running.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("When a succeeding task is submitted with --wait, then the CLI exits 0; a failing one exits 1; credentials never appear in its arguments", async () => {
    // The seed's body as a data scientist keeps it, credentials and all: the CLI drops them and uses its own.
    const ok = await cli(["submit", "training", "-f", bodyFile("ok.json", trainingBody(user, good, dataset)), "--wait", "--timeout", "60"]);
    expect({ code: ok.code, stderr: ok.stderr }).toEqual({ code: 0, stderr: expect.stringMatching(/ended success/) });
    expect(ok.stdout.trim()).toMatch(/^[0-9a-f-]{36}$/);
    const bad = await cli(["submit", "training", "-f", bodyFile("bad.json", trainingBody(user, failing, dataset)), "--wait"]);
    expect({ code: bad.code, stderr: bad.stderr }).toEqual({
      code: 1,
      stderr: expect.stringMatching(/ended fail: training: .*exit code 4/),
    });
    for (const run of [ok, bad]) expect(run.argv.join(" ")).not.toContain(user.secretKey);
  });

  test("When tasks are listed with filters, then only the matching ones come, newest first", async () => {
    const all = await cli(["list", "--output", "json"]);
    expect(all.code).toBe(0);
    const tasks = JSON.parse(all.stdout) as Array<{ uid: string; status: string; created_time: string }>;
    expect(tasks.length).toBeGreaterThanOrEqual(2);
    expect(tasks.map((t) => t.created_time)).toEqual([...tasks.map((t) => t.created_time)].sort().reverse());
    const failed = JSON.parse((await cli(["list", "--status", "fail", "--output", "json"])).stdout) as Array<{ status: string }>;
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(failed.every((t) => t.status === "fail")).toBe(true);
    const table = await cli(["list", "--kind", "training", "--limit", "1"]);
    expect(table.stdout.split("\n")[0]).toMatch(/^UID\s+TYPE\s+STATUS/);
    expect(table.stdout.trim().split("\n")).toHaveLength(2);
    expect((await cli(["list", "--status", "done"])).code).toBe(2);
  });

  test("When logs are followed, then the lines come as they are written and the exit code is the task's", async () => {
    const submitted = await cli(["submit", "training", "-f", bodyFile("follow.json", trainingBody(user, good, dataset))]);
    const uid = submitted.stdout.trim();
    const followed = await cli(["logs", uid, "-f", "--step", "training"]);
    expect(followed.code).toBe(0);
    expect(followed.stdout).toBe("epoch 1\nepoch 2\nepoch 3\n");
    const text = await cli(["logs", uid]);
    expect(text.stdout).toContain("==> training <==\nepoch 1\nepoch 2\nepoch 3\n");
  });

  test("When the command, the credential or the task is wrong, then the exit code says which (2, 3, 4); --help exits 0", async () => {
    const help = await cli(["--help"]);
    expect({ code: help.code, usage: help.stdout.includes("submit <preprocessing|training|optimization|evaluation>") }).toEqual({
      code: 0,
      usage: true,
    });
    const unknown = await cli(["frobnicate"]);
    expect({ code: unknown.code, stderr: unknown.stderr }).toEqual({
      code: 2,
      stderr: expect.stringContaining('unknown command "frobnicate"'),
    });
    expect((await cli(["get", "0b6d7d62-3c3c-4c1e-9a1c-7b7b2c1f0e11"])).code).toBe(4);
    expect((await cli(["list"], { ARGO_ENTRYPOINT_SECRET_KEY: "wrong" })).code).toBe(3);
    expect((await cli(["submit", "training"])).code).toBe(2);
  });

  test("When bash completion is loaded, then it completes commands, kinds and options", async () => {
    const script = await cli(["completion", "bash"]);
    expect(script.code).toBe(0);
    const file = path.join(dir, "completion.bash");
    writeFileSync(file, script.stdout);
    const complete = (words: string[]) =>
      new Promise<string>((resolve) =>
        execFile(
          "bash",
          [
            "-c",
            `source ${file}; COMP_WORDS=(${words.map((w) => `"${w}"`).join(" ")}); COMP_CWORD=${words.length - 1}; _argo_entrypoint; echo "\${COMPREPLY[*]}"`,
          ],
          (_error, stdout) => resolve(stdout.trim()),
        ),
      );
    expect(await complete(["argo-entrypoint", "task", "su"])).toBe("submit");
    expect(await complete(["argo-entrypoint", "task", "submit", "tr"])).toBe("training");
    expect(await complete(["argo-entrypoint", "task", "list", "--st"])).toBe("--status");
    expect((await cli(["completion", "fish"])).code).toBe(2);
  });

  test("When login stores a credential, then the profile is readable only by its owner and later commands need no environment", async () => {
    const stored = await cli(["login", "--url", running.url, "--access-key", user.accessKey], {}, `${user.secretKey}\n`);
    expect(stored.code).toBe(0);
    expect(stored.argv.join(" ")).not.toContain(user.secretKey);
    const profile = path.join(dir, ".config", "argo-entrypoint", "credentials.json");
    expect(statSync(profile).mode & 0o777).toBe(0o600);
    const listed = await cli(["list"], { ARGO_ENTRYPOINT_URL: "", ARGO_ENTRYPOINT_ACCESS_KEY: "", ARGO_ENTRYPOINT_SECRET_KEY: "" });
    expect(listed.code).toBe(0);
    const refused = await cli(["login", "--url", running.url, "--access-key", user.accessKey], {}, "not-the-secret\n");
    expect(refused.code).toBe(3);
  });
});
