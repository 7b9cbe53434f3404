/**
 * The service's HTTP server builds each request and response on the app's own prototypes, so
 * Express never moves them to another one (which made V8 promote MBs per young-generation
 * collection and pause 10-25 ms; see src/http/server.ts).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { createHttpServer } from "../../src/http/server.js";
import { API, startTestService, type TestService, type TestUser } from "../support/test-service.js";

/** Every `Object.setPrototypeOf` that gives an object another prototype while `work` runs. */
async function prototypeChanges(work: () => Promise<void>): Promise<string[]> {
  const original = Object.setPrototypeOf;
  const changed: string[] = [];
  Object.setPrototypeOf = (target: object, prototype: object | null) => {
    if (Object.getPrototypeOf(target) !== prototype) changed.push(target.constructor?.name ?? typeof target);
    return original(target, prototype);
  };
  try {
    await work();
  } finally {
    Object.setPrototypeOf = original;
  }
  return changed;
}

async function listProjects(server: http.Server, user: TestUser): Promise<{ status: number; body: { detail: string; data: unknown[] } }> {
  server.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  try {
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${API}/a75vPQAyPqVGFwiZ`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Access-Key": user.accessKey, "X-Secret-Key": user.secretKey },
      body: JSON.stringify({ f_organization_uid: user.organizationUid }),
    });
    return { status: response.status, body: (await response.json()) as { detail: string; data: unknown[] } };
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe("The service's HTTP server", () => {
  let service: TestService;
  let user: TestUser;

  beforeAll(async () => {
    service = await startTestService();
    user = await service.user();
  });
  afterAll(() => service.close());

  test("When it answers an authenticated read, then no request or response was moved to another prototype, and Express's own methods served it", async () => {
    let answer: Awaited<ReturnType<typeof listProjects>> | undefined;
    const changed = await prototypeChanges(async () => void (answer = await listProjects(createHttpServer(service.container.app), user)));
    expect(changed).toEqual([]);
    expect(answer).toEqual({ status: 200, body: { detail: expect.any(String), data: [] } });
  });

  test("When the app is served on a server Express makes itself, then Express moves both (the cost the service's server avoids)", async () => {
    const changed = await prototypeChanges(async () => {
      const stock = http.createServer(service.container.app);
      expect((await listProjects(stock, user)).status).toBe(200);
    });
    expect(changed).toEqual(expect.arrayContaining(["IncomingMessage", "ServerResponse"]));
  });

  test("When the app is served twice, then both servers share one pair of classes and both answer", async () => {
    const first = createHttpServer(service.container.app);
    const second = createHttpServer(service.container.app);
    const changed = await prototypeChanges(async () => {
      expect((await listProjects(first, user)).status).toBe(200);
      expect((await listProjects(second, user)).status).toBe(200);
    });
    expect(changed).toEqual([]);
  });
});
