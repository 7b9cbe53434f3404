/** Group commit: the writes of one turn of the event loop commit together, and each still stands or falls alone. */
import { describe, expect, test } from "@jest/globals";
import { groupCommits } from "../../src/adapters/db/group-commit.js";

/** A commit that records each group it is given and refuses any group holding a write named "bad". */
function recordingCommit() {
  const groups: string[][] = [];
  const commit = async (writes: string[]) => {
    groups.push(writes);
    if (writes.includes("bad")) throw new Error("constraint failed");
  };
  return { groups, commit };
}

describe("groupCommits", () => {
  test("When writes arrive in one turn, then they commit as one group and each resolves after it", async () => {
    const { groups, commit } = recordingCommit();
    const write = groupCommits(commit);
    await Promise.all(["a", "b", "c"].map(write));
    expect(groups).toEqual([["a", "b", "c"]]);
    await write("d");
    expect(groups).toEqual([["a", "b", "c"], ["d"]]);
  });

  test("When one write of a group fails, then only it is refused and the others are committed on their own", async () => {
    const { groups, commit } = recordingCommit();
    const write = groupCommits(commit);
    const outcomes = await Promise.allSettled(["a", "bad", "c"].map(write));
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((outcomes[1] as PromiseRejectedResult).reason).toEqual(new Error("constraint failed"));
    expect(groups).toEqual([["a", "bad", "c"], ["a"], ["bad"], ["c"]]);
  });

  test("When more writes than the bound arrive at once, then they are split into groups of at most the bound", async () => {
    const { groups, commit } = recordingCommit();
    const write = groupCommits(commit, 4);
    await Promise.all(Array.from({ length: 10 }, (_, i) => write(`w${i}`)));
    expect(groups.map((g) => g.length)).toEqual([4, 4, 2]);
    expect(groups.flat()).toEqual(Array.from({ length: 10 }, (_, i) => `w${i}`));
  });

  test("When a write arrives while a group is committing, then it joins the next group", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const groups: string[][] = [];
    const write = groupCommits<string>(async (writes) => {
      groups.push(writes);
      if (groups.length === 1) await held;
    });
    const first = write("a");
    await new Promise((resolve) => setImmediate(resolve)); // the first group is committing
    const second = write("b");
    release();
    await Promise.all([first, second]);
    expect(groups).toEqual([["a"], ["b"]]);
  });
});
