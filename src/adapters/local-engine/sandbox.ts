/**
 * Confinement of local steps. With bubblewrap each step runs in its own mount, PID, IPC and
 * user namespaces as `nobody`: it sees the system's read-only directories, its own inputs
 * (read-only) and outputs, the built-in step runtime, a private /tmp and /proc, and nothing
 * else: not the service's files, database, environment or other tasks' processes. The network
 * is shared (steps call the step API on loopback). Without bubblewrap, steps run as host
 * processes with a cleared environment, and the service says so at start.
 */
import { spawn } from "node:child_process";
import { existsSync, lstatSync, readlinkSync } from "node:fs";
import path from "node:path";
import { StartupRefusal } from "../startup-refusal.js";

export type SandboxMode = "auto" | "require" | "off";

/** Where a step's directories are, on the host. */
export interface StepDirectories {
  inputs: string;
  outputs: string;
  /** The built-in step programs (read-only). */
  runtime: string;
}

export interface Sandbox {
  readonly kind: "bubblewrap" | "none";
  /** The same directories as the step sees them. */
  view(dirs: StepDirectories): StepDirectories;
  /** The command line that runs `command` (written in the step's view) confined. */
  wrap(command: string[], dirs: StepDirectories): string[];
  /** The PATH a step gets. */
  readonly path: string;
}

const STEP_VIEW: StepDirectories = { inputs: "/workspace/inputs", outputs: "/workspace/outputs", runtime: "/opt/argo-entrypoint" };
const SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin";
const NOBODY = "65534";
/** What programs need from /etc, and nothing else of it (no service configuration). */
const ETC_ENTRIES = [
  "resolv.conf",
  "hosts",
  "nsswitch.conf",
  "passwd",
  "group",
  "localtime",
  "ssl",
  "ca-certificates",
  "ca-certificates.conf",
  "ld.so.cache",
  "ld.so.conf",
  "ld.so.conf.d",
  "alternatives",
  "mime.types",
  "python3",
  "gai.conf",
];
const ROOT_DIRECTORIES = ["bin", "sbin", "lib", "lib32", "lib64", "libx32"];

const hostProcesses: Sandbox = { kind: "none", view: (dirs) => dirs, wrap: (command) => command, path: process.env.PATH ?? SYSTEM_PATH };

/** bubblewrap's command line for one step (a pure function of the host's layout). */
export function bubblewrapArguments(bwrap: string, command: string[], dirs: StepDirectories, host = hostLayout()): string[] {
  const args = [
    bwrap,
    "--unshare-all",
    "--share-net",
    "--die-with-parent",
    "--cap-drop",
    "ALL",
    "--uid",
    NOBODY,
    "--gid",
    NOBODY,
    "--ro-bind",
    "/usr",
    "/usr",
  ];
  for (const entry of host.rootEntries) {
    if (entry.link) args.push("--symlink", entry.link, `/${entry.name}`);
    else args.push("--ro-bind", `/${entry.name}`, `/${entry.name}`);
  }
  for (const entry of host.etcEntries) args.push("--ro-bind", `/etc/${entry}`, `/etc/${entry}`);
  // An interpreter installed outside /usr (a version manager's node) must be visible too.
  for (const prefix of host.extraReadOnly) args.push("--ro-bind", prefix, prefix);
  args.push(
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--tmpfs",
    "/tmp",
    "--ro-bind",
    dirs.inputs,
    STEP_VIEW.inputs,
    "--bind",
    dirs.outputs,
    STEP_VIEW.outputs,
    "--ro-bind",
    dirs.runtime,
    STEP_VIEW.runtime,
    "--chdir",
    STEP_VIEW.outputs,
    "--",
    ...command,
  );
  return args;
}

interface HostLayout {
  rootEntries: Array<{ name: string; link?: string }>;
  etcEntries: string[];
  extraReadOnly: string[];
}

function hostLayout(): HostLayout {
  const rootEntries = ROOT_DIRECTORIES.filter((name) => existsSync(`/${name}`)).map((name) => {
    const stat = lstatSync(`/${name}`);
    return stat.isSymbolicLink() ? { name, link: readlinkSync(`/${name}`) } : { name };
  });
  const node = path.dirname(path.dirname(process.execPath));
  return {
    rootEntries,
    etcEntries: ETC_ENTRIES.filter((entry) => existsSync(`/etc/${entry}`)),
    extraReadOnly: node === "/usr" || node.startsWith("/usr/") ? [] : [node],
  };
}

/** The sandbox the settings ask for: bubblewrap if it works here; `require` refuses to go on without it. */
export async function chooseSandbox(mode: SandboxMode): Promise<{ sandbox: Sandbox; warning?: string }> {
  if (mode === "off")
    return {
      sandbox: hostProcesses,
      warning: "LOCAL_SANDBOX=off: local steps run as host processes and can read everything the service can",
    };
  const bwrap = findOnPath("bwrap");
  const problem = bwrap ? await tryBubblewrap(bwrap) : "bubblewrap (bwrap) is not installed";
  if (problem === undefined) {
    const layout = hostLayout();
    return {
      sandbox: {
        kind: "bubblewrap",
        view: () => STEP_VIEW,
        wrap: (command, dirs) => bubblewrapArguments(bwrap!, command, dirs, layout),
        path: SYSTEM_PATH,
      },
    };
  }
  if (mode === "require")
    throw new StartupRefusal(
      `LOCAL_SANDBOX=require, but local steps cannot be confined: ${problem}. Install bubblewrap (Debian: apt-get install bubblewrap) or set LOCAL_SANDBOX=auto`,
    );
  return {
    sandbox: hostProcesses,
    warning: `local steps are NOT confined (${problem}): a task's program can read the service's files, database and other tasks' data. Install bubblewrap (apt-get install bubblewrap), or set LOCAL_SANDBOX=require to refuse to start without it`,
  };
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? SYSTEM_PATH).split(":")) {
    const candidate = path.join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Runs `true` the way steps will run, so a kernel without user namespaces is found at start, not at the first task. */
function tryBubblewrap(bwrap: string): Promise<string | undefined> {
  const probe = bubblewrapArguments(bwrap, ["/usr/bin/true"], { inputs: "/usr", outputs: "/tmp", runtime: "/usr" });
  return new Promise((resolve) => {
    const child = spawn(probe[0]!, probe.slice(1), { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", (error) => resolve(error.message));
    child.on("exit", (code) => resolve(code === 0 ? undefined : `bwrap failed (${stderr.trim().slice(0, 300) || `exit code ${code}`})`));
  });
}
