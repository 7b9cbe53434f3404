import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { open, readFile, rm } from "node:fs/promises";

/** Locks this process holds, so a second holder in the same process is refused too. */
const held = new Set<string>();

interface LockRecord {
  pid: number;
  /** The holder's start time in clock ticks since boot (/proc/<pid>/stat), so a reused pid is not mistaken for it. */
  started: string | null;
  instance: string;
}

import { StartupRefusal } from "../startup-refusal.js";

/**
 * An exclusive lock on a directory for one running service: a file created with O_EXCL that
 * names its holder. A lock whose holder has died is taken over; a live holder makes this fail
 * with a message saying who holds it.
 */
export async function lockDirectory(file: string, what: string): Promise<{ instance: string; release(): Promise<void> }> {
  const record: LockRecord = { pid: process.pid, started: startTimeOf(process.pid), instance: randomUUID() };
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      const handle = await open(file, "wx", 0o600);
      await handle.writeFile(JSON.stringify(record));
      await handle.close();
      held.add(record.instance);
      return {
        instance: record.instance,
        release: async () => {
          held.delete(record.instance);
          const current = await readRecord(file);
          if (current?.instance === record.instance) await rm(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = await readRecord(file);
    if (holder && isAlive(holder)) {
      throw new StartupRefusal(
        `${what} is in use by another argo-entrypoint (pid ${holder.pid}); stop it first, or give this one its own directory`,
      );
    }
    await rm(file, { force: true }); // its holder is gone: take the lock over
  }
  throw new StartupRefusal(`could not lock ${what}`);
}

async function readRecord(file: string): Promise<LockRecord | undefined> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as LockRecord;
  } catch {
    return undefined;
  }
}

function isAlive(holder: LockRecord): boolean {
  if (holder.pid === process.pid) return held.has(holder.instance);
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  return holder.started === null || startTimeOf(holder.pid) === holder.started;
}

function startTimeOf(pid: number): string | null {
  try {
    // Field 22 of /proc/<pid>/stat, counted after the parenthesised command name (which may hold spaces).
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}
