import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { registerAll, upload, type Registered } from "../support/registry-fixture.js";
import { startS3Server } from "../support/s3-server.js";
import { API, startTestService, type TestService, type TestUser } from "../support/test-service.js";
import { createHttpServer } from "../../src/http/server.js";

const MiB = 1024 * 1024;

/** A deterministic pseudo-random byte stream of `size` bytes, produced chunk by chunk. */
function generated(size: number, chunk = MiB): { stream: Readable; sha256: Promise<string> } {
  const hash = createHash("sha256");
  let sent = 0;
  let seed = 7;
  let resolveDigest!: (digest: string) => void;
  const sha256 = new Promise<string>((resolve) => (resolveDigest = resolve));
  const stream = new Readable({
    read() {
      if (sent >= size) {
        resolveDigest(hash.digest("hex"));
        this.push(null);
        return;
      }
      const buffer = Buffer.allocUnsafe(Math.min(chunk, size - sent));
      for (let i = 0; i < buffer.length; i += 4) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        buffer.writeUInt32LE(seed, i - (i + 4 > buffer.length ? i + 4 - buffer.length : 0));
      }
      hash.update(buffer);
      sent += buffer.length;
      this.push(buffer);
    },
  });
  return { stream, sha256 };
}

/** Sends a multipart upload over a real socket with the file produced as a stream. */
async function streamUpload(
  port: number,
  key: string,
  user: TestUser,
  fields: Record<string, string>,
  body: Readable,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const boundary = "----argo-entrypoint-test-boundary";
  const head =
    Object.entries({ access_key: user.accessKey, secret_key: user.secretKey, ...fields })
      .map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`)
      .join("") +
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.zip"\r\nContent-Type: application/zip\r\n\r\n`;
  const tail = `\r\n--${boundary}--\r\n`;
  return new Promise((resolve, reject) => {
    const request = http.request(
      { port, method: "POST", path: `${API}/${key}`, headers: { "Content-Type": `multipart/form-data; boundary=${boundary}` } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (c: Buffer) => chunks.push(c));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString() || "{}") }));
      },
    );
    request.on("error", (error: NodeJS.ErrnoException) =>
      error.code === "EPIPE" || error.code === "ECONNRESET" ? undefined : reject(error),
    );
    request.write(head);
    body.on("end", () => request.end(tail));
    body.pipe(request, { end: false });
  });
}

async function sha256Of(stream: NodeJS.ReadableStream): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

describe.each([
  ["the local filesystem", async () => ({ env: {}, close: async () => undefined })],
  ["S3 (s3rver on loopback)", startS3Server],
])("Uploads and downloads through %s", (_name, startStore) => {
  let store: { env: Record<string, string>; close(): Promise<void> };
  let service: TestService;
  let server: http.Server;
  let port: number;
  let user: TestUser;
  let r: Registered;

  beforeAll(async () => {
    store = await startStore();
    service = await startTestService({ ...store.env, MAX_UPLOAD_BYTES: "96MiB" });
    server = createHttpServer(service.container.app).listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    port = (server.address() as AddressInfo).port;
    user = await service.user();
    r = await registerAll(service, user);
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await service.close();
    await store.close();
  });

  test("When a file far larger than a buffer is uploaded, then it streams through and downloads byte-identical", async () => {
    const size = 80 * MiB;
    const source = generated(size);
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 20);
    const response = await streamUpload(
      port,
      "OFbaCJE62lcPVbZj",
      user,
      { name: "big", type: "original", f_project_uid: r.project, extension: "zip" },
      source.stream,
    );
    clearInterval(sampler);
    expect(response.status).toBe(200);
    const data = response.json.data as { uid: string; f_file_uid: { size: number } };
    expect(data.f_file_uid.size).toBe(size);
    // Client and server share this process: buffering the upload anywhere would add >= 80 MiB.
    expect(rssPeak - rssBefore).toBeLessThan(64 * MiB);

    const download = await new Promise<http.IncomingMessage>((resolve) => {
      const request = http.request(
        { port, method: "POST", path: `${API}/TTiue1sygXrsm0YS`, headers: { "Content-Type": "application/json" } },
        resolve,
      );
      request.end(JSON.stringify({ access_key: user.accessKey, secret_key: user.secretKey, uid: data.uid }));
    });
    expect(download.statusCode).toBe(200);
    expect(Number(download.headers["content-length"])).toBe(size);
    expect(await sha256Of(download)).toBe(await source.sha256);
  });

  test("When an upload passes the size limit, then 413 names the file and neither object nor metadata remains", async () => {
    const datasets = await service.container.db.datasets.count({});
    const response = await streamUpload(
      port,
      "OFbaCJE62lcPVbZj",
      user,
      { name: "too-big", type: "original", f_project_uid: r.project, extension: "zip" },
      generated(100 * MiB).stream,
    );
    expect(response.status).toBe(413);
    expect(response.json.errors).toEqual([{ field: "file", message: "is too large" }]);
    expect(await service.container.db.datasets.count({})).toBe(datasets);
    const health = await service.http.get("/healthz");
    expect(health.status).toBe(200);
  });

  test("When a file is replaced, then the new content is served and its size recorded", async () => {
    const replaced = await upload(service, "uqm5wN6pdrAWM89T", user, { uid: r.projectDataset }, { content: "replacement", name: "x.zip" });
    expect(replaced.status).toBe(200);
    expect(replaced.body.data.f_file_uid.size).toBe(11);
    const download = await service.post("TTiue1sygXrsm0YS", user, { uid: r.projectDataset }).buffer(true);
    expect(download.body.toString()).toBe("replacement");
  });

  test("When a dataset is deleted, then its object is gone from the store too", async () => {
    const created = await upload(
      service,
      "OFbaCJE62lcPVbZj",
      user,
      { name: "gone", type: "original", f_project_uid: r.project, extension: "zip" },
      { content: "bye", name: "x.zip" },
    );
    const dataset = await service.container.db.datasets.find(created.body.data.uid);
    const file = await service.container.db.files.find(dataset!.fileUid!);
    await expect(readObject(service, file!.storageKey)).resolves.toBe("bye");
    expect((await service.post("6PiGXBbrIvQLqhrC", user, { uid: dataset!.uid })).status).toBe(200);
    await expect(readObject(service, file!.storageKey)).rejects.toThrow(/not found/);
  });
});

async function readObject(service: TestService, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await service.container.objects.get(key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}
