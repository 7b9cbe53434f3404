/**
 * The dashboard in a real browser: Debian's headless Chromium driven by puppeteer-core, against a
 * running service on the local engine. Screenshots of the main pages go to docs/screenshots.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "@jest/globals";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import {
  endActiveTasks,
  registerPipeline,
  registerProject,
  registerTrainingDataset,
  startListeningService,
  type PipelineFixture,
} from "../support/task-fixture.js";
import type { TestService, TestUser } from "../support/test-service.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOTS = "docs/screenshots";

/** Reports a loss and accuracy curve through the step API while it prints its epochs; the config says how long, and whether it fails. */
const TRAINING = `
import json, os, time, urllib.request
config = json.loads(os.environ["TASK_CONFIG"])
url = os.environ["ARGO_ENTRYPOINT_URL"] + "/api/steps/v1/tasks/" + os.environ["TASK_UID"] + "/metric-points"
for step in range(config.get("steps", 6)):
    loss = 1.0 / (step + 1)
    print("epoch %d loss %.3f" % (step, loss), flush=True)
    body = {"step_name": os.environ["STEP_NAME"], "points": [{"key": "loss", "value": loss, "step": step}, {"key": "accuracy", "value": 1 - loss, "step": step}]}
    urllib.request.urlopen(urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": "Bearer " + os.environ["TASK_TOKEN"], "Content-Type": "application/json"}))
    time.sleep(config.get("pause", 0.4))
for line in range(config.get("lines", 0)):
    print("bulk line %d" % line)
if config.get("fail"):
    raise SystemExit("training diverged: loss is NaN")
open(os.path.join(os.environ["OUTPUTS_DIR"], os.environ["OUTPUT_FILE_NAME"]), "w").write("weights")
`;

describe("The dashboard in headless Chromium", () => {
  let running: Awaited<ReturnType<typeof startListeningService>>;
  let service: TestService;
  let user: TestUser;
  let project: { project: string; application: string };
  let failing: PipelineFixture;
  let slow: PipelineFixture;
  let chatty: PipelineFixture;
  let browser: Browser;
  let page: Page;
  let downloads: string;
  /** Script errors and policy violations the pages caused (a refused request's own log line is expected, not one of them). */
  const pageErrors: string[] = [];
  const ui = (hash: string) => `${running.url}/ui/#${hash}`;
  const shoot = (name: string) => page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: true });
  const text = (selector: string) => page.$eval(selector, (element) => element.textContent ?? "");
  // Page-side code is given as text: this file is compiled without the DOM's types.
  const waitForText = (selector: string, expected: string, timeout = 60_000) =>
    page.waitForFunction(
      `[...document.querySelectorAll(${JSON.stringify(selector)})].some((e) => e.textContent.includes(${JSON.stringify(expected)}))`,
      { timeout },
    );
  const waitForTaskPage = () => page.waitForFunction("/#\\/tasks\\/[0-9a-f-]{36}$/.test(location.hash)", { timeout: 10_000 });
  /** Pages render after their data arrives: wait for the element, then click it. */
  const clickWhenReady = async (selector: string) => (await page.waitForSelector(selector))!.click();
  const confirmNextDialog = () => page.once("dialog", (dialog) => void dialog.accept());

  beforeAll(async () => {
    execFileSync(process.execPath, ["scripts/build-ui.mjs"], { stdio: "inherit" });
    mkdirSync(SCREENSHOTS, { recursive: true });
    downloads = mkdtempSync(path.join(os.tmpdir(), "argo-entrypoint-downloads-"));
    running = await startListeningService();
    service = running.service;
    user = await service.user({ organization: "dashboard-lab" });
    project = await registerProject(service, user);
    await registerTrainingDataset(service, user, project.project);
    await registerPipeline(service, user, project.application, {
      type: "training",
      program: TRAINING,
      extension: "py",
      config: { lines: 3000 },
    });
    failing = await registerPipeline(service, user, project.application, {
      type: "training",
      program: TRAINING,
      extension: "py",
      config: { fail: true, steps: 2 },
    });
    chatty = await registerPipeline(service, user, project.application, {
      type: "training",
      program: TRAINING,
      extension: "py",
      config: { steps: 1, lines: 205_000 },
    });
    slow = await registerPipeline(service, user, project.application, {
      type: "training",
      program: TRAINING,
      extension: "py",
      config: { steps: 600, pause: 0.2 },
    });
    // A cold start of Chromium took 16.5 s on an idle machine here and over 30 s (puppeteer's default) beside a test run.
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-dev-shm-usage"],
      timeout: 120_000,
    });
    page = await browser.newPage();
    page.on("pageerror", (error) => pageErrors.push(String(error)));
    page.on("console", (message) => {
      if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) pageErrors.push(message.text());
    });
    await page.setViewport({ width: 1280, height: 900 });
    const cdp = await page.createCDPSession();
    await cdp.send("Browser.setDownloadBehavior", { behavior: "allow", downloadPath: downloads });
  }, 240_000);

  afterEach(() => endActiveTasks(service, user), 60_000);
  afterAll(async () => {
    await browser?.close();
    await running?.close();
    rmSync(downloads, { recursive: true, force: true });
  }, 60_000);

  test("When /ui is opened, then the page comes from this service under a strict Content-Security-Policy", async () => {
    const bare = await fetch(`${running.url}/ui`, { redirect: "manual" });
    expect({ status: bare.status, location: bare.headers.get("location") }).toEqual({ status: 302, location: "/ui/" });
    const index = await fetch(`${running.url}/ui/`);
    expect(index.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(await index.text()).not.toMatch(/https?:\/\//);
    expect((await fetch(`${running.url}/ui/main.js`)).headers.get("content-type")).toMatch(/javascript/);
  });

  test("When the password is wrong, then sign-in says so and stays on the form", async () => {
    await page.goto(ui("/tasks"));
    await page.waitForSelector("form input[name=account]");
    expect(page.url()).toMatch(/#\/sign-in$/);
    await page.type("input[name=account]", user.accessKey);
    await page.type("input[name=password]", "not-the-secret");
    await page.click("form button[type=submit]");
    await waitForText("[role=alert]", "Sign-in failed");
    await shoot("sign-in");
    expect(page.url()).toMatch(/#\/sign-in$/);
  });

  test("When a training task is run from the form, then it goes to success without a reload, its logs follow live and its loss curve is drawn", async () => {
    await page.click("input[name=password]", { count: 3 });
    await page.keyboard.press("Backspace");
    await page.type("input[name=password]", user.secretKey);
    await page.click("form button[type=submit]");
    await page.waitForSelector("h1");
    await waitForText("h1", "Tasks");
    // Registry → project → application → the pipeline's run form.
    await page.goto(ui("/registry"));
    await clickWhenReady(`a[href="#/registry/projects/${project.project}"]`);
    await clickWhenReady(`a[href="#/registry/applications/${project.application}?project=${project.project}"]`);
    await clickWhenReady("a.button[href^='#/run/']");
    await page.waitForSelector("form select[name=config_uid]");
    await shoot("run-form");
    await page.click("form button[type=submit]");
    await waitForTaskPage();
    const taskUid = page.url().split("/").pop()!;

    await waitForText(".log-line", "epoch 1");
    await waitForText("h1 .badge", "success");
    await waitForText(".log-line", "bulk line 2999");
    // 3,000+ lines followed, yet only the rows in sight are in the page.
    expect(await page.$$eval(".log-line", (rows) => rows.length)).toBeLessThan(200);
    await page.type("input[name=search]", "epoch 3");
    await page.waitForFunction(`[...document.querySelectorAll(".log-line")].every((row) => row.textContent.includes("epoch 3"))`);
    await page.waitForSelector('figure[data-metric="loss"] polyline');
    const points = await page.$eval('figure[data-metric="loss"] polyline', (line) => line.getAttribute("points")!.split(" ").length);
    expect(points).toBe(6);
    await shoot("task");
    const done = (await service.post("KlnZtRyqy3rPAZWL", user, { uid: taskUid })).body.data;
    expect(done.status).toBe("success");

    await page.goto(ui("/tasks"));
    await page.waitForSelector(`tr[data-uid="${taskUid}"]`);
    expect(await text(`tr[data-uid="${taskUid}"] td.status`)).toBe("success");
    await shoot("tasks");
  }, 120_000);

  test("When a model's alias is moved and the model downloaded, then the registry shows it and the file arrives", async () => {
    const trained = (await service.post("Tb7oRgW2kQ9xLm4s", user, { status: ["success"] })).body.data[0];
    await page.goto(ui(`/models?model=${trained.f_output_model_uid}`));
    const row = `tr[data-model="${trained.f_output_model_uid}"]`;
    await page.waitForSelector(`${row} input[name=alias]`);
    await page.type(`${row} input[name=alias]`, "champion");
    await page.click(`${row} form button[type=submit]`);
    await waitForText(`${row} td.aliases`, "champion");
    await page.waitForSelector("#lineage-title");
    await shoot("models");
    const moves = (await service.post("Ma4hSt6AlR1iOp3d", user, { f_application_uid: project.application })).body.data;
    expect(moves.at(-1)).toMatchObject({ alias: "champion", model_uid: trained.f_output_model_uid });

    await page.click(`${row} a[download]`);
    const file = path.join(downloads, `${trained.f_output_model_uid}.zip`);
    for (let waited = 0; !existsSync(file) && waited < 100; waited++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(readdirSync(downloads)).toContain(`${trained.f_output_model_uid}.zip`);
    expect(readFileSync(file, "utf8")).toBe("weights");
  });

  test("When a task fails, then its page shows the failing step's message", async () => {
    await page.goto(ui(`/run/${project.project}/${project.application}/${failing.pipeline}`));
    await page.waitForSelector("form select[name=config_uid]");
    await page.click("form button[type=submit]");
    await waitForTaskPage();
    await waitForText("h1 .badge", "fail");
    await waitForText(".message", "training diverged: loss is NaN");
    await shoot("task-failed");
  }, 90_000);

  test("When a running task is stopped from its page, then it ends and its history says it was stopped", async () => {
    await page.goto(ui(`/run/${project.project}/${project.application}/${slow.pipeline}`));
    await page.waitForSelector("form select[name=config_uid]");
    await page.click("form button[type=submit]");
    await waitForTaskPage();
    await waitForText(".log-line", "epoch 2");
    confirmNextDialog();
    await page.click('button[data-action="stop"]');
    await waitForText("h1 .badge", "fail");
    await waitForText(".history li", "stop");
    expect(await page.$('button[data-action="stop"]')).toBeNull();
  }, 90_000);

  test("When the log stream drops before the task ends, then the viewer stops, says after how many lines, and follows again without repeating any", async () => {
    // Only the log stream's connection drops: the step's own calls to the service must go on.
    const logStreams = new Set<Socket>();
    const noteLogStream = (request: IncomingMessage) => request.url?.includes("/logs?follow=true") && logStreams.add(request.socket);
    running.server.on("request", noteLogStream);
    await page.goto(ui(`/run/${project.project}/${project.application}/${slow.pipeline}`));
    await page.waitForSelector("form select[name=config_uid]");
    await page.click("form button[type=submit]");
    await waitForTaskPage();
    const taskUid = page.url().split("/").pop()!;
    await waitForText(".log-line", "epoch 2");
    // Every step is followed by default, each under its heading, from the download on.
    expect(await page.$$eval(".log-step", (rows) => rows.map((row) => row.textContent))).toEqual(["download_training_dataset", "training"]);
    running.server.off("request", noteLogStream);
    expect(logStreams.size).toBeGreaterThan(0);
    for (const socket of logStreams) socket.destroy();
    await waitForText(".log-view [role=status]", "The log stopped after");
    expect(await text(".log-view [role=status]")).toMatch(/The log stopped after \d+ lines: the connection was lost/);
    await page.click(".log-view [role=status] button");
    await waitForText(".log-line", "epoch 5");
    const firstEpochs = await page.$$eval(".log-line", (rows) => rows.filter((row) => row.textContent!.startsWith("epoch 0 ")).length);
    expect(firstEpochs).toBe(1);
    // One step chosen: its log ends with it, and the status says the task goes on.
    await page.select("select[name=step]", "download_training_dataset");
    await waitForText(".log-view [role=status]", "The step download_training_dataset ended; the task is running.");
    expect(await page.$$(".log-step")).toHaveLength(0);
    expect((await service.post("CNNfUmDpcWXp7vdM", user, { task_uid: taskUid })).status).toBe(200);
  }, 90_000);

  test("When a step writes more lines than the viewer keeps, then it keeps the newest, says so, and the page stays responsive", async () => {
    await page.goto(ui(`/run/${project.project}/${project.application}/${chatty.pipeline}`));
    await page.waitForSelector("form select[name=config_uid]");
    await page.click("form button[type=submit]");
    await waitForTaskPage();
    // The whole log, however far the step got before the page followed it.
    await page.waitForSelector("select[name=tail]");
    await page.select("select[name=tail]", "");
    await waitForText(".log-line", "bulk line 204999", 120_000);
    await waitForText(".log-view [role=status]", "earlier ones: use the download");
    const began = Date.now();
    expect(await page.$$eval(".log-line", (rows) => rows.length)).toBeLessThan(200);
    await page.type("input[name=search]", "bulk line 204321");
    await page.waitForFunction(`document.querySelectorAll(".log-line").length === 1`);
    expect(Date.now() - began).toBeLessThan(10_000);
  }, 180_000);

  test("When two runs are ticked in the task list and compared, then their curves are overlaid with a legend", async () => {
    await page.goto(ui("/tasks?kind=training"));
    await page.waitForSelector("tbody tr");
    const boxes = await page.$$("tbody input[type=checkbox]");
    expect(boxes.length).toBeGreaterThanOrEqual(2);
    await boxes[0]!.click();
    await boxes[1]!.click();
    await page.click("button:not([disabled])::-p-text(Compare selected)");
    await page.waitForSelector('figure[data-metric="loss"]');
    expect(await page.$$eval('figure[data-metric="loss"] polyline', (lines) => lines.length)).toBe(2);
    expect(await page.$$eval('figure[data-metric="loss"] .legend li', (items) => items.length)).toBe(2);
    await shoot("compare");
  });

  test("When a dataset is uploaded in the registry, then a progress bar fills and the dataset is listed", async () => {
    await page.goto(ui(`/registry/projects/${project.project}`));
    const file = path.join(downloads, "fresh-data.csv");
    writeFileSync(file, "a,b\n".repeat(200_000));
    await page.waitForSelector("form.upload input[type=file]");
    await page.type("form.upload input[name=name]", "fresh data");
    const input = await page.$("form.upload input[type=file]");
    await (input as unknown as { uploadFile(path: string): Promise<void> }).uploadFile(file);
    await page.click("form.upload button[type=submit]");
    await waitForText("section.card li a", "fresh data");
    expect(await page.$eval("form.upload progress", (bar) => bar.getAttribute("value"))).toBe("1");
    expect(await text("form.upload [role=status]")).toBe("Uploaded fresh-data.csv.");
    const datasets = (await service.post("MyC2aIHtzkZJrEGi", user, { f_project_uid: project.project })).body.data;
    const uploaded = datasets.find((d: { name: string }) => d.name === "fresh data");
    expect(uploaded.f_file_uid.size).toBe(800_000);
  });

  test("When the dashboard is opened at a phone's width, then the task list still fits and works", async () => {
    // A page of its own, sized before it loads (changing a loaded page to a mobile viewport reloads it under the test).
    const phone = await browser.newPage();
    try {
      phone.on("pageerror", (error) => pageErrors.push(String(error)));
      await phone.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true });
      await phone.goto(ui("/tasks"));
      await phone.waitForSelector("tbody tr");
      const overflow = (await phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")) as number;
      expect(overflow).toBeLessThanOrEqual(0);
      await phone.screenshot({ path: `${SCREENSHOTS}/tasks-phone.png`, fullPage: true });
    } finally {
      await phone.close();
    }
  });

  test("When every page above was used, then none raised a script error or broke the Content-Security-Policy", () => {
    expect(pageErrors).toEqual([]);
  });
});
