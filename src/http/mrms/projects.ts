/** MRMS's projects (seed 000): project_create, get_proj_sttus_cd, get_projects_info, update_projects_status. */
import { Type } from "@sinclair/typebox";
import type express from "express";
import type { ProjectProfiles } from "../../domain/registry/project-profiles.js";
import { EarlyStopParam, earlyStopRule } from "../operations/early-stop.js";
import { BodyValidator } from "../operations/body-validator.js";
import { encodeCursor } from "../shared/cursor.js";
import { takePage } from "../shared/page.js";
import { MRMS_BODIES } from "./bodies.js";
import { compact, parseCompact, parseJson, text, type MrmsCallers } from "./plain.js";

export function mountProjectRoutes(router: express.Router, callers: MrmsCallers, projects: ProjectProfiles): void {
  const earlyStops = new BodyValidator();
  earlyStops.compile("early_stop_param", Type.Object({ early_stop_param: EarlyStopParam }), "json");

  router.post(
    "/mrms/project_create",
    callers.asUser(
      "/mrms/project_create",
      "submit",
      async (principal, _request, body) => {
        const tags = String(body.tag ?? "")
          .split(",")
          .map((t) => t.trim())
          .filter(Boolean);
        await projects.describe(
          principal,
          {
            projectUid: String(body.project_id),
            purposeCode: String(body.project_purpose_cd),
            datasetId: String(body.dataset_id ?? ""),
            statusCode: String(body.status),
            startTime: body.start_time ? parseCompact(String(body.start_time), "start_time") : null,
            modelingMode: String(body.modeling_mode ?? "1"),
            earlyStop: body.early_stop_param ? earlyStopOf(String(body.early_stop_param), earlyStops) : undefined,
            tags,
          },
          { createProject: true },
        );
        return "1";
      },
      MRMS_BODIES.project_create,
    ),
  );

  router.get(
    "/mrms/get_proj_sttus_cd",
    callers.asUser("/mrms/get_proj_sttus_cd", "read", async (principal, request) => {
      return (await projects.get(principal, text(request.query.project_id, "project_id"))).statusCode;
    }),
  );

  router.get(
    "/mrms/get_projects_info",
    // The original answered the whole list; here at most one page (`limit`, 1000 by default), the rest by `X-Next-Cursor`.
    callers.asUser("/mrms/get_projects_info", "read", async (principal, request, _body, response) => {
      const page = await projects.list(principal, takePage({ limit: request.query.limit, cursor: request.query.cursor }));
      if (page.next) response.setHeader("X-Next-Cursor", encodeCursor(page.next));
      return JSON.stringify(
        page.items.map(({ profile }) => ({
          project_id: profile.uid,
          project_purpose_cd: profile.purposeCode,
          data_analysis_id: profile.datasetId,
          status: profile.statusCode,
          start_time: profile.startTime ? compact(profile.startTime) : "",
          end_time: profile.endTime ? compact(profile.endTime) : "",
          modeling_mode: profile.modelingMode,
          tag: profile.tags,
        })),
      );
    }),
  );

  router.post(
    "/mrms/update_projects_status",
    callers.asUser(
      "/mrms/update_projects_status",
      "submit",
      async (principal, _request, body) => {
        await projects.setStatus(principal, String(body.project_id), String(body.status));
        return "1";
      },
      MRMS_BODIES.update_projects_status,
    ),
  );
}

/** early_stop_param arrives as JSON in a string; checked under its own name, so problems read `early_stop_param.early_type`. */
function earlyStopOf(value: string, validator: BodyValidator) {
  const param = parseJson(value, "early_stop_param");
  validator.validate("early_stop_param", "json", { early_stop_param: param });
  return earlyStopRule(param as Parameters<typeof earlyStopRule>[0]);
}
