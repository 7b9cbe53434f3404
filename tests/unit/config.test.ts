import { describe, expect, test } from "@jest/globals";
import { ConfigError, loadConfig, presentConfig } from "../../src/config/config.js";

describe("loadConfig", () => {
  test("When the environment is empty, then the embedded defaults apply (SQLite, local files)", () => {
    const config = loadConfig({});
    expect(config.database.url).toBe("file:./data/argo-entrypoint.db");
    expect(config.objectStore).toEqual({ kind: "filesystem", dir: "./data/files" });
    expect(config.http.port).toBe(8080);
    expect(config.api.versions).toContain("v1.2.4");
    expect(config.timeOffsetMinutes).toBe(0);
    expect(config.database.poolSize).toBe(16);
  });

  test("When several values are bad, then every problem is reported at once", () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: "eighty",
        OBJECT_STORE: "s3",
        MAX_UPLOAD_BYTES: "lots",
        TIME_ZONE_OFFSET: "UTC+8",
        DATABASE_URL: "mysql://x",
        DATABASE_POOL_SIZE: "0",
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'PORT must be an integer from 0 to 65535 (got "eighty")',
      "DATABASE_URL must start with file: or postgresql://",
      'DATABASE_POOL_SIZE must be an integer from 1 to 1000 (got "0")',
      "S3_ENDPOINT is required",
      "S3_ACCESS_KEY is required",
      "S3_SECRET_KEY is required",
      'MAX_UPLOAD_BYTES must be a positive size such as 1048576, 512MiB or 2GiB (got "lots")',
      'TIME_ZONE_OFFSET must look like +08:00 or -05:30 (got "UTC+8")',
    ]);
  });

  test("When sizes and offsets are given in human units, then they are parsed", () => {
    const config = loadConfig({ MAX_UPLOAD_BYTES: "512MiB", TIME_ZONE_OFFSET: "-05:30", API_VERSIONS: "v1.2.4, v2" });
    expect(config.uploads.maxBytes).toBe(512 * 1024 * 1024);
    expect(config.timeOffsetMinutes).toBe(-330);
    expect(config.api.versions).toEqual(["v1.2.4", "v2"]);
  });

  test("When the config is presented for logging, then no secret is in it", () => {
    const config = loadConfig({
      OBJECT_STORE: "s3",
      S3_ENDPOINT: "minio",
      S3_ACCESS_KEY: "AKIA-visible",
      S3_SECRET_KEY: "super-secret",
      DATABASE_URL: "postgresql://u:dbpass@db/x",
    });
    const shown = JSON.stringify(presentConfig(config));
    expect(shown).not.toContain("super-secret");
    expect(shown).not.toContain("AKIA-visible");
    expect(shown).not.toContain("dbpass");
  });

  test("When the config is presented, then the pool size is shown only for PostgreSQL, which it sizes", () => {
    expect(presentConfig(loadConfig({ DATABASE_URL: "postgresql://db/x", DATABASE_POOL_SIZE: "8" })).database).toEqual({
      provider: "postgresql",
      poolSize: 8,
    });
    expect(presentConfig(loadConfig({})).database).toEqual({ provider: "sqlite" });
  });
});
