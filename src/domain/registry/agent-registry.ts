import { ConflictError } from "../errors.js";
import type { PageRequest } from "../ports.js";
import type { Principal } from "../principal.js";
import type { AgentRecord, ApplicationRecord } from "../records.js";
import { RegistryRecords, paged, type Described, type Page } from "./registry-records.js";

/** Agents (deployment-platform sites of an organization) and the applications linked to them. */
export class AgentRegistry extends RegistryRecords {
  async createAgent(principal: Principal, input: { name: string; description: string; organizationUid: string }): Promise<AgentRecord> {
    await this.checkOrganization(principal, input.organizationUid, "organizationUid");
    return this.deps.db.agents.create({
      uid: this.deps.ids.uid(),
      name: input.name,
      description: input.description,
      organizationUid: input.organizationUid,
      activationToken: this.deps.ids.token(32),
    });
  }

  updateAgent(principal: Principal, uid: string, input: Described): Promise<AgentRecord> {
    return this.updateDescribed(this.deps.db.agents, "agent", principal, uid, input);
  }

  /** Its links go with it; a model still assigned to it keeps it (409). */
  async deleteAgent(principal: Principal, uid: string): Promise<void> {
    await this.owned(this.deps.db.agents, "agent", "uid", principal, uid);
    if ((await this.deps.db.models.count({ agentUid: uid })) > 0)
      throw new ConflictError(`agent ${uid} still has models assigned to it; reassign or delete them first`);
    await this.deps.db.agents.delete(uid);
  }

  async listAgents(principal: Principal, organizationUid: string, page?: PageRequest): Promise<Page<AgentRecord>> {
    await this.checkOrganization(principal, organizationUid, "organizationUid");
    return paged(this.deps.db.agents, { organizationUid }, page);
  }

  /** Links an application to an agent of the same organization; linking twice is a no-op. */
  async link(principal: Principal, applicationUid: string, agentUid: string): Promise<void> {
    const { application, agent } = await this.pair(principal, applicationUid, agentUid);
    const existing = await this.deps.db.applicationAgentLinks.list({ applicationUid, agentUid });
    if (existing.length) return;
    await this.deps.db.applicationAgentLinks
      .create({ uid: this.deps.ids.uid(), organizationUid: application.organizationUid, applicationUid, agentUid: agent.uid })
      .catch(async (error: unknown) => {
        // A concurrent identical link won: the result is the same.
        if (!(error instanceof ConflictError) || !(await this.deps.db.applicationAgentLinks.count({ applicationUid, agentUid })))
          throw error;
      });
  }

  /** Unlinks; unlinking what is not linked is a no-op. */
  async unlink(principal: Principal, applicationUid: string, agentUid: string): Promise<void> {
    await this.pair(principal, applicationUid, agentUid);
    for (const link of await this.deps.db.applicationAgentLinks.list({ applicationUid, agentUid }))
      await this.deps.db.applicationAgentLinks.delete(link.uid).catch(() => undefined);
  }

  /** The organization's applications, each saying whether it is linked to the agent. */
  async applicationsOf(principal: Principal, agentUid: string): Promise<Array<{ application: ApplicationRecord; linked: boolean }>> {
    const agent = await this.owned(this.deps.db.agents, "agent", "agentUid", principal, agentUid);
    const [applications, links] = await Promise.all([
      this.deps.db.applications.list({ organizationUid: agent.organizationUid }),
      this.deps.db.applicationAgentLinks.list({ agentUid }),
    ]);
    const linked = new Set(links.map((l) => l.applicationUid));
    return applications.map((application) => ({ application, linked: linked.has(application.uid) }));
  }

  private async pair(principal: Principal, applicationUid: string, agentUid: string) {
    const application = await this.owned(this.deps.db.applications, "application", "uid", principal, applicationUid);
    const agent = await this.owned(this.deps.db.agents, "agent", "agentUid", principal, agentUid);
    if (agent.organizationUid !== application.organizationUid)
      throw new ConflictError(`agent ${agentUid} belongs to another organization than application ${applicationUid}`);
    return { application, agent };
  }
}
