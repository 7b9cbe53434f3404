/**
 * Everything a task submission names, read in one statement: each referenced row LEFT JOINed
 * onto a single-row anchor (so a missing one reads as NULLs), plus the two facts about the base
 * model the checks need.
 */
import type { SubmissionRows, SubmissionUids } from "../../domain/ports.js";
import type { ImageRecord } from "../../domain/records.js";
import type { SqlClient, SqlValue } from "./sql-client.js";
import type { TableCodec } from "./sql-reads.js";

type Codecs = (model: string) => TableCodec;

export async function readSubmission(sql: SqlClient, codec: Codecs, uids: SubmissionUids): Promise<SubmissionRows> {
  const joins: Array<{ alias: string; model: string; on: string; arg?: SqlValue }> = [
    { alias: "p", model: "Pipeline", on: `"p"."uid" = ?`, arg: uids.pipelineUid },
    { alias: "a", model: "Application", on: `"a"."uid" = "p"."applicationUid"` },
    { alias: "d", model: "Image", on: `"d"."uid" = ?`, arg: uids.imageUids.download },
    { alias: "r", model: "Image", on: `"r"."uid" = ?`, arg: uids.imageUids.running },
    { alias: "u", model: "Image", on: `"u"."uid" = ?`, arg: uids.imageUids.upload },
    { alias: "c", model: "Config", on: `"c"."uid" = ?`, arg: uids.configUid },
    { alias: "s", model: "Dataset", on: `"s"."uid" = ?`, arg: uids.datasetUid },
    { alias: "m", model: "Model", on: `"m"."uid" = ?`, arg: uids.baseModelUid ?? "" },
  ];
  const columns = joins.flatMap(({ alias, model }) =>
    Object.keys(codec(model).shape.columns).map((column) => `"${alias}"."${column}" AS "${alias}.${column}"`),
  );
  const [row] = await sql.query(
    `SELECT ${columns.join(", ")},
       EXISTS (SELECT 1 FROM "Task" AS "t" WHERE "t"."outputModelUid" = "m"."uid" AND "t"."status" <> 'success') AS "inProduction",
       (SELECT max("version") FROM "Model" AS "l" WHERE "l"."source" = COALESCE("m"."source", "m"."uid")) AS "lineageVersion"
     FROM (SELECT 1 AS "anchor") AS "x"
     ${joins.map(({ alias, model, on }) => `LEFT JOIN "${model}" AS "${alias}" ON ${on}`).join("\n     ")}`,
    joins.filter((j) => j.arg !== undefined).map((j) => j.arg!),
  );
  const read = <R>(alias: string, model: string): R | null =>
    row![`${alias}.uid`] == null ? null : codec(model).record<R>(row!, `${alias}.`);
  return {
    pipeline: read("p", "Pipeline"),
    application: read("a", "Application"),
    images: {
      download: read<ImageRecord>("d", "Image"),
      running: read<ImageRecord>("r", "Image"),
      upload: read<ImageRecord>("u", "Image"),
    },
    config: read("c", "Config"),
    dataset: read("s", "Dataset"),
    baseModel: read("m", "Model"),
    baseModelInProduction: row!.inProduction === true || Number(row!.inProduction) === 1,
    lineageVersion: row!.lineageVersion == null ? null : Number(row!.lineageVersion),
  };
}
