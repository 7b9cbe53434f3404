import { describe, expect, test } from "@jest/globals";
import { ESLint } from "eslint";

const eslint = new ESLint();
const problems = async (filePath: string, code: string) =>
  (await eslint.lintText(code, { filePath }))[0]!.messages.filter((m) => m.ruleId === "no-restricted-imports").map((m) => m.message);

describe("The layering the lint rules enforce", () => {
  test.each([
    ["src/domain/tasks/example.ts", 'import express from "express";\nexport const app = express;\n'],
    ["src/domain/tasks/example.ts", 'import { readFile } from "node:fs/promises";\nexport const read = readFile;\n'],
    [
      "src/domain/tasks/example.ts",
      'import { PrismaDatabase } from "../../adapters/db/prisma-database.js";\nexport const db = PrismaDatabase;\n',
    ],
    [
      "src/http/operations/example.ts",
      'import { LocalEngine } from "../../adapters/local-engine/local-engine.js";\nexport const e = LocalEngine;\n',
    ],
    ["src/adapters/db/example.ts", 'import { respond } from "../../http/shared/respond.js";\nexport const r = respond;\n'],
    ["src/lib/example.ts", 'import { TaskService } from "../domain/tasks/task-service.js";\nexport const t = TaskService;\n'],
  ])("When %s imports across its layer, then lint fails", async (file, code) => {
    expect(await problems(file, code)).toHaveLength(1);
  });

  test("When the domain imports only its own modules and Node's standard library, then lint passes", async () => {
    expect(
      await problems(
        "src/domain/tasks/example.ts",
        'import { createHash } from "node:crypto";\nimport type { Clock } from "../clock.js";\nexport const use = [createHash, {} as Clock];\n',
      ),
    ).toEqual([]);
  });
});
