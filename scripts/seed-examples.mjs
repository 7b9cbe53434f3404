// Writes src/http/openapi/seed-examples.json: the request bodies the seed document (001, the
// core API) shows for each route key, used as the OpenAPI document's examples. Run it when the
// seed changes: `node scripts/seed-examples.mjs ../shared/seeds/001_*.txt`.
import { readFileSync, writeFileSync } from "node:fs";

const [source] = process.argv.slice(2);
if (!source) throw new Error("usage: node scripts/seed-examples.mjs <seed 001 file>");
const text = readFileSync(source, "utf8");
const examples = {};
// Each cURL request: the key in its URL, then its --data '...' body.
for (const match of text.matchAll(/Router\/parse\/([A-Za-z0-9]{16})[^\n]*\n(?:[^\n]*\n){0,3}?\s*--data '(\{[\s\S]*?\})'/g)) {
  const [, key, body] = match;
  try {
    const parsed = JSON.parse(body);
    // The seed's sample credentials are not examples of anything: clients send their own.
    delete parsed.access_key;
    delete parsed.secret_key;
    examples[key] ??= parsed;
  } catch {
    // a body the seed wrote with comments or trailing commas: left out
  }
}
writeFileSync("src/http/openapi/seed-examples.json", `${JSON.stringify(examples, null, 2)}\n`);
console.log(`${Object.keys(examples).length} examples`);
