/**
 * Pod logs read with `timestamps=true`: each line starts with the time the container runtime
 * wrote it (RFC 3339 with up to nine fraction digits, `2026-12-02T06:53:06.1234Z`). These are
 * stripped before anything is passed on; they only tell a resumed read where to start.
 */
import { Transform } from "node:stream";
import type { LogPosition } from "../../domain/logs/log-source.js";

const NEWLINE = 0x0a;
const SPACE = 0x20;
/** A line longer than this without an end is passed on in parts: the first read as a line, the rest as its text. */
const MAX_PENDING_BYTES = 1024 * 1024;
const TIMESTAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/;

/**
 * Strips each line's timestamp and records the last one in `position`; lines written at or
 * before the position it was given (what an earlier read passed on) are dropped.
 */
export function resumingAfter(position: LogPosition): Transform {
  const after = position.last;
  let pending: Buffer | undefined;
  /**
   * Set while a line too long to hold is read in parts, after its start: whether its start was
   * passed on. The rest is the program's text, never a timestamp, and goes where its start went.
   */
  let continuing: "passed" | "dropped" | undefined;

  /** One line (or the first part of a long one); whether it is passed on. */
  const line = (stream: Transform, bytes: Buffer): boolean => {
    if (continuing) {
      const passed = continuing === "passed";
      if (bytes[bytes.length - 1] === NEWLINE) continuing = undefined;
      if (passed) stream.push(bytes);
      return passed;
    }
    const space = bytes.indexOf(SPACE);
    const key = space > 0 ? orderKey(bytes.toString("latin1", 0, space)) : undefined;
    if (key === undefined) {
      stream.push(bytes); // not a timestamped line: as it came
      return true;
    }
    if (after !== undefined && key <= after) return false;
    position.last = key;
    stream.push(bytes.subarray(space + 1));
    return true;
  };

  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      let data = pending ? Buffer.concat([pending, chunk]) : chunk;
      pending = undefined;
      let start = 0;
      for (let end = data.indexOf(NEWLINE); end !== -1; end = data.indexOf(NEWLINE, start)) {
        line(this, data.subarray(start, end + 1));
        start = end + 1;
      }
      data = data.subarray(start);
      if (data.length > MAX_PENDING_BYTES) continuing = line(this, data) ? "passed" : "dropped";
      else if (data.length) pending = Buffer.from(data);
      done();
    },
    flush(done) {
      if (pending) line(this, pending);
      done();
    },
  });
}

/** A timestamp as a string that sorts in time order (nine fraction digits), or undefined if it is none. */
function orderKey(timestamp: string): string | undefined {
  const match = TIMESTAMP.exec(timestamp);
  return match ? `${match[1]}.${(match[2] ?? "").padEnd(9, "0")}` : undefined;
}
