// The kernel's load-time rewrites, checked against what Linux 6.18 printed for the same programs (bpftool prog dump
// xlated on this kernel, recorded): div/mod guards, context conversion, inlined map lookups, dead code, line info.
import { test } from "node:test";
import assert from "node:assert/strict";
import { assemble } from "../isa/ebpf/assemble.ts";
import { formatInsnKernel } from "../isa/ebpf/disasm-kernel.ts";
import type { Insn } from "../isa/ebpf/insn.ts";
import { verify } from "./verify.ts";
import { kernelImage } from "./fixups.ts";
import type { MapFacts } from "./kernel-tables.ts";

const NAMES = ["helper_a", "helper_b", "__htab_map_lookup_elem", "htab_lru_percpu_map_lookup_elem"];
function rewrite(progType: number, text: string, maps: MapFacts[] = [], lineOffs?: number[]) {
  let mi = 0;
  const insns: Insn[] = assemble(text.replace(/;/g, "\n")).map((x) => (x.code === 0x18 && x.imm === 0 && maps.length ? { ...x, src: 1, imm: mi++ } : x));
  const r = verify(insns, { progType, maps: maps.map((m) => ({ ...m, name: "m" })) });
  assert.ok(r.accepted, r.log);
  const names: string[] = [];
  const img = kernelImage(insns, r.aux!, {
    progType, maps, lineOffs,
    callImm: (n) => { if (!names.includes(n)) names.push(n); return 1000 + names.indexOf(n); },
    varAddress: () => 0xffffffff82e09980n,
  });
  const lines: string[] = [];
  for (let pc = 0; pc < img.insns.length; pc++) {
    lines.push(formatInsnKernel(img.insns, pc, { callTarget: (_p, x) => (x.src === 0 && x.imm >= 1000 ? names[x.imm - 1000] : undefined) }));
    if (img.insns[pc]!.code === 0x18) pc++;
  }
  void NAMES;
  return { lines, img };
}

test("div and mod by a register get the kernel's zero guards (64- and 32-bit)", () => {
  const { lines } = rewrite(2, "r1 = r0; r2 = 3; r1 /= r2; r1 %= r2; w1 /= w2; w1 %= w2; r0 = 0; exit".replace("r1 = r0", "r1 = 7"));
  assert.deepEqual(lines.slice(2), [
    "(55) if r2 != 0x0 goto pc+2", "(ac) w1 ^= w1", "(05) goto pc+1", "(3f) r1 /= r2",
    "(15) if r2 == 0x0 goto pc+1", "(9f) r1 %= r2",
    "(56) if w2 != 0x0 goto pc+2", "(ac) w1 ^= w1", "(05) goto pc+1", "(3c) w1 /= w2",
    "(16) if w2 == 0x0 goto pc+2", "(9c) w1 %= w2", "(05) goto pc+1", "(bc) w1 = w1",
    "(b7) r0 = 0", "(95) exit",
  ]);
});

test("__sk_buff and xdp_md reads become reads of sk_buff and xdp_buff, narrow loads shifted and masked", () => {
  assert.deepEqual(rewrite(1, "r2 = *(u32 *)(r1 + 0); r2 = *(u32 *)(r1 + 4); r2 = *(u32 *)(r1 + 40); r2 = *(u8 *)(r1 + 1); r0 = 0; exit").lines, [
    "(61) r2 = *(u32 *)(r1 +112)", "(71) r2 = *(u8 *)(r1 +128)", "(54) w2 &= 7",
    "(79) r2 = *(u64 *)(r1 +16)", "(15) if r2 == 0x0 goto pc+1", "(61) r2 = *(u32 *)(r2 +224)",
    "(61) r2 = *(u32 *)(r1 +112)", "(74) w2 >>= 8", "(54) w2 &= 255", "(b7) r0 = 0", "(95) exit",
  ]);
  assert.deepEqual(rewrite(6, "r2 = *(u32 *)(r1 + 0); r2 = *(u32 *)(r1 + 12); r2 = *(u32 *)(r1 + 16); r0 = 0; exit").lines, [
    "(79) r2 = *(u64 *)(r1 +0)", "(79) r2 = *(u64 *)(r1 +32)", "(79) r2 = *(u64 *)(r2 +0)", "(61) r2 = *(u32 *)(r2 +224)",
    "(79) r2 = *(u64 *)(r1 +32)", "(61) r2 = *(u32 *)(r2 +8)", "(b7) r0 = 0", "(95) exit",
  ]);
});

test("map lookups are inlined per map type as Linux 6.18 inlines them", () => {
  const call = "r2 = r10; r2 += -4; r1 = 0 ll; call 1;";
  const maps: MapFacts[] = [
    { type: 2, keySize: 4, valueSize: 12, maxEntries: 4, flags: 0 }, { type: 6, keySize: 4, valueSize: 8, maxEntries: 4, flags: 0 },
    { type: 1, keySize: 4, valueSize: 8, maxEntries: 16, flags: 0 }, { type: 9, keySize: 4, valueSize: 20, maxEntries: 16, flags: 0 },
    { type: 10, keySize: 4, valueSize: 8, maxEntries: 8, flags: 0 },
  ];
  const { lines } = rewrite(1, `r3 = 0; *(u32 *)(r10 - 4) = r3; ${call.repeat(5)} r0 = 0; exit`, maps);
  assert.deepEqual(lines.filter((l) => !/r2 = r10|r2 \+= -4|r1 = map/.test(l)), [
    "(b7) r3 = 0", "(63) *(u32 *)(r10 -4) = r3",
    "(07) r1 += 312", "(61) r0 = *(u32 *)(r2 +0)", "(35) if r0 >= 0x4 goto pc+3", "(67) r0 <<= 4", "(0f) r0 += r1", "(05) goto pc+1", "(b7) r0 = 0",
    "(07) r1 += 312", "(61) r0 = *(u32 *)(r2 +0)", "(35) if r0 >= 0x4 goto pc+5", "(67) r0 <<= 3", "(0f) r0 += r1", "(79) r0 = *(u64 *)(r0 +0)",
    "(bf) r0 = &(void __percpu *)(r0)", "(05) goto pc+1", "(b7) r0 = 0",
    "(85) call __htab_map_lookup_elem#1000", "(15) if r0 == 0x0 goto pc+1", "(07) r0 += 56",
    "(85) call __htab_map_lookup_elem#1000", "(15) if r0 == 0x0 goto pc+4", "(71) r1 = *(u8 *)(r0 +35)", "(55) if r1 != 0x0 goto pc+1",
    "(72) *(u8 *)(r0 +35) = 1", "(07) r0 += 56",
    "(85) call htab_lru_percpu_map_lookup_elem#1001", "(b7) r0 = 0", "(95) exit",
  ]);
});

test("dead branches are hard-wired and removed; line info follows the kernel's rules", () => {
  // r1 = 1 makes the branch always taken: the fall-through is dead, the jump becomes a goto and is then a nop
  const { lines, img } = rewrite(2, "r1 = 1; if r1 == 1 goto +1; r0 = 2; r0 = 0; exit", [], [0, 2, 3]);
  assert.deepEqual(lines, ["(b7) r1 = 1", "(b7) r0 = 0", "(95) exit"]);
  // the removed instruction's line (record 1, at pc 2) is inherited by the next live instruction only when that has none
  assert.deepEqual(img.lineOffs, [0, -1, 1]);
});

test("LD_ABS / LD_IND become bpf_skb_load_helper_*_no_cache calls (gen_ld_abs)", () => {
  const { lines } = rewrite(1, "r6 = r1; r0 = *(u8 *)skb[14]; r2 = 3; r0 = *(u16 *)skb[r2 + 4]; r2 = 3; r0 = *(u32 *)skb[r2]; r0 = 0; exit");
  const tail = ["(75) if r0 s>= 0x0 goto pc+2", "(ac) w0 ^= w0", "(95) exit"];
  assert.deepEqual(lines, [
    "(bf) r6 = r1",
    "(b7) r2 = 14", "(bf) r1 = r6", "(85) call bpf_skb_load_helper_8_no_cache#1000", ...tail,
    "(b7) r2 = 3",
    "(bf) r2 = r2", "(07) r2 += 4", "(bf) r1 = r6", "(85) call bpf_skb_load_helper_16_no_cache#1001", ...tail,
    "(b7) r2 = 3", "(bf) r2 = r2", "(bf) r1 = r6", "(85) call bpf_skb_load_helper_32_no_cache#1002", ...tail,
    "(b7) r0 = 0", "(95) exit",
  ]);
});

test("a tc program writing packet data gets the unclone prologue; one only reading it does not", () => {
  const body = "r2 = *(u32 *)(r1 + 76); r3 = *(u32 *)(r1 + 80); r4 = r2; r4 += 1; if r4 > r3 goto +1; ";
  const prologue = [
    "(71) r6 = *(u8 *)(r1 +126)", "(54) w6 &= 1", "(15) if r6 == 0x0 goto pc+7", "(bf) r6 = r1", "(af) r2 ^= r2",
    "(85) call bpf_skb_pull_data#1000", "(15) if r0 == 0x0 goto pc+2", "(b4) w0 = 2", "(95) exit", "(bf) r1 = r6",
  ];
  const write = rewrite(3, `${body}*(u8 *)(r2 + 0) = 1; r0 = 0; exit`).lines;
  assert.deepEqual(write.slice(0, prologue.length + 1), [...prologue, "(79) r2 = *(u64 *)(r1 +200)"]);
  assert.equal(rewrite(3, `${body}r0 = *(u8 *)(r2 + 0); r0 = 0; exit`).lines[0], "(79) r2 = *(u64 *)(r1 +200)");
  // socket filters cannot write packets; xdp writes them without a prologue
  assert.equal(rewrite(6, "r2 = *(u32 *)(r1 + 0); r3 = *(u32 *)(r1 + 4); r4 = r2; r4 += 1; if r4 > r3 goto +1; *(u8 *)(r2 + 0) = 1; r0 = 0; exit").lines[0],
    "(79) r2 = *(u64 *)(r1 +0)");
});

test("bpf_get_branch_snapshot is inlined around the perf_snapshot_branch_stack static call", () => {
  const { lines } = rewrite(2, "r1 = r10; r1 += -32; r2 = 32; r3 = 0; call 176; r0 = 0; exit");
  assert.deepEqual(lines.slice(4), [
    "(55) if r3 != 0x0 goto pc+7", "(b4) w0 = -1431655765", "(2f) r2 *= r0", "(77) r2 >>= 36",
    "(85) call __static_call_return0#1000", "(15) if r0 == 0x0 goto pc+4", "(24) w0 *= 24", "(05) goto pc+3",
    "(b7) r0 = -22", "(05) goto pc+1", "(b7) r0 = -2", "(b7) r0 = 0", "(95) exit",
  ]);
});

test("__sk_buff socket fields read through skb->sk; tstamp reads and stores guarded unless tstamp_type is read", () => {
  assert.deepEqual(rewrite(8, "r2 = *(u32 *)(r1 + 88); r2 = *(u32 *)(r1 + 132); r2 = *(u32 *)(r1 + 120); r0 = 1; exit").lines, [
    "(79) r2 = *(u64 *)(r1 +24)", "(69) r2 = *(u16 *)(r2 +16)",
    "(79) r2 = *(u64 *)(r1 +24)", "(69) r2 = *(u16 *)(r2 +12)", "(64) w2 <<= 16",
    "(79) r2 = *(u64 *)(r1 +24)", "(61) r2 = *(u32 *)(r2 +76)", "(b7) r0 = 1", "(95) exit",
  ]);
  const guardedRead = ["(71) r11 = *(u8 *)(r1 +129)", "(46) if w11 & 0x4 goto pc+1", "(05) goto pc+4", "(46) if w11 & 0x3 goto pc+1",
    "(05) goto pc+2", "(b7) r2 = 0", "(05) goto pc+1", "(79) r2 = *(u64 *)(r1 +32)"];
  assert.deepEqual(rewrite(3, "r2 = *(u64 *)(r1 + 152); r0 = 0; exit").lines.slice(0, 8), guardedRead);
  assert.deepEqual(rewrite(3, "r2 = *(u8 *)(r1 + 180); r2 = *(u64 *)(r1 + 152); r0 = 0; exit").lines.slice(2, 3), ["(79) r2 = *(u64 *)(r1 +32)"]);
  assert.deepEqual(rewrite(3, "r2 = 5; *(u64 *)(r1 + 152) = r2; r0 = 0; exit").lines.slice(1, 7), [
    "(71) r11 = *(u8 *)(r1 +129)", "(46) if w11 & 0x4 goto pc+1", "(05) goto pc+2", "(54) w11 &= -4", "(73) *(u8 *)(r1 +129) = r11",
    "(7b) *(u64 *)(r1 +32) = r2",
  ]);
});
