import type { Clock } from "../clock.js";
import { ConflictError, NotFoundError, ValidationError } from "../errors.js";
import type { Database, PageRequest } from "../ports.js";
import { canAccess, type Principal } from "../principal.js";
import type { ProjectProfileRecord, ProjectRecord } from "../records.js";
import type { EarlyStopRule } from "../tasks/metric-history.js";
import { UID_PATTERN } from "../../lib/patterns.js";
import { paged, type Page } from "./registry-records.js";

const UID = new RegExp(UID_PATTERN);
/** MRMS's project status codes: 1-4 upload (waiting, running, done, error), 5-9 data analysis (requested, running, done, error, pod deletion requested). */
export const PROJECT_STATUS_CODES = ["1", "2", "3", "4", "5", "6", "7", "8", "9"] as const;
/** The codes after which a project's work has ended (its end time is set). */
const ENDING_CODES = new Set(["4", "7", "8"]);

export interface ProjectProfileInput {
  projectUid: string;
  purposeCode: string;
  datasetId: string;
  statusCode: string;
  startTime: Date | null;
  modelingMode: string;
  earlyStop: EarlyStopRule | undefined;
  tags: string[];
}

/**
 * MRMS's projects (seed 000): a project of ours with what MRMS kept about it. A client names its
 * project with a uid it chose (MRMS's get_uuid); creating it again updates what MRMS keeps. The
 * early-stop rule set here is inherited by the project's tasks whose body sets none.
 */
export class ProjectProfiles {
  constructor(private readonly deps: { db: Database; clock: Clock }) {}

  /**
   * Sets what MRMS keeps about a project. MRMS's project_create names a new project with a uid its
   * client chose (`createProject`); our own route describes a project that exists.
   */
  async describe(principal: Principal, input: ProjectProfileInput, options: { createProject: boolean }): Promise<ProjectProfileRecord> {
    if (!UID.test(input.projectUid)) throw ValidationError.field("project_id", 'must match format "uuid" (see /mrms/get_uuid)');
    const fields = {
      purposeCode: input.purposeCode,
      datasetId: input.datasetId,
      statusCode: input.statusCode,
      startTime: input.startTime,
      endTime: ENDING_CODES.has(input.statusCode) ? this.deps.clock.now() : null,
      modelingMode: input.modelingMode,
      earlyStop: input.earlyStop ? JSON.stringify(input.earlyStop) : "",
      tags: input.tags.join(","),
    };
    return this.deps.db.transaction(async (stores) => {
      const project = await stores.projects.find(input.projectUid);
      if (project && !canAccess(principal, project.organizationUid))
        throw new ConflictError(`project_id ${input.projectUid} is taken; ask /mrms/get_uuid for a new one`);
      if (!project && !options.createProject) throw NotFoundError.entity("project", "project_uid", input.projectUid);
      if (!project)
        await stores.projects.create({
          uid: input.projectUid,
          name: input.tags[0] ?? `mrms-${input.projectUid.slice(0, 8)}`,
          description: input.tags.join(","),
          organizationUid: principal.organizationUid,
        });
      const existing = await stores.projectProfiles.find(input.projectUid);
      return existing
        ? stores.projectProfiles.update(input.projectUid, fields)
        : stores.projectProfiles.create({ uid: input.projectUid, ...fields });
    });
  }

  async get(principal: Principal, projectUid: string): Promise<ProjectProfileRecord> {
    const project = UID.test(projectUid) ? await this.deps.db.projects.find(projectUid) : null;
    const profile = project && canAccess(principal, project.organizationUid) ? await this.deps.db.projectProfiles.find(projectUid) : null;
    if (!profile) throw NotFoundError.entity("MRMS project", "project_id", projectUid);
    return profile;
  }

  /**
   * A page of the caller's organization's MRMS projects, oldest first. Paged over its projects, so
   * a page may hold fewer profiles than `limit` (projects MRMS never described have none).
   */
  async list(principal: Principal, page: PageRequest): Promise<Page<{ project: ProjectRecord; profile: ProjectProfileRecord }>> {
    const projects = await paged(this.deps.db.projects, { organizationUid: principal.organizationUid }, page);
    const profiles = await this.deps.db.projectProfiles.list({ uid: { in: projects.items.map((p) => p.uid) } });
    const profileOf = new Map(profiles.map((profile) => [profile.uid, profile]));
    // In the projects' order, which the cursor follows (a profile may be written long after its project).
    const items = projects.items.flatMap((project) => {
      const profile = profileOf.get(project.uid);
      return profile ? [{ project, profile }] : [];
    });
    return projects.next ? { items, next: projects.next } : { items };
  }

  async setStatus(principal: Principal, projectUid: string, statusCode: string): Promise<ProjectProfileRecord> {
    const profile = await this.get(principal, projectUid);
    return this.deps.db.projectProfiles.update(profile.uid, {
      statusCode,
      endTime: ENDING_CODES.has(statusCode) ? this.deps.clock.now() : profile.endTime,
    });
  }
}
