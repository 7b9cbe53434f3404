import { describe, expect, test } from "@jest/globals";
import { bubblewrapArguments } from "../../src/adapters/local-engine/sandbox.js";

const dirs = { inputs: "/data/work/t1/steps/1-download", outputs: "/data/work/t1/steps/2-training", runtime: "/data/work/.runtime" };
const layout = {
  rootEntries: [
    { name: "bin", link: "usr/bin" },
    { name: "lib", link: "usr/lib" },
  ],
  etcEntries: ["resolv.conf", "passwd"],
  extraReadOnly: ["/opt/node"],
};

describe("bubblewrapArguments", () => {
  const args = bubblewrapArguments("/usr/bin/bwrap", ["python3", "/workspace/inputs/program.py"], dirs, layout);
  const pairs = (flag: string) => args.flatMap((arg, i) => (arg === flag ? [`${args[i + 1]} -> ${args[i + 2]}`] : []));

  test("When a step is confined, then it gets new namespaces, no capabilities, runs as nobody, and dies with the service", () => {
    for (const flag of ["--unshare-all", "--share-net", "--die-with-parent"]) expect(args).toContain(flag);
    expect(args.slice(args.indexOf("--cap-drop"), args.indexOf("--cap-drop") + 2)).toEqual(["--cap-drop", "ALL"]);
    expect(args.slice(args.indexOf("--uid"), args.indexOf("--uid") + 4)).toEqual(["--uid", "65534", "--gid", "65534"]);
  });

  test("When a step is confined, then it sees its own directories where the step contract puts them, and only those of the service", () => {
    expect(pairs("--ro-bind")).toEqual([
      "/usr -> /usr",
      "/etc/resolv.conf -> /etc/resolv.conf",
      "/etc/passwd -> /etc/passwd",
      "/opt/node -> /opt/node",
      `${dirs.inputs} -> /workspace/inputs`,
      `${dirs.runtime} -> /opt/argo-entrypoint`,
    ]);
    expect(pairs("--bind")).toEqual([`${dirs.outputs} -> /workspace/outputs`]);
    expect(pairs("--symlink")).toEqual(["usr/bin -> /bin", "usr/lib -> /lib"]);
    expect(args.join(" ")).not.toMatch(/\/data\/work(?!\/t1\/steps|\/\.runtime)/);
  });

  test("When a step is confined, then /proc, /dev and /tmp are its own, it starts in its outputs, and its command comes last", () => {
    expect(args.join(" ")).toContain("--proc /proc --dev /dev --tmpfs /tmp");
    expect(args.slice(args.indexOf("--chdir"), args.indexOf("--chdir") + 2)).toEqual(["--chdir", "/workspace/outputs"]);
    expect(args.slice(-3)).toEqual(["--", "python3", "/workspace/inputs/program.py"]);
  });
});
