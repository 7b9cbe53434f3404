import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { registerAll, upload, type Registered } from "../support/registry-fixture.js";
import { startTestService, TIMESTAMP, UUID, type TestService, type TestUser } from "../support/test-service.js";

describe("Registry routes", () => {
  let service: TestService;
  let user: TestUser;
  let outsider: TestUser;
  let r: Registered;

  beforeAll(async () => {
    service = await startTestService({ TIME_ZONE_OFFSET: "+08:00" });
    user = await service.user();
    outsider = await service.user({ organization: "other-lab" });
    r = await registerAll(service, user);
  });
  afterAll(() => service.close());

  const ok = async (key: string, body: Record<string, unknown>, detail: string) => {
    const response = await service.post(key, user, body);
    expect({ status: response.status, detail: response.body.detail }).toEqual({ status: 200, detail });
    return response.body.data;
  };

  describe("Organization and projects", () => {
    test("When the organization is retrieved, then it has the original shape", async () => {
      const data = await ok("mGlkFLqgBQgNRvU3", { uid: user.organizationUid }, "Metadata retrieved successfully");
      expect(data).toEqual({ uid: user.organizationUid, created_time: expect.stringMatching(TIMESTAMP), name: "lab" });
      expect(data.created_time).toMatch(/\+08:00$/);
    });

    test("When a project is created, updated, listed and deleted, then each answer has the original shape", async () => {
      const created = await service.post("9Q1lCs56iud4oPcS", user, {
        name: "p2",
        description: "second",
        f_organization_uid: user.organizationUid,
      });
      expect(created.status).toBe(200);
      expect(created.body).toEqual({
        detail: "Metadata created successfully",
        data: {
          uid: expect.stringMatching(UUID),
          created_time: expect.stringMatching(TIMESTAMP),
          name: "p2",
          description: "second",
          f_organization_uid: user.organizationUid,
        },
      });
      const uid = created.body.data.uid;
      expect((await ok("KIW6ZqwTMbMF4bWl", { uid, name: "p2-renamed" }, "Metadata updated successfully")).name).toBe("p2-renamed");
      const listed = await ok("a75vPQAyPqVGFwiZ", { f_organization_uid: user.organizationUid }, "Metadatas retrieved successfully");
      expect(listed.map((p: { uid: string }) => p.uid)).toEqual([r.project, uid]);
      expect(await ok("ThQHZcLlnq6GQ3zW", { uid }, "Metadata deleted successfully")).toEqual({});
      expect((await service.post("KIW6ZqwTMbMF4bWl", user, { uid, name: "x" })).status).toBe(404);
    });

    test("When a project still has applications, then deleting it is refused with 409", async () => {
      const response = await service.post("ThQHZcLlnq6GQ3zW", user, { uid: r.project });
      expect(response.status).toBe(409);
      expect(response.body.detail).toMatch(/refer/);
    });
  });

  describe("Applications", () => {
    test("When an application is created, updated both ways, listed and deleted, then the original shapes come back", async () => {
      const created = await service.post("iGXyNAx4Kp3DrosK", user, {
        application_name: "a2",
        application_description: "d",
        f_project_uid: r.project,
        f_agent_uid: [],
      });
      expect(created.status).toBe(200);
      expect(created.body.data).toEqual({
        uid: expect.stringMatching(UUID),
        created_time: expect.stringMatching(TIMESTAMP),
        name: "a2",
        description: "d",
        f_project_uid: r.project,
      });
      const uid = created.body.data.uid;
      expect((await ok("OjlrjuAeA5HOkGqT", { application_uid: uid, application_name: "a3" }, "Metadata updated successfully")).name).toBe(
        "a3",
      );
      expect((await ok("I5saSl6jjFMJJqKr", { uid, description: "plain" }, "Metadata updated successfully")).description).toBe("plain");
      expect((await ok("A19MSnNoF8p36XHn", { f_project_uid: r.project }, "Metadatas retrieved successfully")).length).toBe(2);
      await ok("pWS6eH3ZKgYytsre", { application_uid: uid }, "Metadata deleted successfully");
    });

    test("When an unknown agent is named, then nothing is created and 404 names its place in f_agent_uid", async () => {
      const before = await service.container.db.applications.count({});
      const response = await service.post("iGXyNAx4Kp3DrosK", user, { application_name: "a", f_project_uid: r.project, f_agent_uid: [] });
      expect(response.status).toBe(200);
      const refused = await service.post("iGXyNAx4Kp3DrosK", user, {
        application_name: "a",
        f_project_uid: r.project,
        f_agent_uid: ["b956f74f-30ab-4b3a-9619-6af34afcf4da"],
      });
      expect(refused.status).toBe(404);
      expect(refused.body.errors[0].field).toBe("f_agent_uid.0");
      expect(await service.container.db.applications.count({})).toBe(before + 1);
      await ok("pWS6eH3ZKgYytsre", { application_uid: response.body.data.uid }, "Metadata deleted successfully");
    });
  });

  describe("Datasets", () => {
    test.each([
      ["project", "OFbaCJE62lcPVbZj", "uqm5wN6pdrAWM89T", "6PiGXBbrIvQLqhrC", "MyC2aIHtzkZJrEGi", "f_project_uid", "original"],
      ["application", "5fk1gVLi8q0mcHf4", "lXqKKZYiy6XKJaVg", "9uKWKnG5ZTSew1HD", "1sphuopUuLnIqoPU", "f_application_uid", "original"],
    ])(
      "When a %s dataset is uploaded, replaced, downloaded, listed and deleted, then its file follows",
      async (_scope, create, update, remove, list, parentField, type) => {
        const parent = parentField === "f_project_uid" ? r.project : r.application;
        const created = await upload(
          service,
          create,
          user,
          { name: "raw", description: "raw data", type, [parentField]: parent, extension: "zip" },
          { content: "first", name: "../../etc/passwd" },
        );
        expect(created.status).toBe(200);
        expect(created.body.detail).toBe("Metadata created and File uploaded successfully");
        const data = created.body.data;
        expect(data).toMatchObject({
          name: "raw",
          description: "raw data",
          type,
          [parentField]: parent,
          created_time: expect.stringMatching(TIMESTAMP),
        });
        expect(data.f_file_uid).toEqual({
          uid: expect.stringMatching(UUID),
          created_time: expect.stringMatching(TIMESTAMP),
          path: expect.stringContaining(user.organizationUid),
          extension: "zip",
          size: 5,
        });
        expect(data.f_file_uid.path).not.toContain("..");

        const replaced = await upload(service, update, user, { uid: data.uid, name: "raw-2" }, { content: "second!", name: "x.zip" });
        expect(replaced.status).toBe(200);
        expect(replaced.body.data).toMatchObject({ name: "raw-2", f_file_uid: { size: 7 } });
        const renamedByJson = await service.post(update, user, { uid: data.uid, description: "json update" });
        expect(renamedByJson.body.data.description).toBe("json update");

        const download = await service.post("TTiue1sygXrsm0YS", user, { uid: data.uid }).buffer(true);
        expect(download.status).toBe(200);
        expect(download.headers["content-disposition"]).toBe(`attachment; filename="${data.uid}.zip"`);
        expect(download.body.toString()).toBe("second!");

        const listed = await ok(list, { [parentField]: parent }, "Metadatas retrieved successfully");
        expect(listed.map((d: { uid: string }) => d.uid)).toContain(data.uid);
        await ok(remove, { uid: data.uid }, "Metadata deleted successfully");
        expect((await service.post("TTiue1sygXrsm0YS", user, { uid: data.uid })).status).toBe(404);
      },
    );

    test("When a dataset type does not fit its scope, then the field is named", async () => {
      const response = await upload(
        service,
        "OFbaCJE62lcPVbZj",
        user,
        { name: "x", type: "optimization", f_project_uid: r.project, extension: "zip" },
        { content: "x", name: "x.zip" },
      );
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([{ field: "type", message: "must be one of original, training" }]);
    });

    test("When the file part is missing, then 400 names it and nothing is stored", async () => {
      const before = await service.container.db.datasets.count({});
      const response = await upload(service, "OFbaCJE62lcPVbZj", user, {
        name: "x",
        type: "original",
        f_project_uid: r.project,
        extension: "zip",
      });
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([{ field: "file", message: "is required" }]);
      expect(await service.container.db.datasets.count({})).toBe(before);
    });

    test("When the extension is not a plain word, then it is refused before it can reach a key", async () => {
      const response = await upload(
        service,
        "OFbaCJE62lcPVbZj",
        user,
        { name: "x", type: "original", f_project_uid: r.project, extension: "zip/../../x" },
        { content: "x", name: "x.zip" },
      );
      expect(response.status).toBe(400);
      expect(response.body.errors[0].field).toBe("extension");
    });

    test("When a dataset is used by a running task, then deleting or replacing it is refused with 409", async () => {
      await service.container.db.tasks.create({
        uid: "0a7c2f3e-8d7b-4c8e-9f2a-1b2c3d4e5f60",
        name: "t",
        description: "",
        kind: "training",
        status: "running",
        executeStep: "run_task",
        statusMessage: "",
        updatedAt: new Date(),
        finishedAt: null,
        organizationUid: user.organizationUid,
        createdByUid: user.userUid,
        pipelineUid: r.pipeline,
        downloadImageUid: r.images.download,
        runningImageUid: r.images.running,
        uploadImageUid: r.images.upload,
        configUid: r.config,
        datasetUid: r.projectDataset,
        baseModelUid: null,
        outputDatasetUid: null,
        outputModelUid: null,
        resources: "{}",
        engine: "local",
        workflowName: null,
        workflowUid: null,
        resubmittedFrom: null,
        stepTokenHash: null,
        stepTokenExpires: null,
        metrics: "{}",
        metricSummary: "{}",
        earlyStop: "",
        attempt: 0,
      });
      const removal = await service.post("6PiGXBbrIvQLqhrC", user, { uid: r.projectDataset });
      expect(removal.status).toBe(409);
      expect(removal.body.detail).toMatch(/still running/);
      const replacement = await upload(service, "uqm5wN6pdrAWM89T", user, { uid: r.projectDataset }, { content: "new", name: "x.zip" });
      expect(replacement.status).toBe(409);
      const configRemoval = await service.post("DUj6JZvlwBE3WMbX", user, { uid: r.config });
      expect(configRemoval.status).toBe(409);
      await service.container.db.tasks.update("0a7c2f3e-8d7b-4c8e-9f2a-1b2c3d4e5f60", { status: "success" });
    });
  });

  describe("Pipelines", () => {
    test("When a pipeline is uploaded, retrieved, updated, listed and deleted, then each has the original shape", async () => {
      const created = await upload(
        service,
        "FgdSO4ryg2UA2APl",
        user,
        { name: "prep", description: "pp", type: "preprocessing", f_application_uid: r.application, extension: "py" },
        { content: "print(1)", name: "p.py" },
      );
      expect(created.status).toBe(200);
      expect(created.body.data).toEqual({
        uid: expect.stringMatching(UUID),
        created_time: expect.stringMatching(TIMESTAMP),
        name: "prep",
        description: "pp",
        type: "preprocessing",
        f_file_uid: expect.objectContaining({ extension: "py", size: 8 }),
        f_application_uid: r.application,
      });
      const uid = created.body.data.uid;
      expect((await ok("owbCDAJ9rJW2AEO5", { uid }, "Metadata retrieved successfully")).name).toBe("prep");
      expect((await ok("28a9H19Khaw4KIbV", { uid, name: "prep2" }, "Metadata updated successfully")).name).toBe("prep2");
      expect((await ok("VytZbpzyI9fFWkM6", { f_application_uid: r.application }, "Metadatas retrieved successfully")).length).toBe(2);
      await ok("8PSWYHbJF2ZHuXVP", { uid }, "Metadata deleted successfully");
    });

    test("When a pipeline still has configs and build files, then deleting it is refused with 409", async () => {
      expect((await service.post("8PSWYHbJF2ZHuXVP", user, { uid: r.pipeline })).status).toBe(409);
    });
  });

  describe("Configs", () => {
    test("When a config is created, updated, listed and deleted, then its data object round-trips", async () => {
      const created = await service.post("42XzWaxjE6dKA9mZ", user, {
        name: "c2",
        description: "",
        data: { batch_size: 8, nested: { a: [1, 2] } },
        f_pipeline_uid: r.pipeline,
      });
      expect(created.status).toBe(200);
      expect(created.body.data).toEqual({
        uid: expect.stringMatching(UUID),
        created_time: expect.stringMatching(TIMESTAMP),
        name: "c2",
        description: "",
        data: { batch_size: 8, nested: { a: [1, 2] } },
        f_pipeline_uid: r.pipeline,
      });
      const uid = created.body.data.uid;
      expect((await ok("IIfzauWfQZ3RsHUZ", { uid, data: { batch_size: 16 } }, "Metadata updated successfully")).data).toEqual({
        batch_size: 16,
      });
      expect((await ok("NVVJBLsdkIjTLB2P", { f_pipeline_uid: r.pipeline }, "Metadatas retrieved successfully")).length).toBe(2);
      await ok("DUj6JZvlwBE3WMbX", { uid }, "Metadata deleted successfully");
    });

    test("When data is not an object, then the field is named", async () => {
      const response = await service.post("42XzWaxjE6dKA9mZ", user, { name: "c", data: "lr=1", f_pipeline_uid: r.pipeline });
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([{ field: "data", message: "must be object" }]);
    });
  });

  describe("Build files (images)", () => {
    test("When a build file is uploaded, updated, listed and deleted, then its stored name has no extension", async () => {
      const created = await upload(
        service,
        "lwO7afcqdKtKEAhb",
        user,
        { name: "img", sequence: "running", f_pipeline_uid: r.pipeline, extension: "null" },
        { content: "FROM node:20", name: "Dockerfile" },
      );
      expect(created.status).toBe(200);
      expect(created.body.data).toMatchObject({
        name: "img",
        sequence: "running",
        f_pipeline_uid: r.pipeline,
        f_file_uid: { extension: "null" },
      });
      const uid = created.body.data.uid;
      expect(created.body.data.f_file_uid.path).toMatch(/\/training\/image$/);
      expect((await ok("fQVBVFsISiNWCCzx", { uid, name: "img2" }, "Metadata updated successfully")).name).toBe("img2");
      const images = await ok("eu4oNOb8E0KVaOdo", { f_pipeline_uid: r.pipeline }, "Metadatas retrieved successfully");
      expect(images.map((i: { sequence: string }) => i.sequence).sort()).toEqual(["download", "running", "running", "upload"]);
      const download = await service.post("TTiue1sygXrsm0YS", user, { uid }).buffer(true);
      expect(download.headers["content-disposition"]).toBe(`attachment; filename="${uid}"`);
      await ok("Ho7YDcRfgifigJvn", { uid }, "Metadata deleted successfully");
    });

    test("When the sequence is unknown, then the field is named", async () => {
      const response = await upload(
        service,
        "lwO7afcqdKtKEAhb",
        user,
        { name: "img", sequence: "train", f_pipeline_uid: r.pipeline },
        { content: "x", name: "Dockerfile" },
      );
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([{ field: "sequence", message: "must be one of download, running, upload" }]);
    });
  });

  describe("Models", () => {
    test("When a model is uploaded, then it has the original's fields and a sha256-sized access token", async () => {
      const list = await ok("EU2X3oWVHQiEoYBi", { f_application_uid: r.application }, "Metadatas retrieved successfully");
      expect(list[0]).toEqual({
        uid: r.model,
        created_time: expect.stringMatching(TIMESTAMP),
        name: "base",
        description: "m",
        type: "default",
        model_input_format: "float32",
        model_output_format: "float32",
        status: "unpublish",
        version: 1,
        accuracy: null,
        access_token: expect.stringMatching(/^[0-9a-f]{64}$/),
        source: null,
        file_extension: "zip",
        f_file_uid: expect.objectContaining({ extension: "zip" }),
        f_application_uid: r.application,
        f_agent_uid: null,
      });
    });

    test("When a retrained version is uploaded, then it groups under its source with the next version", async () => {
      const derived = await upload(
        service,
        "OBF4f9guOmzitGvC",
        user,
        {
          name: "v2",
          type: "default",
          model_input_format: "f",
          model_output_format: "f",
          f_application_uid: r.application,
          source: r.model,
          extension: "zip",
        },
        { content: "M2", name: "m.zip" },
      );
      expect(derived.status).toBe(200);
      expect(derived.body.data).toMatchObject({ version: 2, source: r.model });
      const groups = await ok("mvtJY0gtyhHguWtL", { f_application_uid: r.application }, "Metadatas retrieved successfully");
      expect(groups).toHaveLength(1);
      expect(groups[0].uid).toBe(r.model);
      expect(groups[0].retrain_model.map((m: { uid: string }) => m.uid)).toEqual([derived.body.data.uid]);
      const lineage = await ok("ZEUjsfvXK9eNjom7", { source: r.model, version: 2 }, "Metadatas retrieved successfully");
      expect(lineage.map((m: { uid: string }) => m.uid)).toEqual([derived.body.data.uid]);
      await ok("8qFsmTELrN0lag20", { uid: derived.body.data.uid }, "Metadata deleted successfully");
    });

    test("When a model is updated, published, unpublished and given an accuracy, then each change shows", async () => {
      const updated = await ok(
        "siJLKf5He1wksCH2",
        { model_uid: r.model, model_name: "renamed", model_input_format: "int8" },
        "Metadata updated successfully",
      );
      expect(updated).toMatchObject({ name: "renamed", model_input_format: "int8" });
      expect(
        (
          await ok(
            "LKloOsyvHb0NCDPG",
            { uid: r.model, status: "publish", f_application_uid: r.application },
            "Metadata updated successfully",
          )
        ).status,
      ).toBe("publish");
      expect(
        (
          await ok(
            "7uW8GfesIizOaShO",
            { uid: r.model, status: "unpublish", f_application_uid: r.application },
            "Metadata updated successfully",
          )
        ).status,
      ).toBe("unpublish");
      expect((await ok("5aP8Kk9Okiv2WdsO", { model_uid: r.model, model_accuracy: 0.93 }, "Metadata updated successfully")).accuracy).toBe(
        0.93,
      );
    });

    test("When the model is downloaded with its access token, then the file streams as an attachment", async () => {
      for (const [key, body] of [
        ["4AJSfvc4mn8xzy2U", { uid: r.model, access_token: r.modelToken }],
        ["gTJsFsf5JIjeAmNb", { model_uid: r.model, model_access_token: r.modelToken }],
      ] as const) {
        const response = await service.post(key, user, body).buffer(true);
        expect(response.status).toBe(200);
        expect(response.headers["content-type"]).toBe("application/octet-stream");
        expect(response.headers["content-disposition"]).toBe(`attachment; filename="${r.model}.zip"`);
        expect(response.body.toString()).toBe("MODEL");
      }
    });

    test("When the access token is wrong, then 403 names it", async () => {
      const response = await service.post("4AJSfvc4mn8xzy2U", user, { uid: r.model, access_token: "0".repeat(64) });
      expect(response.status).toBe(403);
      expect(response.body.errors).toEqual([{ field: "access_token", message: "does not match" }]);
    });
  });

  describe("Run-form choices (Preparer)", () => {
    test("When the training choices are asked for, then datasets, configs and images come grouped like the original", async () => {
      const data = await ok("Q3aPI7vZrzp3d4SI", { pipeline_uid: r.pipeline }, "Metadata retrieved successfully");
      expect(Object.keys(data).sort()).toEqual(["config", "image", "training_dataset"]);
      expect(data.training_dataset.project.map((d: { uid: string }) => d.uid)).toEqual([r.projectDataset]);
      expect(data.config.map((c: { uid: string }) => c.uid)).toEqual([r.config]);
      expect(data.image.download.map((i: { uid: string }) => i.uid)).toEqual([r.images.download]);
      expect(data.image.upload.map((i: { uid: string }) => i.uid)).toEqual([r.images.upload]);
    });

    test.each([
      ["oNjkVj60RqS8DQTX", ["config", "image", "original_dataset"]],
      ["ur2rcOusIa91PFX5", ["config", "image", "retrain_pretrain_model", "training_dataset", "tuning_pretrain_model"]],
      ["8O1f02CSk0Su3czR", ["config", "image", "pretrain_model", "training_dataset"]],
    ])("When choices are asked for on %s, then the original's keys are present", async (key, keys) => {
      const data = await ok(key, { pipeline_uid: r.pipeline }, "Metadata retrieved successfully");
      expect(Object.keys(data).sort()).toEqual(keys);
    });

    test("When retrain choices are asked for, then the optimization dataset and the base model are offered", async () => {
      const data = await ok("ur2rcOusIa91PFX5", { pipeline_uid: r.pipeline }, "Metadata retrieved successfully");
      expect(data.training_dataset.application.map((d: { uid: string }) => d.uid)).toEqual([r.applicationDataset]);
      expect(data.retrain_pretrain_model.map((m: { uid: string }) => m.uid)).toEqual([r.model]);
    });
  });

  describe("Files", () => {
    test("When a file is asked for by the original's file_path, then it downloads; by a path that is not exactly its key, 404", async () => {
      // As the dashboard builds it: f_file_uid.path + "/" + the owner's uid + ".ext".
      const listed = await service.post("MyC2aIHtzkZJrEGi", user, { f_project_uid: r.project });
      const dataset = listed.body.data.find((d: { uid: string }) => d.uid === r.projectDataset);
      const path = `${dataset.f_file_uid.path}/${dataset.uid}.${dataset.f_file_uid.extension}`;
      const type = path.split("/")[2];
      const response = await service.post("TTiue1sygXrsm0YS", user, { file_path: path }).buffer(true);
      expect(response.status).toBe(200);
      expect(response.headers["content-disposition"]).toBe(`attachment; filename="${r.projectDataset}.zip"`);
      for (const wrong of [
        `${user.organizationUid}/${r.project}/${type === "original" ? "training" : "original"}/${r.projectDataset}.zip`,
        `${user.organizationUid}/${r.project}/${type}/${r.projectDataset}.csv`,
        `${user.organizationUid}/${r.project}/${type}/../${type}/${r.projectDataset}.zip`,
        `/${path}`,
        `${r.projectDataset}.zip`,
      ]) {
        const refused = await service.post("TTiue1sygXrsm0YS", user, { file_path: wrong });
        expect({ wrong, status: refused.status, field: refused.body.errors?.[0]?.field }).toEqual({
          wrong,
          status: 404,
          field: "file_path",
        });
      }
    });

    test("When both or neither of uid and file_path are sent, then 400 names both", async () => {
      for (const body of [{}, { uid: r.projectDataset, file_path: "a/b.zip" }]) {
        const response = await service.post("TTiue1sygXrsm0YS", user, body);
        expect(response.status).toBe(400);
        expect(response.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(["file_path", "uid"]);
      }
    });

    test("When the file is addressed by its own file uid, then it downloads too", async () => {
      const dataset = await service.container.db.datasets.find(r.applicationDataset);
      const response = await service.post("TTiue1sygXrsm0YS", user, { uid: dataset!.fileUid }).buffer(true);
      expect(response.status).toBe(200);
      expect(response.body.toString()).toBe("PK-app");
    });
  });

  describe("Another organization's uids", () => {
    const cases: Array<[string, (r: Registered) => Record<string, unknown>]> = [
      ["mGlkFLqgBQgNRvU3", () => ({ uid: user.organizationUid })],
      ["9Q1lCs56iud4oPcS", () => ({ name: "x", f_organization_uid: user.organizationUid })],
      ["KIW6ZqwTMbMF4bWl", (r) => ({ uid: r.project, name: "stolen" })],
      ["ThQHZcLlnq6GQ3zW", (r) => ({ uid: r.project })],
      ["a75vPQAyPqVGFwiZ", () => ({ f_organization_uid: user.organizationUid })],
      ["iGXyNAx4Kp3DrosK", (r) => ({ application_name: "x", f_project_uid: r.project })],
      ["OjlrjuAeA5HOkGqT", (r) => ({ application_uid: r.application, application_name: "x" })],
      ["I5saSl6jjFMJJqKr", (r) => ({ uid: r.application, name: "x" })],
      ["pWS6eH3ZKgYytsre", (r) => ({ application_uid: r.application })],
      ["A19MSnNoF8p36XHn", (r) => ({ f_project_uid: r.project })],
      ["uqm5wN6pdrAWM89T", (r) => ({ uid: r.projectDataset, name: "x" })],
      ["6PiGXBbrIvQLqhrC", (r) => ({ uid: r.projectDataset })],
      ["MyC2aIHtzkZJrEGi", (r) => ({ f_project_uid: r.project })],
      ["lXqKKZYiy6XKJaVg", (r) => ({ uid: r.applicationDataset, name: "x" })],
      ["9uKWKnG5ZTSew1HD", (r) => ({ uid: r.applicationDataset })],
      ["1sphuopUuLnIqoPU", (r) => ({ f_application_uid: r.application })],
      ["28a9H19Khaw4KIbV", (r) => ({ uid: r.pipeline, name: "x" })],
      ["8PSWYHbJF2ZHuXVP", (r) => ({ uid: r.pipeline })],
      ["owbCDAJ9rJW2AEO5", (r) => ({ uid: r.pipeline })],
      ["VytZbpzyI9fFWkM6", (r) => ({ f_application_uid: r.application })],
      ["42XzWaxjE6dKA9mZ", (r) => ({ name: "x", data: {}, f_pipeline_uid: r.pipeline })],
      ["IIfzauWfQZ3RsHUZ", (r) => ({ uid: r.config, name: "x" })],
      ["DUj6JZvlwBE3WMbX", (r) => ({ uid: r.config })],
      ["NVVJBLsdkIjTLB2P", (r) => ({ f_pipeline_uid: r.pipeline })],
      ["fQVBVFsISiNWCCzx", (r) => ({ uid: r.images.running, name: "x" })],
      ["Ho7YDcRfgifigJvn", (r) => ({ uid: r.images.running })],
      ["eu4oNOb8E0KVaOdo", (r) => ({ f_pipeline_uid: r.pipeline })],
      ["siJLKf5He1wksCH2", (r) => ({ model_uid: r.model, model_name: "x" })],
      ["8qFsmTELrN0lag20", (r) => ({ uid: r.model })],
      ["EU2X3oWVHQiEoYBi", (r) => ({ f_application_uid: r.application })],
      ["mvtJY0gtyhHguWtL", (r) => ({ f_application_uid: r.application })],
      ["ZEUjsfvXK9eNjom7", (r) => ({ source: r.model })],
      ["LKloOsyvHb0NCDPG", (r) => ({ uid: r.model })],
      ["7uW8GfesIizOaShO", (r) => ({ uid: r.model })],
      ["5aP8Kk9Okiv2WdsO", (r) => ({ model_uid: r.model, model_accuracy: 0.1 })],
      ["4AJSfvc4mn8xzy2U", (r) => ({ uid: r.model, access_token: r.modelToken })],
      ["gTJsFsf5JIjeAmNb", (r) => ({ model_uid: r.model, model_access_token: r.modelToken })],
      ["TTiue1sygXrsm0YS", (r) => ({ uid: r.projectDataset })],
      ["oNjkVj60RqS8DQTX", (r) => ({ pipeline_uid: r.pipeline })],
      ["Q3aPI7vZrzp3d4SI", (r) => ({ pipeline_uid: r.pipeline })],
      ["ur2rcOusIa91PFX5", (r) => ({ pipeline_uid: r.pipeline })],
      ["8O1f02CSk0Su3czR", (r) => ({ pipeline_uid: r.pipeline })],
    ];

    test.each(cases)("When an outsider names them on %s, then 404 and none of the data", async (key, body) => {
      const response = await service.post(key, outsider, body(r));
      expect(response.status).toBe(404);
      expect(response.body.data).toBeUndefined();
      expect(JSON.stringify(response.body)).not.toContain(r.modelToken);
    });

    test.each([
      ["OFbaCJE62lcPVbZj", (r: Registered) => ({ name: "x", type: "original", f_project_uid: r.project, extension: "zip" })],
      ["5fk1gVLi8q0mcHf4", (r: Registered) => ({ name: "x", type: "original", f_application_uid: r.application, extension: "zip" })],
      ["FgdSO4ryg2UA2APl", (r: Registered) => ({ name: "x", type: "training", f_application_uid: r.application, extension: "py" })],
      ["lwO7afcqdKtKEAhb", (r: Registered) => ({ name: "x", sequence: "running", f_pipeline_uid: r.pipeline })],
      [
        "OBF4f9guOmzitGvC",
        (r: Registered) => ({
          name: "x",
          type: "default",
          model_input_format: "a",
          model_output_format: "b",
          f_application_uid: r.application,
        }),
      ],
    ])("When an outsider uploads into them on %s, then 404 and nothing is stored", async (key, fields) => {
      const files = await service.container.db.files.count({});
      const response = await upload(service, key, outsider, fields(r), { content: "intruder", name: "f" });
      expect(response.status).toBe(404);
      expect(await service.container.db.files.count({})).toBe(files);
    });

    test("When an admin of another organization names them, then the admin may see them", async () => {
      const admin = await service.user({ organization: "ops", role: "admin" });
      const response = await service.post("owbCDAJ9rJW2AEO5", admin, { uid: r.pipeline });
      expect(response.status).toBe(200);
      expect(response.body.data.uid).toBe(r.pipeline);
    });
  });
});
