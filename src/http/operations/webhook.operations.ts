/** Webhooks: admins register endpoints told of an organization's task status changes (added; not in the original). */
import { Type } from "@sinclair/typebox";
import { DELIVERY_STATUSES } from "../../domain/records.js";
import { ALL_TASK_EVENTS, TASK_EVENTS } from "../../domain/webhooks/webhook-events.js";
import type { WebhookService } from "../../domain/webhooks/webhook-service.js";
import type { Presenter } from "../shared/presenters.js";
import { CREATED, DELETED, LISTED, UPDATED } from "./messages.js";
import { listed, operation, record } from "./operation.js";
import { Optional, Uid } from "./schemas.js";

const Url = Type.String({ minLength: 1, maxLength: 2048 });
const Events = Type.Array(Type.Union([ALL_TASK_EVENTS, ...TASK_EVENTS].map((event) => Type.Literal(event))), { minItems: 1, maxItems: 16 });
const Secret = Type.String({ minLength: 16, maxLength: 256 });

export function webhookOperations({ webhooks, present }: { webhooks: WebhookService; present: Presenter }) {
  return {
    createWebhook: operation({
      id: "webhooks.create",
      rest: [{ method: "post", path: "/webhooks" }],
      summary: "Webhook create (added; admins; the secret is in this answer only)",
      mitlabKey: "Wh3kQz8NcR1vTb6m",
      body: Type.Object(
        { f_organization_uid: Uid, url: Url, events: Optional(Events), secret: Optional(Secret) },
        { additionalProperties: false },
      ),
      fields: { organizationUid: "f_organization_uid" },
      handle: async ({ principal, body }) => {
        const { webhook, secret } = await webhooks.create(principal, {
          organizationUid: body.f_organization_uid,
          url: body.url,
          events: body.events,
          secret: body.secret,
        });
        return record(CREATED, { ...present.webhook(webhook), secret }, { created: true });
      },
    }),
    listWebhooks: operation({
      id: "webhooks.list",
      rest: [{ method: "get", path: "/webhooks" }],
      summary: "Webhook list (added; admins; one organization or all)",
      mitlabKey: "Wh7pLs2XgD9yFa4e",
      paginated: true,
      body: Type.Object({ f_organization_uid: Optional(Uid) }, { additionalProperties: false }),
      fields: { organizationUid: "f_organization_uid" },
      handle: async ({ principal, body, page }) =>
        listed(LISTED, await webhooks.list(principal, body.f_organization_uid, page), (w) => present.webhook(w)),
    }),
    updateWebhook: operation({
      id: "webhooks.update",
      rest: [{ method: "patch", path: "/webhooks/{uid}", params: { uid: "webhook_uid" } }],
      summary: "Webhook update (added; admins; enabled: true restarts a disabled one)",
      mitlabKey: "Wh5rMn1VbK8uJc3q",
      body: Type.Object(
        { webhook_uid: Uid, url: Optional(Url), events: Optional(Events), secret: Optional(Secret), enabled: Optional(Type.Boolean()) },
        { additionalProperties: false },
      ),
      fields: { webhookUid: "webhook_uid" },
      handle: async ({ principal, body }) =>
        record(
          UPDATED,
          present.webhook(
            await webhooks.update(principal, body.webhook_uid, {
              url: body.url,
              events: body.events,
              secret: body.secret,
              enabled: body.enabled,
            }),
          ),
        ),
    }),
    deleteWebhook: operation({
      id: "webhooks.delete",
      rest: [{ method: "delete", path: "/webhooks/{uid}", params: { uid: "webhook_uid" } }],
      summary: "Webhook delete (added; admins; its delivery records go with it)",
      mitlabKey: "Wh2tGy6HsP0wEd9x",
      body: Type.Object({ webhook_uid: Uid }, { additionalProperties: false }),
      fields: { webhookUid: "webhook_uid" },
      handle: async ({ principal, body }) => (await webhooks.delete(principal, body.webhook_uid), record(DELETED, {})),
    }),
    listDeliveries: operation({
      id: "webhooks.deliveries",
      rest: [{ method: "get", path: "/webhooks/{uid}/deliveries", params: { uid: "webhook_uid" } }],
      summary: "Webhook deliveries (added; admins; each event's outcome, oldest first)",
      mitlabKey: "Wh9cBv4NzQ7kLm1r",
      paginated: true,
      body: Type.Object(
        { webhook_uid: Uid, status: Optional(Type.Union(DELIVERY_STATUSES.map((s) => Type.Literal(s)))) },
        { additionalProperties: false },
      ),
      fields: { webhookUid: "webhook_uid" },
      handle: async ({ principal, body, page }) =>
        listed(LISTED, await webhooks.deliveries(principal, body.webhook_uid, body.status, page), (d) => present.webhookDelivery(d)),
    }),
  };
}
