// Builds the playground into static files (web/dist): index.html (stylesheet inlined), app.js (+ chunks, Graphviz loaded on first
// use) and worker.js, bundled by esbuild for the browser platform — one small dependency that bundles TypeScript as
// written (`.ts` imports, no separate tsc pass), in a fraction of a second, which lets `bpfkit web` rebuild on every
// start. Prints every file's size and the total, raw and gzipped.
import { build, type Metafile } from "esbuild";
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

export const WEB_DIR = dirname(fileURLToPath(import.meta.url));
export const DIST_DIR = join(WEB_DIR, "dist");

export interface BuiltFile { readonly name: string; readonly bytes: number; readonly gzip: number }

export async function buildWeb(outdir = DIST_DIR, opts: { minify?: boolean; quiet?: boolean } = {}): Promise<BuiltFile[]> {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const r = await build({
    entryPoints: { app: join(WEB_DIR, "src/main.ts"), worker: join(WEB_DIR, "src/worker.ts"), "cpu-worker": join(WEB_DIR, "src/cpu-worker.ts") },
    outdir, bundle: true, splitting: true, format: "esm", platform: "browser", target: "es2022",
    minify: opts.minify ?? true, sourcemap: false, metafile: true, logLevel: "warning", chunkNames: "chunk-[hash]",
  });
  // the stylesheet is inlined: first paint then needs one response, not two
  const css = readFileSync(join(WEB_DIR, "app.css"), "utf8");
  const html = readFileSync(join(WEB_DIR, "index.html"), "utf8").replace('<link rel="stylesheet" href="app.css">', () => `<style>\n${css}</style>`);
  writeFileSync(join(outdir, "index.html"), html);
  const files = [...Object.keys((r.metafile as Metafile).outputs).map((p) => join(process.cwd(), p)), join(outdir, "index.html")];
  const out = files.map((p) => ({ name: relative(outdir, p), bytes: statSync(p).size, gzip: gzipSync(readFileSync(p)).length }));
  if (!opts.quiet) {
    const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
    for (const f of out) console.log(`  ${f.name.padEnd(24)} ${kb(f.bytes).padStart(12)} ${kb(f.gzip).padStart(12)} gzip`);
    const t = out.reduce((a, f) => ({ b: a.b + f.bytes, g: a.g + f.gzip }), { b: 0, g: 0 });
    console.log(`  ${"total".padEnd(24)} ${kb(t.b).padStart(12)} ${kb(t.g).padStart(12)} gzip  -> ${relative(process.cwd(), outdir) || "."}`);
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildWeb(process.argv[2] ?? DIST_DIR);
}
