// `npm run build` (and `prepare`, so git and tarball installs get it): compiles src/ into dist/ (ESM + .d.ts) with
// tsconfig.build.json, starting from an empty dist/ so nothing stale is shipped. Then bundles the command line
// (dist/cli/*.js and the worker-CPU body) with esbuild into dist/cli-bundle/: one file per command plus shared
// chunks, so `bpfkit filter -d ip` reads a few files instead of resolving ~30 modules (bin/bpfkit.mjs prefers it).
// The bundle sits beside dist/cli/, so the paths the CLI computes from import.meta.url (`../object/...`, the web
// dist, `./<command>`, `./cpu-worker`) resolve as they do from dist/cli/; npm dependencies stay external. `--lenient` (used by `prepare`, so
// `npm ci` never fails on it) reports compiler errors but exits 0 when JavaScript was emitted: type errors are
// `npm test`'s to report (tsc --noEmit), and test/package.test.ts type-checks the shipped .d.ts files.
import { existsSync, readdirSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";

const root = new URL("../", import.meta.url);
const lenient = process.argv.includes("--lenient");
rmSync(new URL("dist", root), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const r = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
const emitted = existsSync(new URL("dist/cli/main.js", root));
if (r.status !== 0 && !(lenient && emitted)) process.exit(r.status ?? 1);
if (r.status !== 0) console.error("build: tsc reported the errors above; dist/ was emitted anyway (npm run build fails on them)");
// a bundle that cannot be made is not fatal to `prepare`: bin/bpfkit.mjs then runs dist/cli/
process.exit((await bundleCli()) !== 0 && !lenient ? 1 : 0);

/** dist/cli-bundle/: every dist/cli module as an entry (commands are imported by computed name), split chunks. */
async function bundleCli() {
  let esbuild;
  try {
    esbuild = await import("esbuild");
  } catch {
    console.error("build: esbuild is not installed, so no dist/cli-bundle/ (bpfkit runs dist/cli/ instead)");
    return 1;
  }
  const cli = new URL("dist/cli/", root);
  const entryPoints = Object.fromEntries(readdirSync(cli).filter((f) => f.endsWith(".js")).map((f) => [f.slice(0, -3), fileURLToPath(new URL(f, cli))]));
  entryPoints["cpu-worker"] = fileURLToPath(new URL("dist/node/cpu-worker.js", root));
  try {
    await esbuild.build({
      entryPoints, bundle: true, splitting: true, format: "esm", platform: "node", target: "node20",
      packages: "external", outdir: fileURLToPath(new URL("dist/cli-bundle/", root)), chunkNames: "chunk-[hash]",
      logLevel: "error",
    });
  } catch (e) {
    console.error(`build: bundling the CLI failed: ${e.message}`);
    rmSync(new URL("dist/cli-bundle", root), { recursive: true, force: true });
    return 1;
  }
  return 0;
}
