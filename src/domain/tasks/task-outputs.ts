import { NotFoundError, ValidationError } from "../errors.js";
import type { Stores } from "../ports.js";
import type { TaskRecord } from "../records.js";
import { objectKey } from "../registry/storage-keys.js";

export interface OutputTarget {
  kind: "dataset" | "model";
  uid: string;
  fileUid: string | null;
  extension: string;
  /** Where its file is stored: also the `file_path` the original's SDK uploads it to. */
  key: string;
}

/** The dataset or model a task produces, and where its file goes (the original's layout). */
export async function outputTargetOf(db: Pick<Stores, "datasets" | "models" | "applications">, task: TaskRecord): Promise<OutputTarget> {
  if (task.outputDatasetUid) {
    const dataset = await db.datasets.find(task.outputDatasetUid);
    if (!dataset) throw new NotFoundError(`output dataset ${task.outputDatasetUid} no longer exists`);
    const application = dataset.applicationUid ? await db.applications.find(dataset.applicationUid) : null;
    const segments =
      dataset.scope === "project"
        ? [dataset.organizationUid, dataset.projectUid!, dataset.type]
        : [dataset.organizationUid, application!.projectUid, dataset.applicationUid!, dataset.type];
    return {
      kind: "dataset",
      uid: dataset.uid,
      fileUid: dataset.fileUid,
      extension: dataset.extension,
      key: objectKey(segments, dataset.uid, dataset.extension),
    };
  }
  if (task.outputModelUid) {
    const model = await db.models.find(task.outputModelUid);
    if (!model) throw new NotFoundError(`output model ${task.outputModelUid} no longer exists`);
    const application = (await db.applications.find(model.applicationUid))!;
    return {
      kind: "model",
      uid: model.uid,
      fileUid: model.fileUid,
      extension: model.extension,
      key: objectKey([model.organizationUid, application.projectUid, model.applicationUid, "model"], model.uid, model.extension),
    };
  }
  throw new ValidationError(`task ${task.uid} produces no file; report metrics instead`);
}
