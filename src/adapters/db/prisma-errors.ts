import { ConflictError, NotFoundError, UpstreamError } from "../../domain/errors.js";

/** Runs a query, its failure as a domain error. */
export async function guard<T>(query: () => Promise<T>): Promise<T> {
  try {
    return await query();
  } catch (error) {
    throw translate(error);
  }
}

/** Prisma's error codes become domain errors here, once, keeping the original as `cause`. */
export function translate(error: unknown): unknown {
  if (error instanceof ConflictError || error instanceof NotFoundError || error instanceof UpstreamError) return error;
  const code = (error as { code?: unknown }).code;
  switch (code) {
    // Prisma's codes, then those of the drivers under the service's own statements (libsql, pg).
    case "SQLITE_CONSTRAINT_PRIMARYKEY":
    case "SQLITE_CONSTRAINT_UNIQUE":
    case "23505":
    case "P2002":
      return new ConflictError("a record with the same unique value already exists", { cause: error });
    case "SQLITE_CONSTRAINT_FOREIGNKEY":
    case "23503":
    case "P2003":
    case "P2014":
      return new ConflictError("other records still refer to this one; delete them first", { cause: error });
    case "P2025":
      return new NotFoundError("record not found", { cause: error });
    default:
      return isDatabaseFailure(error) ? new UpstreamError("the database is unavailable", { cause: error }) : error;
  }
}

/** Prisma's errors, and the drivers' own (libsql's, pg's server errors, its socket errors). */
function isDatabaseFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { name, code, severity } = error as { name?: string; code?: unknown; severity?: unknown };
  return Boolean(
    name?.startsWith("PrismaClient") || name === "LibsqlError" || severity || (typeof code === "string" && /^E[A-Z]+$/.test(code)),
  );
}
