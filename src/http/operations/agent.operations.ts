/** Agents and the applications linked to them (original-system.md §3.2). */
import { Type } from "@sinclair/typebox";
import type { AgentRegistry } from "../../domain/registry/agent-registry.js";
import type { Presenter } from "../shared/presenters.js";
import { CREATED, DELETED, LISTED, UPDATED } from "./messages.js";
import { listed, operation, record } from "./operation.js";
import { DescribedUpdate, described } from "./registry.operations.js";
import { Name, Optional, Text, Uid } from "./schemas.js";

export function agentOperations({ agents, present }: { agents: AgentRegistry; present: Presenter }) {
  const Link = Type.Object({ uid: Uid, f_agent_uid: Uid });
  return {
    listAgents: operation({
      id: "agents.list",
      rest: [{ method: "get", path: "/organizations/{uid}/agents", params: { uid: "f_organization_uid" } }],
      summary: "AgentMetadataWriter/filter_by_organization",
      mitlabKey: "R1hgr6B6u4JIv5Ru",
      paginated: true,
      body: Type.Object({ f_organization_uid: Uid }),
      fields: { organizationUid: "f_organization_uid" },
      handle: async ({ principal, body, page }) =>
        listed(LISTED, await agents.listAgents(principal, body.f_organization_uid, page), (a) => present.agent(a)),
    }),
    createAgent: operation({
      id: "agents.create",
      summary: "AgentTopicManager/create",
      mitlabKey: "SwuMUkAwSESxBkUw",
      body: Type.Object({ agent_name: Name, f_organization_uid: Uid, agent_description: Optional(Text) }),
      fields: { organizationUid: "f_organization_uid", name: "agent_name", description: "agent_description" },
      handle: async ({ principal, body }) =>
        record(
          CREATED,
          present.agent(
            await agents.createAgent(principal, {
              name: body.agent_name,
              description: body.agent_description ?? "",
              organizationUid: body.f_organization_uid,
            }),
          ),
          { created: true },
        ),
    }),
    updateAgent: operation({
      id: "agents.update",
      summary: "AgentMetadataWriter/update",
      mitlabKey: "wCoqdcMkdei1Dypv",
      body: DescribedUpdate,
      handle: async ({ principal, body }) =>
        record(UPDATED, present.agent(await agents.updateAgent(principal, body.uid, described(body.name, body.description)))),
    }),
    deleteAgent: operation({
      id: "agents.delete",
      summary: "AgentTopicManager/delete",
      mitlabKey: "wneZ8lVKrcf70ttU",
      body: Type.Object({ agent_uid: Uid }),
      fields: { uid: "agent_uid" },
      handle: async ({ principal, body }) => (await agents.deleteAgent(principal, body.agent_uid), record(DELETED, {})),
    }),
    linkApplication: operation({
      id: "agents.link-application",
      summary: "ApplicationPermissionManager/create",
      mitlabKey: "PnvwgsKI4ztEJnuj",
      body: Link,
      fields: { agentUid: "f_agent_uid" },
      handle: async ({ principal, body }) => {
        await agents.link(principal, body.uid, body.f_agent_uid);
        return record(CREATED, { uid: body.uid, f_agent_uid: body.f_agent_uid, link_status: true });
      },
    }),
    unlinkApplication: operation({
      id: "agents.unlink-application",
      summary: "ApplicationPermissionManager/delete",
      mitlabKey: "ylw5GFhipRLkCQMh",
      body: Link,
      fields: { agentUid: "f_agent_uid" },
      handle: async ({ principal, body }) => {
        await agents.unlink(principal, body.uid, body.f_agent_uid);
        return record(DELETED, { uid: body.uid, f_agent_uid: body.f_agent_uid, link_status: false });
      },
    }),
    applicationsOfAgent: operation({
      id: "agents.applications",
      summary: "ApplicationPermissionManager/retrieve",
      mitlabKey: "BEsC50prU0PRIKIt",
      body: Type.Object({ f_agent_uid: Uid }),
      fields: { agentUid: "f_agent_uid" },
      handle: async ({ principal, body }) =>
        listed(LISTED, { items: await agents.applicationsOf(principal, body.f_agent_uid) }, ({ application, linked }) => ({
          ...present.application(application),
          link_status: linked,
        })),
    }),
  };
}
