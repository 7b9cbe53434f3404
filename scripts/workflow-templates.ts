/** Writes workflow-templates/<kind>.yaml from src/adapters/argo/workflow-templates.ts (`npm run templates`). */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { workflowTemplateYaml } from "../src/adapters/argo/workflow-templates.js";
import { TASK_KINDS } from "../src/domain/tasks/task-kinds.js";
import type { TaskKind } from "../src/domain/records.js";

for (const kind of Object.keys(TASK_KINDS) as TaskKind[]) {
  const file = path.join("workflow-templates", `${kind}.yaml`);
  writeFileSync(file, workflowTemplateYaml(kind));
  process.stdout.write(`wrote ${file}\n`);
}
