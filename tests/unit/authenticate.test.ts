import type { IncomingMessage } from "node:http";
import { describe, expect, test } from "@jest/globals";
import type { Credentials, CredentialVerifier } from "../../src/domain/auth/credential-verifier.js";
import { AuthenticationError } from "../../src/domain/errors.js";
import { RequestAuthenticator } from "../../src/http/shared/authenticate.js";
import { silentLogger, uncounted } from "../support/observers.js";

/** A verifier that records what it was asked and accepts everything. */
function authenticator() {
  const seen: Array<{ credentials: Credentials; address: string }> = [];
  const verifier = {
    verify: async (credentials: Credentials, address: string) => (seen.push({ credentials, address }), { userUid: credentials.accessKey }),
  } as unknown as CredentialVerifier;
  return { sut: new RequestAuthenticator(verifier, { logger: silentLogger, meter: uncounted }), seen };
}
const request = (headers: Record<string, string>) => ({ headers, socket: { remoteAddress: "10.1.2.3" } }) as unknown as IncomingMessage;

describe("RequestAuthenticator: where credentials are taken from", () => {
  test("When X-Access-Key and X-Secret-Key are sent, then they are used, with the client's address", async () => {
    const { sut, seen } = authenticator();
    await sut.fromHeaders(request({ "x-access-key": "alice", "x-secret-key": "s3cret" }));
    expect(seen).toEqual([{ credentials: { accessKey: "alice", secretKey: "s3cret" }, address: "10.1.2.3" }]);
  });

  test("When HTTP Basic is sent, then the pair is decoded (a colon in the secret is kept)", async () => {
    const { sut, seen } = authenticator();
    await sut.fromHeaders(request({ authorization: `Basic ${Buffer.from("alice:a:b").toString("base64")}` }));
    expect(seen[0]!.credentials).toEqual({ accessKey: "alice", secretKey: "a:b" });
  });

  test("When the headers carry no credential (or the dashboard's raw `undefined`), then nothing is verified", async () => {
    const { sut, seen } = authenticator();
    await expect(sut.fromHeaders(request({}))).resolves.toBeUndefined();
    await expect(sut.fromHeaders(request({ authorization: "undefined" }))).resolves.toBeUndefined();
    expect(seen).toEqual([]);
  });

  test("When only half of a header pair is sent, then 401 names what is missing", async () => {
    const { sut } = authenticator();
    await expect(sut.fromHeaders(request({ "x-access-key": "alice" }))).rejects.toMatchObject({
      problems: [{ field: "X-Secret-Key", message: "is required" }],
    });
    await expect(sut.fromHeaders(request({ authorization: `Basic ${Buffer.from("nocolon").toString("base64")}` }))).rejects.toBeInstanceOf(
      AuthenticationError,
    );
  });

  test("When body fields carry the credentials, then they are used and removed from the body", async () => {
    const { sut, seen } = authenticator();
    const body: Record<string, unknown> = { access_key: "alice", secret_key: "s3cret", name: "x" };
    await sut.fromFields(body, request({}));
    expect(seen[0]!.credentials).toEqual({ accessKey: "alice", secretKey: "s3cret" });
    expect(body).toEqual({ name: "x" });
  });

  test.each([
    [{}, "access_key"],
    [{ access_key: "alice" }, "secret_key"],
    [{ access_key: 7, secret_key: "s" }, "access_key"],
  ])("When the body's credentials are %j, then 401 names %s", async (body, field) => {
    const { sut } = authenticator();
    await expect(sut.fromFields({ ...body }, request({}))).rejects.toMatchObject({
      problems: expect.arrayContaining([expect.objectContaining({ field })]),
    });
  });
});
