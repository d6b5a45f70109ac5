// Differential test: `prog load -L` (the load recorded as a loader program and run in the kernel, src/runtime/
// loader-run.ts) against bpftool 7.1: identical stdout, stderr and exit status — objects that load, programs the
// kernel refuses (the loader's "err -1"), objects libbpf cannot record, missing files and arguments, -j — and the same
// state left (nothing pinned: bpftool ignores PATH with -L). `loadall -L` is bpftool's plain loadall. On the VM: refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { buildOwnCorpus } from "../../test/fixtures/c/build.ts";
import { runBpfkitLines } from "./cli.ts";

const haveBpftool = spawnSync("bpftool", ["version"]).status === 0;
const isRoot = process.getuid?.() === 0;
// bpftool's usage lines name the program; bpfkit's name bpfkit
const normalize = (s: string): string => s.replace(/^(Usage: |       )bpfkit /gm, "$1bpftool ");

test("prog load -L matches bpftool 7.1 in the kernel", (t) => {
  if (!haveBpftool || !isRoot) return void (console.log("SKIP: needs bpftool and root"), t.skip("needs bpftool and root"));
  const built = buildOwnCorpus();
  if (typeof built === "string") return void (console.log(`SKIP: ${built}`), t.skip(built));
  const obj = (n: string) => built.find((b) => b.name === n)!.path;
  const pin = "/sys/fs/bpf/bpfkit-lskel-test";
  const lines: string[][] = [
    ["prog", "load", "-L", obj("globals"), pin], ["-j", "prog", "load", "-L", obj("xdp_maps")], ["-L", "prog", "load", obj("subprogs"), pin],
    ["prog", "load", "--use-loader", obj("core"), pin], ["p", "lo", "-L", obj("tc_ctx")],
    // the kernel refuses its tracing programs here: the loader program's own error
    ["prog", "load", "-L", obj("ksyms"), pin], ["-j", "prog", "load", "-L", obj("ksyms"), pin],
    // libbpf cannot record a prog array's initial slots
    ["prog", "load", "-L", obj("tailcalls"), pin], ["-j", "prog", "load", "-L", obj("tailcalls"), pin],
    ["prog", "load", "-L", "/nonexistent.o", pin], ["prog", "load", "-L"], ["-j", "prog", "load", "-L"],
  ];
  const ours = runBpfkitLines(lines);
  let same = 0;
  const diffs: string[] = [];
  lines.forEach((l, i) => {
    rmSync(pin, { force: true, recursive: true });
    const r = spawnSync("bpftool", l, { encoding: "latin1" });
    assert.equal(existsSync(pin), false, `bpftool ${l.join(" ")} pinned nothing`);
    const o = ours[i]!;
    if (o.stdout === r.stdout && normalize(o.stderr) === r.stderr && o.status === r.status) same++;
    else diffs.push(`${l.join(" ")}: exit ${r.status}/${o.status} stdout ${JSON.stringify(r.stdout)}/${JSON.stringify(o.stdout)} stderr ${JSON.stringify(r.stderr)}/${JSON.stringify(o.stderr)}`);
  });
  // bpfkit's run left nothing pinned either
  assert.equal(existsSync(pin), false);
  console.log(`prog load -L: ${same}/${lines.length} command lines identical to bpftool`);
  assert.deepEqual(diffs, []);
});

test("prog load -L on the VM is refused with a clear error", (t) => {
  const built = buildOwnCorpus();
  if (typeof built === "string") return void (console.log(`SKIP: ${built}`), t.skip(built));
  const [r] = runBpfkitLines([["--vm", "prog", "load", "-L", built.find((b) => b.name === "globals")!.path, "/sys/fs/bpf/x"]]);
  assert.notEqual(r!.status, 0);
  assert.match(r!.stderr, /^Error: loader programs \(-L\) run as BPF_PROG_TYPE_SYSCALL programs/);
});
