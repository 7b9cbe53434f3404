import { createReadStream } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as Minio from "minio";
import { DomainError, NotFoundError, UpstreamError } from "../../domain/errors.js";
import type { ObjectStore, StagedObject } from "../../domain/ports.js";
import { spoolToTemporaryFile } from "../../lib/spool.js";
import { assertSafeKey } from "./object-keys.js";

export interface S3Settings {
  endpoint: string;
  port: number;
  useSSL: boolean;
  accessKey: string;
  secretKey: string;
  bucket: string;
  region: string;
  pathStyle: boolean;
  /** Where clients reach the bucket's endpoint (presigned download links), when not where the service does. */
  publicUrl?: string | undefined;
}

const PRESIGNED_PUT_SECONDS = 15 * 60;

/**
 * Objects in an S3/MinIO bucket. minio-js reads a whole object (up to its part size) into
 * memory before a PUT, so uploads go another way: the body is staged in a temporary file
 * (streamed), then on commit streamed to a presigned PUT URL with a known Content-Length.
 * Nothing is held in memory, the object appears whole or not at all, and no multipart upload
 * is left behind. Reads use minio's own streaming getObject.
 */
export class MinioObjectStore implements ObjectStore {
  private readonly client: Minio.Client;
  /** Presigns download links; signing is local (the region is given), so it needs no route to its endpoint. */
  private readonly signer: Minio.Client;

  constructor(private readonly settings: S3Settings) {
    this.client = new Minio.Client({
      endPoint: settings.endpoint,
      port: settings.port,
      useSSL: settings.useSSL,
      accessKey: settings.accessKey,
      secretKey: settings.secretKey,
      region: settings.region,
      pathStyle: settings.pathStyle,
    });
    const publicUrl = settings.publicUrl ? new URL(settings.publicUrl) : undefined;
    this.signer = publicUrl
      ? new Minio.Client({
          endPoint: publicUrl.hostname,
          port: publicUrl.port ? Number(publicUrl.port) : publicUrl.protocol === "https:" ? 443 : 80,
          useSSL: publicUrl.protocol === "https:",
          accessKey: settings.accessKey,
          secretKey: settings.secretKey,
          region: settings.region,
          pathStyle: settings.pathStyle,
        })
      : this.client;
  }

  async ensureBucket(): Promise<void> {
    if (!(await this.call(() => this.client.bucketExists(this.settings.bucket)))) {
      await this.call(() => this.client.makeBucket(this.settings.bucket, this.settings.region));
    }
  }

  async stage(body: Readable): Promise<StagedObject> {
    const spool = await spoolToTemporaryFile(body, "argo-entrypoint-upload-");
    let done = false;
    return {
      size: spool.size,
      commit: async (key) => {
        if (done) throw new Error("a staged object is committed once");
        assertSafeKey(key);
        done = true;
        try {
          const url = await this.call(() => this.client.presignedPutObject(this.settings.bucket, key, PRESIGNED_PUT_SECONDS));
          await this.call(() => streamingPut(url, spool.path, spool.size));
        } finally {
          await spool.remove();
        }
      },
      discard: async () => {
        if (done) return;
        done = true;
        await spool.remove();
      },
    };
  }

  /** Signed for the public endpoint when one is set (clients outside the cluster cannot reach the service's). */
  async presignDownload(key: string, filename: string, expiresInSeconds: number): Promise<string> {
    assertSafeKey(key);
    const disposition = { "response-content-disposition": `attachment; filename="${filename.replace(/["\\\r\n]/g, "_")}"` };
    return this.call(() => this.signer.presignedGetObject(this.settings.bucket, key, expiresInSeconds, disposition), key);
  }

  async get(key: string): Promise<Readable> {
    assertSafeKey(key);
    return this.call(() => this.client.getObject(this.settings.bucket, key), key);
  }

  async remove(key: string): Promise<void> {
    assertSafeKey(key);
    await this.call(() => this.client.removeObject(this.settings.bucket, key));
  }

  private async call<T>(operation: () => Promise<T>, key?: string): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof DomainError) throw error; // e.g. the upload went past the size limit
      const code = (error as { code?: string }).code;
      if (key && (code === "NoSuchKey" || code === "NotFound")) throw new NotFoundError(`object ${key} not found`, { cause: error });
      throw new UpstreamError("the object store is unavailable", { cause: error });
    }
  }
}

function streamingPut(url: string, file: string, size: number): Promise<void> {
  const transport = url.startsWith("https:") ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.request(url, { method: "PUT", headers: { "Content-Length": String(size) } }, (response) => {
      const status = response.statusCode ?? 0;
      const detail: Buffer[] = [];
      response.on("data", (chunk: Buffer) => detail.length < 16 && detail.push(chunk));
      response.on("error", reject);
      response.on("end", () =>
        status >= 200 && status < 300
          ? resolve()
          : reject(new Error(`S3 PUT answered ${status}: ${Buffer.concat(detail).toString().slice(0, 500)}`)),
      );
    });
    // pipeline closes the file whichever side fails.
    pipeline(createReadStream(file), request).catch(reject);
  });
}
