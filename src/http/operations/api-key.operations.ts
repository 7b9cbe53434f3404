/** API keys a user mints for scripts and Prediction One clients (added; not in the original). */
import { Type } from "@sinclair/typebox";
import type { ApiKeys } from "../../domain/auth/api-keys.js";
import { API_KEY_PURPOSES } from "../../domain/records.js";
import type { Presenter } from "../shared/presenters.js";
import { CREATED, LISTED, UPDATED } from "./messages.js";
import { listed, operation, record } from "./operation.js";
import { Name, Optional, Uid } from "./schemas.js";

export function apiKeyOperations({ apiKeys, present }: { apiKeys: ApiKeys; present: Presenter }) {
  return {
    mintApiKey: operation({
      id: "api-keys.create",
      rest: [{ method: "post", path: "/api-keys" }],
      summary: "API key create (added; the key is in this answer only)",
      mitlabKey: "Ak3yMn7QpL2xWz9c",
      body: Type.Object(
        {
          name: Name,
          purpose: Type.Union(API_KEY_PURPOSES.map((p) => Type.Literal(p))),
          model_uid: Optional(Uid),
          expires_in_days: Optional(Type.Integer({ minimum: 1, maximum: 366 })),
        },
        { additionalProperties: false },
      ),
      fields: { modelUid: "model_uid" },
      handle: async ({ principal, body }) => {
        const { key, record: minted } = await apiKeys.mint(principal, {
          name: body.name,
          purpose: body.purpose,
          modelUid: body.model_uid,
          expiresInDays: body.expires_in_days,
        });
        return record(CREATED, { ...present.apiKey(minted), key }, { created: true });
      },
    }),
    listApiKeys: operation({
      id: "api-keys.list",
      rest: [{ method: "get", path: "/api-keys" }],
      summary: "API key list (added; the caller's own, never the keys)",
      mitlabKey: "Ak8sLt4VbN1qRe6d",
      paginated: true,
      body: Type.Object({}, { additionalProperties: false }),
      handle: async ({ principal, page }) => listed(LISTED, await apiKeys.list(principal, page), (k) => present.apiKey(k)),
    }),
    revokeApiKey: operation({
      id: "api-keys.revoke",
      rest: [{ method: "delete", path: "/api-keys/{uid}", params: { uid: "api_key_uid" } }],
      summary: "API key revoke (added)",
      mitlabKey: "Ak5rVk2HcX9mTy3u",
      body: Type.Object({ api_key_uid: Uid }, { additionalProperties: false }),
      fields: { apiKeyUid: "api_key_uid" },
      handle: async ({ principal, body }) => record(UPDATED, present.apiKey(await apiKeys.revoke(principal, body.api_key_uid))),
    }),
  };
}
