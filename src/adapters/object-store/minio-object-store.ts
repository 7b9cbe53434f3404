import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as Minio from "minio";
import { DomainError, NotFoundError, UpstreamError } from "../../domain/errors.js";
import type { ObjectInfo, ObjectStore } from "../../domain/ports.js";
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
}

/**
 * Objects in an S3/MinIO bucket. An upload of unknown size is first spooled to a temporary
 * file (streamed, never held in memory) so the object is sent as one PUT of known size: that
 * works on every S3 implementation and never leaves a half-finished multipart upload behind.
 */
export class MinioObjectStore implements ObjectStore {
  private readonly client: Minio.Client;

  constructor(private readonly settings: S3Settings) {
    this.client = new Minio.Client({
      endPoint: settings.endpoint, port: settings.port, useSSL: settings.useSSL, accessKey: settings.accessKey,
      secretKey: settings.secretKey, region: settings.region, pathStyle: settings.pathStyle,
    });
  }

  async ensureBucket(): Promise<void> {
    if (!(await this.call(() => this.client.bucketExists(this.settings.bucket)))) {
      await this.call(() => this.client.makeBucket(this.settings.bucket, this.settings.region));
    }
  }

  async put(key: string, body: Readable, options: { size?: number } = {}): Promise<ObjectInfo> {
    assertSafeKey(key);
    if (options.size !== undefined) {
      await this.call(() => this.client.putObject(this.settings.bucket, key, body, options.size));
      return { size: options.size };
    }
    const dir = await mkdtemp(path.join(os.tmpdir(), "argo-entrypoint-upload-"));
    const spool = path.join(dir, "object");
    try {
      await pipeline(body, createWriteStream(spool));
      const { size } = await stat(spool);
      await this.call(() => this.client.putObject(this.settings.bucket, key, createReadStream(spool), size));
      return { size };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async get(key: string): Promise<Readable> {
    assertSafeKey(key);
    return this.call(() => this.client.getObject(this.settings.bucket, key), key);
  }

  async stat(key: string): Promise<ObjectInfo> {
    assertSafeKey(key);
    const info = await this.call(() => this.client.statObject(this.settings.bucket, key), key);
    return { size: info.size };
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
