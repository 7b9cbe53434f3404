/**
 * The client CLI for CI jobs and people: `argo-entrypoint task <command>` against a running
 * service. Credentials come from the environment or a profile written by `login` (0600), never
 * from arguments (those show in `ps`). Exit codes: 0 success, 1 the task failed or was stopped,
 * 2 usage, 3 authentication or authorization, 4 not found, 5 unavailable or timed out.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ApiClient, CliError, EXIT } from "./api-client.js";
import { download, DOWNLOAD_KINDS } from "./download.js";
import { list, taskTable, type TaskInfo } from "./listing.js";
import { credentials, login } from "./profile.js";

const USAGE = `usage: argo-entrypoint task <command> [options]

  submit <preprocessing|training|optimization|evaluation> -f <body.json> [--wait] [--follow] [--idempotency-key <key>] [--timeout <s>]
                         submit a task with the seed's body; --wait exits with its outcome,
                         --follow also prints its steps' logs as they are written
  wait <uid> [--timeout <s>]   wait for a task to end (0 success, 1 failed or stopped)
  get <uid>                    task info (--output table: its fields and steps)
  list [--status <s>[,<s>]] [--kind <k>[,<k>]] [--pipeline <uid>] [--since <time>] [--limit <n>]
                               the organization's tasks, newest first
  logs <uid> [-f] [--step <name>] [--tail <n>]
                               the steps' logs as plain text (-f: follow as they are written)
  stop|terminate|retry|resubmit|delete <uid>
  download model|dataset|logs <uid> [--to <path>]
                               a model's or dataset's file, or a task's logs (tar.gz), streamed to a file
                               (default: the service's file name here), with a progress bar on a terminal

  login --url <url> --access-key <key>   store credentials (the secret key is read from stdin)
  completion bash|zsh          a completion script: eval "$(argo-entrypoint task completion bash)"

options: --output json|table   answers as JSON (default for get) or a table (default for list)
         --timeout <s>         give up waiting after this long (exit 5)
         --help                this text
credentials: ARGO_ENTRYPOINT_URL, ARGO_ENTRYPOINT_ACCESS_KEY, ARGO_ENTRYPOINT_SECRET_KEY, or the profile \`login\` writes
exit codes: 0 success, 1 task failed or stopped, 2 usage, 3 authentication, 4 not found, 5 unavailable or timed out
`;

/** Bash completion (zsh runs it through bashcompinit): commands, kinds and each command's options. */
const BASH_COMPLETION = `_argo_entrypoint() {
  local cur=\${COMP_WORDS[COMP_CWORD]}
  if [ "$COMP_CWORD" -eq 1 ]; then COMPREPLY=($(compgen -W "task migrate org user bootstrap-admin" -- "$cur")); return; fi
  [ "\${COMP_WORDS[1]}" = task ] || return
  if [ "$COMP_CWORD" -eq 2 ]; then
    COMPREPLY=($(compgen -W "submit wait get list logs stop terminate retry resubmit delete download login completion" -- "$cur")); return
  fi
  case "\${COMP_WORDS[2]}" in
    submit) if [ "$COMP_CWORD" -eq 3 ]; then COMPREPLY=($(compgen -W "preprocessing training optimization evaluation" -- "$cur"));
            else COMPREPLY=($(compgen -W "-f --wait --follow --idempotency-key --timeout --output" -- "$cur")); fi ;;
    list) COMPREPLY=($(compgen -W "--status --kind --pipeline --since --limit --output" -- "$cur")) ;;
    logs) COMPREPLY=($(compgen -W "-f --step --tail" -- "$cur")) ;;
    wait) COMPREPLY=($(compgen -W "--timeout" -- "$cur")) ;;
    get) COMPREPLY=($(compgen -W "--output" -- "$cur")) ;;
    download) if [ "$COMP_CWORD" -eq 3 ]; then COMPREPLY=($(compgen -W "model dataset logs" -- "$cur"));
              else COMPREPLY=($(compgen -W "--to" -- "$cur")); fi ;;
    completion) COMPREPLY=($(compgen -W "bash zsh" -- "$cur")) ;;
  esac
}
complete -o default -F _argo_entrypoint argo-entrypoint
`;

const SUBMIT_KEYS: Record<string, string> = {
  preprocessing: "jPqyAFWh7hBKRRNK",
  training: "q8uzMBcM5YJH6dPf",
  optimization: "Oi6u8dkur8GTKPxS",
  evaluation: "u8Wo0fVM6pFEthFH",
};
const CONTROL: Record<string, { key: string; field: string }> = {
  stop: { key: "CNNfUmDpcWXp7vdM", field: "task_uid" },
  terminate: { key: "Xq7TnR2vKp9LmW4c", field: "uid" },
  retry: { key: "Rt5yHb8NqZ3wPd6s", field: "uid" },
  resubmit: { key: "Ms2kVf9LcX4nTj7e", field: "uid" },
  delete: { key: "AoTqlTmu8l47CbMU", field: "uid" },
};
const FINAL = ["success", "fail", "init error"];

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  stdin(): Promise<string>;
  /** Standard error is a terminal (progress bars are drawn only there). */
  errIsTerminal: boolean;
}

export async function runClientCli(argv: string[], io: CliIo): Promise<number> {
  try {
    return await run(argv, io);
  } catch (error) {
    if (error instanceof CliError) {
      io.err(`argo-entrypoint: ${error.message}\n`);
      return error.exitCode;
    }
    io.err(`argo-entrypoint: ${(error as Error).message}\n`);
    return EXIT.usage;
  }
}

async function run(argv: string[], io: CliIo): Promise<number> {
  // `-f` is the body file for submit and "follow" for logs, as in `kubectl logs -f`.
  const args = argv[0] === "logs" ? argv.map((arg) => (arg === "-f" ? "--follow" : arg)) : argv;
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        file: { type: "string", short: "f" },
        wait: { type: "boolean" },
        follow: { type: "boolean" },
        "idempotency-key": { type: "string" },
        timeout: { type: "string" },
        status: { type: "string" },
        kind: { type: "string" },
        pipeline: { type: "string" },
        since: { type: "string" },
        limit: { type: "string" },
        step: { type: "string" },
        tail: { type: "string" },
        output: { type: "string" },
        to: { type: "string" },
        url: { type: "string" },
        "access-key": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    throw new CliError(`${(error as Error).message} (see --help)`, EXIT.usage);
  }
  const { positionals, values } = parsed;
  const [command, first] = positionals;
  if (values.help || !command) {
    (values.help ? io.out : io.err)(USAGE);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  if (values.output !== undefined && !["json", "table"].includes(values.output))
    throw new CliError("--output must be json or table", EXIT.usage);
  if (command === "login") return login(values, io);
  if (command === "completion") {
    if (first !== "bash" && first !== "zsh") throw new CliError("completion needs bash or zsh", EXIT.usage);
    io.out(first === "zsh" ? `autoload -U +X bashcompinit && bashcompinit\n${BASH_COMPLETION}` : BASH_COMPLETION);
    return EXIT.ok;
  }
  if (!["submit", "wait", "get", "list", "logs", "download", ...Object.keys(CONTROL)].includes(command))
    throw new CliError(`unknown command "${command}" (see --help)`, EXIT.usage);
  if (values.tail !== undefined && !/^\d{1,9}$/.test(values.tail)) throw new CliError("--tail must be a number of lines", EXIT.usage);
  const api = new ApiClient(credentials(io.env));
  const timeoutMs = seconds(values.timeout, "--timeout") * 1000;
  const print = (data: unknown) => io.out(`${JSON.stringify(data, null, 2)}\n`);

  switch (command) {
    case "submit": {
      const key = SUBMIT_KEYS[first ?? ""];
      if (!key) throw new CliError(`submit needs a kind: ${Object.keys(SUBMIT_KEYS).join(", ")}`, EXIT.usage);
      if (!values.file) throw new CliError("submit needs -f <body.json>", EXIT.usage);
      const body = readBody(values.file);
      // A retried submission with the same key answers with the same task: safe for CI retries.
      const { data } = await api.call<{ uid: string }>(key, body, { "Idempotency-Key": values["idempotency-key"] ?? randomUUID() });
      if (values.output === "json") print(data);
      else io.out(`${data.uid}\n`);
      if (values.follow) return logs(api, data.uid, { follow: true }, io, timeoutMs);
      return values.wait ? waitFor(api, data.uid, timeoutMs, io) : EXIT.ok;
    }
    case "wait":
      return waitFor(api, need(first, "wait <uid>"), timeoutMs, io);
    case "get": {
      const { data } = await api.call<TaskInfo>("KlnZtRyqy3rPAZWL", { uid: need(first, "get <uid>") });
      if (values.output === "table") io.out(taskTable(data));
      else print(data);
      return EXIT.ok;
    }
    case "download":
      return download(api, first, need(positionals[2], `download ${DOWNLOAD_KINDS.join("|")} <uid>`), values.to, io);
    case "list":
      return list(api, values, io);
    case "logs":
      return logs(api, need(first, "logs <uid>"), values, io);
    default: {
      const control = CONTROL[command]!;
      const { data } = await api.call(control.key, { [control.field]: need(first, `${command} <uid>`) });
      if (values.output === "json") print(data);
      else io.out(`${command}: ${first}\n`);
      return EXIT.ok;
    }
  }
}

/** Rides the status stream to the task's end; reconnects (with the last event id) when the stream or the service drops. */
async function waitFor(api: ApiClient, uid: string, timeoutMs: number, io: CliIo, { progress = true } = {}): Promise<number> {
  const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Number.POSITIVE_INFINITY;
  let lastId: string | undefined;
  let delay = 250;
  while (Date.now() < deadline) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), Math.max(0, Math.min(deadline - Date.now(), 2 ** 31 - 1)));
    try {
      for await (const message of api.stream(
        "Ts5pWq8LmN3vXc2z",
        { task_uid: uid },
        lastId ? { "Last-Event-ID": lastId } : {},
        controller.signal,
      )) {
        delay = 250;
        const data = message.data as { status: string; execute_step: string; message: string };
        if (message.id) lastId = message.id;
        if (message.event === "status" && progress)
          io.err(`${uid}: ${data.status} (${data.execute_step})${data.message ? `: ${data.message}` : ""}\n`);
        if (message.event === "end") return outcome(uid, data.status, data.message, io);
      }
    } catch (error) {
      // Authentication and a task that does not exist do not heal by waiting.
      if (error instanceof CliError && error.exitCode !== EXIT.unavailable) throw error;
    } finally {
      clearTimeout(timer);
    }
    if (Date.now() >= deadline) break;
    // The stream ended without `end` (a restart, a proxy): read the task, then follow again.
    const task = await api.call<{ status: string; status_message: string }>("KlnZtRyqy3rPAZWL", { uid }).catch((error: unknown) => {
      if (error instanceof CliError && error.exitCode !== EXIT.unavailable) throw error;
      return undefined;
    });
    if (task && FINAL.includes(task.data.status)) return outcome(uid, task.data.status, task.data.status_message, io);
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 5000);
  }
  throw new CliError(`timed out waiting for task ${uid}`, EXIT.unavailable);
}

function outcome(uid: string, status: string, message: string, io: CliIo): number {
  io.err(`${uid}: ended ${status}${message ? `: ${message}` : ""}\n`);
  return status === "success" ? EXIT.ok : EXIT.taskFailed;
}

async function logs(
  api: ApiClient,
  uid: string,
  values: Record<string, string | boolean | undefined>,
  io: CliIo,
  timeoutMs = 0,
): Promise<number> {
  if (!values.follow) {
    const { data } = await api.call<Record<string, string>>("bJ7xLmgp4WSWK498", { task_uid: uid });
    const tail = values.tail === undefined ? undefined : Number(values.tail);
    for (const [step, text] of Object.entries(data)) {
      if (values.step && values.step !== step) continue;
      const shown = tail === undefined ? text : lastLines(text, tail);
      io.out(values.step ? shown : `==> ${step} <==\n${shown}`);
    }
    return EXIT.ok;
  }
  const body = { task_uid: uid, ...(values.step ? { step: values.step } : {}), ...(values.tail ? { tail: Number(values.tail) } : {}) };
  try {
    for await (const message of api.stream("Fw3lGz8Kc1VbN6mQ", body, {}, new AbortController().signal)) {
      const data = message.data as { step?: string; line?: string; status?: string; message?: string; reason?: string };
      if (message.event === "log") io.out(`${values.step ? "" : `[${data.step}] `}${data.line}\n`);
      else if (message.event === "unavailable") io.err(`${data.step}: ${data.reason}\n`);
      else if (message.event === "end") return data.status === "success" ? EXIT.ok : EXIT.taskFailed;
    }
  } catch (error) {
    if (!(error instanceof CliError) || error.exitCode !== EXIT.unavailable) throw error;
  }
  // The stream was cut before the end (a restart): the exit code is still the task's outcome.
  io.err(`${uid}: the log stream was cut; waiting for the task's outcome\n`);
  return waitFor(api, uid, timeoutMs, io, { progress: false });
}

function lastLines(text: string, count: number): string {
  const lines = text.split("\n");
  const complete = text.endsWith("\n") ? lines.slice(0, -1) : lines;
  return complete.length ? `${complete.slice(-count).join("\n")}\n` : "";
}

function readBody(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`, EXIT.usage);
  }
  try {
    const body = JSON.parse(text) as unknown;
    if (typeof body !== "object" || body === null || Array.isArray(body)) throw new Error("not a JSON object");
    // Credentials come from the environment or the profile, never from a body file.
    const { access_key: _a, secret_key: _s, ...rest } = body as Record<string, unknown>;
    return rest;
  } catch (error) {
    throw new CliError(`${file} is not a JSON object: ${(error as Error).message}`, EXIT.usage);
  }
}

function need(value: string | undefined, usage: string): string {
  if (!value) throw new CliError(`usage: argo-entrypoint task ${usage}`, EXIT.usage);
  return value;
}

function seconds(value: string | undefined, option: string): number {
  if (value === undefined) return 0;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new CliError(`${option} must be a number of seconds`, EXIT.usage);
  return n;
}
