/** Where the client CLI's credentials come from: the environment, or the 0600 profile `login` writes. */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ApiClient, CliError, EXIT, type Credentials } from "./api-client.js";
import type { CliIo } from "./cli.js";

function profilePath(env: NodeJS.ProcessEnv): string {
  return path.join(env.XDG_CONFIG_HOME ?? path.join(env.HOME ?? os.homedir(), ".config"), "argo-entrypoint", "credentials.json");
}

export function credentials(env: NodeJS.ProcessEnv): Credentials {
  if (env.ARGO_ENTRYPOINT_URL && env.ARGO_ENTRYPOINT_ACCESS_KEY && env.ARGO_ENTRYPOINT_SECRET_KEY)
    return { url: env.ARGO_ENTRYPOINT_URL, accessKey: env.ARGO_ENTRYPOINT_ACCESS_KEY, secretKey: env.ARGO_ENTRYPOINT_SECRET_KEY };
  try {
    const stored = JSON.parse(readFileSync(profilePath(env), "utf8")) as Credentials;
    if (stored.url && stored.accessKey && stored.secretKey) return stored;
  } catch {
    // no profile: said below
  }
  throw new CliError(
    "no credentials: set ARGO_ENTRYPOINT_URL, ARGO_ENTRYPOINT_ACCESS_KEY and ARGO_ENTRYPOINT_SECRET_KEY, or run `argo-entrypoint task login`",
    EXIT.auth,
  );
}

export async function login(values: Record<string, string | boolean | undefined>, io: CliIo): Promise<number> {
  const url = values.url;
  const accessKey = values["access-key"];
  if (typeof url !== "string" || typeof accessKey !== "string")
    throw new CliError("login needs --url and --access-key (the secret key comes on stdin)", EXIT.usage);
  const secretKey = (await io.stdin()).trim();
  if (!secretKey) throw new CliError("login reads the secret key from stdin", EXIT.usage);
  // Checked before it is stored: a typo fails here, not in the next CI run.
  await new ApiClient({ url, accessKey, secretKey }).call("Tb7oRgW2kQ9xLm4s", { limit: 1 });
  const file = profilePath(io.env);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify({ url, accessKey, secretKey }), { mode: 0o600 });
  chmodSync(file, 0o600);
  io.out(`credentials stored in ${file}\n`);
  return EXIT.ok;
}
