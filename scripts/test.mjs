// Runs every *.test.ts under src/ and test/ with Node's test runner (TypeScript through tsx).
// Usage: node scripts/test.mjs [path-prefix ...]   e.g. node scripts/test.mjs src/cbpf
import { readdirSync, statSync, existsSync } from "node:fs";
import { join } from "node:path";
import { spawn, spawnSync } from "node:child_process";

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
// What the kernel holds before the run, so the end of the suite can prove the tests left nothing behind:
// no bpffs pins, no loaded programs, no links (an XDP or tc attachment would show as one of these).
const before = kernelObjects();
// The runner's output is streamed through, and its own counts are kept for the closing line printed last.
const child = spawn(process.execPath,
  ["--import", "tsx", "--test", "--test-concurrency=2", "--test-reporter=spec", ...files],
  { stdio: ["inherit", "pipe", "inherit"] });
let tail = "";
child.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  // the summary (ℹ pass N) comes before the failing tests are repeated: keep enough to reach it
  tail = (tail + chunk.toString("utf8")).slice(-(1 << 20));
});
let status = await new Promise((resolve) => child.on("close", (code) => resolve(code ?? 1)));
const count = (what) => Number((tail.match(new RegExp(`^ℹ ${what} (\\d+)$`, "m")) ?? [])[1] ?? 0);
let passed = count("pass");
let failed = count("fail") + count("cancelled");
if (before !== null && prefixes.length === 0) {
  // programs are freed shortly after the last fd closes (RCU): give the kernel a moment before judging
  let left = [];
  for (let i = 0; i < 20; i++) {
    const after = kernelObjects();
    left = after.filter((x) => !before.includes(x));
    if (left.length === 0) break;
    spawnSync("sleep", ["0.25"]);
  }
  if (left.length === 0) {
    console.log("leak check: the tests left no bpffs pins, programs or links behind");
    passed++;
  } else {
    console.log(`leak check: FAILED, left behind: ${left.join(", ")}`);
    failed++;
    status = status || 1;
  }
} else if (before === null) {
  console.log("leak check: skipped (needs root, bpftool and /sys/fs/bpf)");
}
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(status);

/** Pins under /sys/fs/bpf and the ids of loaded programs and links, or null where they cannot be listed. */
function kernelObjects() {
  if (process.platform !== "linux" || process.getuid?.() !== 0 || !existsSync("/sys/fs/bpf")) return null;
  const out = [];
  const walkPins = (dir) => {
    let names;
    try { names = readdirSync(dir); } catch { return; }
    for (const n of names) {
      const p = join(dir, n);
      out.push(`pin ${p}`);
      try { if (statSync(p).isDirectory()) walkPins(p); } catch { /* raced with a removal */ }
    }
  };
  walkPins("/sys/fs/bpf");
  for (const kind of ["prog", "link"]) {
    const b = spawnSync("bpftool", ["-j", kind, "show"], { encoding: "utf8" });
    if (b.status !== 0) return null;
    for (const o of JSON.parse(b.stdout || "[]")) out.push(`${kind} ${o.id}${o.name ? ` (${o.name})` : ""}`);
  }
  return out;
}
