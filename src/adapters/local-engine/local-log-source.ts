import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { Readable } from "node:stream";
import { NotFoundError, type FieldProblem } from "../../domain/errors.js";
import type { LogOptions, LogRun, LogSource, LogStep } from "../../domain/logs/log-source.js";
import type { LocalEngine } from "./local-engine.js";

const FOLLOW_POLL_MS = 200;

/** The local engine's step logs: files that grow while the step runs. */
export class LocalLogSource implements LogSource {
  readonly name = "local";

  constructor(private readonly engine: LocalEngine) {}

  /** Local log files carry no timestamps, so "since" cannot be honoured: say so rather than ignore it. */
  unsupported(task: LogRun, options: LogOptions): FieldProblem[] {
    return task.engine === "local" && options.sinceSeconds !== undefined
      ? [{ field: "sinceSeconds", message: "is not available for tasks on the local engine; use tail" }]
      : [];
  }

  async open(task: LogRun, step: LogStep, options: LogOptions): Promise<Readable> {
    if (task.engine !== "local") throw new NotFoundError("the task did not run on the local engine");
    const file = this.engine.logFile(task.uid, step.name);
    const size = await stat(file).then(
      (s) => s.size,
      () => undefined,
    );
    if (size === undefined) throw new NotFoundError("no local log file (the step never started here)");
    const start = options.tailLines === undefined ? 0 : await offsetOfLastLines(file, size, options.tailLines);
    if (!options.follow) return createReadStream(file, { start });
    return Readable.from(this.follow(file, start, task.uid, step.name));
  }

  /** Reads on from `start` as the file grows, until the step is over and everything is read. */
  private async *follow(file: string, start: number, taskUid: string, stepName: string): AsyncGenerator<Buffer> {
    const handle = await open(file, "r");
    try {
      let position = start;
      const buffer = Buffer.alloc(64 * 1024);
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
        if (bytesRead > 0) {
          position += bytesRead;
          yield Buffer.from(buffer.subarray(0, bytesRead));
          continue;
        }
        if (!this.engine.isStepRunning(taskUid, stepName)) return;
        await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
      }
    } finally {
      await handle.close();
    }
  }
}

/** Byte offset where the last `lines` lines of the file begin, reading backwards in blocks. */
async function offsetOfLastLines(file: string, size: number, lines: number): Promise<number> {
  if (lines <= 0) return size;
  const handle = await open(file, "r");
  try {
    let position = size;
    let newlines = 0;
    const block = Buffer.alloc(64 * 1024);
    // A final newline ends the last line; it does not start a new one.
    let skipTrailing = true;
    while (position > 0) {
      const length = Math.min(block.length, position);
      position -= length;
      await handle.read(block, 0, length, position);
      for (let i = length - 1; i >= 0; i -= 1) {
        if (block[i] !== 0x0a) {
          skipTrailing = false;
          continue;
        }
        if (skipTrailing) {
          skipTrailing = false;
          continue;
        }
        newlines += 1;
        if (newlines === lines) return position + i + 1;
      }
    }
    return 0;
  } finally {
    await handle.close();
  }
}
