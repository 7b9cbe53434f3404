/**
 * The image build's WorkflowTemplate and Workflow, checked as a cluster would take them and for
 * what they must never contain: a privileged container, a host path or socket, root, or a
 * registry credential anywhere but the mounted Secret.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "@jest/globals";
import {
  buildRunName,
  dockerfileConfigMapName,
  imageBuildTemplate,
  imageBuildTemplateYaml,
  renderBuildWorkflow,
} from "../../src/adapters/argo/image-build-template.js";
import { argoSchemaProblems } from "../support/argo-schema.js";
import { admit, crdSchema } from "../support/fake-kube/crd-admission.js";

const BUILD = "9f".repeat(32);
const settings = {
  namespace: "argo",
  templatePrefix: "argo-entrypoint-",
  registrySecret: "lab-registry",
  builderImage: "moby/buildkit:v0.16.0-rootless",
};

/** Every value under `node`, with the path to it. */
function* walk(node: unknown, at = ""): Generator<[string, unknown]> {
  yield [at, node];
  if (Array.isArray(node)) for (const [index, item] of node.entries()) yield* walk(item, `${at}[${index}]`);
  else if (node && typeof node === "object") for (const [key, value] of Object.entries(node)) yield* walk(value, `${at}.${key}`);
}

describe("The image build WorkflowTemplate", () => {
  const template = imageBuildTemplate();
  const spec = template.spec as Record<string, any>;
  const container = spec.templates[0].container as Record<string, any>;

  test("When it is generated, then the committed file is exactly it, valid for Argo's schema and accepted whole by the CRD", () => {
    expect(readFileSync(path.resolve("workflow-templates/image-build.yaml"), "utf8")).toBe(imageBuildTemplateYaml());
    expect(argoSchemaProblems("WorkflowTemplate", template)).toEqual([]);
    const { object, problems } = admit(crdSchema("workflowtemplates"), template);
    expect(problems).toEqual([]);
    expect(object).toEqual(template);
  });

  test("When its pod is read, then nothing is privileged, nothing comes from the host, and it runs as a non-root user", () => {
    const paths = [...walk(template)];
    expect(paths.filter(([at, value]) => /\.privileged$/.test(at) && value !== false)).toEqual([]);
    expect(paths.filter(([at]) => /hostPath|hostNetwork|hostPID|hostIPC/.test(at))).toEqual([]);
    expect(paths.filter(([, value]) => typeof value === "string" && /docker\.sock|containerd\.sock|\/var\/run/.test(value))).toEqual([]);
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(container.securityContext).toMatchObject({ privileged: false, runAsNonRoot: true, runAsUser: 1000 });
    // Rootless BuildKit's user namespaces need these two profiles, and nothing more.
    expect(container.securityContext.seccompProfile).toEqual({ type: "Unconfined" });
    expect(container.securityContext.capabilities).toBeUndefined();
    expect(container.image).toBe("{{workflow.parameters.builder_image}}");
    expect(container.command.join(" ")).toContain("buildctl-daemonless.sh build");
  });

  test("When registry credentials are looked for, then they come only from the dockerconfigjson Secret mounted as a file", () => {
    const secretVolumes = spec.volumes.filter((v: any) => v.secret);
    expect(secretVolumes).toEqual([
      {
        name: "registry",
        secret: { secretName: "{{workflow.parameters.registry_secret}}", items: [{ key: ".dockerconfigjson", path: "config.json" }] },
      },
    ]);
    expect([...walk(template)].filter(([at]) => /secretKeyRef/.test(at))).toEqual([]);
    expect(container.env.find((e: any) => e.name === "DOCKER_CONFIG").value).toBe("/home/user/.docker");
  });

  test("When a build is rendered, then it refers to the template with names only, and the CRD stores it as rendered", () => {
    const workflow = renderBuildWorkflow({ buildUid: BUILD, attempt: 2, reference: `registry.example/ml/step-image:${BUILD}` }, settings);
    expect(workflow.metadata.name).toBe(buildRunName(BUILD, 2));
    expect(workflow.spec.workflowTemplateRef).toEqual({ name: "argo-entrypoint-image-build" });
    expect(Object.fromEntries(workflow.spec.arguments!.parameters!.map((p) => [p.name, p.value]))).toEqual({
      build_uid: BUILD,
      image: `registry.example/ml/step-image:${BUILD}`,
      dockerfile_config_map: dockerfileConfigMapName(BUILD, 2),
      registry_secret: "lab-registry",
      builder_image: "moby/buildkit:v0.16.0-rootless",
    });
    const declared = spec.arguments.parameters.map((p: { name: string }) => p.name).sort();
    expect(workflow.spec.arguments!.parameters!.map((p) => p.name).sort()).toEqual(declared);
    const { object, problems } = admit(crdSchema("workflows"), workflow);
    expect(problems).toEqual([]);
    expect(object).toEqual(workflow);
    expect(dockerfileConfigMapName(BUILD, 2).length).toBeLessThanOrEqual(63);
  });
});
