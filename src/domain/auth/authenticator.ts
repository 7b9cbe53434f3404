import type { Principal } from "../principal.js";
import type { TaskRecord } from "../records.js";
import type { StepAccess } from "../tasks/step-access.js";
import type { Credentials, CredentialVerifier } from "./credential-verifier.js";

/** The account name a task credential signs in with: `task:<task uid>`, with the task token as the secret. */
export const TASK_ACCOUNT_PREFIX = "task:";

/**
 * Every credential a caller may present: a user's access and secret key, or a running task's
 * credential (`task:<uid>` and its token), which the lab's SDK uses from inside a step.
 */
export class Authenticator {
  constructor(private readonly deps: { users: CredentialVerifier; steps: StepAccess }) {}

  async verify(credentials: Credentials, clientAddress: string): Promise<Principal> {
    if (!credentials.accessKey.startsWith(TASK_ACCOUNT_PREFIX)) return this.deps.users.verify(credentials, clientAddress);
    const task = await this.deps.steps.authorize(credentials.accessKey.slice(TASK_ACCOUNT_PREFIX.length), credentials.secretKey);
    return taskPrincipal(task);
  }
}

function taskPrincipal(task: TaskRecord): Principal {
  return {
    userUid: task.createdByUid,
    accessKey: `${TASK_ACCOUNT_PREFIX}${task.uid}`,
    organizationUid: task.organizationUid,
    role: "member",
    task: {
      uid: task.uid,
      inputUids: [task.datasetUid, task.pipelineUid, ...(task.baseModelUid ? [task.baseModelUid] : [])],
      outputUid: task.outputDatasetUid ?? task.outputModelUid,
    },
  };
}
