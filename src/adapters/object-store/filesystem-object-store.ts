import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { NotFoundError } from "../../domain/errors.js";
import type { ObjectStore, StagedObject } from "../../domain/ports.js";
import { assertSafeKey } from "./object-keys.js";

/** Staged files older than this are leftovers of a process that died mid-upload. */
const STALE_STAGING_MS = 60 * 60 * 1000;

/** Objects as files under one root. Bodies are staged as temporary files and renamed into place. */
export class FilesystemObjectStore implements ObjectStore {
  private readonly staging: string;

  constructor(private readonly root: string) {
    this.staging = path.join(root, ".staging");
  }

  async stage(body: Readable): Promise<StagedObject> {
    await mkdir(this.staging, { recursive: true });
    const temporary = path.join(this.staging, randomUUID());
    try {
      await pipeline(body, createWriteStream(temporary, { flags: "wx" }));
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    const { size } = await stat(temporary);
    let done = false;
    return {
      size,
      commit: async (key) => {
        if (done) throw new Error("a staged object is committed once");
        const target = this.pathOf(key);
        await mkdir(path.dirname(target), { recursive: true });
        await rename(temporary, target);
        done = true;
      },
      discard: async () => {
        if (done) return;
        done = true;
        await rm(temporary, { force: true });
      },
    };
  }

  async get(key: string): Promise<Readable> {
    const file = this.pathOf(key);
    try {
      await stat(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new NotFoundError(`object ${key} not found`);
      throw error;
    }
    return createReadStream(file);
  }

  async remove(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  /** Removes staged files a crashed process left behind (at start-up). */
  async sweepStaging(now = Date.now()): Promise<number> {
    const entries = await readdir(this.staging).catch(() => [] as string[]);
    let removed = 0;
    for (const entry of entries) {
      const file = path.join(this.staging, entry);
      const info = await stat(file).catch(() => undefined);
      if (info && now - info.mtimeMs > STALE_STAGING_MS) {
        await rm(file, { force: true });
        removed += 1;
      }
    }
    return removed;
  }

  private pathOf(key: string): string {
    return path.join(this.root, assertSafeKey(key));
  }
}
