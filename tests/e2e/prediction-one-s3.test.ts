/** Prediction One's result and download links on an S3 store are the bucket's presigned URLs (s3rver on loopback). */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { MinioObjectStore } from "../../src/adapters/object-store/minio-object-store.js";
import { startS3Server } from "../support/s3-server.js";
import {
  registerPipeline,
  registerProject,
  registerTrainingDataset,
  startListeningService,
  trainingBody,
  waitForStatus,
} from "../support/task-fixture.js";
import type { TestService, TestUser } from "../support/test-service.js";

describe("Signed links on an S3 store", () => {
  let s3: Awaited<ReturnType<typeof startS3Server>>;
  let running: Awaited<ReturnType<typeof startListeningService>>;
  let service: TestService;
  let user: TestUser;
  let trainedUid: string;

  beforeAll(async () => {
    s3 = await startS3Server();
    running = await startListeningService({ ...s3.env, LINK_TTL_SECONDS: "600" });
    service = running.service;
    user = await service.user({ organization: "p1-s3" });
    const project = await registerProject(service, user);
    const dataset = await registerTrainingDataset(service, user, project.project);
    const pipeline = await registerPipeline(service, user, project.application, {
      type: "training",
      program: 'echo weights > "$OUTPUTS_DIR/$OUTPUT_FILE_NAME"\n',
      extension: "sh",
      config: {},
    });
    const trained = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, pipeline, dataset));
    trainedUid = trained.body.data.uid;
    await waitForStatus(service, user, trainedUid, ["success"]);
  });
  afterAll(async () => {
    await running.close();
    await s3.close();
  });

  test("When a finished training is checked, then result_url is the bucket's presigned URL: it downloads the model within its window and not after", async () => {
    const key = (await service.post("Ak3yMn7QpL2xWz9c", user, { name: "results", purpose: "read" })).body.data.key as string;
    const checked = await service.http
      .get("/v1/external/models/results")
      .query({ external_process_id: trainedUid })
      .set({ "x-api-key": key });
    const url = new URL(checked.body.result_url);
    expect(url.host).toBe(`127.0.0.1:${s3.env.S3_PORT}`);
    expect(url.searchParams.get("X-Amz-Expires")).toBe("600");
    const model = await fetch(url);
    expect({ status: model.status, body: (await model.text()).trim() }).toEqual({ status: 200, body: "weights" });
    expect(model.headers.get("content-disposition")).toMatch(/^attachment; filename=".+\.zip"$/);
    // Past its window the bucket refuses it (s3rver checks the window; it does not check V4 signatures, real S3 does).
    const signedAt = url.searchParams.get("X-Amz-Date")!;
    const earlier = new Date(Date.parse(signedAt.replace(/(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/, "$1-$2-$3T$4:$5:$6Z")) - 601_000);
    url.searchParams.set("X-Amz-Date", earlier.toISOString().replace(/[-:]|\.\d+/g, ""));
    expect((await fetch(url)).status).toBe(403);
  });

  test("When a public S3 URL is configured, then links are signed for that host", async () => {
    const store = new MinioObjectStore({
      endpoint: "127.0.0.1",
      port: Number(s3.env.S3_PORT),
      useSSL: false,
      accessKey: "S3RVER",
      secretKey: "S3RVER",
      bucket: "argo-entrypoint-test",
      region: "us-east-1",
      pathStyle: true,
      publicUrl: "https://files.example.org",
    });
    const url = new URL(await store.presignDownload("models/abc.zip", "abc.zip", 60));
    expect({ origin: url.origin, path: url.pathname }).toEqual({
      origin: "https://files.example.org",
      path: "/argo-entrypoint-test/models/abc.zip",
    });
  });
});
