// `npm run conformance`: runs every corpus runner in conformance/*.ts and prints one summary line per corpus,
// e.g. `bpf_conformance: 313 passed, 0 failed`, followed by the names of the failures.
// A runner exports `run(): Promise<CorpusResult[]>`; runners skip (with a visible message) when a corpus is absent.
import { readdirSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { join, dirname } from "node:path";
import type { CorpusResult } from "../conformance/types.ts";

const dir = join(dirname(fileURLToPath(import.meta.url)), "..", "conformance");
const argv = process.argv.slice(2);
// `--engine interp|jit`: the engine the eBPF runners use (runners that run no eBPF ignore it)
const ei = argv.indexOf("--engine");
const engine = ei >= 0 ? argv.splice(ei, 2)[1] : undefined;
const only = argv;
const files = readdirSync(dir).filter((f) => f.endsWith(".ts") && f !== "types.ts" && !f.endsWith(".test.ts")).sort();
let failedAny = false;
for (const f of files) {
  const name = f.replace(/\.ts$/, "");
  if (only.length && !only.includes(name)) continue;
  const mod = (await import(pathToFileURL(join(dir, f)).href)) as { run: (o: { engine?: string }) => Promise<CorpusResult[]> };
  const results = await mod.run({ ...(engine ? { engine } : {}) });
  for (const r of results) {
    if (r.skipped) { console.log(`${r.name}: skipped (${r.skipped})`); continue; }
    console.log(r.summary ?? `${r.name}: ${r.passed} passed, ${r.failed} failed`);
    for (const line of r.notes ?? []) console.log(`  ${line}`);
    for (const fail of r.failures) console.log(`  FAIL ${fail}`);
    if (r.failed > 0) failedAny = true;
  }
}
process.exitCode = failedAny ? 1 : 0;
