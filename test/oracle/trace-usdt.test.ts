// usdt probes on Linux against Debian's bpftrace 0.17: a C program with <sys/sdt.h> probes (register, constant and
// indexed-memory arguments, one probe behind a semaphore the kernel must raise) built here, the same scripts run
// under both with -c, byte-identical stdout; and `-l 'usdt:BIN:...'` listings. Skips visibly without root, bpftrace,
// a C compiler or sys/sdt.h (Debian's systemtap-sdt-dev).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nativeUnavailable } from "../../src/kernel/libc.ts";

const SRC = new URL("../fixtures/trace/usdt-workload.c", import.meta.url).pathname;

function missing(): string | undefined {
  if (process.getuid?.() !== 0) return "not root";
  const n = nativeUnavailable();
  if (n) return n;
  for (const tool of ["bpftrace", "cc"]) {
    try { execFileSync("which", [tool], { stdio: "ignore" }); } catch { return `${tool} not installed`; }
  }
  try { execFileSync("cc", ["-E", "-x", "c", "-"], { input: "#include <sys/sdt.h>\n", stdio: ["pipe", "ignore", "ignore"] }); } catch { return "sys/sdt.h missing (Debian package systemtap-sdt-dev)"; }
  return undefined;
}

const why = missing();
let dir = "", exe = "";
if (!why) {
  dir = mkdtempSync(join(tmpdir(), "bpfkit-usdt-"));
  exe = join(dir, "u");
  execFileSync("cc", ["-O1", "-o", exe, SRC]);
}
process.on("exit", () => { if (dir) rmSync(dir, { recursive: true, force: true }); });

const bin = new URL("../../bin/bpfkit.mjs", import.meta.url).pathname;
function run(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((res) => {
    execFile(cmd, args, { timeout: 60000 }, (e, stdout, stderr) => res({
      stdout, stderr: stderr.replace(/^ERROR: Unknown error -1: couldn't set RLIMIT_MEMLOCK.*\n/m, ""), code: e ? (e as { code?: number }).code ?? 1 : 0,
    }));
  });
}

const SCRIPTS = [
  `usdt:BIN:app:loop { @[arg0] = sum(arg1); }`,
  `usdt:BIN:app:mixed { printf("%d %d %d %s\\n", arg0, arg1, arg2, probe); }`,
  `usdt:BIN:app:mem { @m = sum(arg0); @h = hist(arg0); }`,
  `usdt:BIN:app:tick { @t = count(); }`,
  `usdt:BIN:done { @d = count(); }`,
  `usdt:BIN:app:m* { @[probe] = sum(arg0); }`,
  `usdt:BIN:*:t* { @[probe] = count(); }`,
  `usdt:BIN:app:loop /arg0 > 3/ { @big = count(); } usdt:BIN:other:done { printf("done\\n"); }`,
  `usdt:BIN:app:nope { @ = count(); }`,
];

test("usdt probes: bpfkit trace prints what bpftrace 0.17 prints (arguments, semaphores, wildcards)", { timeout: 300000 }, async (t) => {
  if (why) { console.log(`SKIP usdt differential test against bpftrace: ${why}`); t.skip(why); return; }
  const failures: string[] = [];
  let next = 0;
  // one run at a time: the scripts have no pid filter, and a uprobe fires for every process running the binary, so
  // concurrent runs would see each other's children (bpfkit attaches usdt probes system-wide where bpftrace 0.17
  // restricts them to the -c child)
  await Promise.all([0].map(async () => { while (next < SCRIPTS.length) {
    const raw = SCRIPTS[next++]!;
    const args = ["-e", raw.replace(/BIN/g, exe), "-c", exe];
    const ref = await run("bpftrace", args);
    const mine = await run(process.execPath, [bin, "trace", ...args]);
    if (ref.stdout !== mine.stdout || ref.code !== mine.code) failures.push(`--- ${raw}\n[bpftrace ${ref.code}]\n${ref.stdout}${ref.stderr}[bpfkit ${mine.code}]\n${mine.stdout}${mine.stderr}`);
  } }));
  console.log(`usdt differential: ${SCRIPTS.length - failures.length}/${SCRIPTS.length} scripts identical to bpftrace`);
  assert.deepEqual(failures, []);
});

test("usdt listings: -l 'usdt:BIN:...' as bpftrace lists them", { timeout: 120000 }, async (t) => {
  if (why) { console.log(`SKIP usdt listing test against bpftrace: ${why}`); t.skip(why); return; }
  for (const p of ["usdt:BIN:*", "usdt:BIN:*:m*", "usdt:BIN:tick", "usdt:BIN:other:*", "usdt:BIN"]) {
    const args = ["-l", p.replace(/BIN/g, exe)];
    const [ref, mine] = await Promise.all([run("bpftrace", args), run(process.execPath, [bin, "trace", ...args])]);
    assert.equal(mine.stdout, ref.stdout, `stdout of -l ${p}`);
    assert.equal(mine.stderr, ref.stderr, `stderr of -l ${p}`);
    assert.equal(mine.code, ref.code, `status of -l ${p}`);
  }
});
