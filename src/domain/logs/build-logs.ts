import type { Readable } from "node:stream";
import type { ImageBuilds } from "../builds/image-builds.js";
import { NotFoundError } from "../errors.js";
import type { Database } from "../ports.js";
import { canAccess, type Principal } from "../principal.js";
import type { ImageBuildRecord, ImageRecord } from "../records.js";
import { readCapped, splitLines } from "../../lib/lines.js";
import type { LogRun, LogSource, LogStep } from "./log-source.js";

/** What following a build's log yields, in order. */
export type BuildLogEvent =
  { type: "log"; line: string } | { type: "unavailable"; reason: string } | { type: "end"; state: string; message: string };

export interface BuildLogText {
  state: string;
  text: string;
  truncated: boolean;
  unavailable?: string;
}

/** The build log of a build file's image, read like a task step's: from the pod while it lives, then the archive. */
export class BuildLogs {
  constructor(
    private readonly deps: { db: Database; builds: ImageBuilds; source: LogSource; maxJsonBytes: number; settings: { recheckMs: number } },
  ) {}

  async text(principal: Principal, imageUid: string): Promise<BuildLogText> {
    const build = await this.buildOf(principal, imageUid);
    if (!build.nodeId) return { state: build.state, text: "", truncated: false, unavailable: "the build has not started a pod yet" };
    try {
      const stream = await this.deps.source.open(...this.target(build), { follow: false });
      return { state: build.state, ...(await readCapped(stream, this.deps.maxJsonBytes)) };
    } catch (error) {
      if (error instanceof NotFoundError) return { state: build.state, text: "", truncated: false, unavailable: error.message };
      throw error;
    }
  }

  /** Checks the request, then returns the events: the log as it grows, then the build's state. */
  async follow(principal: Principal, imageUid: string, signal: AbortSignal): Promise<AsyncGenerator<BuildLogEvent>> {
    const build = await this.buildOf(principal, imageUid);
    return this.events(build.uid, signal);
  }

  private async *events(buildUid: string, signal: AbortSignal): AsyncGenerator<BuildLogEvent> {
    let build = await this.current(buildUid);
    while (!build.nodeId && build.state === "building" && !signal.aborted) {
      await this.nextChange(buildUid, signal);
      build = await this.current(buildUid);
    }
    if (signal.aborted) return;
    if (build.nodeId) {
      let upstream: Readable | undefined;
      try {
        upstream = await this.deps.source.open(...this.target(build), { follow: build.state === "building" });
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
        yield { type: "unavailable", reason: error.message };
      }
      if (upstream) {
        const release = () => upstream.destroy();
        signal.addEventListener("abort", release, { once: true });
        try {
          for await (const line of splitLines(upstream)) yield { type: "log", line };
        } finally {
          signal.removeEventListener("abort", release);
          upstream.destroy();
        }
      }
    }
    // The pod's log ends with its container; the build settles a moment later.
    while (!signal.aborted && (build = await this.current(buildUid)).state === "building") await this.nextChange(buildUid, signal);
    if (!signal.aborted) yield { type: "end", state: build.state, message: build.message };
  }

  private target(build: ImageBuildRecord): [LogRun, LogStep] {
    return [
      { uid: build.uid, engine: "argo", workflowName: build.workflowName },
      { name: "build", nodeId: build.nodeId, podName: build.podName },
    ];
  }

  private async buildOf(principal: Principal, imageUid: string): Promise<ImageBuildRecord> {
    const image: ImageRecord | null = await this.deps.db.images.find(imageUid);
    if (!image || !canAccess(principal, image.organizationUid)) throw NotFoundError.entity("build file", "uid", imageUid);
    const build = await this.deps.builds.buildOf(image);
    if (!build)
      throw new NotFoundError(
        `build file ${imageUid} has no image build (it runs the built-in step, names an image, or runs on the local engine)`,
      );
    return build;
  }

  private async current(buildUid: string): Promise<ImageBuildRecord> {
    const build = await this.deps.db.imageBuilds.find(buildUid);
    if (!build) throw new NotFoundError(`image build ${buildUid} no longer exists`);
    return build;
  }

  /** The build's next change in this process, or the recheck interval (another replica may be its writer). */
  private nextChange(buildUid: string, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const onChange = (uid: string) => uid === buildUid && done();
      const timer = setTimeout(() => done(), this.deps.settings.recheckMs);
      const done = () => {
        clearTimeout(timer);
        this.deps.builds.changes.off("change", onChange);
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.deps.builds.changes.on("change", onChange);
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
