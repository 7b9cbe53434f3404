/** Writes workflow-templates/<kind>.yaml and image-build.yaml from src/adapters/argo (`npm run templates`). */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { IMAGE_BUILD_TEMPLATE, imageBuildTemplateYaml } from "../src/adapters/argo/image-build-template.js";
import { workflowTemplateYaml } from "../src/adapters/argo/workflow-templates.js";
import { TASK_KINDS } from "../src/domain/tasks/task-kinds.js";
import type { TaskKind } from "../src/domain/records.js";

const write = (name: string, text: string) => {
  const file = path.join("workflow-templates", `${name}.yaml`);
  writeFileSync(file, text);
  process.stdout.write(`wrote ${file}\n`);
};
for (const kind of Object.keys(TASK_KINDS) as TaskKind[]) write(kind, workflowTemplateYaml(kind));
write(IMAGE_BUILD_TEMPLATE, imageBuildTemplateYaml());
