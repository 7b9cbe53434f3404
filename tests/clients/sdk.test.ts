/**
 * The lab's SDK (mitlab_aiml_tools) from inside a running step, request by request as
 * original-clients.md §2 records it: login with the task's credential, download by path, model
 * download with its token, upload by path (file_path first, then the file), accuracy. The SDK
 * sends no credential itself; python-requests adds the one run-program.sh writes to $NETRC, so
 * each request here carries exactly what that .netrc makes requests send (Basic). And where each
 * stops: a user's credential, another output, other routes, a task that has ended, a failed one.
 */
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { upload } from "../support/registry-fixture.js";
import {
  example,
  registerPipeline,
  registerProject,
  registerTrainingDataset,
  startListeningService,
  waitForStatus,
} from "../support/task-fixture.js";
import type { TestService, TestUser } from "../support/test-service.js";

const SDK_VERSION = "v1.1.5";
const ROUTER = `/api/${SDK_VERSION}/entrypoint/Router/parse`;

/** A running program that leaves what the test needs beside its outputs, then waits to be released (or fails when told to). */
const HOLDING_PROGRAM = `
printf '%s\\n%s\\n' "$DATASET_FILE_PATH" "$OUTPUT_FILE_PATH" > sdk-paths
while [ ! -f release ]; do sleep 0.05; done
[ "$(cat release)" = fail ] && exit 3
cp release "$OUTPUT_FILE_NAME"
`;

interface HeldTask {
  uid: string;
  dir: string;
  /** What requests sends from the step's .netrc. */
  authorization: string;
  datasetPath: string;
  outputPath: string;
}

/** requests' Basic header from a .netrc line: `machine <host> login <login> password <password>`. */
function netrcAuthorization(netrc: string): string {
  const [, login, password] = /login (\S+) password (\S+)/.exec(netrc)!;
  return `Basic ${Buffer.from(`${login}:${password}`).toString("base64")}`;
}

function findFile(root: string, name: string): string | undefined {
  if (!existsSync(root)) return undefined; // the run starts after the answer: its directory may not exist yet
  for (const entry of readdirSync(root)) {
    const full = path.join(root, entry);
    if (entry === name) return full;
    if (statSync(full).isDirectory()) {
      const found = findFile(full, name);
      if (found) return found;
    }
  }
  return undefined;
}

/** requests.post(url, data={"file_path": ...}, files={"file": fh}): the field first, then the file, no part Content-Type. */
function sdkUploadBody(filePath: string, fileName: string, content: Buffer): { body: Buffer; contentType: string } {
  const boundary = "8f2d7c0a1b5e4d39a6c0e2f1d3b4a5c6";
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file_path"\r\n\r\n${filePath}\r\n`),
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\n\r\n`),
    content,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

describe("The lab's SDK inside a step, replayed (original-clients.md §2)", () => {
  let running: Awaited<ReturnType<typeof startListeningService>>;
  let service: TestService;
  let user: TestUser;
  let baseModel: { uid: string; accessToken: string };
  let otherDataset: string;
  let submit: () => Promise<HeldTask>;

  beforeAll(async () => {
    running = await startListeningService();
    service = running.service;
    user = await service.user({ organization: "sdk-lab" });
    const project = await registerProject(service, user);
    const dataset = await registerTrainingDataset(service, user, project.project);
    otherDataset = project.originalDataset;
    const model = await upload(
      service,
      "OBF4f9guOmzitGvC",
      user,
      {
        name: "base",
        type: "default",
        model_input_format: "csv",
        model_output_format: "json",
        status: "unavailable",
        f_application_uid: project.application,
        f_agent_uid: "",
        extension: "zip",
        source: "",
      },
      { content: example("base-model.zip"), name: "model.zip" },
    );
    baseModel = { uid: model.body.data.uid, accessToken: model.body.data.access_token };
    const pipeline = await registerPipeline(service, user, project.application, {
      type: "retrain",
      program: HOLDING_PROGRAM,
      extension: "sh",
      config: {},
    });
    submit = async () => {
      const response = await service.post("Oi6u8dkur8GTKPxS", user, {
        task_name: "sdk-run",
        pipeline_uid: pipeline.pipeline,
        dataset_uid: dataset,
        type: "project",
        config_uid: pipeline.config,
        image_uid: pipeline.images,
        model_uid: baseModel.uid,
        model_name: "next",
        model_type: "default",
        model_input_format: "csv",
        model_output_format: "json",
        model_file_extension: "zip",
      });
      expect(response.status).toBe(200);
      const uid = response.body.data.uid as string;
      const taskRoot = path.join(service.config.local.workDir, uid);
      let paths: string | undefined;
      let netrc: string | undefined;
      for (let i = 0; i < 400 && !(paths && netrc); i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        paths = findFile(taskRoot, "sdk-paths");
        netrc = findFile(taskRoot, ".netrc");
      }
      const [datasetPath, outputPath] = readFileSync(paths!, "utf8").trim().split("\n");
      return {
        uid,
        dir: path.dirname(paths!),
        authorization: netrcAuthorization(readFileSync(netrc!, "utf8")),
        datasetPath: datasetPath!,
        outputPath: outputPath!,
      };
    };
  }, 60_000);
  afterAll(() => running.close());

  describe("While the task runs", () => {
    let task: HeldTask;
    const sdk = (key: string, body: Record<string, unknown>) =>
      service.http.post(`${ROUTER}/${key}`).set("Authorization", task.authorization).send(body).buffer(true);

    beforeAll(async () => {
      task = await submit();
    }, 30_000);

    test("When the step's .netrc is read, then it names only the service's host, with task:<uid> and its token", () => {
      const netrc = readFileSync(findFile(path.join(service.config.local.workDir, task.uid), ".netrc")!, "utf8");
      expect(netrc).toMatch(new RegExp(`^machine 127\\.0\\.0\\.1 login task:${task.uid} password [0-9a-f]{64}\\n$`));
      expect(statSync(findFile(path.join(service.config.local.workDir, task.uid), ".netrc")!).mode & 0o077).toBe(0);
    });

    test("When CredentialServer logs in with the task credential at v1.1.5, then 200 and a truthy JSON body, without a session", async () => {
      const [login, password] = Buffer.from(task.authorization.slice(6), "base64")
        .toString()
        .split(/:(?=[0-9a-f]{64}$)/);
      const response = await service.http
        .post(`/api/${SDK_VERSION}/entrypoint/AccountValidator/login`)
        .send({ account_name: login, password });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ organization_uid: user.organizationUid, data: { task_uid: task.uid } });
      expect(response.headers["set-cookie"]).toBeUndefined();
    });

    test("When FileUtility downloads the dataset by its path, then 200 with its bytes; another file of the organization is not found", async () => {
      const response = await sdk("TTiue1sygXrsm0YS", { file_path: task.datasetPath });
      expect(response.status).toBe(200);
      expect((response.body as Buffer).equals(example("dataset.zip"))).toBe(true);
      expect((await sdk("TTiue1sygXrsm0YS", { uid: otherDataset })).status).toBe(404);
    });

    test("When FileUtility downloads the base model with its token, then 200; a wrong token 403", async () => {
      const response = await sdk("gTJsFsf5JIjeAmNb", { model_uid: baseModel.uid, model_access_token: baseModel.accessToken });
      expect(response.status).toBe(200);
      expect((response.body as Buffer).equals(example("base-model.zip"))).toBe(true);
      expect((await sdk("gTJsFsf5JIjeAmNb", { model_uid: baseModel.uid, model_access_token: "0".repeat(64) })).status).toBe(403);
    });

    test("When FileUtility uploads the output by its path (file_path, then the file), then 201 and the output model has that file", async () => {
      const form = sdkUploadBody(task.outputPath, "model.zip", Buffer.from("sdk-upload"));
      const response = await service.http
        .post(`${ROUTER}/PXVpRYgnMMHqWthX`)
        .set({ Authorization: task.authorization, "Content-Type": form.contentType })
        .send(form.body);
      expect(response.status).toBe(201);
      expect(response.body).toMatchObject({ detail: "File uploaded successfully", data: { file_path: task.outputPath, size: 10 } });
      const output = path.basename(task.outputPath).replace(/\.zip$/, "");
      expect((await service.container.db.models.find(output))!.fileUid).not.toBeNull();
    });

    test("When MetricUtility uploads the accuracy of the output (its uid from the path's basename), then 200", async () => {
      const output = path.basename(task.outputPath).replace(/\.zip$/, "");
      const response = await sdk("5aP8Kk9Okiv2WdsO", { model_uid: output, model_accuracy: 0.87 });
      expect(response.status).toBe(200);
      expect((await service.container.db.models.find(output))!.accuracy).toBe(0.87);
    });

    test("When the upload comes with a user's credential, for another output, or at another path, then it is refused", async () => {
      const post = (headers: Record<string, string>, filePath: string) => {
        const form = sdkUploadBody(filePath, "model.zip", Buffer.from("x"));
        return service.http
          .post(`${ROUTER}/PXVpRYgnMMHqWthX`)
          .set({ ...headers, "Content-Type": form.contentType })
          .send(form.body);
      };
      expect((await post({ "X-Access-Key": user.accessKey, "X-Secret-Key": user.secretKey }, task.outputPath)).status).toBe(403);
      const basePath = task.outputPath.replace(path.basename(task.outputPath), `${baseModel.uid}.zip`);
      const another = await post({ Authorization: task.authorization }, basePath);
      expect({ status: another.status, field: another.body.errors[0].field }).toEqual({ status: 403, field: "file_path" });
      const moved = await post({ Authorization: task.authorization }, task.outputPath.replace("/model/", "/elsewhere/"));
      expect(moved.status).toBe(404);
      expect((await service.container.db.models.find(baseModel.uid))!.fileUid).not.toBeNull();
    });

    test("When the task credential is used on a route the SDK does not call, or for another model's accuracy, then 403", async () => {
      expect((await sdk("a75vPQAyPqVGFwiZ", { f_organization_uid: user.organizationUid })).status).toBe(403);
      expect((await sdk("5aP8Kk9Okiv2WdsO", { model_uid: baseModel.uid, model_accuracy: 0.1 })).status).toBe(403);
    });

    test("When the task has ended, then its credential no longer signs in or uploads (401)", async () => {
      writeFileSync(path.join(task.dir, "release"), "final model");
      const done = await waitForStatus(service, user, task.uid, ["success", "fail"]);
      expect(done.status).toBe("success");
      const [login, password] = Buffer.from(task.authorization.slice(6), "base64")
        .toString()
        .split(/:(?=[0-9a-f]{64}$)/);
      const signIn = await service.http
        .post(`/api/${SDK_VERSION}/entrypoint/AccountValidator/login`)
        .send({ account_name: login, password });
      expect(signIn.status).toBe(401);
      const form = sdkUploadBody(task.outputPath, "model.zip", Buffer.from("late"));
      const late = await service.http
        .post(`${ROUTER}/PXVpRYgnMMHqWthX`)
        .set({ Authorization: task.authorization, "Content-Type": form.contentType })
        .send(form.body);
      expect(late.status).toBe(401);
    });
  });

  test("When a task failed, then its output model takes no accuracy, even from its owner (409)", async () => {
    const task = await submit();
    writeFileSync(path.join(task.dir, "release"), "fail");
    expect((await waitForStatus(service, user, task.uid, ["success", "fail"])).status).toBe("fail");
    const output = path.basename(task.outputPath).replace(/\.zip$/, "");
    const response = await service.post("5aP8Kk9Okiv2WdsO", user, { model_uid: output, model_accuracy: 0.5 });
    expect(response.status).toBe(409);
  });
});
