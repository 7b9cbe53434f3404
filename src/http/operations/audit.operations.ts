/** The audit log, for admins (added; not in the original). */
import { Type } from "@sinclair/typebox";
import { AUDITED_ACTIONS, type AuditTrail } from "../../domain/audit/audit-trail.js";
import type { Presenter } from "../shared/presenters.js";
import { LISTED } from "./messages.js";
import { listed, operation } from "./operation.js";
import { Optional, Uid } from "./schemas.js";

export function auditOperations({ audit, present }: { audit: AuditTrail; present: Presenter }) {
  return {
    listAuditEvents: operation({
      id: "audit.list",
      rest: [{ method: "get", path: "/audit" }],
      summary: "Audit log (added; admins; oldest first, paged)",
      mitlabKey: "Au4dTq7LmZ2xRk9w",
      paginated: true,
      body: Type.Object(
        {
          subject_uid: Optional(Type.String({ minLength: 1, maxLength: 64 })),
          action: Optional(Type.Union(AUDITED_ACTIONS.map((action) => Type.Literal(action)))),
          actor_uid: Optional(Type.String({ minLength: 1, maxLength: 64 })),
          f_organization_uid: Optional(Uid),
        },
        { additionalProperties: false },
      ),
      handle: async ({ principal, body, page }) =>
        listed(
          LISTED,
          await audit.list(
            principal,
            { subjectUid: body.subject_uid, action: body.action, actorUid: body.actor_uid, organizationUid: body.f_organization_uid },
            page,
          ),
          (event) => present.auditEvent(event),
        ),
    }),
  };
}
