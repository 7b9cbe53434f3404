import type { ApiKeyPurpose } from "./records.js";

export type Role = "admin" | "member";
export const ROLES: readonly Role[] = ["admin", "member"];

/** Who is calling, as established by authentication. */
export interface Principal {
  userUid: string;
  accessKey: string;
  organizationUid: string;
  role: Role;
  /**
   * Set when the caller is a running task's steps (its task credential): it acts for the task's
   * organization but reaches only that task's inputs and output, on the routes the original's SDK used.
   */
  task?: TaskScope;
  /** Set when the caller signed in with an API key (`x-api-key`): what the key allows. */
  apiKey?: { uid: string; purpose: ApiKeyPurpose; modelUid: string | null };
}

interface TaskScope {
  uid: string;
  /** The uids whose files the task may read: its dataset, base model and pipeline program. */
  inputUids: string[];
  /** The dataset or model the task produces, if any. */
  outputUid: string | null;
}

/** Members see their organization's objects; admins see all. */
export function canAccess(principal: Principal, organizationUid: string): boolean {
  return principal.role === "admin" || principal.organizationUid === organizationUid;
}
