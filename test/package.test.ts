// bpfkit as an npm package: `npm pack`, the tarball installed into an empty project in the temp dir (offline; the
// type packages and koffi linked from this checkout), each examples/*.ts type-checked under `tsc --strict` against
// the installed .d.ts files and run from the compiled JavaScript, and the installed `bpfkit` command run with no
// TypeScript loader present. Needs dist/ (npm run build; built here when missing or older than src/).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const require = createRequire(import.meta.url);
const isRoot = process.getuid?.() === 0;

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function newestSource(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newestSource(p));
    else if (e.name.endsWith(".ts") && !e.name.includes(".test")) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

test("npm pack → install into an empty project → examples type-check under --strict and run", (t) => {
  const built = join(ROOT, "dist/cli/main.js");
  if (!existsSync(built) || statSync(built).mtimeMs < newestSource(join(ROOT, "src"))) {
    console.log("package test: dist/ missing or older than src/, running npm run build first");
    run("npm", ["run", "--silent", "build"], ROOT);
  }
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-pkg-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  // the tarball ships the compiled package only
  const tgz = run("npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", dir], ROOT).trim().split("\n").pop()!;
  const listing = run("tar", ["tzf", join(dir, tgz)], dir).trim().split("\n");
  const outside = listing.filter((f) => !/^package\/(dist\/|bin\/|README\.md$|package\.json$|LICENSE)/.test(f));
  assert.deepEqual(outside, [], "files outside dist/, bin/ and README in the tarball");
  assert.ok(listing.includes("package/dist/index.d.ts") && listing.includes("package/dist/kernel/index.js"));
  // the command line's bundle (scripts/build.mjs), which bin/bpfkit.mjs runs, with every command as its own entry
  assert.ok(listing.includes("package/dist/cli-bundle/main.js") && listing.includes("package/dist/cli-bundle/filter.js"));
  assert.ok(!listing.some((f) => f.endsWith(".test.js")), "tests are not shipped");

  // an empty project with the tarball installed, offline
  const proj = join(dir, "project");
  mkdirSync(proj);
  writeFileSync(join(proj, "package.json"), JSON.stringify({ name: "scratch", private: true, type: "module" }));
  run("npm", ["install", "--offline", "--ignore-scripts", "--omit=optional", "--no-audit", "--no-fund", join(dir, tgz)], proj);
  const link = (name: string): boolean => {
    const target = join(ROOT, "node_modules", name);
    if (!existsSync(target)) return false;
    mkdirSync(dirname(join(proj, "node_modules", name)), { recursive: true });
    symlinkSync(target, join(proj, "node_modules", name), "dir");
    return true;
  };
  assert.ok(link("@types/node"));
  const haveKoffi = link("koffi");

  // the installed command runs the compiled CLI with no TypeScript loader in reach
  assert.ok(!existsSync(join(proj, "node_modules/tsx")));
  const cli = spawnSync(process.execPath, [join(proj, "node_modules/.bin/bpfkit"), "filter", "-d", "ip"], { cwd: proj, encoding: "utf8" });
  assert.equal(cli.status, 0, cli.stderr);
  assert.equal(cli.stdout, "(000) ldh      [12]\n(001) jeq      #0x800           jt 2\tjf 3\n(002) ret      #262144\n(003) ret      #0\n");

  // examples: type-checked under --strict against the installed declarations, compiled, run
  const examples = readdirSync(join(ROOT, "examples"));
  for (const f of examples) if (f.endsWith(".ts") || f.endsWith(".c")) copyFileSync(join(ROOT, "examples", f), join(proj, f));
  writeFileSync(join(proj, "tsconfig.json"), JSON.stringify({
    compilerOptions: {
      strict: true, target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", types: ["node"], outDir: "out",
      allowImportingTsExtensions: true, rewriteRelativeImportExtensions: true,
    },
    include: ["*.ts"],
  }));
  run(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "."], proj);
  const node = (name: string, ...args: string[]): string => run(process.execPath, [join("out", `${name}.js`), ...args], proj);

  const asm = node("assemble-run");
  assert.match(asm, /\(95\) exit\n[0-9a-f]{16}: returned 64\n$/);
  assert.match(node("filter-socket", "udp port 53"), /port 53: 262144, port 80: 0\n/);
  const counts = "sizes[small] = 2\nsizes[large] = 1\nbytes_by_proto[6] = 1560\nbytes_by_proto[17] = 90\n";
  const clang = spawnSync("clang", ["-O2", "-g", "-target", "bpf", "-c", "count.bpf.c", "-o", "count.o"], { cwd: proj, encoding: "utf8" });
  if (clang.error || clang.status !== 0) console.log(`SKIP: object examples: clang -target bpf unavailable (${clang.stderr ?? clang.error})`);
  else assert.equal(node("object-vm", "count.o"), counts);
  if (!isRoot || !haveKoffi) {
    console.log(`SKIP: object-linux and filter-socket's kernel half: ${isRoot ? "koffi not installed" : "need root"}`);
    if (!isRoot) assert.match(node("filter-socket"), /skipped: a packet socket needs root/);
  } else {
    assert.match(node("filter-socket"), /attached 20 instructions to packet socket \d+\n$/);
    if (existsSync(join(proj, "count.o"))) assert.equal(node("object-linux", "count.o"), counts);
  }
});
