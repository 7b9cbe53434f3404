import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import type { Readable } from "node:stream";
import type { Clock } from "../clock.js";
import { ConflictError, NotFoundError } from "../errors.js";
import type { Database, Logger, ObjectStore } from "../ports.js";
import { canAccess, type Principal } from "../principal.js";
import type { ImageBuildRecord, ImageRecord, ImageSequence } from "../records.js";
import type { LogSource } from "../logs/log-source.js";
import type { RunPhase } from "../tasks/task-engine.js";
import { readCapped } from "../../lib/lines.js";

/** What an engine offers for turning Dockerfiles into images (Argo: a build Workflow; local: nothing to build). */
export interface ImageBuilder {
  /** False when steps run without images (the local engine): build files are ready at once, with no image. */
  readonly buildsImages: boolean;
  /** Starts building `dockerfile` and pushing it as `reference`; each attempt is its own run. */
  start(request: { buildUid: string; attempt: number; dockerfile: string; reference: string }): Promise<{ runName: string }>;
}

/** A build run's state as its engine reports it. */
export interface BuildProgress {
  buildUid: string;
  attempt: number;
  phase: RunPhase;
  message: string;
  nodeId: string | null;
  podName: string | null;
  /** The pushed manifest's digest, once the build succeeded. */
  imageDigest: string | null;
  finishedAt: Date | null;
}

/** What one step of a task runs: its build file's image, and whether with the image's own command. */
export interface StepImage {
  /** Null for a built-in download or upload (the engine's step image) and on the local engine. */
  image: string | null;
  /** The build file's own image runs with its own ENTRYPOINT/CMD instead of the built-in step. */
  own: boolean;
}

export type ImageReadiness =
  | { state: "ready"; steps: Record<ImageSequence, StepImage> }
  | { state: "waiting"; on: ImageRecord[] }
  | { state: "failed"; image: ImageRecord; message: string };

/** A download or upload build file asks to run its own image with this label. */
const OWN_IMAGE_LABEL = /^\s*LABEL\s.*\bargo-entrypoint\.step\s*=\s*"?own"?(\s|$)/im;
/** How much of a failed build's log its message quotes. */
const FAILURE_LOG_LINES = 20;
/** Dockerfiles larger than this are not built (a build's Dockerfile travels in a ConfigMap). */
const MAX_DOCKERFILE_BYTES = 256 * 1024;

/**
 * What a build file's image is: `ready` when nothing is to be built (a named image, a built-in
 * step, the local engine) or its build succeeded; `unbuilt` when it needs a build that was never
 * recorded (the next task or a rebuild starts it).
 */
export interface ImageView {
  state: ImageBuildRecord["state"] | "unbuilt";
  /** Where the image is (or will be) pushed; null when nothing is built. */
  reference: string | null;
  digest: string | null;
  message: string;
}

const UNBUILT_MESSAGE = "not built yet: the next task that runs it, or a rebuild, builds it";

/**
 * Build files become images. A running build file is always built (unless it names an
 * `image_reference`); a download or upload one only when it asks to run its own image. Builds
 * are content-addressed: the image is tagged with the Dockerfile's sha256, so identical
 * Dockerfiles are built once and a replaced file never changes a past task's image.
 */
export class ImageBuilds {
  /** Emits a build's uid whenever this process records a change of it (log followers wait on it). */
  readonly changes = new EventEmitter().setMaxListeners(0);

  constructor(
    private readonly deps: {
      db: Database;
      objects: ObjectStore;
      builder: ImageBuilder;
      /** Where built images are pushed: `<repository>:<sha256 of the Dockerfile>`. */
      repository: string;
      clock: Clock;
      logger: Logger;
      /** Where a failed build's last log lines are read from, for its message. */
      logs?: LogSource;
    },
  ) {}

  /** After a build file is stored or replaced: whether it needs a build, and the build started. */
  async buildFileStored(image: ImageRecord): Promise<ImageRecord> {
    return this.buildFrom(image, await this.dockerfileOf(image));
  }

  /** `buildFileStored` with the build file's Dockerfile already read. */
  private async buildFrom(image: ImageRecord, dockerfile: { text: string; bytes: number }): Promise<ImageRecord> {
    const { db } = this.deps;
    const ownImage = image.sequence !== "running" && (image.reference !== null || OWN_IMAGE_LABEL.test(dockerfile.text));
    if (!this.needsBuild({ ...image, ownImage })) return db.images.update(image.uid, { ownImage, buildUid: null });
    const uid = buildUidOf(dockerfile.text);
    try {
      const existing = await db.imageBuilds.find(uid);
      if (!existing) await this.create(uid, dockerfile);
      else if (existing.state === "failed") await this.run(existing, existing.attempt + 1, dockerfile);
    } catch (error) {
      // Not left pointing at the build of what the file held before: without one, the next task or rebuild builds it.
      if (image.buildUid && image.buildUid !== uid) await db.images.update(image.uid, { buildUid: null }).catch(() => undefined);
      throw error;
    }
    return db.images.update(image.uid, { ownImage, buildUid: uid });
  }

  /** Builds a build file's Dockerfile again (a new attempt), whatever its state. */
  async rebuild(principal: Principal, imageUid: string): Promise<ImageRecord> {
    const image = await this.deps.db.images.find(imageUid);
    if (!image || !canAccess(principal, image.organizationUid)) throw NotFoundError.entity("build file", "uid", imageUid);
    const build = image.buildUid ? await this.deps.db.imageBuilds.find(image.buildUid) : null;
    const dockerfile = await this.dockerfileOf(image);
    // A build of what the file held before (its replacement's build was never recorded) is not rebuilt: the file is.
    if (!build || build.uid !== buildUidOf(dockerfile.text)) return this.buildFrom(image, dockerfile);
    await this.run(build, build.attempt + 1, dockerfile);
    return image;
  }

  async buildOf(image: ImageRecord): Promise<ImageBuildRecord | null> {
    return image.buildUid ? this.deps.db.imageBuilds.find(image.buildUid) : null;
  }

  async buildsOf(images: ImageRecord[]): Promise<Map<string, ImageBuildRecord>> {
    const uids = [...new Set(images.map((i) => i.buildUid).filter((u): u is string => u !== null))];
    const builds = uids.length ? await this.deps.db.imageBuilds.list({ uid: { in: uids } }) : [];
    return new Map(builds.map((b) => [b.uid, b]));
  }

  /** A build file's image as shown. */
  async viewOf(image: ImageRecord): Promise<ImageView> {
    return this.view(image, await this.buildOf(image));
  }

  /** The images of several build files as shown, by build file uid, in one read of their builds. */
  async viewsOf(images: ImageRecord[]): Promise<Map<string, ImageView>> {
    const builds = await this.buildsOf(images);
    return new Map(images.map((image) => [image.uid, this.view(image, image.buildUid ? builds.get(image.buildUid) : null)]));
  }

  private view(image: ImageRecord, build: ImageBuildRecord | null | undefined): ImageView {
    if (build) return { state: build.state, reference: build.reference, digest: build.imageDigest, message: build.message };
    // Its build could not be recorded (or it was stored before builds existed): not an image one can run yet.
    if (this.needsBuild(image)) return { state: "unbuilt", reference: null, digest: null, message: UNBUILT_MESSAGE };
    return { state: "ready", reference: null, digest: null, message: "" };
  }

  /**
   * What a task's three steps run, or what they wait for, or the build that failed. A build file
   * that needs a build and has none (stored before builds existed) gets one now.
   */
  async readiness(images: Record<ImageSequence, ImageRecord>): Promise<ImageReadiness> {
    for (const sequence of ["download", "running", "upload"] as const)
      if (this.needsBuild(images[sequence]) && !images[sequence].buildUid) images[sequence] = await this.buildFileStored(images[sequence]);
    const builds = await this.buildsOf(Object.values(images));
    const waiting: ImageRecord[] = [];
    const steps = {} as Record<ImageSequence, StepImage>;
    for (const sequence of ["download", "running", "upload"] as const) {
      const image = images[sequence];
      const build = image.buildUid ? builds.get(image.buildUid) : undefined;
      if (build?.state === "failed") return { state: "failed", image, message: build.message };
      if (build?.state === "building") waiting.push(image);
      const own = sequence === "running" || image.ownImage;
      steps[sequence] = { image: own ? (image.reference ?? build?.reference ?? null) : null, own: sequence !== "running" && own };
    }
    return waiting.length ? { state: "waiting", on: waiting } : { state: "ready", steps };
  }

  private needsBuild(image: ImageRecord): boolean {
    return this.deps.builder.buildsImages && image.reference === null && (image.sequence === "running" || image.ownImage);
  }

  /** Records a build run's progress; answers whether the build just settled (ready or failed). */
  async report(progress: BuildProgress): Promise<boolean> {
    const { db } = this.deps;
    const build = await db.imageBuilds.find(progress.buildUid);
    // A report of an older attempt (a re-run replaced it) changes nothing.
    if (!build || build.attempt !== progress.attempt || build.state !== "building") return false;
    const settled = progress.phase === "Succeeded" || progress.phase === "Failed" || progress.phase === "Error";
    const succeeded = progress.phase === "Succeeded" && progress.imageDigest !== null;
    const failure = settled && !succeeded ? await this.failureMessage(build, progress) : "";
    await db.imageBuilds.update(build.uid, {
      nodeId: progress.nodeId,
      podName: progress.podName,
      ...(settled
        ? {
            state: succeeded ? "ready" : "failed",
            imageDigest: progress.imageDigest,
            finishedAt: progress.finishedAt ?? this.deps.clock.now(),
            message: failure,
          }
        : {}),
    });
    if (settled) this.deps.logger.info({ build: build.uid, state: succeeded ? "ready" : "failed" }, "action=image-build");
    this.changes.emit("change", build.uid);
    return settled;
  }

  /** Why a build failed: the run's message and the last lines of its log, when they can be read. */
  private async failureMessage(build: ImageBuildRecord, progress: BuildProgress): Promise<string> {
    const reason =
      progress.phase === "Succeeded" ? "the build reported no image digest" : progress.message || "the build failed without a message";
    if (!this.deps.logs || !progress.nodeId) return reason;
    try {
      const stream = await this.deps.logs.open(
        { uid: build.uid, engine: "argo", workflowName: build.workflowName },
        { name: "build", nodeId: progress.nodeId, podName: progress.podName },
        { follow: false, tailLines: FAILURE_LOG_LINES },
      );
      const { text } = await readCapped(stream, 8 * 1024);
      return text.trim() ? `${reason}\n${text.trimEnd()}` : reason;
    } catch {
      return reason; // the log is gone or unreadable: the reason alone
    }
  }

  private async create(uid: string, dockerfile: { text: string; bytes: number }): Promise<void> {
    const reference = `${this.deps.repository}:${uid}`;
    const build = await this.deps.db.imageBuilds
      .create({
        uid,
        state: "building",
        reference,
        imageDigest: null,
        attempt: 0,
        workflowName: null,
        nodeId: null,
        podName: null,
        message: "",
        finishedAt: null,
      })
      .catch(async (error: unknown) => {
        // An identical upload got there first: its build is this one. Any other failure is said as it is.
        const existing = error instanceof ConflictError ? await this.deps.db.imageBuilds.find(uid) : null;
        if (!existing) throw error;
        return existing;
      });
    if (build.attempt === 0) await this.run(build, 1, dockerfile);
  }

  /** Starts attempt `attempt`; a build that cannot start is failed with the reason. */
  private async run(build: ImageBuildRecord, attempt: number, dockerfile: { text: string; bytes: number }): Promise<void> {
    const { db } = this.deps;
    await db.imageBuilds.update(build.uid, {
      state: "building",
      attempt,
      message: "",
      imageDigest: null,
      nodeId: null,
      podName: null,
      finishedAt: null,
    });
    if (dockerfile.bytes > MAX_DOCKERFILE_BYTES) {
      await this.fail(build.uid, `the Dockerfile is larger than ${MAX_DOCKERFILE_BYTES} bytes`);
      return;
    }
    try {
      const { runName } = await this.deps.builder.start({
        buildUid: build.uid,
        attempt,
        dockerfile: dockerfile.text,
        reference: build.reference,
      });
      await db.imageBuilds.update(build.uid, { workflowName: runName });
      this.changes.emit("change", build.uid);
    } catch (error) {
      this.deps.logger.error({ err: error, build: build.uid }, "action=image-build outcome=not-started");
      await this.fail(build.uid, `the build could not start: ${(error as Error).message}`);
    }
  }

  private async fail(uid: string, message: string): Promise<void> {
    await this.deps.db.imageBuilds.update(uid, { state: "failed", message, finishedAt: this.deps.clock.now() });
  }

  /** The build file's text, read up to just past the build limit. */
  private async dockerfileOf(image: ImageRecord): Promise<{ text: string; bytes: number }> {
    const file = await this.deps.db.files.find(image.fileUid);
    if (!file) throw NotFoundError.entity("file", "fileUid", image.fileUid);
    const stream: Readable = await this.deps.objects.get(file.storageKey);
    const chunks: Buffer[] = [];
    let bytes = 0;
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      bytes += (chunk as Buffer).length;
      if (bytes > MAX_DOCKERFILE_BYTES) break;
    }
    stream.destroy();
    return { text: Buffer.concat(chunks).toString("utf8"), bytes: Math.max(bytes, file.size) };
  }
}

/** A build is named by its Dockerfile: identical files share one build and one image. */
function buildUidOf(dockerfile: string): string {
  return createHash("sha256").update(dockerfile).digest("hex");
}
