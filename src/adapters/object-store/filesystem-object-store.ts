import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { NotFoundError } from "../../domain/errors.js";
import type { ObjectInfo, ObjectStore } from "../../domain/ports.js";
import { assertSafeKey } from "./object-keys.js";

/** Objects as files under one root. Writes go to a temporary file first and are renamed into place. */
export class FilesystemObjectStore implements ObjectStore {
  private readonly staging: string;

  constructor(private readonly root: string) {
    this.staging = path.join(root, ".staging");
  }

  async put(key: string, body: Readable): Promise<ObjectInfo> {
    const target = this.pathOf(key);
    await mkdir(this.staging, { recursive: true });
    const temporary = path.join(this.staging, randomUUID());
    try {
      await pipeline(body, createWriteStream(temporary, { flags: "wx" }));
      await mkdir(path.dirname(target), { recursive: true });
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    return { size: (await stat(target)).size };
  }

  async get(key: string): Promise<Readable> {
    const file = this.pathOf(key);
    await this.stat(key);
    return createReadStream(file);
  }

  async stat(key: string): Promise<ObjectInfo> {
    try {
      return { size: (await stat(this.pathOf(key))).size };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new NotFoundError(`object ${key} not found`);
      throw error;
    }
  }

  async remove(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  private pathOf(key: string): string {
    return path.join(this.root, assertSafeKey(key));
  }
}
