// Differential tests on a program built from the instructions bpftool 7.1 cannot name (cpu v4, acquire/release,
// may_goto) and the rest: (1) our printer's "current" dialect against the running kernel's own disasm.c, as the
// verifier log (log_level 2) prints every instruction it walks (`12: (06) gotol pc+0`, `(d7) r3 = bswap16 r3`);
// (2) its "bpftool-7.1" dialect on the kernel's xlated image against `bpftool prog dump xlated id N [opcodes]`.
// Needs root and bpf() (test/oracle/kernel.ts), and bpftool for (2); skips visibly otherwise.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kernelAvailable, kernelLoad } from "./kernel.ts";
import { kallsymsCallTarget } from "./kallsyms.ts";
import { progInfo } from "../../src/kernel/info.ts";
import { assemble } from "../../src/isa/ebpf/assemble.ts";
import { decodeProgram } from "../../src/isa/ebpf/encode.ts";
import { disassembleKernel, formatInsnKernel } from "../../src/isa/ebpf/disasm-kernel.ts";

const PROGRAM = `
    r6 = r1
    r0 = 0
    r1 = (s8)r0
    w2 = (s16)w0
    r2 = (s32)r1
    r3 = 5
    r3 += 7
    r3 -= r1
    r3 *= 3
    r3 /= 2
    r3 s/= 2
    r3 %= 5
    r3 s%= 3
    w3 s/= 7
    w3 s%= w3
    r3 |= 0x10
    r3 &= r2
    r3 <<= 3
    r3 >>= 1
    r3 s>>= 2
    w3 s>>= w0
    r3 ^= -1
    w3 = -w3
    r3 = -r3
    r3 = be16 r3
    r3 = le32 r3
    r3 = be64 r3
    r3 = bswap16 r3
    r3 = bswap32 r3
    r3 = bswap64 r3
    r7 = 0x123456789abcdef0 ll
    *(u64 *)(r10 -8) = 7
    *(u32 *)(r10 -12) = -1
    *(u16 *)(r10 -14) = 3
    *(u8 *)(r10 -15) = 2
    *(u64 *)(r10 -24) = r7
    r4 = *(s8 *)(r10 -8)
    r5 = *(s16 *)(r10 -8)
    r5 = *(s32 *)(r10 -8)
    r5 = *(u64 *)(r10 -24)
    r5 = *(u32 *)(r10 -12)
    r5 = *(u16 *)(r10 -14)
    r5 = *(u8 *)(r10 -15)
    gotol pc+0
    r8 = load_acquire((u64 *)(r10 -8))
    r8 = load_acquire((u8 *)(r10 -8))
    store_release((u32 *)(r10 -8), r8)
    store_release((u16 *)(r10 -8), r8)
    r8 = 1
    lock *(u64 *)(r10 -8) += r8
    lock *(u64 *)(r10 -8) |= r8
    lock *(u32 *)(r10 -8) &= r8
    lock *(u32 *)(r10 -8) ^= r8
    r8 = atomic64_fetch_add((u64 *)(r10 -8), r8)
    r8 = atomic_fetch_or((u32 *)(r10 -8), r8)
    r8 = atomic64_fetch_and((u64 *)(r10 -8), r8)
    r8 = atomic_fetch_xor((u32 *)(r10 -8), r8)
    r8 = atomic64_xchg((u64 *)(r10 -8), r8)
    r8 = atomic_xchg((u32 *)(r10 -8), r8)
    r0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r8)
    r0 = atomic_cmpxchg((u32 *)(r10 -8), r0, r8)
    may_goto pc+0
    r0 = *(u16 *)skb[12]
    r9 = 2
    r0 = *(u8 *)skb[r9 + 14]
    call bpf_ktime_get_ns#5
    if r0 > 0x5 goto pc+1
    if r0 s< -3 goto pc+0
    if w0 != w9 goto pc+0
    if w0 & 0x8 goto pc+0
    if r0 s>= r9 goto pc+0
    if r0 <= r9 goto pc+0
    if w0 == 0xffffffff goto pc+0
    goto pc+0
    r1 = 3
    call pc+2
    r0 = 0
    exit
    r0 = r1
    exit
`;

test("kernel printer matches the running kernel's verifier log, instruction for instruction", (t) => {
  const why = kernelAvailable();
  if (why !== true) return void (console.log(`SKIP isa-kernel-log: ${why}`), t.skip(why));
  const insns = assemble(PROGRAM);
  const r = kernelLoad(insns, { progType: "socket_filter", logLevel: 2 });
  try {
    assert.ok(r.accepted, `the kernel refused the program: ${r.errno}\n${r.log.slice(-2000)}`);
    // Trace lines: `N: (xx) text` optionally followed by the register state after `  ; `.
    const seen = new Map<number, string>();
    for (const line of r.log.split("\n")) {
      const m = /^(\d+): (\([0-9a-f]{2}\) .*?)(?:\s+; .*)?$/.exec(line);
      if (m) seen.set(Number(m[1]), m[2]!);
    }
    let compared = 0;
    for (const [pc, text] of seen) {
      assert.equal(formatInsnKernel(insns, pc), text, `insn ${pc}`);
      compared++;
    }
    assert.ok(compared >= 70, `only ${compared} instructions seen in the log`);
    console.log(`isa-kernel-log: ${compared} instructions printed as the 6.18 verifier log prints them`);
  } finally {
    r.close();
  }
});

test("bpftool-7.1 dialect matches bpftool prog dump xlated on the same program's xlated image", (t) => {
  const why = kernelAvailable();
  if (why !== true) return void (console.log(`SKIP isa-kernel-log: ${why}`), t.skip(why));
  if (spawnSync("bpftool", ["version"]).status !== 0) return void (console.log("SKIP isa-kernel-log: bpftool not installed"), t.skip("no bpftool"));
  const r = kernelLoad(assemble(PROGRAM), { progType: "socket_filter" });
  const bin = join(tmpdir(), `bpfkit-isa-xlated-${process.pid}.bin`);
  try {
    assert.ok(r.accepted && r.fd !== undefined, r.log);
    const id = String(progInfo(r.fd).id);
    assert.equal(spawnSync("bpftool", ["prog", "dump", "xlated", "id", id, "file", bin]).status, 0);
    const xlated = decodeProgram(new Uint8Array(readFileSync(bin)));
    const helperAt = kallsymsCallTarget();
    let compared = 0;
    for (const opcodes of [false, true]) {
      const out = spawnSync("bpftool", ["prog", "dump", "xlated", "id", id, ...(opcodes ? ["opcodes"] : [])], { encoding: "utf8" });
      assert.equal(out.status, 0, out.stderr);
      const want = out.stdout.split("\n").filter((l) => /^\s*\d+: /.test(l) || /^ {7}[0-9a-f]{2}( [0-9a-f]{2}){7}/.test(l));
      const subprog = (pc: number): string => /(#\S+)$/.exec(want.find((l) => l.startsWith(`${String(pc).padStart(4)}: `)) ?? "")?.[1] ?? "";
      const ours = disassembleKernel(xlated, {
        dialect: "bpftool-7.1",
        opcodes,
        callTarget: (pc, x) => (x.src === 1 ? `${x.off >= 0 ? "+" : ""}${x.off}${subprog(pc)}` : helperAt(x.imm)),
      });
      assert.deepEqual(ours, want, opcodes ? "opcodes" : "plain");
      compared += want.length;
    }
    console.log(`isa-kernel-log: ${compared} lines identical to bpftool 7.1's xlated dump of a cpu-v4 program`);
  } finally {
    rmSync(bin, { force: true });
    r.close();
  }
});
