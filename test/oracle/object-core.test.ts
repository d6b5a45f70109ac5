// Differential test: CO-RE relocation (and ksym/kfunc resolution) against /sys/kernel/btf/vmlinux must patch exactly
// what libbpf patches. libbpf's debug log (`bpftool -d prog loadall`) lists every patched or poisoned instruction
// ("prog 'x': relo #3: patched insn #5 (LDX/ST/STX) off 112 -> 112") and every resolved extern; loadObject's coreLog
// uses the same wording, so the two sets must be equal. Objects for which libbpf stops before relocating (a map it
// cannot create, say) print nothing and are skipped.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { btfFromFileBytes, loadObject } from "../../src/object/index.ts";
import { buildOwnCorpus } from "../fixtures/c/build.ts";

const haveBpftool = spawnSync("bpftool", ["version"]).status === 0;
const isRoot = process.getuid?.() === 0;
const samples = process.env.BPFKIT_ELF_SAMPLES;
const VMLINUX = "/sys/kernel/btf/vmlinux";

function libbpfPatches(path: string): string[] {
  const dir = `/sys/fs/bpf/bpfkit_core_${process.pid}`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  try {
    const r = spawnSync("bpftool", ["-d", "prog", "loadall", path, dir], { encoding: "utf8", maxBuffer: 1 << 28 });
    return [...new Set(r.stderr.split("\n").filter((l) => /relo #\d+: (patched insn|substituting insn)|^libbpf: extern .*(resolved to|not resolved)/.test(l)).map((l) => l.replace(/^libbpf: /, "")))].sort();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("CO-RE relocations against vmlinux match libbpf's", (t) => {
  if (!haveBpftool) return void (console.log("SKIP: bpftool not installed"), t.skip("bpftool not installed"));
  if (!isRoot) return void (console.log("SKIP: needs root (bpftool loads the objects)"), t.skip("not root"));
  if (!existsSync(VMLINUX)) return void (console.log("SKIP: no vmlinux BTF"), t.skip("no vmlinux BTF"));
  const files: string[] = [];
  if (samples && existsSync(samples)) {
    // a spread of CO-RE users: libbpf-tools (kprobes, tracepoints, bitfields, flavors), pcp, libxdp
    for (const n of ["libbpf-tools__bindsnoop.o", "libbpf-tools__runqlat.o", "libbpf-tools__tcpconnect.o", "libbpf-tools__biosnoop.o",
      "libbpf-tools__execsnoop.o", "libbpf-tools__klockstat.o", "pcp__tcpconnlat.o", "libxdp1__xdpdump_bpf.o"]) {
      if (existsSync(join(samples, n))) files.push(join(samples, n));
    }
  } else console.log("note: BPFKIT_ELF_SAMPLES not set; only the own corpus is compared");
  const own = buildOwnCorpus();
  if (typeof own !== "string") files.push(own.find((o) => o.name === "core")!.path, own.find((o) => o.name === "ksyms")!.path);
  const vmlinux = btfFromFileBytes(readFileSync(VMLINUX));
  let compared = 0;
  for (const f of files) {
    const theirs = libbpfPatches(f);
    if (theirs.length === 0) continue;
    const log: string[] = [];
    loadObject(readFileSync(f), { fileName: f, targetBtf: vmlinux, coreLog: log });
    assert.deepEqual([...new Set(log)].sort(), theirs, f);
    compared++;
  }
  console.log(`object-core: ${compared} objects with identical CO-RE patches`);
  assert.ok(compared > 0 || files.length === 0);
});
