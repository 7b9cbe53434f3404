export type Role = "admin" | "member";
export const ROLES: readonly Role[] = ["admin", "member"];

/** Who is calling, as established by authentication. */
export interface Principal {
  userUid: string;
  accessKey: string;
  organizationUid: string;
  role: Role;
}

/** Members see their organization's objects; admins see all. */
export function canAccess(principal: Principal, organizationUid: string): boolean {
  return principal.role === "admin" || principal.organizationUid === organizationUid;
}
