import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import S3rver from "s3rver";

/** A real S3-protocol server on loopback (s3rver), with its own data directory. */
export async function startS3Server(): Promise<{ env: Record<string, string>; close(): Promise<void> }> {
  const directory = mkdtempSync(path.join(os.tmpdir(), "argo-entrypoint-s3-"));
  const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory });
  const { port } = (await server.run()) as { port: number };
  return {
    env: {
      OBJECT_STORE: "s3",
      S3_ENDPOINT: "127.0.0.1",
      S3_PORT: String(port),
      S3_USE_SSL: "false",
      S3_ACCESS_KEY: "S3RVER",
      S3_SECRET_KEY: "S3RVER",
      S3_BUCKET: "argo-entrypoint-test",
    },
    async close() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
