import { describe, expect, test } from "@jest/globals";
import { decodeCursor, encodeCursor } from "../../src/http/shared/cursor.js";
import { secretsEqual, stableJson } from "../../src/lib/text.js";

describe("page cursors", () => {
  const position = { createdAt: new Date("2026-11-30T10:00:00.123Z"), uid: "0f6d3c1e-2a4b-4c5d-8e9f-0a1b2c3d4e5f" };

  test("When a cursor is issued, then it decodes to the same position", () => {
    expect(decodeCursor(encodeCursor(position))).toEqual(position);
  });

  test.each([
    ["not base64url JSON", "!!!"],
    ["a JSON object", Buffer.from('{"a":1}').toString("base64url")],
    ["a uid that is not one", Buffer.from('["2026-01-01T00:00:00Z","x"]').toString("base64url")],
    ["an invalid date", Buffer.from(`["yesterday","${position.uid}"]`).toString("base64url")],
    ["the year 275760", Buffer.from(`["+275760-09-13T00:00:00.000Z","${position.uid}"]`).toString("base64url")],
    ["a time before 1970", Buffer.from(`["1969-12-31T23:59:59Z","${position.uid}"]`).toString("base64url")],
    ["something too long", "a".repeat(500)],
  ])("When a cursor is %s, then it is refused", (_what, cursor) => {
    expect(decodeCursor(cursor)).toBeUndefined();
  });
});

describe("stableJson and secretsEqual", () => {
  test("When objects differ only in key order, then their stable JSON is equal", () => {
    expect(stableJson({ b: [1, { d: 1, c: 2 }], a: null })).toBe(stableJson({ a: null, b: [1, { c: 2, d: 1 }] }));
    expect(stableJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
  });

  test("When values differ, then their stable JSON differs", () => {
    expect(stableJson({ a: [1, 2] })).not.toBe(stableJson({ a: [2, 1] }));
  });

  test("When secrets are compared, then equal ones match and any other does not, whatever its length", () => {
    expect(secretsEqual("token-a", "token-a")).toBe(true);
    expect(secretsEqual("token-a", "token-b")).toBe(false);
    expect(secretsEqual("token-a", "token-a-but-longer")).toBe(false);
    expect(secretsEqual("", "x")).toBe(false);
  });
});
