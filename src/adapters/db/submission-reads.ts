/**
 * Everything a task submission names, read in one statement: each referenced row LEFT JOINed
 * onto a single-row anchor (so a missing one reads as NULLs), plus the two facts about the base
 * model the checks need.
 */
import type { SubmissionImage, SubmissionRows, SubmissionUids } from "../../domain/ports.js";
import type { SqlClient, SqlValue } from "./sql-client.js";
import type { TableCodec } from "./sql-reads.js";

type Codecs = (model: string) => TableCodec;

// Only what the checks and the new rows use (see the Submission* types): a row of every column cost twice as much to decode.
const PIPELINE = ["uid", "organizationUid", "type", "applicationUid"] as const;
const APPLICATION = ["uid", "projectUid"] as const;
const IMAGE = ["uid", "organizationUid", "pipelineUid", "sequence"] as const;
const CONFIG = ["uid", "organizationUid", "pipelineUid"] as const;
const DATASET = ["uid", "organizationUid", "scope", "type", "status", "projectUid", "applicationUid", "fileUid"] as const;
const MODEL = ["uid", "organizationUid", "applicationUid", "fileUid", "source", "version"] as const;

export async function readSubmission(sql: SqlClient, codec: Codecs, uids: SubmissionUids): Promise<SubmissionRows> {
  const joins: Array<{ alias: string; model: string; on: string; arg?: SqlValue; columns: readonly string[] }> = [
    { alias: "p", model: "Pipeline", on: `"p"."uid" = ?`, arg: uids.pipelineUid, columns: PIPELINE },
    { alias: "a", model: "Application", on: `"a"."uid" = "p"."applicationUid"`, columns: APPLICATION },
    { alias: "d", model: "Image", on: `"d"."uid" = ?`, arg: uids.imageUids.download, columns: IMAGE },
    { alias: "r", model: "Image", on: `"r"."uid" = ?`, arg: uids.imageUids.running, columns: IMAGE },
    { alias: "u", model: "Image", on: `"u"."uid" = ?`, arg: uids.imageUids.upload, columns: IMAGE },
    { alias: "c", model: "Config", on: `"c"."uid" = ?`, arg: uids.configUid, columns: CONFIG },
    { alias: "s", model: "Dataset", on: `"s"."uid" = ?`, arg: uids.datasetUid, columns: DATASET },
    { alias: "m", model: "Model", on: `"m"."uid" = ?`, arg: uids.baseModelUid ?? "", columns: MODEL },
  ];
  const byAlias = new Map(joins.map((j) => [j.alias, j]));
  const columns = joins.flatMap(({ alias, model, columns: wanted }) =>
    wanted.map((column) => `"${alias}"."${codec(model).column(column)}" AS "${alias}.${column}"`),
  );
  const [row] = await sql.query(
    `SELECT ${columns.join(", ")},
       EXISTS (SELECT 1 FROM "Task" AS "t" WHERE "t"."outputModelUid" = "m"."uid" AND "t"."status" <> 'success') AS "inProduction",
       (SELECT max("version") FROM "Model" AS "l" WHERE "l"."source" = COALESCE("m"."source", "m"."uid")) AS "lineageVersion",
       (SELECT "earlyStop" FROM "ProjectProfile" AS "pp" WHERE "pp"."uid" = "a"."projectUid") AS "projectEarlyStop"
     FROM (SELECT 1 AS "anchor") AS "x"
     ${joins.map(({ alias, model, on }) => `LEFT JOIN "${model}" AS "${alias}" ON ${on}`).join("\n     ")}`,
    joins.filter((j) => j.arg !== undefined).map((j) => j.arg!),
  );
  const read = <R>(alias: string, model: string): R | null =>
    row![`${alias}.uid`] == null ? null : codec(model).record<R>(row!, `${alias}.`, byAlias.get(alias)!.columns);
  return {
    pipeline: read("p", "Pipeline"),
    application: read("a", "Application"),
    images: {
      download: read<SubmissionImage>("d", "Image"),
      running: read<SubmissionImage>("r", "Image"),
      upload: read<SubmissionImage>("u", "Image"),
    },
    config: read("c", "Config"),
    dataset: read("s", "Dataset"),
    baseModel: read("m", "Model"),
    baseModelInProduction: row!.inProduction === true || Number(row!.inProduction) === 1,
    lineageVersion: row!.lineageVersion == null ? null : Number(row!.lineageVersion),
    projectEarlyStop: typeof row!.projectEarlyStop === "string" && row!.projectEarlyStop !== "" ? row!.projectEarlyStop : null,
  };
}
