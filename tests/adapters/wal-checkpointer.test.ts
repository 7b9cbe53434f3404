/** The WAL checkpoint worker: it copies committed pages back into the database file, off the service's thread. */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "libsql";
import { afterEach, beforeEach, describe, expect, test } from "@jest/globals";
import { startWalCheckpointer } from "../../src/adapters/db/wal-checkpointer.js";

describe("WAL checkpoint worker", () => {
  let dir: string;
  let file: string;
  let database: InstanceType<typeof Database>;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "wal-checkpointer-"));
    file = path.join(dir, "service.db");
    database = new Database(file);
    database.prepare("PRAGMA journal_mode = WAL").all();
    database.prepare("PRAGMA wal_autocheckpoint = 0").all(); // only the worker checkpoints
    database.exec("CREATE TABLE rows (payload TEXT)");
  });

  afterEach(() => {
    database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const writeRows = (count: number) => {
    const insert = database.prepare("INSERT INTO rows (payload) VALUES (?)");
    for (let i = 0; i < count; i += 1) insert.run("x".repeat(1000));
  };

  test("When the service reports a write, then the worker copies the WAL into the database file soon after", async () => {
    const failures: unknown[] = [];
    const checkpointer = startWalCheckpointer(file, (error) => failures.push(error));
    try {
      writeRows(200); // about 50 pages, all still in the WAL
      const before = statSync(file).size;
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(statSync(file).size).toBe(before); // nothing reported, nothing copied: the worker sleeps

      checkpointer.written();
      const deadline = Date.now() + 5000;
      while (statSync(file).size === before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(statSync(file).size).toBeGreaterThan(before + 100 * 1024);
      expect(failures).toEqual([]);
    } finally {
      await checkpointer.stop();
    }
  });

  test("When the worker cannot open the database, then the failure is reported and stopping still ends", async () => {
    const failures: unknown[] = [];
    const checkpointer = startWalCheckpointer(path.join(dir, "missing", "service.db"), (error) => failures.push(error));
    const deadline = Date.now() + 5000;
    while (failures.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(failures).toHaveLength(1);
    await checkpointer.stop();
  });
});
