import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Insn } from "./insn.ts";
import { decodeProgram, encodeProgram } from "./encode.ts";
import { validateProgram } from "./validate.ts";
import { disassembleKernel } from "./disasm-kernel.ts";
import { disassembleLlvm } from "./disasm-llvm.ts";
import { assemble } from "./assemble.ts";
import { VALID_CODES, validInsn, validInsnOf, validProgram } from "./valid-insns.testkit.ts";
import { opcodeInfo } from "./opcode-table.ts";

const RUNS = { numRuns: 300 };

test("the generator covers every valid opcode and each instance validates", () => {
  assert.equal(VALID_CODES.length, 129);
  for (const o of VALID_CODES) {
    for (const insns of fc.sample(validInsnOf(o), 20)) validateProgram(insns, { checkTargets: false });
  }
});

test("decode(encode(p)) = p in both byte orders", () => {
  fc.assert(fc.property(validProgram(), fc.boolean(), (p, bigEndian) => {
    assert.deepEqual(decodeProgram(encodeProgram(p, { bigEndian }), { bigEndian }), p);
  }), RUNS);
});

test("encode places fields as the kernel lays out struct bpf_insn (both byte orders)", () => {
  const x: Insn = { code: 0x61, dst: 1, src: 2, off: -3, imm: 0x11223344 };
  assert.deepEqual([...encodeProgram([x])], [0x61, 0x21, 0xfd, 0xff, 0x44, 0x33, 0x22, 0x11]);
  assert.deepEqual([...encodeProgram([x], { bigEndian: true })], [0x61, 0x12, 0xff, 0xfd, 0x11, 0x22, 0x33, 0x44]);
});

// What the kernel text cannot carry: ldimm64 with src 3 (BTF id) or 5 (map idx) prints as a bare number, callx has no
// kernel spelling, a kfunc call's off (BTF fd index) is not printed.
const kernelLossless = (p: readonly Insn[]): boolean => p.every((x, i) => {
  const k = opcodeInfo(x.code)?.kind;
  const prev = i > 0 ? p[i - 1] : undefined;
  if (prev && opcodeInfo(prev.code)?.kind === "lddw") return true;
  return !(k === "lddw" && (x.src === 3 || x.src === 5)) && k !== "callx" && !(k === "call" && x.src === 2 && x.off !== 0);
});

test("assemble(disassembleKernel(p)) = p", () => {
  fc.assert(fc.property(validProgram(), (p) => {
    fc.pre(kernelLossless(p));
    const text = disassembleKernel(p).join("\n");
    assert.deepEqual(assemble(text), p, text);
  }), RUNS);
});

test("assemble(disassembleKernel(p, {opcodes})) = p: byte lines are skipped", () => {
  fc.assert(fc.property(validProgram(10), (p) => {
    fc.pre(kernelLossless(p));
    assert.deepEqual(assemble(disassembleKernel(p, { opcodes: true }).join("\n")), p);
  }), { numRuns: 100 });
});

// What llvm's text cannot carry: ld_pseudo prints only the low imm, `call N` drops src, skb[rN] drops the imm, the
// arena cast has no llvm spelling here.
const llvmNormal = (p: readonly Insn[]): Insn[] => p.map((x, i) => {
  const prev = i > 0 ? p[i - 1]! : undefined;
  if (prev && prev.code === 0x18 && prev.src !== 0) return { ...x, imm: 0 };
  const k = opcodeInfo(x.code)?.kind;
  if (k === "call") return { ...x, src: 0, off: 0 };
  if (k === "ldind") return { ...x, imm: 0 };
  return x;
});
const isArenaCast = (x: Insn): boolean => x.code === 0xbf && x.off === 1;

test("assemble(disassembleLlvm(p, {modern})) = p, with and without alu32", () => {
  fc.assert(fc.property(validProgram(), fc.boolean(), (p, alu32) => {
    fc.pre(!p.some(isArenaCast));
    const text = disassembleLlvm(p, { modern: true, alu32 }).join("\n");
    assert.deepEqual(assemble(text), llvmNormal(p), text);
  }), RUNS);
});

test("LLVM 14 text re-assembles to the same bytes for every instruction LLVM 14 knows", () => {
  fc.assert(fc.property(validInsn, (p) => {
    const [text] = disassembleLlvm(p);
    const x = p[0]!;
    fc.pre(text !== "<unknown>" && !isArenaCast(x) && opcodeInfo(x.code)!.kind !== "callx");
    // LLVM 14 reads 8 bits of an atomic imm, and without alu32 prints a 32-bit fetch-add as a plain add.
    fc.pre(!(opcodeInfo(x.code)!.kind === "atomic" && (x.imm >= 0x100 || ((x.code & 0x18) === 0 && x.imm === 1))));
    // LLVM 14 ignores off of div (sdiv) and of mov (movsx): its text names the unsigned/plain form.
    const expected = llvmNormal(p).map((x) => ((x.code & 0x07) === 0x04 || (x.code & 0x07) === 0x07) && (x.code & 0x08) ? { ...x, off: 0 } : x)
      .map((x) => ((x.code & 0xf7) === 0x34 || (x.code & 0xf7) === 0x37) ? { ...x, off: 0 } : x);
    assert.deepEqual(assemble(text!), expected, text);
  }), RUNS);
});
