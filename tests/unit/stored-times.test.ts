import { describe, expect, test } from "@jest/globals";
import { parseStoredTime, sqliteTime } from "../../src/adapters/db/sql-client.js";

const iso = (text: string) => parseStoredTime(text).toISOString();

describe("Reading stored times", () => {
  test("When a time is read as each database gives it, then it is the same instant (UTC when no zone is written)", () => {
    const instant = "2026-12-01T19:44:05.123Z";
    expect(iso(sqliteTime(new Date(instant)))).toBe(instant); // Prisma's SQLite text
    expect(iso("2026-12-01 19:44:05.123")).toBe(instant); // PostgreSQL timestamp(3) text
    expect(iso("2026-12-01T19:44:05.123")).toBe(instant); // PostgreSQL's JSON
    expect(iso("2026-12-01T19:44:05.123Z")).toBe(instant);
  });

  test("When fewer or more than three fraction digits are written, then they are milliseconds, truncated past the third", () => {
    expect(iso("2026-12-01 19:44:05")).toBe("2026-12-01T19:44:05.000Z");
    expect(iso("2026-12-01 19:44:05.1")).toBe("2026-12-01T19:44:05.100Z");
    expect(iso("2026-12-01 19:44:05.12")).toBe("2026-12-01T19:44:05.120Z");
    expect(iso("2026-12-01 19:44:05.123987")).toBe("2026-12-01T19:44:05.123Z");
  });

  test("When a time carries another zone or an unusual form, then Date's own reading of it is kept", () => {
    expect(iso("2026-12-01T21:44:05.123+02:00")).toBe("2026-12-01T19:44:05.123Z");
    expect(iso("0099-01-02 03:04:05")).toBe("0099-01-02T03:04:05.000Z"); // Date.UTC would read year 99 as 1999
    expect(Number.isNaN(parseStoredTime("infinity").getTime())).toBe(true);
    expect(Number.isNaN(parseStoredTime("2026-12-01 19:44:05.").getTime())).toBe(true);
  });

  test("When many instants are written and read back, then each round-trips on both forms", () => {
    for (let ms = Date.UTC(1970, 0, 1); ms < Date.UTC(2100, 0, 1); ms += 1_234_567_891) {
      const date = new Date(ms);
      expect(parseStoredTime(sqliteTime(date)).getTime()).toBe(ms);
      expect(parseStoredTime(date.toISOString().replace("T", " ").replace("Z", "")).getTime()).toBe(ms);
    }
  });
});
