import { test } from "node:test";
import assert from "node:assert/strict";
import { BpfError } from "../../errors.ts";
import { insn } from "./insn.ts";
import { assemble } from "./assemble.ts";

test("kernel/bpftool syntax, with and without the `   N: (xx) ` prefix", () => {
  const cases: [string, ReturnType<typeof insn>[]][] = [
    ["   0: (bf) r6 = r1", [insn(0xbf, 6, 1)]],
    ["(bc) w0 = w1", [insn(0xbc, 0, 1)]],
    ["r1 += -8", [insn(0x07, 1, 0, 0, -8)]],
    ["w1 s%= w2", [insn(0x9c, 1, 2, 1)]],
    ["r1 = (s16)r2", [insn(0xbf, 1, 2, 16)]],
    ["r0 = be16 r0", [insn(0xdc, 0, 0, 0, 16)]],
    ["r0 = bswap64 r0", [insn(0xd7, 0, 0, 0, 64)]],
    ["r3 = -r3", [insn(0x87, 3)]],
    ["*(u32 *)(r10 -4) = r1", [insn(0x63, 10, 1, -4)]],
    ["*(u64 *)(r10 -8) = -5", [insn(0x7a, 10, 0, -8, -5)]],
    ["r0 = *(s16 *)(r1 +2)", [insn(0x89, 0, 1, 2)]],
    ["(db) lock *(u64 *)(r1 +0) += r2", [insn(0xdb, 1, 2, 0, 0)]],
    ["r2 = atomic64_fetch_or((u64 *)(r1 +0), r2)", [insn(0xdb, 1, 2, 0, 0x41)]],
    ["r0 = atomic_cmpxchg((u32 *)(r1 +8), r0, r2)", [insn(0xc3, 1, 2, 8, 0xf1)]],
    ["r2 = atomic64_xchg((u64 *)(r1 -8), r2)", [insn(0xdb, 1, 2, -8, 0xe1)]],
    ["r0 = *(u32 *)skb[12]", [insn(0x20, 0, 0, 0, 12)]],
    ["r0 = *(u8 *)skb[r3 + 2]", [insn(0x50, 0, 3, 0, 2)]],
    ["(18) r1 = map[id:5]", [insn(0x18, 1, 1, 0, 5), insn(0)]],
    ["(18) r1 = map[id:5][0]+16", [insn(0x18, 1, 2, 0, 5), insn(0, 0, 0, 0, 16)]],
    ["r1 = map[idx:2]+8", [insn(0x18, 1, 6, 0, 2), insn(0, 0, 0, 0, 8)]],
    ["r1 = map[idx:2]", [insn(0x18, 1, 5, 0, 2), insn(0)]],
    ["(18) r0 = 0x0", [insn(0x18, 0, 0, 0, 0), insn(0)]],
    ["r1 = 0x123456789", [insn(0x18, 1, 0, 0, 0x23456789), insn(0, 0, 0, 0, 1)]],
    ["(85) call bpf_map_lookup_elem#1", [insn(0x85, 0, 0, 0, 1)]],
    ["call unknown#77", [insn(0x85, 0, 0, 0, 77)]],
    ["call kernel-function#9", [insn(0x85, 0, 2, 0, 9)]],
    ["call pc+5", [insn(0x85, 0, 1, 0, 5)]],
    ["call pc-2#bpf_prog_abc_f", [insn(0x85, 0, 1, 0, -2)]],
    ["call bpf_ktime_get_ns", [insn(0x85, 0, 0, 0, 5)]],
    ["goto pc-1", [insn(0x05, 0, 0, -1)]],
    ["gotol pc+70000", [insn(0x06, 0, 0, 0, 70000)]],
    ["may_goto pc+2", [insn(0xe5, 0, 0, 2)]],
    ["if r1 >= 0xffffffff goto pc+0", [insn(0x35, 1, 0, 0, -1)]],
    ["if w1 s<= w2 goto pc-4", [insn(0xde, 1, 2, -4)]],
    ["if r1 & 0x8 goto pc+1", [insn(0x45, 1, 0, 1, 8)]],
    ["r0 = load_acquire((u64 *)(r1 +0))", [insn(0xdb, 0, 1, 0, 0x100)]],
    ["store_release((u8 *)(r1 -1), r2)", [insn(0xd3, 1, 2, -1, 0x110)]],
    ["r1 = addr_space_cast(r2, 0, 1)", [insn(0xbf, 1, 2, 1, 1)]],
    ["(95) exit", [insn(0x95)]],
  ];
  for (const [src, want] of cases) assert.deepEqual(assemble(src), want, src);
});

test("llvm-objdump syntax, including whole objdump lines and symbol headers", () => {
  const cases: [string, ReturnType<typeof insn>[]][] = [
    ["r1 = *(u64 *)(r0 + 8)", [insn(0x79, 1, 0, 8)]],
    ["w1 = *(u32 *)(r2 - 3)", [insn(0x61, 1, 2, -3)]],
    ["*(u16 *)(r1 - 3) = w2", [insn(0x6b, 1, 2, -3)]],
    ["r1 = 4886718345 ll", [insn(0x18, 1, 0, 0, 0x23456789), insn(0, 0, 0, 0, 1)]],
    ["r1 = -2 ll", [insn(0x18, 1, 0, 0, -2), insn(0, 0, 0, 0, -1)]],
    ["ld_pseudo\tr1, 1, 5", [insn(0x18, 1, 1, 0, 5), insn(0)]],
    ["if r1 == -7 goto -3 <f+0x58>", [insn(0x15, 1, 0, -3, -7)]],
    ["goto +4 <LBB0_2>", [insn(0x05, 0, 0, 4)]],
    ["lock *(u32 *)(r1 - 8) += w2", [insn(0xc3, 1, 2, -8, 0)]],
    ["w2 = atomic_fetch_add((u32 *)(r1 - 8), w2)", [insn(0xc3, 1, 2, -8, 1)]],
    ["r2 = xchg_64(r1 + 8, r2)", [insn(0xdb, 1, 2, 8, 0xe1)]],
    ["w2 = xchg32_32(r1 - 8, w2)", [insn(0xc3, 1, 2, -8, 0xe1)]],
    ["r0 = cmpxchg_64(r1 + 8, r0, r2)", [insn(0xdb, 1, 2, 8, 0xf1)]],
    ["w0 = cmpxchg32_32(r1 - 8, w0, w2)", [insn(0xc3, 1, 2, -8, 0xf1)]],
    ["r0 = *(u16 *)skb[r2]", [insn(0x48, 0, 2)]],
    ["call -1", [insn(0x85, 0, 0, 0, -1)]],
    ["callx r3", [insn(0x8d, 3)]],
    ["r1 = *(u64 *)(r0 + 0x10)", [insn(0x79, 1, 0, 16)]],
    ["      21:\t2d 23 08 00 00 00 00 00\tif r3 > r2 goto +8 <LBB0_5>", [insn(0x2d, 3, 2, 8)]],
    ["       5:\t18 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00\tr1 = 0 ll", [insn(0x18, 1), insn(0)]],
  ];
  for (const [src, want] of cases) assert.deepEqual(assemble(src), want, src);
  const listing = `
p1.o:\tfile format elf64-bpf

Disassembly of section .text:

0000000000000000 <sub>:
       0:\t27 01 00 00 03 00 00 00\tr1 *= 3
       1:\t95 00 00 00 00 00 00 00\texit
; a source line comment
0000000000000010 <next>:
       2:\tb7 00 00 00 00 00 00 00\tr0 = 0
       3:\t05 00 fe ff 00 00 00 00\tgoto -2 <next>
`;
  assert.deepEqual(assemble(listing), [insn(0x27, 1, 0, 0, 3), insn(0x95), insn(0xb7), insn(0x05, 0, 0, -2)]);
});

test("labels and bpf-to-bpf calls by name in the C-like syntax", () => {
  const p = assemble("r0 = 0\nloop: r0 += 1\nif r0 < 10 goto loop\ncall helper_fn\nexit\nhelper_fn:\nr0 = 1\nexit");
  assert.deepEqual(p[2], insn(0xa5, 0, 0, -2, 10));
  assert.deepEqual(p[3], insn(0x85, 0, 1, 0, 1));
  const q = assemble("int prog(struct xdp_md * ctx):\n   0: (b7) r0 = 2\n   1: (05) goto prog");
  assert.deepEqual(q[1], insn(0x05, 0, 0, -2));
});

test("bad C-like input is a positioned BpfError", () => {
  const bad: [string, number, RegExp][] = [
    ["r1 = w2", 6, /mix 64-bit \(r\) and 32-bit \(w\) registers/],
    ["r1 = -r2", 7, /negation is in place/],
    ["r0 = be16 r1", 11, /byte swaps are in place/],
    ["r1 += 0x100000000", 7, /does not fit in 32 bits/],
    ["r1 = *(u32 *)(r2 + 40000)", 20, /does not fit in 16 bits/],
    ["r1 = *(s64 *)(r2 + 0)", 8, /'s64' is not a valid access type/],
    ["r1 = r16", 6, /invalid register 'r16'/],
    ["<unknown>", 1, /cannot assemble '<unknown>'/],
    ["if r1 ~ r2 goto +1", 1, /cannot parse/],
    ["goto nowhere", 6, /unknown label 'nowhere'/],
    ["florp r1", 1, /unknown instruction 'florp'/],
    ["    r1 ^= 1\n  r2 = w3", 8, /mix/],
  ];
  for (const [src, column, re] of bad) {
    assert.throws(() => assemble(src), (e: unknown) => {
      assert.ok(e instanceof BpfError, src);
      assert.equal(e.code, "ASSEMBLE");
      assert.match(e.message, re, src);
      assert.equal(e.location.column, column, `${src}: ${e.message}`);
      return true;
    });
  }
});

test("assembleWithLabels returns the label table", async () => {
  const { assembleWithLabels } = await import("./assemble.ts");
  const r = assembleWithLabels("0000000000000000 <prog>:\n r0 = 0\n call sub\nLBB0_1: exit\nsub: r0 = 1 ll\n exit");
  assert.deepEqual([...r.labels], [["prog", 0], ["LBB0_1", 2], ["sub", 3]]);
  assert.equal(r.insns.length, 6);
});
