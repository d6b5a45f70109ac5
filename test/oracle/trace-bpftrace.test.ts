// bpfkit trace against Debian's bpftrace 0.17: the same scripts, the same deterministic workload (a C program built
// here, run with -c pinned to CPU 0, every probe filtered on cpid), byte-identical stdout. Runs four scripts at a
// time; BPFKIT_TRACE_QUICK=1 runs every fourth script only. Skips visibly without root, bpftrace or cc.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, execFile } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compiler, missing, pool, runBpfkit, runBpftrace } from "./trace-diff.ts";

const WORKLOAD = `
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
volatile long sink; /* keeps the calls below: without a use, -O1 drops calls to these pure functions */
__attribute__((noinline)) int work(int a, int b) { sink += a; return a * b + 1; }
__attribute__((noinline)) long twice(long x) { sink += x; return 2 * x; }
int main(int argc, char **argv) {
  int fd = open("/dev/null", O_WRONLY);
  static char buf[4096];
  memset(buf, 'x', sizeof buf);
  for (int i = 0; i < 20; i++) getppid();
  for (int i = 1; i <= 12; i++) write(fd, buf, i * 100);
  for (int i = 0; i < 5; i++) sink += work(i, i + 1);
  for (int i = 0; i < 3; i++) sink += twice(i * 1000);
  close(fd);
  open("/tmp/bpfkit-trace-workload-missing", O_RDONLY);
  if (argc > 1) usleep(atoi(argv[1]) * 1000);
  return 0;
}
`;

const F = "/pid == cpid/";
const W = `tracepoint:syscalls:sys_enter_write ${F}`;
const G = `tracepoint:syscalls:sys_enter_getppid ${F}`;
/** [name, script, sleep ms for the workload]. Not here: print()/clear()/zero()/exit() racing the workload (bpftrace
 * acts on them when its poll loop reads the record, so their effect depends on scheduling), str() of user pages that
 * may not be resident, and rawtracepoint (not in 0.17). */
export const SCRIPTS: [string, string, number?][] = [
  ["count", `${G} { @c = count(); }`],
  ["count keyed by comm", `${G} { @[comm] = count(); }`],
  ["count two keys", `${W} { @[comm, args->count / 500] = count(); }`],
  ["sum", `${W} { @s = sum(args->count); }`],
  ["sum keyed", `${W} { @s[args->count / 500] = sum(args->count); }`],
  ["min", `${W} { @m = min(args->count); }`],
  ["max", `${W} { @m = max(args->count); }`],
  ["avg", `${W} { @a = avg(args->count); }`],
  ["stats", `${W} { @st = stats(args->count); }`],
  ["stats keyed", `${W} { @st[args->count > 600] = stats(args->count); }`],
  ["hist", `${W} { @h = hist(args->count); }`],
  ["hist keyed", `${W} { @h[args->count > 600] = hist(args->count); }`],
  ["hist small values", `${W} { @h = hist(args->count / 100 - 3); }`],
  ["lhist", `${W} { @l = lhist(args->count, 0, 1000, 100); }`],
  ["lhist under and over", `${W} { @l = lhist(args->count, 300, 900, 200); }`],
  ["lhist K labels", `${W} { @l = lhist(args->count * 1024, 0, 2097152, 262144); }`],
  ["avg keyed", `${W} { @a[args->count % 3] = avg(args->count); }`],
  ["plain assign", `${W} { @last = args->count; }`],
  ["increment", `${G} { @n++; }`],
  ["decrement", `${G} { @n--; }`],
  ["compound assign", `${W} { @t += args->count; @m -= 1; }`],
  ["compound shifts and bits", `${W} { @a = args->count; @a <<= 2; @b = args->count; @b |= 1; @c = 255; @c &= args->count; }`],
  ["string keys", `${W} { @[comm, "w"] = count(); }`],
  ["string value", `${G} { @name = comm; }`],
  ["printf ints", `${W} { printf("%d %5d|%-5d|%x %X %o %u\\n", args->count, args->count, args->count, args->count, args->count, args->count, args->count); }`],
  ["printf padding and strings", `${G} { printf("[%s] [%10s] [%-10s] [%05d] [%c] 100%%\\n", comm, comm, comm, 42, 65); }`],
  ["printf 64-bit and negatives", `${G} { printf("%d %ld %lu %lld %x %lx\\n", -1, -1, -1, -5, -1, -1); }`],
  ["printf zero padded hex", `${W} { printf("%08x|%-8X|%3d|\\n", args->count, args->count, args->count); }`],
  ["if else", `${W} { if (args->count > 600) { @big = count(); } else { @small = count(); } }`],
  ["else if chain", `${W} { if (args->count < 300) { @a = count(); } else if (args->count < 800) { @b = count(); } else { @c = count(); } }`],
  ["ternary strings", `${W} { printf("%s\\n", args->count > 600 ? "big" : "small"); }`],
  ["ternary ints", `${W} { @x = sum(args->count > 600 ? 1 : 10); }`],
  ["logical ops", `${W} { if (args->count > 200 && args->count < 700 || args->count == 1200) { @n = count(); } }`],
  ["not and bitwise", `${W} { @a = sum(!(args->count > 600)); @b = sum(~args->count & 0xff); @c = sum(args->count ^ 5); }`],
  ["arithmetic", `${W} { @x = sum(args->count * 3 / 7 % 100 + 1 - 2); }`],
  ["casts", `${W} { @a = sum((uint8)args->count); @b = sum((int8)args->count); @c = sum((uint16)(args->count * 100)); }`],
  ["unroll", `${G} { $i = 0; unroll(5) { $i = $i + 2; } @u = sum($i); }`],
  ["while", `${G} { $i = 0; while ($i < 7) { $i++; } @w = sum($i); }`],
  ["scratch variables", `${W} { $x = args->count; $y = $x * 2; @v = sum($y - $x); }`],
  ["string variable", `${G} { $s = comm; @[$s] = count(); }`],
  ["string compare", `${G} { if (comm == "w") { @yes = count(); } if (comm != "w") { @no = count(); } }`],
  ["strncmp", `${G} { @r = sum(strncmp(comm, "wxyz", 1)); }`],
  ["delete", `${W} { @[args->count / 500] = count(); if (args->count == 1200) { delete(@[0]); } }`],
  ["empty maps", `${G} { if (args->__syscall_nr == 12345) { @never = count(); @h = hist(1); @st = stats(1); @x[1] = 2; } }`],
  ["print value", `${G} { @n++; if (@n == 3) { print(7); print(comm); } }`],
  ["map read in expression", `${W} { @s += args->count; @t = @s / 100; }`],
  ["several probes one block", `tracepoint:syscalls:sys_enter_getppid, tracepoint:syscalls:sys_enter_write ${F} { @[probe] = count(); }`],
  ["wildcard tracepoints", `tracepoint:syscalls:sys_enter_getp* ${F} { @[probe] = count(); }`],
  ["exit tracepoint args", `tracepoint:sched:sched_process_exit ${F} { @[args->comm] = count(); }`],
  ["openat count", `tracepoint:syscalls:sys_enter_openat ${F} { @opens = count(); }`],
  ["sys_exit ret", `tracepoint:syscalls:sys_exit_write ${F} { @r = sum(args->ret); }`],
  ["BEGIN and END", `BEGIN { printf("start\\n"); } ${G} { @c = count(); } END { printf("end %d\\n", 1); }`],
  ["BEGIN exit", `BEGIN { @b = 1; exit(); }`],
  ["BEGIN printf formats", `BEGIN { printf("%5d|%-5d|%x|%s|%c|%u|%05d|%lu\\n", 42, 42, 255, "str", 65, -1, 7, 9); exit(); }`],
  ["predicate with builtins", `${G} { @[cpu >= 0, uid == 0] = count(); }`],
  ["elapsed and nsecs are positive", `${G} { @e = max(elapsed > 0); @n = min(nsecs > 0); }`],
  ["uprobe args", `uprobe:WORKLOAD:work ${F} { @[arg0, arg1] = sum(arg0 * 10 + arg1); }`],
  ["uretprobe retval", `uretprobe:WORKLOAD:work ${F} { @r = sum(retval); }`],
  // func is symbolised while the process lives (in a map printed at exit it would be an ASLR'd address)
  ["uprobe func and probe", `uprobe:WORKLOAD:twice ${F} { @[probe] = count(); printf("%s %d\\n", func, arg0); }`, 1000],
  ["interval", `interval:ms:50 { @i = 1; exit(); }`, 300],
  ["profile", `profile:hz:99 { @p = 1; }  interval:ms:200 { exit(); }`, 400],
  ["software event", `software:cs:1 ${F} { @cs = 1; }`, 50],
  ["json map", `${G} { @c = count(); @[comm] = count(); }`],
  ["json hist and stats", `${W} { @h = hist(args->count); @st = stats(args->count); @l = lhist(args->count, 0, 1000, 250); @a = avg(args->count); }`],
  ["json printf", `${G} { printf("n=%d\\n", 1); }`],
];
const JSON_CASES = new Set(["json map", "json hist and stats", "json printf", "count two keys", "empty maps"]);

const why = missing();
let dir = "", exe = "";
if (!why) {
  dir = mkdtempSync(join(tmpdir(), "bpfkit-trace-"));
  writeFileSync(join(dir, "w.c"), WORKLOAD);
  exe = join(dir, "w");
  execFileSync(compiler()!, ["-O1", "-o", exe, join(dir, "w.c")]);
}

test("bpfkit trace prints what bpftrace 0.17 prints for the same scripts and workload", { timeout: 600000 }, async (t) => {
  if (why) { console.log(`SKIP trace differential test against bpftrace: ${why}`); t.skip(why); return; }
  const quick = process.env.BPFKIT_TRACE_QUICK === "1";
  const cases = SCRIPTS.filter((_, i) => !quick || i % 4 === 0);
  const failures: string[] = [];
  await pool(cases, 4, async ([name, raw, sleepMs]) => {
    const script = raw.replace(/WORKLOAD/g, exe);
    const cmd = `/usr/bin/taskset -c 0 ${exe}${sleepMs ? ` ${sleepMs}` : ""}`;
    const json = JSON_CASES.has(name) && name.startsWith("json");
    const [ref, mine] = await Promise.all([runBpftrace(script, cmd, json), runBpfkit(script, cmd, json)]);
    if (ref !== mine) failures.push(`--- ${name}: ${script}\n[bpftrace]\n${ref}[bpfkit]\n${mine}`);
  });
  console.log(`trace differential: ${cases.length - failures.length}/${cases.length} scripts identical to bpftrace`);
  assert.deepEqual(failures, []);
});

process.on("exit", () => { if (dir) rmSync(dir, { recursive: true, force: true }); });

function run(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((res) => {
    execFile(cmd, args, { timeout: 60000 }, (e, stdout, stderr) => res({ stdout, stderr: stderr.replace(/^ERROR: Unknown error -1: couldn't set RLIMIT_MEMLOCK.*\n/m, ""), code: e ? (e as { code?: number }).code ?? 1 : 0 }));
  });
}

test("command line: FILE.bt with -c, a malformed FILE.bt, -l PATTERN give bpftrace's stdout and stderr", { timeout: 120000 }, async (t) => {
  if (why) { console.log(`SKIP trace command-line test against bpftrace: ${why}`); t.skip(why); return; }
  const bpfkit = new URL("../../bin/bpfkit.mjs", import.meta.url).pathname;
  const good = join(dir, "count.bt"), bad = join(dir, "bad.bt");
  writeFileSync(good, `#!/usr/bin/env bpftrace\n// a comment\ntracepoint:syscalls:sys_enter_getppid\n/pid == cpid/\n{\n\t@calls = count();\n}\n`);
  writeFileSync(bad, `BEGIN\n{\n\t@x = 1;\n\t$y = @x + "s";\n}\n`);
  const cases: string[][] = [[good, "-c", `/usr/bin/taskset -c 0 ${exe}`], [bad], ["-l", "tracepoint:syscalls:sys_enter_getp*"], ["-f", "json", good, "-c", exe]];
  for (const args of cases) {
    const [ref, mine] = await Promise.all([run("bpftrace", args), run(process.execPath, [bpfkit, "trace", ...args])]);
    assert.equal(mine.stdout, ref.stdout, `stdout of ${args.join(" ")}`);
    assert.equal(mine.stderr, ref.stderr, `stderr of ${args.join(" ")}`);
  }
});
