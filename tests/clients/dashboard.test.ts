/**
 * The lab's dashboard against the service, call by call as original-clients.md §1 records it:
 * sign-in, then every screen's requests with the session cookie beside the `auth_token=undefined`
 * the dashboard writes and `Authorization: undefined`, uploads with the parts in the dashboard's
 * order, downloads by `file_path`, task cards and the logs modal. Each asserts what the client
 * needs: status 200 and the fields it reads.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { DashboardClient, dashboardFilePath, type FormValue } from "../support/dashboard-client.js";
import { example, startListeningService } from "../support/task-fixture.js";
import type { TestService, TestUser } from "../support/test-service.js";

const SESSION_COOKIE = "argo_entrypoint_session";
const ZIP = example("dataset.zip");

describe("The lab's dashboard, replayed (original-clients.md §1)", () => {
  let running: Awaited<ReturnType<typeof startListeningService>>;
  let service: TestService;
  let user: TestUser;
  let dash: DashboardClient;
  let organization: string;
  const made: Record<string, string> = {};

  /** What every screen requires: 200 exactly and the original's envelope. */
  const ok = async (response: { status: number; body: { detail?: unknown; data?: unknown } }) => {
    expect({ status: response.status, detail: typeof response.body.detail }).toEqual({ status: 200, detail: "string" });
    return response.body.data as any;
  };
  const listed = async (key: string, body: Record<string, unknown>) => ok(await dash.call(key, body));
  const readsAsDate = (value: unknown) => expect(Number.isNaN(new Date(String(value)).getTime())).toBe(false);

  beforeAll(async () => {
    running = await startListeningService();
    service = running.service;
    user = await service.user({ organization: "dash-lab" });
    dash = new DashboardClient(service);
  });
  afterAll(() => running.close());

  describe("Login (§1.2)", () => {
    test("When the login form posts account_name and password, then 200 with organization_uid at the top level and an HttpOnly session cookie", async () => {
      const response = await dash.login(user.accessKey, user.secretKey);
      expect(response.status).toBe(200);
      expect(response.body.organization_uid).toBe(user.organizationUid);
      const cookie = ([] as string[]).concat(response.headers["set-cookie"] ?? []).find((c) => c.startsWith(`${SESSION_COOKIE}=`))!;
      expect(cookie).toMatch(/; Path=\/(;|$)/);
      expect(cookie).toMatch(/; HttpOnly(;|$)/);
      expect(cookie).toMatch(/; SameSite=Lax(;|$)/);
      expect(cookie).not.toMatch(/Secure/); // plain HTTP here; over HTTPS it is Secure
      expect(response.headers["set-cookie"]!.toString()).not.toMatch(/auth_token/); // the dashboard would overwrite it
      organization = dash.localStorage.organizationUID!;
      // What the browser sends from now on: both cookies, and the header the dashboard builds from auth_token.
      expect(dash.headers()).toEqual({
        Cookie: expect.stringMatching(new RegExp(`^${SESSION_COOKIE}=[0-9a-f]{64}; auth_token=undefined$`)),
        Authorization: "undefined",
      });
    });

    test("When the password is wrong, then 401 and no cookie: the page stays on /login", async () => {
      const stranger = new DashboardClient(service);
      const response = await stranger.login(user.accessKey, "not-the-secret");
      expect(response.status).toBe(401);
      expect(response.headers["set-cookie"]).toBeUndefined();
      expect(stranger.localStorage).toEqual({});
    });
  });

  describe("Projects and applications (§1.4)", () => {
    test("When the projects screen loads and a project is created, updated and listed, then each answers 200 with the fields it reads", async () => {
      const org = await listed("mGlkFLqgBQgNRvU3", { uid: organization });
      expect(org).toMatchObject({ uid: organization, name: "dash-lab" });
      const project = await ok(await dash.call("9Q1lCs56iud4oPcS", { name: "p1", description: "first", f_organization_uid: organization }));
      made.project = project.uid;
      await ok(await dash.call("KIW6ZqwTMbMF4bWl", { uid: project.uid, name: "p1-renamed", description: "first!" }));
      const projects = await listed("a75vPQAyPqVGFwiZ", { f_organization_uid: organization });
      expect(projects).toEqual([expect.objectContaining({ uid: project.uid, name: "p1-renamed", description: "first!" })]);
      readsAsDate(projects[0].created_time);
      const spare = await ok(await dash.call("9Q1lCs56iud4oPcS", { name: "p2", description: "", f_organization_uid: organization }));
      await ok(await dash.call("ThQHZcLlnq6GQ3zW", { uid: spare.uid }));
    });

    test("When an application is created the dashboard's way (f_agent_uid [], f_organization_uid from the URL), then 200 and it lists", async () => {
      const application = await ok(
        await dash.call("iGXyNAx4Kp3DrosK", {
          application_name: "a1",
          application_description: "app",
          f_project_uid: made.project,
          f_agent_uid: [],
          f_organization_uid: organization,
        }),
      );
      made.application = application.uid;
      await ok(
        await dash.call("OjlrjuAeA5HOkGqT", { application_uid: application.uid, application_name: "a1", application_description: "app!" }),
      );
      const applications = await listed("A19MSnNoF8p36XHn", { f_project_uid: made.project });
      expect(applications).toEqual([expect.objectContaining({ uid: application.uid, name: "a1", description: "app!" })]);
      readsAsDate(applications[0].created_time);
      const spare = await ok(
        await dash.call("iGXyNAx4Kp3DrosK", {
          application_name: "spare",
          application_description: "",
          f_project_uid: made.project,
          f_agent_uid: [],
          f_organization_uid: organization,
        }),
      );
      await ok(await dash.call("pWS6eH3ZKgYytsre", { application_uid: spare.uid }));
    });
  });

  describe("Datasets (§1.4, §1.5): parts in the dashboard's order, extension after the file", () => {
    test.each([
      ["project", "OFbaCJE62lcPVbZj", "MyC2aIHtzkZJrEGi", "uqm5wN6pdrAWM89T", "6PiGXBbrIvQLqhrC", "f_project_uid"],
      ["application", "5fk1gVLi8q0mcHf4", "1sphuopUuLnIqoPU", "lXqKKZYiy6XKJaVg", "9uKWKnG5ZTSew1HD", "f_application_uid"],
    ])(
      "When a %s dataset is uploaded, updated file-first, listed, downloaded by path and deleted, then each is 200",
      async (scope, create, list, update, remove, parentField) => {
        const parent = scope === "project" ? made.project! : made.application!;
        const original = await ok(
          await dash.upload(create, [
            ["name", `${scope}-original`],
            ["description", "raw"],
            ["type", "original"],
            [parentField, parent],
            ["file", { file: ZIP, name: "dataset.zip" }],
            ["extension", "zip"],
          ]),
        );
        made[`${scope}Dataset`] = original.uid;
        // The extension came after the file part and is honoured, not defaulted.
        expect(original.f_file_uid.extension).toBe("zip");
        const spare = await ok(
          await dash.upload(create, [
            ["name", "spare"],
            ["description", ""],
            ["type", "original"],
            [parentField, parent],
            ["file", { file: Buffer.from("x"), name: "x.csv" }],
            ["extension", "csv"],
          ]),
        );
        expect(spare.f_file_uid.extension).toBe("csv");
        await ok(
          await dash.upload(update, [
            ["file", { file: Buffer.from("replaced"), name: "x.csv" }],
            ["uid", spare.uid],
            ["name", "spare-renamed"],
            ["description", "now"],
          ]),
        );
        const datasets = await listed(list, { [parentField]: parent });
        const shown = datasets.find((d: { uid: string }) => d.uid === spare.uid);
        expect(shown).toMatchObject({ name: "spare-renamed", description: "now", type: "original" });
        expect(typeof shown.name).toBe("string");
        readsAsDate(shown.created_time);
        const blob = await dash.blob("TTiue1sygXrsm0YS", { file_path: dashboardFilePath(shown) });
        expect(blob.status).toBe(200);
        expect((blob.body as Buffer).toString()).toBe("replaced");
        await ok(await dash.call(remove, { uid: spare.uid }));
      },
    );
  });

  describe("Pipelines, configs and build files (§1.4, §1.5)", () => {
    test("When a pipeline is uploaded with extension after the file, then 200 and data.uid; the editor loads it by path", async () => {
      const program = readFileSync("examples/preprocess.py");
      const pipeline = await ok(
        await dash.upload("FgdSO4ryg2UA2APl", [
          ["name", "prep"],
          ["description", "scales"],
          ["type", "preprocessing"],
          ["f_application_uid", made.application!],
          ["file", { file: program, name: "prep.py" }],
          ["extension", "py"],
        ]),
      );
      made.pipeline = pipeline.uid;
      const pipelines = await listed("VytZbpzyI9fFWkM6", { f_application_uid: made.application });
      const shown = pipelines.find((p: { uid: string }) => p.uid === pipeline.uid);
      expect(shown).toMatchObject({ name: "prep", description: "scales", type: "preprocessing", f_file_uid: expect.any(Object) });
      const editor = await dash.blob("TTiue1sygXrsm0YS", { file_path: dashboardFilePath(shown) });
      expect(editor.status).toBe(200);
      expect((editor.body as Buffer).equals(program)).toBe(true);
      await ok(await dash.call("owbCDAJ9rJW2AEO5", { uid: pipeline.uid }));
      await ok(
        await dash.upload("28a9H19Khaw4KIbV", [
          ["uid", pipeline.uid],
          ["name", "prep"],
          ["description", "scales rows"],
        ]),
      );
    });

    test("When a config is created with data as an object, updated and listed, then 200 with data an object", async () => {
      const config = await ok(
        await dash.call("42XzWaxjE6dKA9mZ", { name: "c1", description: "", data: { target: "y" }, f_pipeline_uid: made.pipeline }),
      );
      made.config = config.uid;
      await ok(await dash.call("IIfzauWfQZ3RsHUZ", { uid: config.uid, name: "c1", description: "d", data: { target: "y" } }));
      const configs = await listed("NVVJBLsdkIjTLB2P", { f_pipeline_uid: made.pipeline });
      expect(configs[0]).toMatchObject({ uid: config.uid, name: "c1", description: "d", data: { target: "y" } });
      readsAsDate(configs[0].created_time);
      const spare = await ok(await dash.call("42XzWaxjE6dKA9mZ", { name: "c2", description: "", data: {}, f_pipeline_uid: made.pipeline }));
      await ok(await dash.call("DUj6JZvlwBE3WMbX", { uid: spare.uid }));
    });

    test("When the three build files are uploaded in parallel with extension null, then each is 200, lists with its sequence and downloads by path", async () => {
      const dockerfile = example("Dockerfile");
      const uploads = await Promise.all(
        ["download", "running", "upload"].map((sequence) =>
          dash.upload("lwO7afcqdKtKEAhb", [
            ["f_pipeline_uid", made.pipeline!],
            ["name", `${sequence}-image`],
            ["sequence", sequence],
            ["description", ""],
            ["file", { file: dockerfile, name: "Dockerfile" }],
            ["extension", "null"],
          ]),
        ),
      );
      for (const response of uploads) {
        const image = await ok(response);
        made[`${image.sequence}Image`] = image.uid;
      }
      const images = await listed("eu4oNOb8E0KVaOdo", { f_pipeline_uid: made.pipeline });
      expect(images.map((i: { sequence: string }) => i.sequence).sort()).toEqual(["download", "running", "upload"]);
      for (const image of images) {
        expect(image).toMatchObject({ name: `${image.sequence}-image`, description: "", f_file_uid: { extension: "null" } });
        readsAsDate(image.created_time);
        const file = await dash.blob("TTiue1sygXrsm0YS", { file_path: dashboardFilePath(image) });
        expect({ status: file.status, bytes: (file.body as Buffer).equals(dockerfile) }).toEqual({ status: 200, bytes: true });
      }
      await ok(
        await dash.upload("fQVBVFsISiNWCCzx", [
          ["uid", made.runningImage!],
          ["name", "running-image"],
          ["description", "python"],
        ]),
      );
    });
  });

  describe("Tasks (§1.4, §1.6, §1.7)", () => {
    let task: string;

    test("When the run form loads its choices and runs a preprocessing task, then 200; the task card shows it and polls it to success", async () => {
      const choices = await listed("oNjkVj60RqS8DQTX", { pipeline_uid: made.pipeline });
      // Arrays the run form reads without checking (a missing one crashes it).
      expect(Array.isArray(choices.config)).toBe(true);
      for (const sequence of ["download", "running", "upload"]) expect(Array.isArray(choices.image[sequence])).toBe(true);
      expect(choices.original_dataset.project.map((d: { uid: string }) => d.uid)).toContain(made.projectDataset);
      const run = await dash.call("jPqyAFWh7hBKRRNK", {
        access_key: user.accessKey,
        secret_key: user.secretKey,
        task_name: "prep-run",
        task_description: "from the dashboard",
        pipeline_uid: made.pipeline,
        dataset_uid: made.projectDataset,
        type: "project",
        config_uid: made.config,
        image_uid: { download_uid: made.downloadImage, running_uid: made.runningImage, upload_uid: made.uploadImage },
        dataset_name: "scaled",
        dataset_description: "",
        dataset_type: "training",
        dataset_file_extension: "zip",
      });
      const answer = await ok(run);
      expect(answer).toMatchObject({ status: "init", execute_step: "prepare_file" });
      task = answer.uid;
      let card: Record<string, unknown> = {};
      for (let polls = 0; polls < 200; polls += 1) {
        const tasks = await listed("s8i1TNiTXwwv02mv", { f_pipeline_uid: made.pipeline });
        card = tasks.find((t: { uid: string }) => t.uid === task);
        if (card.status === "success" || card.status === "fail") break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(card).toMatchObject({
        uid: task,
        name: "prep-run",
        description: "from the dashboard",
        status: "success",
        execute_step: "run_task",
      });
      readsAsDate(card.created_time);
    });

    test("When the logs modal polls the logs as a Blob, then it parses as JSON whose data is an object of step texts in order", async () => {
      const blob = await dash.blob("bJ7xLmgp4WSWK498", { task_uid: task, type: "preprocessing" });
      expect(blob.status).toBe(200);
      const parsed = JSON.parse((blob.body as Buffer).toString("utf8"));
      expect(Object.keys(parsed.data)).toEqual(["download_original_dataset", "preprocessing", "upload_training_dataset"]);
      expect(parsed.data.preprocessing).toMatch(/scaled \d+ rows/);
    });

    test("When a card is renamed and deleted, then both answer 200", async () => {
      await ok(await dash.call("05wVeQQBhvFRTq54", { uid: task, name: "prep-run-1", description: "kept" }));
      await ok(await dash.call("AoTqlTmu8l47CbMU", { uid: task }));
    });
  });

  describe("Models, inference templates, raw data and agents (§1.4, §1.5)", () => {
    test("When a model is uploaded the dashboard's way (status unavailable, f_agent_uid and source empty), then 200 and it shows in the grouped list", async () => {
      const model = await ok(
        await dash.upload("OBF4f9guOmzitGvC", [
          ["name", "m1"],
          ["description", "first"],
          ["type", "default"],
          ["model_input_format", "csv"],
          ["model_output_format", "json"],
          ["status", "unavailable"],
          ["f_application_uid", made.application!],
          ["f_agent_uid", ""],
          ["file", { file: ZIP, name: "model.zip" }],
          ["extension", "zip"],
          ["source", ""],
        ]),
      );
      made.model = model.uid;
      expect(model).toMatchObject({ status: "unavailable", source: null, f_agent_uid: null });
      const groups = await listed("mvtJY0gtyhHguWtL", { f_application_uid: made.application });
      expect(groups[0]).toMatchObject({ uid: model.uid, name: "m1", status: "unavailable", version: 1, accuracy: null, retrain_model: [] });
      const file = await dash.blob("TTiue1sygXrsm0YS", { file_path: dashboardFilePath(groups[0]) });
      expect(file.status).toBe(200);
      await ok(
        await dash.call("siJLKf5He1wksCH2", {
          model_uid: model.uid,
          model_name: "m1",
          model_description: "first!",
          model_input_format: "csv",
          model_output_format: "json",
          model_status: "unpublish",
        }),
      );
      const versions = await listed("ZEUjsfvXK9eNjom7", { source: model.uid, version: "2" });
      expect(versions).toEqual([]);
    });

    test("When a card loads its inference template, one is uploaded, then re-sent without a file as file[uid]..., then 200 each and the card reads [0]", async () => {
      expect(await listed("wD9UPZGXJbaLRuCJ", { f_model_uid: made.model })).toEqual([]);
      const template = await ok(
        await dash.upload("Zd1B3anLLSb2f59h", [
          ["name", "serve"],
          ["description", "v1"],
          ["type", "template"],
          ["file", { file: Buffer.from("template-v1"), name: "serve.zip" }],
          ["extension", "zip"],
          ["f_model_uid", made.model!],
        ]),
      );
      const [shown] = await listed("wD9UPZGXJbaLRuCJ", { f_model_uid: made.model });
      expect(shown).toMatchObject({ uid: template.uid, name: "serve", description: "v1", f_file_uid: expect.any(Object) });
      const again: Array<[string, FormValue]> = [
        ["name", "serve"],
        ["description", "v2"],
        ["type", "template"],
        ["file", shown.f_file_uid],
        ["extension", "zip"],
        ["f_model_uid", made.model!],
      ];
      await ok(await dash.upload("Zd1B3anLLSb2f59h", again));
      const [updated] = await listed("wD9UPZGXJbaLRuCJ", { f_model_uid: made.model });
      expect(updated).toMatchObject({ uid: template.uid, description: "v2" });
      const file = await dash.blob("TTiue1sygXrsm0YS", { file_path: dashboardFilePath(updated) });
      expect((file.body as Buffer).toString()).toBe("template-v1");
    });

    test("When a model is published and unpublished, then both answer 200 and the status follows", async () => {
      await ok(await dash.call("LKloOsyvHb0NCDPG", { uid: made.model, status: "publish", f_application_uid: made.application }));
      expect((await listed("EU2X3oWVHQiEoYBi", { f_application_uid: made.application }))[0].status).toBe("publish");
      await ok(await dash.call("7uW8GfesIizOaShO", { uid: made.model, status: "unpublish", f_application_uid: made.application }));
    });

    test("When the agents screen creates, updates, links, lists and deletes an agent, then each answers 200 with the fields it reads", async () => {
      const agent = await ok(
        await dash.call("SwuMUkAwSESxBkUw", { agent_name: "edge-1", agent_description: "lab edge", f_organization_uid: organization }),
      );
      const agents = await listed("R1hgr6B6u4JIv5Ru", { f_organization_uid: organization });
      expect(agents[0]).toMatchObject({
        uid: agent.uid,
        name: "edge-1",
        description: "lab edge",
        activation_token: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
      readsAsDate(agents[0].created_time);
      await ok(await dash.call("wCoqdcMkdei1Dypv", { uid: agent.uid, name: "edge-1", description: "lab edge 1" }));
      await ok(await dash.call("PnvwgsKI4ztEJnuj", { uid: made.application, f_agent_uid: agent.uid }));
      const linked = await listed("BEsC50prU0PRIKIt", { f_agent_uid: agent.uid });
      expect(linked).toEqual([expect.objectContaining({ uid: made.application, name: "a1", description: "app!", link_status: true })]);
      await ok(await dash.call("ylw5GFhipRLkCQMh", { uid: made.application, f_agent_uid: agent.uid }));
      expect((await listed("BEsC50prU0PRIKIt", { f_agent_uid: agent.uid }))[0].link_status).toBe(false);
      await ok(await dash.call("wneZ8lVKrcf70ttU", { agent_uid: agent.uid }));
      expect(await listed("R1hgr6B6u4JIv5Ru", { f_organization_uid: organization })).toEqual([]);
    });

    test("When raw data is uploaded, updated file-first, listed, downloaded and deleted, then each answers 200", async () => {
      const raw = await ok(
        await dash.upload("Rw4dCr8eAtE5kQ2n", [
          ["name", "capture"],
          ["description", ""],
          ["f_application_uid", made.application!],
          ["file", { file: Buffer.from("raw-1"), name: "capture.zip" }],
          ["extension", "zip"],
        ]),
      );
      await ok(
        await dash.upload("LonUDE20aIWlhKRo", [
          ["file", { file: Buffer.from("raw-2"), name: "capture.zip" }],
          ["uid", raw.uid],
          ["name", "capture-2"],
          ["description", "second"],
        ]),
      );
      const rows = await listed("9k1KgT1NKjCE0uja", { f_application_uid: made.application });
      expect(rows).toEqual([expect.objectContaining({ uid: raw.uid, name: "capture-2", description: "second" })]);
      const file = await dash.blob("TTiue1sygXrsm0YS", { file_path: dashboardFilePath(rows[0]) });
      expect((file.body as Buffer).toString()).toBe("raw-2");
      await ok(await dash.call("xiSTRKUPfr3XP2Ed", { uid: raw.uid }));
    });

    test("When the model is deleted, then 200 and its inference template goes with it", async () => {
      await ok(await dash.call("8qFsmTELrN0lag20", { uid: made.model }));
      expect(await service.container.db.inferenceTemplates.count({ modelUid: made.model! })).toBe(0);
    });
  });

  describe("Where the session stops (§1.2, issue: sessions end)", () => {
    const signedIn = async () => {
      const client = new DashboardClient(service);
      expect((await client.login(user.accessKey, user.secretKey)).status).toBe(200);
      expect((await client.call("a75vPQAyPqVGFwiZ", { f_organization_uid: organization })).status).toBe(200);
      return client;
    };

    test("When the dashboard signs out and calls again with the old cookie, then 401", async () => {
      const client = await signedIn();
      const stale = client.headers();
      const out = await client.logout();
      expect(out.status).toBe(200);
      expect(out.headers["set-cookie"]!.toString()).toMatch(new RegExp(`${SESSION_COOKIE}=; Path=/; Max-Age=0`));
      const again = await service.http
        .post(`/api/v1.2.4/entrypoint/Router/parse/a75vPQAyPqVGFwiZ`)
        .set(stale)
        .send({ f_organization_uid: organization });
      expect(again.status).toBe(401);
    });

    test("When the user's secret is rotated, then its sessions end (401)", async () => {
      const client = await signedIn();
      const rotated = await service.container.accounts.rotateSecret(user.accessKey);
      user = { ...user, secretKey: rotated.secretKey };
      expect((await client.call("a75vPQAyPqVGFwiZ", { f_organization_uid: organization })).status).toBe(401);
    });

    test("When the user is revoked, then its sessions end (401) and it cannot sign in", async () => {
      const other = await service.user({ organization: "dash-lab" });
      const client = new DashboardClient(service);
      expect((await client.login(other.accessKey, other.secretKey)).status).toBe(200);
      await service.container.accounts.revoke(other.accessKey);
      expect((await client.call("a75vPQAyPqVGFwiZ", { f_organization_uid: organization })).status).toBe(401);
      expect((await new DashboardClient(service).login(other.accessKey, other.secretKey)).status).toBe(401);
    });

    test("When a file_path of another organization is asked for, then 404 as if it did not exist", async () => {
      const stranger = await service.user({ organization: "elsewhere" });
      const theirs = new DashboardClient(service);
      await theirs.login(stranger.accessKey, stranger.secretKey);
      const project = await ok(
        await theirs.call("9Q1lCs56iud4oPcS", { name: "secret", description: "", f_organization_uid: stranger.organizationUid }),
      );
      const dataset = await ok(
        await theirs.upload("OFbaCJE62lcPVbZj", [
          ["name", "theirs"],
          ["description", ""],
          ["type", "original"],
          ["f_project_uid", project.uid],
          ["file", { file: ZIP, name: "d.zip" }],
          ["extension", "zip"],
        ]),
      );
      const path = dashboardFilePath(dataset);
      expect((await theirs.blob("TTiue1sygXrsm0YS", { file_path: path })).status).toBe(200);
      const mine = await signedIn();
      const refused = await mine.blob("TTiue1sygXrsm0YS", { file_path: path });
      expect(refused.status).toBe(404);
      expect(JSON.parse((refused.body as Buffer).toString()).errors[0].field).toBe("file_path");
    });

    test("When a session cookie comes with a page of another origin, then 403; from the service's own origin it works", async () => {
      const client = await signedIn();
      const call = (origin: string) =>
        service.http
          .post(`/api/v1.2.4/entrypoint/Router/parse/a75vPQAyPqVGFwiZ`)
          .set({ ...client.headers(), Origin: origin, Host: "dash.lab.example" })
          .send({ f_organization_uid: organization });
      expect((await call("http://dash.lab.example")).status).toBe(200);
      expect((await call("http://evil.lab.example")).status).toBe(403);
    });
  });
});
