// `npm run build` (and `prepare`, so git and tarball installs get it): compiles src/ into dist/ (ESM + .d.ts) with
// tsconfig.build.json, starting from an empty dist/ so nothing stale is shipped. `--lenient` (used by `prepare`, so
// `npm ci` never fails on it) reports compiler errors but exits 0 when JavaScript was emitted: type errors are
// `npm test`'s to report (tsc --noEmit), and test/package.test.ts type-checks the shipped .d.ts files.
import { existsSync, rmSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";

const root = new URL("../", import.meta.url);
const lenient = process.argv.includes("--lenient");
rmSync(new URL("dist", root), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const r = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
if (r.status !== 0 && lenient && existsSync(new URL("dist/cli/main.js", root))) {
  console.error("build: tsc reported the errors above; dist/ was emitted anyway (npm run build fails on them)");
  process.exit(0);
}
process.exit(r.status ?? 1);
