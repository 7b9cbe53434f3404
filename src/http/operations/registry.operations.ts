/**
 * Organizations, projects and applications (original-system.md §3.2): each operation is its
 * body, its use case and its presentation.
 */
import { Type } from "@sinclair/typebox";
import type { RegistryService } from "../../domain/registry/registry-service.js";
import type { Presenter } from "../shared/presenters.js";
import { CREATED, DELETED, LISTED, RETRIEVED, UPDATED } from "./messages.js";
import { listed, operation, record } from "./operation.js";
import { Name, Optional, Text, Uid } from "./schemas.js";

export const UidBody = Type.Object({ uid: Uid });
export const DescribedUpdate = Type.Object({ uid: Uid, name: Optional(Name), description: Optional(Text) });

/** Only the fields that were sent, so an update changes nothing else. */
export function described(name: string | undefined, description: string | undefined): { name?: string; description?: string } {
  return { ...(name === undefined ? {} : { name }), ...(description === undefined ? {} : { description }) };
}

export function registryOperations({ registry, present }: { registry: RegistryService; present: Presenter }) {
  return {
    getOrganization: operation({
      id: "organizations.get",
      rest: [{ method: "get", path: "/organizations/{uid}" }],
      summary: "OrganizationMetadataWriter/retrieve",
      mitlabKey: "mGlkFLqgBQgNRvU3",
      body: UidBody,
      handle: async ({ principal, body }) => record(RETRIEVED, present.organization(await registry.getOrganization(principal, body.uid))),
    }),
    createProject: operation({
      id: "projects.create",
      rest: [{ method: "post", path: "/projects" }],
      summary: "ProjectMetadataWriter/create",
      mitlabKey: "9Q1lCs56iud4oPcS",
      body: Type.Object({ name: Name, description: Optional(Text), f_organization_uid: Optional(Uid) }),
      fields: { organizationUid: "f_organization_uid" },
      handle: async ({ principal, body }) =>
        record(
          CREATED,
          present.project(
            await registry.createProject(principal, {
              name: body.name,
              description: body.description ?? "",
              ...(body.f_organization_uid ? { organizationUid: body.f_organization_uid } : {}),
            }),
          ),
          { created: true },
        ),
    }),
    updateProject: operation({
      id: "projects.update",
      summary: "ProjectMetadataWriter/update",
      mitlabKey: "KIW6ZqwTMbMF4bWl",
      body: DescribedUpdate,
      handle: async ({ principal, body }) =>
        record(UPDATED, present.project(await registry.updateProject(principal, body.uid, described(body.name, body.description)))),
    }),
    deleteProject: operation({
      id: "projects.delete",
      summary: "ProjectMetadataWriter/delete",
      mitlabKey: "ThQHZcLlnq6GQ3zW",
      body: UidBody,
      handle: async ({ principal, body }) => (await registry.deleteProject(principal, body.uid), record(DELETED, {})),
    }),
    listProjects: operation({
      id: "projects.list",
      rest: [{ method: "get", path: "/organizations/{uid}/projects", params: { uid: "f_organization_uid" } }],
      summary: "ProjectMetadataWriter/filter_by_organization",
      mitlabKey: "a75vPQAyPqVGFwiZ",
      paginated: true,
      body: Type.Object({ f_organization_uid: Uid }),
      fields: { organizationUid: "f_organization_uid" },
      handle: async ({ principal, body, page }) =>
        listed(LISTED, await registry.listProjects(principal, body.f_organization_uid, page), (p) => present.project(p)),
    }),

    createApplication: operation({
      id: "applications.create",
      summary: "ApplicationTopicManager/create",
      mitlabKey: "iGXyNAx4Kp3DrosK",
      body: Type.Object({
        application_name: Name,
        f_project_uid: Uid,
        application_description: Optional(Text),
        f_organization_uid: Optional(Uid),
        f_agent_uid: Optional(Type.Array(Uid, { maxItems: 64 })),
      }),
      fields: { projectUid: "f_project_uid", name: "application_name", description: "application_description", agentUids: "f_agent_uid" },
      handle: async ({ principal, body }) =>
        record(
          CREATED,
          present.application(
            await registry.createApplication(principal, {
              name: body.application_name,
              description: body.application_description ?? "",
              projectUid: body.f_project_uid,
              agentUids: body.f_agent_uid ?? [],
            }),
          ),
          { created: true },
        ),
    }),
    updateApplicationAndNotify: operation({
      id: "applications.update-and-notify",
      summary: "ApplicationMessenger/update",
      mitlabKey: "OjlrjuAeA5HOkGqT",
      body: Type.Object({ application_uid: Uid, application_name: Optional(Name), application_description: Optional(Text) }),
      fields: { uid: "application_uid", name: "application_name", description: "application_description" },
      handle: async ({ principal, body }) =>
        record(
          UPDATED,
          present.application(
            await registry.updateApplication(
              principal,
              body.application_uid,
              described(body.application_name, body.application_description),
            ),
          ),
        ),
    }),
    updateApplication: operation({
      id: "applications.update",
      summary: "ApplicationMetadataWriter/update",
      mitlabKey: "I5saSl6jjFMJJqKr",
      body: DescribedUpdate,
      handle: async ({ principal, body }) =>
        record(UPDATED, present.application(await registry.updateApplication(principal, body.uid, described(body.name, body.description)))),
    }),
    deleteApplication: operation({
      id: "applications.delete",
      summary: "ApplicationTopicManager/delete",
      mitlabKey: "pWS6eH3ZKgYytsre",
      body: Type.Object({ application_uid: Uid }),
      fields: { uid: "application_uid" },
      handle: async ({ principal, body }) => (await registry.deleteApplication(principal, body.application_uid), record(DELETED, {})),
    }),
    listApplications: operation({
      id: "applications.list",
      rest: [{ method: "get", path: "/projects/{uid}/applications", params: { uid: "f_project_uid" } }],
      summary: "ApplicationMetadataWriter/filter_by_project",
      mitlabKey: "A19MSnNoF8p36XHn",
      paginated: true,
      body: Type.Object({ f_project_uid: Uid }),
      fields: { projectUid: "f_project_uid" },
      handle: async ({ principal, body, page }) =>
        listed(LISTED, await registry.listApplications(principal, body.f_project_uid, page), (a) => present.application(a)),
    }),
  };
}
