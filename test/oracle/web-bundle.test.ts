// The core's browser build: every pure layer's index.ts (all of src/ but the Node edges kernel/, node/, exporter/, cli/) and the
// playground's entry points bundle for the browser platform with no `node:` import (nor a bare Node builtin) anywhere
// in their import graphs. Skips visibly when esbuild (a dev dependency) is not installed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { builtinModules } from "node:module";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const NODE_EDGES = new Set(["kernel", "node", "exporter", "cli"]); // the Node edges README.md names

test("the pure core and the playground bundle for the browser without node: imports", async (t) => {
  let esbuild: typeof import("esbuild");
  try { esbuild = await import("esbuild"); } catch {
    console.log("SKIP browser bundle check: esbuild not installed (npm ci installs the dev dependencies)");
    t.skip("esbuild absent");
    return;
  }
  const layers = readdirSync(join(ROOT, "src"), { withFileTypes: true })
    .filter((d) => d.isDirectory() && !NODE_EDGES.has(d.name) && existsSync(join(ROOT, "src", d.name, "index.ts")))
    .map((d) => join(ROOT, "src", d.name, "index.ts"));
  assert.ok(layers.length >= 10, `found ${layers.length} layers`);
  const entries = [...layers, join(ROOT, "src/errors.ts"), join(ROOT, "web/src/main.ts"), join(ROOT, "web/src/worker.ts"), join(ROOT, "web/src/cpu-worker.ts")];
  const builtins = new Set(builtinModules);
  const found: string[] = [];
  await esbuild.build({
    entryPoints: entries, bundle: true, write: false, platform: "browser", format: "esm", splitting: true, outdir: "/tmp/unused",
    logLevel: "silent",
    plugins: [{
      name: "no-node-builtins",
      setup(b) {
        b.onResolve({ filter: /.*/ }, (a) => {
          if (a.path.startsWith("node:") || builtins.has(a.path)) {
            found.push(`${relative(ROOT, a.importer)} imports ${a.path}`);
            return { path: a.path, external: true };
          }
          return undefined;
        });
      },
    }],
  });
  assert.deepEqual(found, []);
});
