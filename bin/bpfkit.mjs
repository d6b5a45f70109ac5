#!/usr/bin/env node
// The `bpfkit` command. Runs the compiled CLI in dist/ (`npm run build`, also run by `npm install`/`npm ci` through
// `prepare`): no TypeScript loader at run time; its bundled form dist/cli-bundle/ when the build made one (fewer
// files to resolve and read at start-up), else dist/cli/. In a source checkout whose dist/ is missing or older than a file in
// src/, it registers tsx and runs the TypeScript sources instead, so tests and edits work before (or without) a build.
import { existsSync, readdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = new URL("../", import.meta.url);
const built = new URL("dist/cli/main.js", root);
const bundled = new URL("dist/cli-bundle/main.js", root);

/** The newest modification time of a .ts file under the directory `dir` (plain paths: a URL per file costs 5x). */
function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) t = Math.max(t, newest(`${dir}/${e.name}`));
    else if (e.name.endsWith(".ts") && !e.name.includes(".test")) t = Math.max(t, statSync(`${dir}/${e.name}`).mtimeMs);
  }
  return t;
}

function useBuilt() {
  if (process.env.BPFKIT_FROM_SOURCE || !existsSync(built)) return false;
  const src = fileURLToPath(new URL("src", root));
  return !existsSync(src) || newest(src) <= statSync(built).mtimeMs;
}

let main;
if (useBuilt()) {
  ({ main } = await import((existsSync(bundled) ? bundled : built).href));
} else {
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import(new URL("src/cli/main.ts", root).href));
}
process.exitCode = await main(process.argv.slice(2));
