// Programs built with bpfkit, loaded and attached in the real kernel: a tracepoint counts a child's openat calls
// exactly; uprobes and tracepoints show up in `bpfkit perf` as in `bpftool perf`; everything detaches on close.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { insn, type Insn } from "../../src/isa/ebpf/insn.ts";
import { kernelAvailable } from "./kernel.ts";
import { loadProgram, attachTracepoint } from "../../src/kernel/loader.ts";
import { TypedKernelMap, u32, u64 } from "../../src/kernel/map-access.ts";

const avail = kernelAvailable();
function skipUnless(t: { skip(msg: string): void }): boolean {
  if (avail === true) return false;
  console.log(`SKIP kernel attach tests: ${avail}`);
  t.skip(avail);
  return true;
}

/** Counts events whose tgid equals config[0] into counts[0] (maps: 0 = config, 1 = counts). */
export function countByTgidProgram(): Insn[] {
  return [
    insn(0x85, 0, 0, 0, 14), // call get_current_pid_tgid
    insn(0x77, 0, 0, 0, 32), // r0 >>= 32
    insn(0xbf, 7, 0), // r7 = r0
    insn(0x62, 10, 0, -4, 0), // *(u32 *)(r10 - 4) = 0
    insn(0xbf, 2, 10), insn(0x07, 2, 0, 0, -4),
    insn(0x18, 1, 1, 0, 0), insn(0), // r1 = map[0]
    insn(0x85, 0, 0, 0, 1), // map_lookup_elem
    insn(0x15, 0, 0, 10, 0), // if r0 == 0 goto out
    insn(0x61, 1, 0, 0, 0), // r1 = *(u32 *)(r0 + 0)
    insn(0x5d, 1, 7, 8, 0), // if r1 != r7 goto out
    insn(0xbf, 2, 10), insn(0x07, 2, 0, 0, -4),
    insn(0x18, 1, 1, 0, 1), insn(0), // r1 = map[1]
    insn(0x85, 0, 0, 0, 1),
    insn(0x15, 0, 0, 2, 0), // if r0 == 0 goto out
    insn(0xb7, 1, 0, 0, 1), // r1 = 1
    insn(0xdb, 0, 1, 0, 0), // lock *(u64 *)(r0 + 0) += r1
    insn(0xb7, 0, 0, 0, 0), // out: r0 = 0
    insn(0x95),
  ];
}

test("tracepoint syscalls:sys_enter_openat counts a child's opens exactly", async (t) => {
  if (skipUnless(t)) return;
  const N = 37;
  const prog = loadProgram({
    insns: countByTgidProgram(), progType: "tracepoint", name: "bk_openat",
    maps: [{ type: "array", keySize: 4, valueSize: 4, maxEntries: 1 }, { type: "array", keySize: 4, valueSize: 8, maxEntries: 1 }],
  });
  const link = attachTracepoint(prog.fd, "syscalls", "sys_enter_openat");
  try {
    // bash applies a builtin's redirection in its own process: one openat per iteration, after the "go" line
    const child = spawn("bash", ["-c", `echo ready; read x; for ((i=0;i<${N};i++)); do : < /dev/null; done`], { stdio: ["pipe", "pipe", "inherit"] });
    const [first] = (await once(child.stdout!, "data")) as [Buffer];
    assert.equal(first.toString().trim(), "ready");
    new TypedKernelMap(prog.maps[0]!, u32, u32).set(0, child.pid!);
    child.stdin!.end("go\n");
    await once(child, "exit");
    assert.equal(new TypedKernelMap(prog.maps[1]!, u32, u64).get(0), BigInt(N));
  } finally {
    link.close();
    prog.close();
  }
});
