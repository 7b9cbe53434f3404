/**
 * Files by the original's path: the download every client uses (`TTiu`) and the upload the
 * lab's SDK makes from inside a step (`PXVp`), both also reachable with a task's credential.
 */
import { Type } from "@sinclair/typebox";
import { ValidationError } from "../../domain/errors.js";
import type { RegistryService } from "../../domain/registry/registry-service.js";
import type { StepAccess } from "../../domain/tasks/step-access.js";
import { operation, record } from "./operation.js";
import { FilePath, Optional, Uid } from "./schemas.js";

export function fileOperations({ registry, steps }: { registry: RegistryService; steps: StepAccess }) {
  return {
    downloadFile: operation({
      id: "files.download",
      apiKey: "read",
      rest: [
        { method: "get", path: "/models/{uid}/file" },
        { method: "get", path: "/datasets/{uid}/file" },
      ],
      summary: "GeneralFileManager/download",
      mitlabKey: "TTiue1sygXrsm0YS",
      acceptsTaskCredential: true,
      // The original's `file_path` (what the lab's dashboard and SDK send), or the owner's uid.
      body: Type.Object({ uid: Optional(Uid), file_path: Optional(FilePath) }),
      fields: { filePath: "file_path" },
      handle: async ({ principal, body }) => {
        if ((body.uid === undefined) === (body.file_path === undefined))
          throw new ValidationError("Invalid request: send either uid or file_path", {
            problems: [
              { field: "uid", message: "or file_path is required, not both" },
              { field: "file_path", message: "or uid is required, not both" },
            ],
          });
        const opened =
          body.uid === undefined ? await registry.openFileByPath(principal, body.file_path!) : await registry.openFile(principal, body.uid);
        return { kind: "download", ...opened };
      },
    }),
    uploadTaskOutput: operation({
      id: "files.upload-task-output",
      summary: "GeneralFileManager/upload",
      mitlabKey: "PXVpRYgnMMHqWthX",
      acceptsTaskCredential: true,
      mitlabCreatedStatus: 201,
      form: { file: "required" },
      body: Type.Object({ file_path: FilePath }),
      fields: { filePath: "file_path" },
      handle: async ({ principal, body, file }) =>
        record("File uploaded successfully", await steps.storeOutputAt(principal, body.file_path, file!), { created: true }),
    }),
  };
}
