import { describe, expect, test } from "@jest/globals";
import { ForbiddenError } from "../../src/domain/errors.js";
import { SignedLinks } from "../../src/domain/files/signed-links.js";

describe("SignedLinks", () => {
  let now = 1_700_000_000_000;
  const links = new SignedLinks({ secret: Buffer.alloc(32, 7), clock: { now: () => new Date(now) }, ttlSeconds: 60 });
  const target = { uid: "0b6d7d62-3c3c-4c1e-9a1c-7b7b2c1f0e11", organizationUid: "org-1" };

  test("When a link is opened in its time window, then it opens its one target for its organization; after the window it does not", () => {
    const { token, expiresAt } = links.sign(target);
    expect(expiresAt.getTime()).toBe(now + 60_000);
    expect(links.open(token)).toMatchObject({ target, principal: { organizationUid: "org-1", role: "member" } });
    now += 59_000;
    expect(links.open(token).target).toEqual(target);
    now += 1_000;
    expect(() => links.open(token)).toThrow(new ForbiddenError("this link has expired"));
  });

  test("When a link is altered or signed with another key, then it is refused", () => {
    const { token } = links.sign(target);
    const [payload, signature] = token.split(".") as [string, string];
    const forged = Buffer.from(JSON.stringify({ u: "another", o: "org-1", e: 9_999_999_999 })).toString("base64url");
    for (const bad of [`${forged}.${signature}`, `${payload}.${signature.slice(1)}`, `${payload}`, `${token}.extra`, ""])
      expect(() => links.open(bad)).toThrow(ForbiddenError);
    const other = new SignedLinks({ secret: Buffer.alloc(32, 8), clock: { now: () => new Date(now) }, ttlSeconds: 60 });
    expect(() => other.open(token)).toThrow(ForbiddenError);
  });
});
