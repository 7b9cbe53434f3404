import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { runCli } from "../../src/cli.js";
import { createTestDatabase } from "../support/test-database.js";

describe("Admin CLI", () => {
  let database: { url: string; drop(): Promise<void> };
  const env = () => ({ DATABASE_URL: database.url, BCRYPT_COST: "4" });
  const run = async (...argv: string[]) => {
    const lines: string[] = [];
    const code = await runCli(argv, env(), (line) => lines.push(line));
    return { code, output: lines.join("\n") };
  };

  beforeAll(async () => (database = await createTestDatabase()));
  afterAll(() => database.drop());

  test("When migrations are applied twice, then the second run has nothing to do", async () => {
    expect((await run("migrate")).output).toMatch(/applied: 0001_init/);
    expect((await run("migrate")).output).toBe("database is up to date");
  });

  test("When an organization and a user are created, then the secret is printed once and only its hash stored", async () => {
    const organization = JSON.parse((await run("org", "create", "lab")).output);
    expect(organization.name).toBe("lab");
    const created = await run("user", "create", "--org", "lab", "--access-key", "user1", "--role", "admin");
    expect(created.code).toBe(0);
    const user = JSON.parse(created.output);
    expect(user).toMatchObject({ access_key: "user1", role: "admin", organization_uid: organization.uid });
    expect(user.secret_key).toMatch(/^[0-9a-f]{48}$/);
    const listed = (await run("user", "list")).output;
    expect(JSON.parse(listed)).toEqual([{ uid: user.uid, access_key: "user1", role: "admin", organization: "lab", revoked: false }]);
    expect(listed).not.toContain(user.secret_key);
  });

  test("When a secret is rotated and then revoked, then the list shows it", async () => {
    const rotated = JSON.parse((await run("user", "rotate", "user1")).output);
    expect(rotated.secret_key).toMatch(/^[0-9a-f]{48}$/);
    expect(JSON.parse((await run("user", "revoke", "user1")).output)).toEqual({ access_key: "user1", revoked: true });
    expect(JSON.parse((await run("user", "list")).output)[0].revoked).toBe(true);
  });

  test("When a revoked user is enabled again, then the list shows it active and organizations are listed with their users", async () => {
    expect(JSON.parse((await run("user", "enable", "user1")).output)).toEqual({ access_key: "user1", revoked: false });
    expect(JSON.parse((await run("user", "list")).output)[0].revoked).toBe(false);
    expect(JSON.parse((await run("org", "list")).output)).toEqual([{ uid: expect.any(String), name: "lab", users: 1 }]);
    await expect(run("user", "enable", "nobody")).rejects.toThrow(/nobody/);
  });

  test("When --help is asked, then it exits 0; an unknown command is named and exits 2", async () => {
    const help = await run("--help");
    expect({ code: help.code, lists: help.output.includes("org list") && help.output.includes("user enable") }).toEqual({
      code: 0,
      lists: true,
    });
    const unknown = await run("user", "frobnicate");
    expect({ code: unknown.code, says: unknown.output.startsWith('unknown command "user frobnicate"') }).toEqual({ code: 2, says: true });
    expect((await run("user", "rotate")).output).toMatch(/^user rotate: missing arguments/);
  });

  test("When the deployment job bootstraps the first admin twice, then it is created once and no secret is printed", async () => {
    const environment = { ...env(), FIRST_ADMIN_SECRET: "bootstrap-secret-123" };
    const first: string[] = [];
    expect(
      await runCli(
        ["bootstrap-admin", "--org", "admins", "--access-key", "root", "--secret-from-env", "FIRST_ADMIN_SECRET"],
        environment,
        (l) => first.push(l),
      ),
    ).toBe(0);
    expect(JSON.parse(first.join("\n"))).toEqual({ organization: "admins", access_key: "root", created: true });
    const again: string[] = [];
    await runCli(
      ["bootstrap-admin", "--org", "admins", "--access-key", "root", "--secret-from-env", "FIRST_ADMIN_SECRET"],
      environment,
      (l) => again.push(l),
    );
    expect(JSON.parse(again.join("\n")).created).toBe(false);
    expect(first.join("") + again.join("")).not.toContain("bootstrap-secret-123");
    const users = JSON.parse((await run("user", "list")).output);
    expect(users.find((u: { access_key: string }) => u.access_key === "root")).toMatchObject({ role: "admin", organization: "admins" });
  });

  test("When a command is incomplete or the user exists, then it fails clearly", async () => {
    expect((await run("user", "create", "--org", "lab")).code).toBe(2);
    await expect(run("user", "create", "--org", "lab", "--access-key", "user1")).rejects.toThrow("user user1 already exists");
    await expect(run("user", "create", "--org", "nowhere", "--access-key", "user2")).rejects.toThrow("organization nowhere not found");
    await expect(run("user", "create", "--org", "lab", "--access-key", "user3", "--secret", "short")).rejects.toThrow(/at least 8/);
  });
});
