/**
 * `argo-entrypoint task ...` as a CI job runs it: the compiled build (built here, apart from the
 * repository's dist) started through the package's bin, as a subprocess against a running service
 * on the local engine.
 */
import { execFile, execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { runClientCli } from "../../src/client/cli.js";
import { createTestDatabase } from "../support/test-database.js";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import {
  registerPipeline,
  registerProject,
  registerTrainingDataset,
  example,
  startListeningService,
  trainingBody,
  type PipelineFixture,
} from "../support/task-fixture.js";
import type { TestService, TestUser } from "../support/test-service.js";

/** The package as installed: `bin/argo-entrypoint.mjs` beside the compiled `dist`. */
function buildPackage(into: string): string {
  mkdirSync(into, { recursive: true });
  execFileSync(process.execPath, [
    path.resolve("node_modules/typescript/bin/tsc"),
    "-p",
    "tsconfig.build.json",
    "--outDir",
    path.join(into, "dist"),
  ]);
  mkdirSync(path.join(into, "bin"));
  copyFileSync(path.resolve("bin/argo-entrypoint.mjs"), path.join(into, "bin", "argo-entrypoint.mjs"));
  return path.join(into, "bin", "argo-entrypoint.mjs");
}

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let bin: string;
const packageDir = mkdtempSync(path.join(os.tmpdir(), "argo-entrypoint-package-"));
beforeAll(() => void (bin = buildPackage(packageDir)), 180_000);
afterAll(() => rmSync(packageDir, { recursive: true, force: true }));

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
      const argv = [bin, "task", ...args];
      const child = execFile(
        process.execPath,
        argv,
        {
          cwd: dir,
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
    good = await pipeline('for i in 1 2 3; do echo "epoch $i"; sleep 0.3; done\necho weights > "$OUTPUTS_DIR/$OUTPUT_FILE_NAME"\n');
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
    expect((await cli(["logs", uid, "--step", "training", "--tail", "2"])).stdout).toBe("epoch 2\nepoch 3\n");
    expect((await cli(["logs", uid, "--tail", "many"])).code).toBe(2);
    const submittedAndFollowed = await cli([
      "submit",
      "training",
      "-f",
      bodyFile("follow2.json", trainingBody(user, good, dataset)),
      "--follow",
    ]);
    expect(submittedAndFollowed.code).toBe(0);
    expect(submittedAndFollowed.stdout).toMatch(
      /^[0-9a-f-]{36}\n(.*\n)*\[training\] epoch 1\n\[training\] epoch 2\n\[training\] epoch 3\n/,
    );
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

  test("When a task is shown as a table, then its fields and steps are aligned columns", async () => {
    const submitted = await cli(["submit", "training", "-f", bodyFile("table.json", trainingBody(user, good, dataset)), "--wait"]);
    const shown = await cli(["get", submitted.stdout.trim(), "--output", "table"]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^FIELD\s+VALUE\nUID\s+[0-9a-f-]{36}\n/);
    expect(shown.stdout).toMatch(/\nSTATUS\s+success\n/);
    expect(shown.stdout).toMatch(/\nSTEP\s+PHASE\s+STARTED\s+FINISHED\s+EXIT\s+MESSAGE\n/);
    expect(shown.stdout).toMatch(/\ntraining\s+Succeeded\s/);
  });

  test("When a model, a dataset and logs are downloaded, then each file is complete and named by the service", async () => {
    const submitted = await cli([
      "submit",
      "training",
      "-f",
      bodyFile("dl.json", trainingBody(user, good, dataset)),
      "--wait",
      "--output",
      "json",
    ]);
    const task = JSON.parse(submitted.stdout) as { uid: string; model_uid: string };
    const model = await cli(["download", "model", task.model_uid, "--to", "model.bin"]);
    expect({ code: model.code, stdout: model.stdout.trim() }).toEqual({ code: 0, stdout: path.join(dir, "model.bin") });
    expect(readFileSync(path.join(dir, "model.bin"), "utf8")).toBe("weights\n");
    expect(model.stderr).toMatch(/^saved .*model\.bin \(8 B\)\n$/); // no bar when stderr is not a terminal
    const data = await cli(["download", "dataset", dataset]);
    expect(data.code).toBe(0);
    expect(readFileSync(data.stdout.trim())).toEqual(example("dataset.zip"));
    const logs = await cli(["download", "logs", task.uid]);
    expect(logs.stdout.trim()).toBe(path.join(dir, `${task.uid}-logs.tar.gz`));
    expect(readFileSync(logs.stdout.trim()).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(existsSync(`${logs.stdout.trim()}.part`)).toBe(false);
    expect((await cli(["download", "weights", task.uid])).code).toBe(2);
    expect((await cli(["download", "model", "0b6d7d62-3c3c-4c1e-9a1c-7b7b2c1f0e11"])).code).toBe(4);
  });

  test("When a download runs on a terminal, then a progress bar is drawn in place up to 100%", async () => {
    let stderr = "";
    const code = await runClientCli(["download", "dataset", dataset, "--to", path.join(dir, "bar.zip")], {
      out: () => undefined,
      err: (text) => void (stderr += text),
      env: { ARGO_ENTRYPOINT_URL: running.url, ARGO_ENTRYPOINT_ACCESS_KEY: user.accessKey, ARGO_ENTRYPOINT_SECRET_KEY: user.secretKey },
      stdin: async () => "",
      errIsTerminal: true,
    });
    expect(code).toBe(0);
    expect(stderr).toMatch(/\rbar\.zip \[#{30}\] 100% .+ \/ .+\nsaved /);
  });
});

describe("The client CLI across a service restart", () => {
  test("When the service restarts while submit --wait follows a task, then it reconnects and exits with the task's outcome", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "argo-entrypoint-restart-"));
    const database = await createTestDatabase();
    const port = await freePort();
    const env = { DATABASE_URL: database.url, FILES_DIR: path.join(dir, "files"), WORK_DIR: path.join(dir, "work") };
    let running = await startListeningService(env, () => undefined, port);
    try {
      const user = await running.service.user();
      const project = await registerProject(running.service, user);
      const dataset = await registerTrainingDataset(running.service, user, project.project);
      const fixture = await registerPipeline(running.service, user, project.application, {
        type: "training",
        program: 'echo "epoch 1"\ntouch "$OUTPUTS_DIR/$OUTPUT_FILE_NAME"\n',
        extension: "sh",
        config: {},
      });
      writeFileSync(path.join(dir, "body.json"), JSON.stringify(trainingBody(user, fixture, dataset)));
      running.service.container.dispatcher.pauseDispatch(); // accepted, not started: it starts after the restart

      let stderr = "";
      const exited = new Promise<number>((resolve) => {
        const child = execFile(
          process.execPath,
          [bin, "task", "submit", "training", "-f", path.join(dir, "body.json"), "--wait", "--timeout", "120"],
          {
            env: {
              PATH: process.env.PATH,
              HOME: dir,
              ARGO_ENTRYPOINT_URL: running.url,
              ARGO_ENTRYPOINT_ACCESS_KEY: user.accessKey,
              ARGO_ENTRYPOINT_SECRET_KEY: user.secretKey,
            },
          },
          (error) => resolve(error ? Number((error as { code?: number }).code ?? 1) : 0),
        );
        child.stderr!.on("data", (chunk: Buffer) => void (stderr += String(chunk)));
      });
      const deadline = Date.now() + 30_000;
      while (!/: init \(/.test(stderr) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(stderr).toMatch(/: init \(/); // following the stream

      await running.close(); // the stream drops; the task waits in the database
      running = await startListeningService(env, () => undefined, port);
      expect(await exited).toBe(0);
      expect(stderr).toMatch(/ended success/);
      expect(stderr).toMatch(/: running \(/); // changes after the restart came through the resumed stream
    } finally {
      await running.close();
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
