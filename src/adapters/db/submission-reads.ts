/**
 * Everything a task submission names, read in one statement: each referenced row LEFT JOINed
 * onto a single-row anchor (so a missing one reads as NULLs), plus the two facts about the base
 * model the checks need.
 */
import type { SubmissionImage, SubmissionRows, SubmissionUids } from "../../domain/ports.js";
import type { SqlClient, SqlRow, SqlValue } from "./sql-client.js";
import type { TableCodec } from "./sql-reads.js";

type Codecs = (model: string) => TableCodec;

// Only what the checks and the new rows use (see the Submission* types): a row of every column cost twice as much to decode.
const PIPELINE = ["uid", "organizationUid", "type", "applicationUid"] as const;
const APPLICATION = ["uid", "projectUid"] as const;
const IMAGE = ["uid", "organizationUid", "pipelineUid", "sequence"] as const;
const CONFIG = ["uid", "organizationUid", "pipelineUid"] as const;
const DATASET = ["uid", "organizationUid", "scope", "type", "status", "projectUid", "applicationUid", "fileUid"] as const;
const MODEL = ["uid", "organizationUid", "applicationUid", "fileUid", "source", "version"] as const;

interface Join {
  alias: string;
  model: string;
  on: string;
  /** The uid the join looks up, for those that take one. */
  arg?: (uids: SubmissionUids) => SqlValue;
  columns: readonly string[];
}

const JOINS: readonly Join[] = [
  { alias: "p", model: "Pipeline", on: `"p"."uid" = ?`, arg: (uids) => uids.pipelineUid, columns: PIPELINE },
  { alias: "a", model: "Application", on: `"a"."uid" = "p"."applicationUid"`, columns: APPLICATION },
  { alias: "d", model: "Image", on: `"d"."uid" = ?`, arg: (uids) => uids.imageUids.download, columns: IMAGE },
  { alias: "r", model: "Image", on: `"r"."uid" = ?`, arg: (uids) => uids.imageUids.running, columns: IMAGE },
  { alias: "u", model: "Image", on: `"u"."uid" = ?`, arg: (uids) => uids.imageUids.upload, columns: IMAGE },
  { alias: "c", model: "Config", on: `"c"."uid" = ?`, arg: (uids) => uids.configUid, columns: CONFIG },
  { alias: "s", model: "Dataset", on: `"s"."uid" = ?`, arg: (uids) => uids.datasetUid, columns: DATASET },
  { alias: "m", model: "Model", on: `"m"."uid" = ?`, arg: (uids) => uids.baseModelUid ?? "", columns: MODEL },
];
const WITH_ARGS = JOINS.filter((join) => join.arg !== undefined);

/**
 * The read for one database's tables. Its statement is built here, once: per submission only
 * the uids change (building the text each time was a tenth of what a submission allocated).
 */
export function submissionReader(codec: Codecs): (sql: SqlClient, uids: SubmissionUids) => Promise<SubmissionRows> {
  const columns = JOINS.flatMap(({ alias, model, columns: wanted }) =>
    wanted.map((column) => `"${alias}"."${codec(model).column(column)}" AS "${alias}.${column}"`),
  );
  const statement = `SELECT ${columns.join(", ")},
       EXISTS (SELECT 1 FROM "Task" AS "t" WHERE "t"."outputModelUid" = "m"."uid" AND "t"."status" <> 'success') AS "inProduction",
       (SELECT max("version") FROM "Model" AS "l" WHERE "l"."source" = COALESCE("m"."source", "m"."uid")) AS "lineageVersion",
       (SELECT "earlyStop" FROM "ProjectProfile" AS "pp" WHERE "pp"."uid" = "a"."projectUid") AS "projectEarlyStop"
     FROM (SELECT 1 AS "anchor") AS "x"
     ${JOINS.map(({ alias, model, on }) => `LEFT JOIN "${model}" AS "${alias}" ON ${on}`).join("\n     ")}`;
  const readers = new Map(
    JOINS.map(({ alias, model, columns: wanted }) => {
      const table = codec(model);
      const prefix = `${alias}.`;
      const uidColumn = `${prefix}uid`;
      return [alias, <R>(row: SqlRow): R | null => (row[uidColumn] == null ? null : table.record<R>(row, prefix, wanted))] as const;
    }),
  );
  const read = <R>(row: SqlRow, alias: string) => readers.get(alias)!<R>(row);

  return async (sql, uids) => {
    const [row] = await sql.query(
      statement,
      WITH_ARGS.map((join) => join.arg!(uids)),
    );
    return {
      pipeline: read(row!, "p"),
      application: read(row!, "a"),
      images: {
        download: read<SubmissionImage>(row!, "d"),
        running: read<SubmissionImage>(row!, "r"),
        upload: read<SubmissionImage>(row!, "u"),
      },
      config: read(row!, "c"),
      dataset: read(row!, "s"),
      baseModel: read(row!, "m"),
      baseModelInProduction: row!.inProduction === true || Number(row!.inProduction) === 1,
      lineageVersion: row!.lineageVersion == null ? null : Number(row!.lineageVersion),
      projectEarlyStop: typeof row!.projectEarlyStop === "string" && row!.projectEarlyStop !== "" ? row!.projectEarlyStop : null,
    };
  };
}
