/** `argo-entrypoint task ...`: the client CLI's process entry (kept apart from the service so it starts fast). */
import { runClientCli } from "./cli.js";

const readStdin = async () => {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8"); // decoded whole: a character may straddle two chunks
};

process.exitCode = await runClientCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  stdin: readStdin,
  errIsTerminal: process.stderr.isTTY === true,
});
