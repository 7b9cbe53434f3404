/** `task list` and `task get --output table`: tasks as people read them. */
import { EXIT, type ApiClient } from "./api-client.js";
import type { CliIo } from "./cli.js";
import { table } from "./output.js";

export async function list(api: ApiClient, values: Record<string, string | boolean | undefined>, io: CliIo): Promise<number> {
  const csv = (value: unknown) => (typeof value === "string" ? value.split(",").filter(Boolean) : undefined);
  const body: Record<string, unknown> = {
    ...(csv(values.status) ? { status: csv(values.status) } : {}),
    ...(csv(values.kind) ? { type: csv(values.kind) } : {}),
    ...(values.pipeline ? { f_pipeline_uid: values.pipeline } : {}),
    ...(values.since ? { since: values.since } : {}),
    ...(values.limit ? { limit: values.limit } : {}),
  };
  const { data } = await api.call<Array<Record<string, string>>>("Tb7oRgW2kQ9xLm4s", body);
  if (values.output === "json") {
    io.out(`${JSON.stringify(data, null, 2)}\n`);
    return EXIT.ok;
  }
  io.out(
    table([
      ["UID", "TYPE", "STATUS", "STEP", "CREATED", "NAME"],
      ...data.map((t) => [t.uid, t.type, t.status, t.execute_step, t.created_time, t.name]),
    ]),
  );
  return EXIT.ok;
}

export interface TaskInfo extends Record<string, unknown> {
  steps?: Array<{
    name: string;
    phase: string;
    started_time: string | null;
    finished_time: string | null;
    exit_code: number | null;
    message: string;
  }>;
}

/** Task info for people: its fields one per line, then its steps. */
export function taskTable(task: TaskInfo): string {
  const fields = ["uid", "name", "type", "status", "execute_step", "status_message", "created_time", "workflow_name"];
  const head = table([["FIELD", "VALUE"], ...fields.filter((f) => f in task).map((f) => [f.toUpperCase(), task[f]])]);
  const steps = task.steps ?? [];
  if (steps.length === 0) return head;
  return `${head}\n${table([
    ["STEP", "PHASE", "STARTED", "FINISHED", "EXIT", "MESSAGE"],
    ...steps.map((s) => [s.name, s.phase, s.started_time, s.finished_time, s.exit_code, s.message]),
  ])}`;
}
