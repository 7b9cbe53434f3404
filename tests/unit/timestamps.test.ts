import { describe, expect, test } from "@jest/globals";
import { formatTimestamp } from "../../src/domain/clock.js";

/** The format's definition: the shifted instant's ISO text, microseconds padded, the offset written out. */
function byDefinition(date: Date, offsetMinutes: number): string {
  const abs = Math.abs(offsetMinutes);
  const offset = `${offsetMinutes < 0 ? "-" : "+"}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
  return `${new Date(date.getTime() + offsetMinutes * 60_000).toISOString().slice(0, -1)}000${offset}`;
}

describe("Formatting timestamps as the original did", () => {
  test("When an instant is shown with the lab's +08:00, then it reads as its local time with microseconds and the offset", () => {
    expect(formatTimestamp(new Date("2024-09-18T10:13:22.552Z"), 480)).toBe("2024-09-18T18:13:22.552000+08:00");
    expect(formatTimestamp(new Date("2024-12-31T20:00:00.007Z"), 480)).toBe("2025-01-01T04:00:00.007000+08:00");
  });

  test("When the offset is UTC, negative or not whole hours, then it is written as ±hh:mm", () => {
    const instant = new Date("2026-03-01T00:30:05.090Z");
    expect(formatTimestamp(instant, 0)).toBe("2026-03-01T00:30:05.090000+00:00");
    expect(formatTimestamp(instant, -90)).toBe("2026-02-28T23:00:05.090000-01:30");
    expect(formatTimestamp(instant, 345)).toBe("2026-03-01T06:15:05.090000+05:45");
  });

  test("When many instants and offsets alternate, then every text matches the definition", () => {
    for (let ms = Date.UTC(1970, 0, 1); ms < Date.UTC(2100, 0, 1); ms += 2_345_678_901) {
      for (const offset of [480, -300, 0, 570, -720])
        expect(formatTimestamp(new Date(ms), offset)).toBe(byDefinition(new Date(ms), offset));
    }
  });

  test("When a year has other than four digits, then ISO's extended form is kept", () => {
    expect(formatTimestamp(new Date("0999-12-31T23:59:59.999Z"), 0)).toBe("0999-12-31T23:59:59.999000+00:00");
    expect(formatTimestamp(new Date(Date.UTC(10000, 0, 1)), 0)).toBe("+010000-01-01T00:00:00.000000+00:00");
  });
});
