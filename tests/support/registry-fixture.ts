import { expect } from "@jest/globals";
import { API, type TestService, type TestUser } from "./test-service.js";

export interface Registered {
  project: string;
  application: string;
  pipeline: string;
  projectDataset: string;
  applicationDataset: string;
  config: string;
  images: { download: string; running: string; upload: string };
  model: string;
  modelToken: string;
}

/** Uploads a multipart route with the user's credentials as leading form fields. */
export function upload(
  service: TestService,
  key: string,
  user: TestUser,
  fields: Record<string, string>,
  file?: { content: Buffer | string; name: string },
) {
  let request = service.http.post(`${API}/${key}`).field("access_key", user.accessKey).field("secret_key", user.secretKey);
  for (const [name, value] of Object.entries(fields)) request = request.field(name, value);
  if (file) request = request.attach("file", Buffer.from(file.content), file.name);
  return request;
}

async function created(
  request: PromiseLike<{ status: number; body: { data: { uid: string } } }>,
): Promise<{ uid: string } & Record<string, unknown>> {
  const response = await request;
  expect(response.status).toBe(200);
  return response.body.data;
}

/** One of each registry entity, registered through the API with the seed's field names. */
export async function registerAll(service: TestService, user: TestUser, pipelineType = "training"): Promise<Registered> {
  const project = await created(
    service.post("9Q1lCs56iud4oPcS", user, { name: "demo", description: "demo project", f_organization_uid: user.organizationUid }),
  );
  const application = await created(
    service.post("iGXyNAx4Kp3DrosK", user, { application_name: "app", application_description: "demo app", f_project_uid: project.uid }),
  );
  const pipeline = await created(
    upload(
      service,
      "FgdSO4ryg2UA2APl",
      user,
      { name: "pipe", description: "p", type: pipelineType, f_application_uid: application.uid, extension: "py" },
      { content: "print('hi')\n", name: "pipe.py" },
    ),
  );
  const projectDataset = await created(
    upload(
      service,
      "OFbaCJE62lcPVbZj",
      user,
      {
        name: "ds",
        description: "d",
        type: pipelineType === "preprocessing" ? "original" : "training",
        f_project_uid: project.uid,
        extension: "zip",
      },
      { content: "PK-data", name: "ds.zip" },
    ),
  );
  const applicationDataset = await created(
    upload(
      service,
      "5fk1gVLi8q0mcHf4",
      user,
      { name: "ads", description: "d", type: "optimization", f_application_uid: application.uid, extension: "zip" },
      { content: "PK-app", name: "ads.zip" },
    ),
  );
  const config = await created(
    service.post("42XzWaxjE6dKA9mZ", user, {
      name: "cfg",
      description: "c",
      data: { learning_rate: 0.01, epochs: 2 },
      f_pipeline_uid: pipeline.uid,
    }),
  );
  const images: Record<string, string> = {};
  for (const sequence of ["download", "running", "upload"]) {
    images[sequence] = (
      await created(
        upload(
          service,
          "lwO7afcqdKtKEAhb",
          user,
          { name: `${sequence}-image`, description: "", sequence, f_pipeline_uid: pipeline.uid, extension: "null" },
          { content: "FROM python:3.11\n", name: "Dockerfile" },
        ),
      )
    ).uid;
  }
  const model = await created(
    upload(
      service,
      "OBF4f9guOmzitGvC",
      user,
      {
        name: "base",
        description: "m",
        type: "default",
        model_input_format: "float32",
        model_output_format: "float32",
        status: "unpublish",
        f_application_uid: application.uid,
        extension: "zip",
      },
      { content: "MODEL", name: "model.zip" },
    ),
  );
  return {
    project: project.uid,
    application: application.uid,
    pipeline: pipeline.uid,
    projectDataset: projectDataset.uid,
    applicationDataset: applicationDataset.uid,
    config: config.uid,
    images: images as Registered["images"],
    model: model.uid,
    modelToken: model.access_token as string,
  };
}
