// Lint, and the layering the code keeps: src/http -> src/domain <- src/adapters, src/lib below all.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** What the domain may never import: frameworks, SDKs, I/O, and the layers around it. */
const FRAMEWORKS_AND_SDKS = [
  "express",
  "busboy",
  "pino",
  "bcrypt",
  "ajv",
  "ajv-formats",
  "yaml",
  "minio",
  "pg",
  "@libsql/client",
  "@sinclair/typebox",
  "@kubernetes/client-node",
  "@prisma/client",
  "@prisma/adapter-libsql",
  "@prisma/adapter-pg",
];
const IO_MODULES = ["node:fs", "node:fs/promises", "node:http", "node:https", "node:net", "node:child_process", "node:os"];
const restrict = (paths, patterns, message) => [
  "error",
  { paths: paths.map((name) => ({ name, message })), patterns: [{ group: patterns, message }] },
];

export default tseslint.config(
  { ignores: ["dist/", "generated/", "node_modules/", "coverage/", "data/", ".bench/", "charts/", "prisma/postgresql/schema.prisma"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: "readonly",
        console: "readonly",
        Buffer: "readonly",
        URL: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        setInterval: "readonly",
        clearInterval: "readonly",
        setImmediate: "readonly",
        fetch: "readonly",
        AbortController: "readonly",
        AbortSignal: "readonly",
        TextDecoder: "readonly",
        performance: "readonly",
        structuredClone: "readonly",
        NodeJS: "readonly",
        RequestInit: "readonly",
        Response: "readonly",
      },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" },
      ],
      "@typescript-eslint/no-explicit-any": ["error", { ignoreRestArgs: true }],
      "no-control-regex": "off", // the hardening checks look for U+0000 on purpose
    },
  },
  {
    files: ["src/domain/**/*.ts"],
    rules: {
      "no-restricted-imports": restrict(
        [...FRAMEWORKS_AND_SDKS, ...IO_MODULES],
        ["**/adapters/**", "**/http/**", "**/config/**", "**/logging/**", "**/generated/**", "**/container*"],
        "src/domain imports no framework, SDK, I/O module or outer layer: put it behind a port in domain/ports.ts",
      ),
    },
  },
  {
    files: ["src/lib/**/*.ts"],
    rules: {
      "no-restricted-imports": restrict(
        FRAMEWORKS_AND_SDKS,
        ["**/domain/**", "**/adapters/**", "**/http/**", "**/config/**", "**/logging/**"],
        "src/lib holds framework-free helpers and imports nothing of the service",
      ),
    },
  },
  {
    files: ["src/http/**/*.ts"],
    rules: {
      "no-restricted-imports": restrict(
        ["@kubernetes/client-node", "@prisma/client", "minio", "pg", "@libsql/client"],
        ["**/adapters/**", "**/generated/**", "**/container*"],
        "src/http reaches adapters only through the domain's ports (wired in src/container.ts)",
      ),
    },
  },
  {
    files: ["src/adapters/**/*.ts"],
    rules: {
      "no-restricted-imports": restrict(
        ["express", "busboy"],
        ["**/http/**", "**/container*"],
        "src/adapters implement the domain's ports and know nothing of HTTP",
      ),
    },
  },
  { files: ["tests/**/*.ts"], rules: { "@typescript-eslint/no-explicit-any": "off", "@typescript-eslint/no-non-null-assertion": "off" } },
);
