/**
 * The generic stores' reads (find, list, count) as prepared statements instead of Prisma
 * queries, which cost several times the driver's own time per query. Column types come from
 * Prisma's schema (its DMMF), so rows read here are the same records Prisma would give.
 */
import type { Filter, PageRequest } from "../../domain/ports.js";
import { parseStoredTime, sqliteTime, type SqlClient, type SqlRow, type SqlStatement, type SqlValue } from "./sql-client.js";

type ColumnType = "String" | "DateTime" | "Boolean" | "BigInt" | "Int" | "Float" | "Json";

export interface ModelShape {
  /** The table (Prisma model) name. */
  table: string;
  columns: Record<string, ColumnType>;
}

/** The shapes of Prisma's models, from its DMMF (`Prisma.dmmf.datamodel.models`). */
export function modelShapes(models: ReadonlyArray<{ name: string; fields: ReadonlyArray<{ name: string; kind: string; type: string }> }>) {
  return new Map(
    models.map((model) => [
      model.name,
      {
        table: model.name,
        columns: Object.fromEntries(model.fields.filter((f) => f.kind === "scalar").map((f) => [f.name, f.type as ColumnType])),
      } satisfies ModelShape,
    ]),
  );
}

/** A model's values to SQL arguments and its rows back to records, per dialect. */
export class TableCodec {
  readonly columns: readonly string[];

  constructor(
    readonly shape: ModelShape,
    private readonly dialect: SqlClient["dialect"],
  ) {
    this.columns = Object.keys(shape.columns);
  }

  /** Only the model's own columns ever reach SQL text. */
  column(name: string): string {
    if (!(name in this.shape.columns)) throw new Error(`${this.shape.table} has no column ${name}`);
    return name;
  }

  value(column: string, value: unknown): SqlValue {
    if (value === undefined) return null;
    if (value instanceof Date) return this.dialect === "sqlite" ? sqliteTime(value) : value;
    if (typeof value === "bigint") return Number(value);
    if (this.shape.columns[column] === "Boolean" && this.dialect === "sqlite") return value ? 1 : 0;
    return value as SqlValue;
  }

  /** The record in `row` (or those of its `columns`), whose columns may carry a prefix (`alias.column`, from a joined read). */
  record<R>(row: SqlRow, prefix = "", columns: readonly string[] = this.columns): R {
    const out: Record<string, unknown> = {};
    for (const column of columns) {
      const type = this.shape.columns[column];
      const value = row[prefix + column];
      if (value === null || value === undefined) out[column] = null;
      else if (type === "DateTime") out[column] = value instanceof Date ? value : parseStoredTime(String(value));
      else if (type === "Boolean") out[column] = value === true || value === 1 || value === "1" || value === 1n;
      else if (type === "BigInt") out[column] = BigInt(value as number | string | bigint);
      else if (type === "Int" || type === "Float") out[column] = Number(value);
      else out[column] = value;
    }
    return out as R;
  }

  /** INSERTs of `rows`: one per set of columns they give (absent ones take the column's default), rows in order within each. */
  inserts(rows: object[]): SqlStatement[] {
    const bySet = new Map<string, { columns: string[]; rows: object[] }>();
    for (const row of rows) {
      const columns = Object.keys(row).filter((c) => (row as Record<string, unknown>)[c] !== undefined);
      const set = columns.join(",");
      const same = bySet.get(set);
      if (same) same.rows.push(row);
      else bySet.set(set, { columns: columns.map((c) => this.column(c)), rows: [row] });
    }
    return [...bySet.values()].map(({ columns, rows: same }) => {
      const tuple = `(${columns.map(() => "?").join(", ")})`;
      return {
        sql: `INSERT INTO "${this.shape.table}" (${columns.map((c) => `"${c}"`).join(", ")}) VALUES ${same.map(() => tuple).join(", ")}`,
        args: same.flatMap((row) => columns.map((c) => this.value(c, (row as Record<string, unknown>)[c]))),
      };
    });
  }
}

export class SqlReads<R> {
  private readonly selectAll: string;
  private readonly codec: TableCodec;

  constructor(
    private readonly sql: SqlClient,
    shape: ModelShape,
  ) {
    this.codec = new TableCodec(shape, sql.dialect);
    const columns = this.codec.columns;
    this.selectAll = `SELECT ${columns.map((c) => `"${c}"`).join(", ")} FROM "${shape.table}"`;
  }

  /** A time as this database compares it (an argument for `search` conditions). */
  time(date: Date): SqlValue {
    return this.codec.value("createdAt", date);
  }

  async find(uid: string): Promise<R | null> {
    const [row] = await this.sql.query(`${this.selectAll} WHERE "uid" = ?`, [uid]);
    return row ? this.codec.record<R>(row) : null;
  }

  async findBy(column: string, value: string): Promise<R | null> {
    const [row] = await this.sql.query(`${this.selectAll} WHERE "${this.codec.column(column)}" = ? LIMIT 1`, [value]);
    return row ? this.codec.record<R>(row) : null;
  }

  /**
   * Oldest first by (createdAt, uid). The keyset condition starts with `createdAt >= ?` so an
   * index on (parent, createdAt, uid) bounds the scan at any depth.
   */
  async list(filter: Filter<R>, page?: PageRequest): Promise<R[]> {
    const { where, args } = this.where(filter);
    if (page?.after) {
      const at = this.codec.value("createdAt", page.after.createdAt);
      where.push(`"createdAt" >= ? AND ("createdAt" > ? OR "uid" > ?)`);
      args.push(at, at, page.after.uid);
    }
    const limit = page ? ` LIMIT ${Math.max(0, Math.floor(page.limit))}` : "";
    const rows = await this.sql.query(
      `${this.selectAll}${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY "createdAt", "uid"${limit}`,
      args,
    );
    return rows.map((row) => this.codec.record<R>(row));
  }

  /**
   * Rows matching `conditions` (SQL over this model's quoted columns, with `?` arguments) in
   * (createdAt, uid) order either way, after `page.after` in that order.
   */
  async search(conditions: SqlStatement[], order: "asc" | "desc", page: PageRequest): Promise<R[]> {
    const where = conditions.map((c) => c.sql);
    const args = conditions.flatMap((c) => c.args);
    if (page.after) {
      const at = this.codec.value("createdAt", page.after.createdAt);
      const [bound, strict, next] = order === "asc" ? [">=", ">", ">"] : ["<=", "<", "<"];
      where.push(`"createdAt" ${bound} ? AND ("createdAt" ${strict} ? OR "uid" ${next} ?)`);
      args.push(at, at, page.after.uid);
    }
    const direction = order === "asc" ? "ASC" : "DESC";
    const rows = await this.sql.query(
      `${this.selectAll}${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY "createdAt" ${direction}, "uid" ${direction} LIMIT ${Math.max(0, Math.floor(page.limit))}`,
      args,
    );
    return rows.map((row) => this.codec.record<R>(row));
  }

  async count(filter: Filter<R>): Promise<number> {
    const { where, args } = this.where(filter);
    const [row] = await this.sql.query(
      `SELECT count(*) AS "n" FROM "${this.codec.shape.table}"${where.length ? ` WHERE ${where.join(" AND ")}` : ""}`,
      args,
    );
    return Number(row?.n ?? 0);
  }

  private where(filter: Filter<R>): { where: string[]; args: SqlValue[] } {
    const where: string[] = [];
    const args: SqlValue[] = [];
    for (const [key, condition] of Object.entries(filter as Record<string, unknown>)) {
      if (condition === undefined) continue;
      const column = this.codec.column(key);
      if (condition === null) where.push(`"${column}" IS NULL`);
      else if (typeof condition === "object" && !(condition instanceof Date) && "in" in condition) {
        const values = (condition as { in: unknown[] }).in;
        if (!values.length) where.push("1 = 0");
        else {
          where.push(`"${column}" IN (${values.map(() => "?").join(", ")})`);
          args.push(...values.map((v) => this.codec.value(column, v)));
        }
      } else {
        where.push(`"${column}" = ?`);
        args.push(this.codec.value(column, condition));
      }
    }
    return { where, args };
  }
}
