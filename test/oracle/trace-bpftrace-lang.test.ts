// bpftrace 0.17's language beyond aggregation, against Debian's bpftrace on one C workload (a superset of
// trace-bpftrace.test.ts's: nested calls kept by a volatile sink, a struct argument, a string array, a connect()):
// stacks as keys and in printf, ksym/usym/kaddr/uaddr, ntop, buf, cat, join, reg, tuples, pointer dereference, struct
// casts through the script's C definitions and the kernel's BTF, sizeof, curtask, cgroup, username, signal — and the
// malformed uses' error texts. User addresses print as hex once the process is gone, so the workload runs with ASLR
// off (setarch -R) and stays alive while printf symbolises. Skips visibly without root, bpftrace, setarch or cc.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compiler, missing, pool, runBpfkit, runBpftrace } from "./trace-diff.ts";

const WORKLOAD = `
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
struct point { int x; int y; long z; char name[8]; };
volatile long sink;
int counter = 7;
__attribute__((noinline)) int work(int a, int b) { sink += a; return a * b + 1; }
__attribute__((noinline)) long twice(long x) { sink += x; return 2 * x; }
__attribute__((noinline)) long area(struct point *p) { sink += p->x; return (long)p->x * p->y; }
__attribute__((noinline)) int words(char **w) { sink += w[0][0]; return 0; }
__attribute__((noinline)) void outer(int i) { sink += work(i, i + 1); }
int main(int argc, char **argv) {
  int fd = open("/dev/null", O_WRONLY);
  static char buf[4096];
  memset(buf, 'x', sizeof buf);
  for (int i = 0; i < 20; i++) getppid();
  for (int i = 1; i <= 12; i++) write(fd, buf, i * 100);
  for (int i = 0; i < 5; i++) outer(i);
  for (int i = 0; i < 3; i++) sink += twice(i * 1000);
  struct point p = { 3, 4, 5, "pt" };
  for (int i = 0; i < 2; i++) { p.x += i; sink += area(&p); }
  char *w[] = { "alpha", "beta", "gamma", 0 };
  words(w);
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(9) };
  inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
  connect(s, (struct sockaddr *)&sin, sizeof sin);
  close(fd);
  open("/tmp/bpfkit-trace-workload-missing", O_RDONLY);
  if (argc > 1) usleep(atoi(argv[1]) * 1000);
  return 0;
}
`;

const F = "/pid == cpid/";
const G = `tracepoint:syscalls:sys_enter_getppid ${F}`;
const W = `tracepoint:syscalls:sys_enter_write ${F}`;
const U = (fn: string) => `uprobe:WORKLOAD:${fn} ${F}`;
const POINT = "struct point { int x; int y; long z; char name[8]; }";

/** [name, script, flags]: "e" compares stderr too (errors, warnings), "u" runs with --unsafe, "s" keeps the workload
 * alive 2 s after its events (printf resolves user symbols while the process lives; 300 ms otherwise) */
export const SCRIPTS: [string, string, string?][] = [
  ["kstack key", `${G} { @[kstack] = count(); }`],
  ["kstack limit and perf mode keys", `${G} { @k3[kstack(3)] = count(); @p[kstack(perf, 2)] = count(); @b[kstack(bpftrace, 1)] = count(); }`],
  ["kstack value and printf", `${W} { @s = kstack; printf("%s", kstack(2)); }`],
  ["kstack with a second key", `${W} { @[args->count > 800, kstack(2)] = count(); }`],
  ["ustack and usym in printf", `${U("work")} { printf("%s|%s\\n", usym(reg("ip")), ustack(2)); }`, "s"],
  ["ustack perf mode in printf", `${U("twice")} { printf("%s", ustack(perf, 1)); }`, "s"],
  ["ustack key after exit", `${U("work")} { @[ustack(perf, 1)] = count(); @u[ustack(1)] = count(); }`],
  ["func in uprobes and uretprobes", `${U("twice")} { printf("%s\\n", func); } uretprobe:WORKLOAD:twice ${F} { @[func] = count(); printf("%s\\n", func); }`, "s"],
  ["usym key after exit", `${U("work")} { @[usym(reg("ip"))] = count(); }`],
  ["ksym and kaddr", `BEGIN { @k = kaddr("vfs_read"); @s = ksym(kaddr("vfs_read") + 3); printf("%s %s\\n", ksym(kaddr("do_sys_openat2")), ksym(kaddr("vfs_write") + 1)); exit(); }`],
  ["uaddr", `${U("work")} { @c = *uaddr("counter"); @g = uaddr("counter") > 0; }`],
  ["reg", `${U("twice")} { @[reg("di")] = sum(reg("di") + 1); @ip = sum(reg("ip") == uaddr("counter")); }`],
  ["ntop", `BEGIN { @n = ntop(0x0100007f); printf("%s %s\\n", ntop(2, 0x0a00a8c0), ntop(0xffffffff)); exit(); }`],
  ["ntop of a sockaddr from connect", `tracepoint:syscalls:sys_enter_connect ${F} { $a = (struct sockaddr_in *)args->uservaddr; @[ntop($a->sin_addr.s_addr), $a->sin_family] = count(); printf("%s %d\\n", ntop(2, $a->sin_addr.s_addr), $a->sin_port); }`],
  ["buf", `BEGIN { @b = buf("abc", 3); printf("%r|%r|\\n", buf("ab\\n", 3), buf("xyz", 1)); exit(); }`],
  ["buf of user memory", `${W} { @[buf(args->buf, 4)] = count(); }`],
  ["cat", `${G} { @n++; if (@n == 1) { cat("CATFILE"); cat("%s", "CATFILE"); } }`],
  ["join", `${U("words")} { join(arg0); join(arg0, ","); }`],
  ["tuples", `BEGIN { @t = (1, "a"); $x = (3, "b", "c"); print($x); printf("%d %s %s\\n", $x.0, $x.1, $x.2); @v[1] = (2, "xyz", (uint8)3); print(@t); exit(); }`],
  ["tuples in probes", `${W} { @[args->count / 500] = (args->count, comm, (args->count > 600, "big")); }`],
  ["tuple element in arithmetic", `${W} { $t = (args->count, 2); @s = sum($t.0 * $t.1); }`],
  ["pointer dereference", `${U("area")} { @x = sum(*(int32*)arg0); @y[*(uint32*)(arg0 + 4)] = count(); @z = max(*(int64*)(arg0 + 8)); }`],
  ["struct cast from the script", `${POINT} ${U("area")} { $p = (struct point *)arg0; printf("%d %d %d %s %d\\n", $p->x, $p->y, $p->z, $p->name, sizeof(struct point)); @[$p->x] = sum($p->y + $p->x); }`],
  ["struct cast from BTF and curtask", `${G} { @[curtask->pid == pid, ((struct task_struct *)curtask)->comm, curtask->real_parent->pid > 0] = count(); }`],
  ["nested struct members", `tracepoint:syscalls:sys_enter_connect ${F} { @[((struct sockaddr_in *)args->uservaddr)->sin_addr.s_addr] = count(); }`],
  ["sizeof", `${POINT} BEGIN { printf("%d %d %d %d\\n", sizeof(struct point), sizeof(int32), sizeof(struct task_struct) > 0, sizeof(uint8)); exit(); }`],
  ["cgroup and username", `${G} { @cg = cgroup > 0; @u[username] = count(); }`],
  ["signal", `${U("twice")} { @n = count(); signal("KILL"); }`, "u"],
  ["signal by number", `${U("twice")} { @n = count(); signal(9); }`, "u"],
  // malformed and refused uses: bpftrace's error text
  ["tuple as a map key", `BEGIN { @u[(1, 2)] = 3; }`, "e"],
  ["tuple shape mismatch", `BEGIN { @ = (1, 2); @ = (1, 2, 3); }`, "e"],
  ["tuple index out of range", `BEGIN { $t = (1, 2); print($t.2); }`, "e"],
  ["tuple index out of range in an assignment", `BEGIN { $t = (1, 2); @ = $t.2; }`, "e"],
  ["override in safe mode", `BEGIN { override(1); }`, "e"],
  ["signal in safe mode and BEGIN", `BEGIN { signal("KILL"); }`, "e"],
  ["reg in BEGIN", `BEGIN { print(reg("ip")); }`, "e"],
  ["reg in BEGIN assigned", `BEGIN { @ = reg("ip"); }`, "e"],
  ["unknown stack mode", `BEGIN { @ = kstack(foo); }`, "e"],
  ["ksym of a string", `BEGIN { @ = ksym("a"); }`, "e"],
  ["buf without a length", `BEGIN { @ = buf(1); }`, "e"],
  ["join with a non-string delimiter", `BEGIN { join(1, 2); }`, "e"],
  ["cast to a struct value", `BEGIN { @ = (struct task_struct)curtask; }`, "e"],
  ["kaddr of an unknown symbol", `BEGIN { @ = kaddr("no_such_symbol_bpfkit"); }`, "e"],
  ["ntop of 17 bytes", `BEGIN { @ = ntop(10, "abcdefghijklmnop"); }`, "e"],
  ["ctx in a tracepoint", `${G} { @ = ctx; }`, "e"],
  ["ctx in BEGIN", `BEGIN { @ = ctx; }`, "e"],
  ["ntop of a 5-byte string", `BEGIN { printf("%s\\n", ntop(2, "abcd")); }`, "e"],
  ["print of a pointer", `BEGIN { print(curtask); }`, "e"],
  ["unknown struct", `BEGIN { @ = ((struct nope *)0)->x; }`, "e"],
  ["unknown struct in a variable", `BEGIN { $p = (struct nope *)0; }`, "e"],
  ["unknown member", `${G} { @ = curtask->nope; }`, "e"],
  ["offsetof is not in 0.17", `BEGIN { printf("%d\\n", offsetof(struct task_struct, pid)); }`, "e"],
  ["different-sign comparison warning", `${G} { @[curtask->pid == pid] = count(); }`, "e"],
];

const why = missing(["bpftrace", "taskset", "setarch"]);
let dir = "", exe = "", catFile = "";
if (!why) {
  dir = mkdtempSync(join(tmpdir(), "bpfkit-tlang-"));
  writeFileSync(join(dir, "w.c"), WORKLOAD);
  exe = join(dir, "w");
  catFile = join(dir, "cat.txt");
  writeFileSync(catFile, "first line\nsecond line\n");
  execFileSync(compiler()!, ["-O1", "-fno-omit-frame-pointer", "-o", exe, join(dir, "w.c")]);
}

test("bpfkit trace's stacks, symbols, tuples, pointers and structs print what bpftrace 0.17 prints", { timeout: 600000 }, async (t) => {
  if (why) { console.log(`SKIP trace language differential against bpftrace: ${why}`); t.skip(why); return; }
  const failures: string[] = [];
  await pool(SCRIPTS, 4, async ([name, raw, flags = ""]) => {
    const script = raw.replace(/WORKLOAD/g, exe).replace(/CATFILE/g, catFile);
    const usesChild = script.includes("cpid");
    // the workload stays alive 300 ms after its events so printf's user symbols resolve, as in bpftrace
    const cmd = usesChild ? `/usr/bin/setarch x86_64 -R /usr/bin/taskset -c 0 ${exe} ${flags.includes("s") ? 2000 : 300}` : undefined;
    const errs = flags.includes("e"), unsafe = flags.includes("u");
    const [ref, mine] = await Promise.all([runBpftrace(script, cmd, false, errs, unsafe ? ["--unsafe"] : []), runBpfkit(script, cmd, false, unsafe)]);
    // without "e" only stdout is compared (warnings are checked by the "e" cases)
    const mineCmp = errs ? mine : mine.replace(/\n\[stderr\]\n(?![^]*thrown: )[^]*$/, "");
    if (ref !== mineCmp) failures.push(`--- ${name}: ${script}\n[bpftrace]\n${ref}[bpfkit]\n${mine}`);
  });
  console.log(`trace language differential: ${SCRIPTS.length - failures.length}/${SCRIPTS.length} scripts identical to bpftrace`);
  assert.deepEqual(failures, []);
});

process.on("exit", () => { if (dir) rmSync(dir, { recursive: true, force: true }); });
