/** On the local engine nothing is built: steps run on the host, so every build file is ready, with no image. */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { registerAll, type Registered } from "../support/registry-fixture.js";
import { startTestService, type TestService, type TestUser } from "../support/test-service.js";

describe("Build files on the local engine", () => {
  let service: TestService;
  let user: TestUser;
  let r: Registered;

  beforeAll(async () => {
    service = await startTestService();
    user = await service.user();
    r = await registerAll(service, user);
  });
  afterAll(() => service.close());

  test("When build files are listed, then each is ready with no built image, and no build was recorded", async () => {
    const images = (await service.post("eu4oNOb8E0KVaOdo", user, { f_pipeline_uid: r.pipeline })).body.data;
    expect(images).toHaveLength(3);
    for (const image of images) expect(image).toMatchObject({ image_state: "ready", image_built_reference: null, image_digest: null });
    expect(await service.container.db.imageBuilds.count({})).toBe(0);
  });

  test("When a rebuild or the build log is asked for, then the rebuild answers ready and the log says there is no build", async () => {
    const rebuilt = await service.post("Rb9UiLd4Tk2WmQ7x", user, { uid: r.images.running });
    expect(rebuilt.status).toBe(200);
    expect(rebuilt.body.data).toMatchObject({ image_state: "ready", image_built_reference: null });
    const log = await service.post("Bd7LgQ2mXw9KcR4t", user, { uid: r.images.running });
    expect(log.status).toBe(404);
    expect(log.body.detail).toMatch(/has no image build/);
  });

  test("When another organization's build file is rebuilt, then 404", async () => {
    const stranger = await service.user({ organization: "elsewhere" });
    expect((await service.post("Rb9UiLd4Tk2WmQ7x", stranger, { uid: r.images.running })).status).toBe(404);
  });
});
