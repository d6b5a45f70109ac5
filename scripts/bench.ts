// `npm run bench`: runs every bench/*.bench.ts in turn. Each prints its own table of figures next to the native
// peer measured in the same run (kernel JIT via bpftool, tcpdump, ...), as ratios. Pass names to run a subset.
import { readdirSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { join, dirname } from "node:path";

const dir = join(dirname(fileURLToPath(import.meta.url)), "..", "bench");
const only = process.argv.slice(2);
for (const f of readdirSync(dir).filter((f) => f.endsWith(".bench.ts")).sort()) {
  const name = f.replace(/\.bench\.ts$/, "");
  if (only.length && !only.includes(name)) continue;
  console.log(`== ${name}`);
  const mod = (await import(pathToFileURL(join(dir, f)).href)) as { main: () => Promise<void> };
  await mod.main();
  console.log();
}
