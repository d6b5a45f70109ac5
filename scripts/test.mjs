// Runs every *.test.ts under src/ and test/ with Node's test runner (TypeScript through tsx).
// Usage: node scripts/test.mjs [path-prefix ...]   e.g. node scripts/test.mjs src/cbpf
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

function walk(dir, out) {
  let names;
  try { names = readdirSync(dir); } catch { return out; }
  for (const n of names) {
    if (n === "node_modules" || n.startsWith(".")) continue;
    const p = join(dir, n);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (n.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

const prefixes = process.argv.slice(2);
const roots = prefixes.length ? prefixes : ["src", "test"];
const files = roots.flatMap((r) => (r.endsWith(".test.ts") ? [r] : walk(r, []))).sort();
if (files.length === 0) {
  console.error("no test files found under " + roots.join(", "));
  process.exit(1);
}
const r = spawnSync(process.execPath,
  ["--import", "tsx", "--test", "--test-concurrency=2", "--test-reporter=spec", ...files],
  { stdio: "inherit" });
process.exit(r.status ?? 1);
