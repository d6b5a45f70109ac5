import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { assemble } from "./assemble.ts";
import { insn } from "./insn.ts";
import { BpfError } from "../../errors.ts";

const CORPUS = new URL("../../../../shared/corpora/bpf_conformance/tests/", import.meta.url).pathname;

function section(text: string, name: string): string | undefined {
  return new RegExp(`^-- ${name}\\n([\\s\\S]*?)(?=^-- |(?![\\s\\S]))`, "m").exec(text)?.[1];
}

test("every bpf_conformance program assembles; the one with -- raw matches it", (t) => {
  if (!existsSync(CORPUS)) {
    console.log(`bpf_conformance corpus not found at ${CORPUS}: skipped`);
    return t.skip("corpus absent");
  }
  const files = readdirSync(CORPUS).filter((f) => f.endsWith(".data"));
  assert.ok(files.length > 300);
  for (const f of files) {
    const text = readFileSync(CORPUS + f, "utf8");
    const insns = assemble(section(text, "asm")!);
    assert.ok(insns.length > 0, f);
    const raw = section(text, "raw");
    if (raw === undefined) continue;
    const words = raw.split(/\s+/).filter((w) => w && !w.startsWith("#")).map((w) => BigInt(w));
    const ours = insns.map((x) => BigInt.asUintN(64,
      (BigInt(x.imm >>> 0) << 32n) | (BigInt(x.off & 0xffff) << 16n) | (BigInt((x.src << 4) | x.dst) << 8n) | BigInt(x.code)));
    assert.deepEqual(ours, words, f);
  }
});

test("conformance mnemonics encode as bpf_conformance encodes them", () => {
  const cases: [string, ReturnType<typeof insn>[]][] = [
    ["add32 %r0, -3", [insn(0x04, 0, 0, 0, -3)]],
    ["add %r1, %r2", [insn(0x0f, 1, 2)]],
    ["mov32 %r0, 0xffffffff", [insn(0xb4, 0, 0, 0, -1)]],
    ["neg %r2", [insn(0x87, 2)]],
    ["sdiv32 %r1, 3", [insn(0x34, 1, 0, 1, 3)]],
    ["smod %r1, %r2", [insn(0x9f, 1, 2, 1, 0)]],
    ["movsx1632 %r4, %r3", [insn(0xbc, 4, 3, 16, 0)]],
    ["movsx3264 %r0, %r9", [insn(0xbf, 0, 9, 32, 0)]],
    ["be16 %r0", [insn(0xdc, 0, 0, 0, 16)]],
    ["le64 %r0", [insn(0xd4, 0, 0, 0, 64)]],
    ["swap32 %r0", [insn(0xd7, 0, 0, 0, 32)]],
    ["bswap64 %r0", [insn(0xd7, 0, 0, 0, 64)]],
    ["ldxdw %r0, [%r1+8]", [insn(0x79, 0, 1, 8)]],
    ["ldxsh %r0, [%r10-2]", [insn(0x89, 0, 10, -2)]],
    ["ldxb %r0, [%r1]", [insn(0x71, 0, 1, 0)]],
    ["stw [%r10-4], 0x1", [insn(0x62, 10, 0, -4, 1)]],
    ["stxh [%r1+0x10], %r2", [insn(0x6b, 1, 2, 16)]],
    ["lddw %r0, 0x123456789", [insn(0x18, 0, 0, 0, 0x23456789), insn(0, 0, 0, 0, 1)]],
    ["lddw %r0, -1", [insn(0x18, 0, 0, 0, -1), insn(0, 0, 0, 0, -1)]],
    ["jeq %r1, 0x5, +2", [insn(0x15, 1, 0, 2, 5)]],
    ["jsle32 %r1, %r2, -1", [insn(0xde, 1, 2, -1)]],
    ["ja +2", [insn(0x05, 0, 0, 2)]],
    ["call 1", [insn(0x85, 0, 0, 0, 1)]],
    ["call runtime 7", [insn(0x85, 0, 2, 0, 7)]],
    ["call %r2", [insn(0x8d, 2)]],
    ["exit", [insn(0x95)]],
    ["lock add [%r10-8], %r1", [insn(0xdb, 10, 1, -8, 0x00)]],
    ["lock fetch xor32 [%r10-4], %r3", [insn(0xc3, 10, 3, -4, 0xa1)]],
    ["lock xchg [%r10-8], %r1", [insn(0xdb, 10, 1, -8, 0xe1)]],
    ["lock cmpxchg32 [%r10-8], %r1", [insn(0xc3, 10, 1, -8, 0xf1)]],
    ["ldabsh 12", [insn(0x28, 0, 0, 0, 12)]],
    ["ldindb %r3, 2", [insn(0x50, 0, 3, 0, 2)]],
  ];
  for (const [src, want] of cases) assert.deepEqual(assemble(src), want, src);
});

test("labels resolve forwards and backwards, ja32 and call local put the distance in imm", () => {
  const p = assemble("mov %r0, 0\nja32 L2\nL1:\nexit\nL2: call local L1\nja L1 # back\nja exit\n");
  assert.deepEqual(p[1], insn(0x06, 0, 0, 0, 1));
  assert.deepEqual(p[3], insn(0x85, 0, 1, 0, -2));
  assert.deepEqual(p[4], insn(0x05, 0, 0, -3));
  assert.deepEqual(p[5], insn(0x05, 0, 0, -4));
});

test("bad input is a BpfError ASSEMBLE naming line and column", () => {
  const bad: [string, number, number, RegExp][] = [
    ["mov %r0, 1\nfrob %r1", 2, 1, /unknown instruction 'frob'/],
    ["mov %r16, 1", 1, 5, /invalid register '%r16'/],
    ["  add32 %r0, 0x100000000", 1, 14, /does not fit in 32 bits/],
    ["ldxw %r0, [%r1+70000]", 1, 11, /does not fit in 16 bits/],
    ["ja nowhere", 1, 4, /unknown label 'nowhere'/],
    ["L:\nL: exit", 2, 1, /duplicate label 'L'/],
    ["add %r0", 1, 1, /takes 2 operands/],
    ["lock nand [%r1], %r2", 1, 6, /unknown atomic operation/],
    ["ldxw %r0, %r1", 1, 11, /memory operand/],
    ["call elsewhere 3", 1, 6, /unknown call mode/],
    ["lddw %r0, 0x10000000000000000", 1, 11, /64 bits/],
  ];
  for (const [src, line, column, re] of bad) {
    assert.throws(() => assemble(src), (e: unknown) => {
      assert.ok(e instanceof BpfError, src);
      assert.equal(e.code, "ASSEMBLE");
      assert.match(e.message, re, src);
      assert.deepEqual([e.location.line, e.location.column], [line, column], src);
      return true;
    });
  }
});
