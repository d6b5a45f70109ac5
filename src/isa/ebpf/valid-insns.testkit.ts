// Test support (imported by tests only): fast-check arbitraries for instructions that pass validateProgram, covering
// every opcode of the table with its field rules, for property tests here and in other layers (VM, verifier fuzzing).

import fc from "fast-check";
import type { Insn } from "./insn.ts";
import { OPCODES, type OpcodeInfo } from "./opcode-table.ts";

const reg = fc.integer({ min: 0, max: 10 });
const imm32 = fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.constantFrom(0, 1, -1, 16, 0x7fffffff, -(2 ** 31)));
const off16 = fc.oneof(fc.integer({ min: -32768, max: 32767 }), fc.constantFrom(0, 1, -1));

/** Every code validateProgram accepts (the table minus kernel-internal codes). */
export const VALID_CODES: readonly OpcodeInfo[] = OPCODES.filter((o): o is OpcodeInfo => !!o && o.origin !== "kernel");

const one = (code: number, f: Partial<Insn>): Insn[] => [{ code, dst: 0, src: 0, off: 0, imm: 0, ...f }];

/** The slots (1, or 2 for lddw) of one valid instruction with the given opcode. */
export function validInsnOf(o: OpcodeInfo): fc.Arbitrary<Insn[]> {
  const c = o.code;
  const op = c & 0xf0;
  switch (o.kind) {
    case "alu": {
      const divmod = op === 0x30 || op === 0x90;
      if (!o.useSrcReg) {
        return fc.tuple(reg, imm32, fc.constantFrom(...(divmod ? [0, 1] : [0]))).map(([dst, imm, off]) => one(c, { dst, imm, off }));
      }
      const offs = divmod ? [0, 1] : op === 0xb0 ? (o.is32 ? [0, 8, 16] : [0, 8, 16, 32]) : [0];
      const plain = fc.tuple(reg, reg, fc.constantFrom(...offs)).map(([dst, src, off]) => one(c, { dst, src, off }));
      if (op !== 0xb0 || o.is32) return plain;
      const cast = fc.tuple(reg, reg, fc.constantFrom(1, 0x10000)).map(([dst, src, imm]) => one(c, { dst, src, off: 1, imm }));
      return fc.oneof(plain, cast);
    }
    case "neg": return reg.map((dst) => one(c, { dst }));
    case "end":
    case "bswap": return fc.tuple(reg, fc.constantFrom(16, 32, 64)).map(([dst, imm]) => one(c, { dst, imm }));
    case "jcond":
      return o.useSrcReg
        ? fc.tuple(reg, reg, off16).map(([dst, src, off]) => one(c, { dst, src, off }))
        : fc.tuple(reg, imm32, off16).map(([dst, imm, off]) => one(c, { dst, imm, off }));
    case "ja":
    case "may_goto": return off16.map((off) => one(c, { off }));
    case "gotol": return imm32.map((imm) => one(c, { imm }));
    case "call": return fc.oneof(
      imm32.map((imm) => one(c, { imm })),
      imm32.map((imm) => one(c, { src: 1, imm })),
      fc.tuple(imm32, off16).map(([imm, off]) => one(c, { src: 2, imm, off })),
    );
    case "callx": return reg.map((dst) => one(c, { dst }));
    case "exit": return fc.constant(one(c, {}));
    case "lddw": return fc.tuple(reg, fc.integer({ min: 0, max: 6 }), imm32, imm32).map(([dst, src, lo, hi]) => [
      { code: c, dst, src, off: 0, imm: lo },
      { code: 0, dst: 0, src: 0, off: 0, imm: src === 1 || src === 4 || src === 5 ? 0 : hi },
    ]);
    case "ldabs": return imm32.map((imm) => one(c, { imm }));
    case "ldind": return fc.tuple(reg, imm32).map(([src, imm]) => one(c, { src, imm }));
    case "ldx":
    case "ldxs": return fc.tuple(reg, reg, off16).map(([dst, src, off]) => one(c, { dst, src, off }));
    case "st": return fc.tuple(reg, off16, imm32).map(([dst, off, imm]) => one(c, { dst, off, imm }));
    case "stx": return fc.tuple(reg, reg, off16).map(([dst, src, off]) => one(c, { dst, src, off }));
    case "atomic": {
      const size = c & 0x18;
      const imms = size === 0x00 || size === 0x18 ? [0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1, 0x100, 0x110] : [0x100, 0x110];
      return fc.tuple(reg, reg, off16, fc.constantFrom(...imms)).map(([dst, src, off, imm]) => one(c, { dst, src, off, imm }));
    }
    case "gotox":
    case "nospec": throw new Error(`no valid encoding of kernel-internal ${o.kind}`);
  }
}

/** One valid instruction of any opcode (every opcode equally likely). */
export const validInsn: fc.Arbitrary<Insn[]> = fc.constantFrom(...VALID_CODES).chain(validInsnOf);

/** A program of valid instructions (jump targets unchecked: validate with checkTargets: false). */
export const validProgram = (maxLength = 40, minLength = 1): fc.Arbitrary<Insn[]> =>
  fc.array(validInsn, { minLength, maxLength }).map((xs) => xs.flat());
