/**
 * Admin CLI: `npm run cli -- <command>` (or `npx argo-entrypoint <command>` after `npm run build`).
 * It works on the database named by DATABASE_URL, like the service.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { applyMigrations } from "./adapters/db/migrator.js";
import { ConfigError, loadConfig } from "./config/config.js";
import { buildAdminContainer } from "./container.js";
import { AUDITED_ACTIONS, type AuditedAction } from "./domain/audit/audit-trail.js";
import { DomainError } from "./domain/errors.js";

const USAGE = `usage: argo-entrypoint <command>

  migrate                                         apply pending database migrations
  org create <name>                               create an organization
  org list                                        list organizations (uid, name, users)
  user create --org <name|uid> --access-key <key> [--role member|admin] [--secret <secret>]
                                                  create a user; prints its secret key once
  user rotate <access-key> [--secret <secret>]    issue a new secret key (the old one stops working)
  user revoke <access-key>                        disable a user's secret key
  user enable <access-key>                        undo a revocation (the same secret key works again)
  user unlock <access-key>                        lift the sign-in lock that failed attempts put on a key
                                                  (every replica honours it at the key's next attempt)
  user list                                       list users (never their secrets)
  audit [--subject <uid>] [--action <action>] [--limit <n>]
                                                  the audit log: who did what to which record, oldest first
  bootstrap-admin --org <name> --access-key <key> --secret-from-env <VAR>
                                                  create the organization and an admin with the secret in $VAR,
                                                  unless they exist (for deployment jobs; prints no secret)
  task <command>                                  the client CLI against a running service (argo-entrypoint task --help)
`;

export async function runCli(argv: string[], env: NodeJS.ProcessEnv, out: (line: string) => void): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      org: { type: "string" },
      "access-key": { type: "string" },
      role: { type: "string", default: "member" },
      secret: { type: "string" },
      "secret-from-env": { type: "string" },
      subject: { type: "string" },
      action: { type: "string" },
      limit: { type: "string" },
      help: { type: "boolean" },
    },
  });
  const [group, action, subject] = positionals;
  if (values.help || !group) {
    out(USAGE);
    return values.help ? 0 : 2;
  }
  const config = loadConfig(env);
  if (group === "migrate") {
    const applied = await applyMigrations(config.database);
    out(applied.length ? `applied: ${applied.join(", ")}` : "database is up to date");
    return 0;
  }

  const { accounts, audit, close } = await buildAdminContainer(config);
  const print = (value: unknown) => out(JSON.stringify(value, null, 2));
  try {
    if (group === "bootstrap-admin") {
      const secret = values["secret-from-env"] ? env[values["secret-from-env"]] : undefined;
      if (!values.org || !values["access-key"] || !secret) {
        out("bootstrap-admin needs --org, --access-key and --secret-from-env naming a variable that is set");
        return 2;
      }
      const created = await accounts.ensureAdmin({ organization: values.org, accessKey: values["access-key"], secretKey: secret });
      print({ organization: values.org, access_key: values["access-key"], created });
      return 0;
    }
    if (group === "audit") {
      const limit = values.limit === undefined ? 100 : Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
        out("audit: --limit must be a whole number from 1 to 1000");
        return 2;
      }
      if (values.action !== undefined && !(AUDITED_ACTIONS as readonly string[]).includes(values.action)) {
        out(`audit: --action must be one of ${AUDITED_ACTIONS.join(", ")}`);
        return 2;
      }
      const page = await audit.listAll({ subjectUid: values.subject, action: values.action as AuditedAction | undefined }, { limit });
      print(page.items.map((e) => ({ ...e, details: JSON.parse(e.details) as unknown })));
      return 0;
    }
    switch (`${group} ${action}`) {
      case "org create": {
        if (!subject) break;
        const organization = await accounts.createOrganization(subject);
        print({ uid: organization.uid, name: organization.name });
        return 0;
      }
      case "user create": {
        if (!values.org || !values["access-key"]) break;
        const { user, secretKey } = await accounts.createUser(
          {
            organization: values.org,
            accessKey: values["access-key"],
            role: values.role ?? "member",
            ...(values.secret ? { secretKey: values.secret } : {}),
          },
          "admin-cli",
        );
        print({
          uid: user.uid,
          access_key: user.accessKey,
          secret_key: secretKey,
          role: user.role,
          organization_uid: user.organizationUid,
        });
        return 0;
      }
      case "user rotate": {
        if (!subject) break;
        const { user, secretKey } = await accounts.rotateSecret(subject, values.secret);
        print({ access_key: user.accessKey, secret_key: secretKey });
        return 0;
      }
      case "user revoke": {
        if (!subject) break;
        const user = await accounts.revoke(subject);
        print({ access_key: user.accessKey, revoked: true });
        return 0;
      }
      case "org list": {
        print(await accounts.listOrganizations());
        return 0;
      }
      case "user enable": {
        if (!subject) break;
        const user = await accounts.enable(subject);
        print({ access_key: user.accessKey, revoked: false });
        return 0;
      }
      case "user unlock": {
        if (!subject) break;
        const user = await accounts.unlock(subject, new Date());
        print({ access_key: user.accessKey, unlocked_at: user.unlockedAt });
        return 0;
      }
      case "user list": {
        const users = await accounts.listUsers();
        print(
          users.map((u) => ({
            uid: u.uid,
            access_key: u.accessKey,
            role: u.role,
            organization: u.organizationName,
            revoked: u.revokedAt !== null,
          })),
        );
        return 0;
      }
    }
    const known = ["org create", "org list", "user create", "user rotate", "user revoke", "user enable", "user unlock", "user list"];
    out(
      known.includes(`${group} ${action}`)
        ? `${group} ${action}: missing arguments\n\n${USAGE}`
        : `unknown command "${[group, action].filter(Boolean).join(" ")}"\n\n${USAGE}`,
    );
    return 2;
  } finally {
    await close();
  }
}

const invokedDirectly = process.argv[1] && import.meta.url === new URL(`file://${path.resolve(process.argv[1])}`).href;
if (invokedDirectly) {
  runCli(process.argv.slice(2), process.env, (line) => process.stdout.write(`${line}\n`)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      const message = error instanceof DomainError || error instanceof ConfigError ? error.message : (error as Error).stack;
      process.stderr.write(`argo-entrypoint: ${message}\n`);
      process.exit(1);
    },
  );
}
