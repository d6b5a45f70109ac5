// The bpf_conformance / uBPF mnemonic syntax: `add32 %r0, -3`, `ldxdw %r0, [%r1+8]`, `lock fetch add [%r10-8], %r1`,
// `jeq %r1, 0x5, L1`, `call local fn`, `call %r2` (callx), `ja32 L` (gotol), `movsx832`, `swap16` (= bswap16).
// Mirrors the encoding of bpf_conformance's assembler (lib/src/bpf_assembler.cc) so its 313 test programs assemble as written.

import type { AsmContext, Token } from "./asm-context.ts";
import { insn } from "./insn.ts";
import { isRegisterText, readImm32, readOff16, readRegister, splitOperands } from "./asm-operands.ts";
import { parseIntLiteral, toImm64Halves } from "./asm-numbers.ts";
import {
  BPF_ABS, BPF_ALU, BPF_ALU64, BPF_ATOMIC, BPF_B, BPF_CALL, BPF_CMPXCHG, BPF_DW, BPF_END, BPF_EXIT, BPF_FETCH, BPF_H,
  BPF_IMM, BPF_IND, BPF_JA, BPF_JMP, BPF_JMP32, BPF_K, BPF_LD, BPF_LDX, BPF_MEM, BPF_MEMSX, BPF_MOV, BPF_PSEUDO_CALL,
  BPF_PSEUDO_KFUNC_CALL, BPF_ST, BPF_STX, BPF_TO_BE, BPF_TO_LE, BPF_W, BPF_X, BPF_XCHG,
} from "./opcodes.ts";

/** ALU mnemonic stem → [op, off]; sdiv/smod are div/mod with off=1 (RFC 9669 §4.1). */
export const CONFORMANCE_ALU: Readonly<Record<string, readonly [number, number]>> = {
  add: [0x00, 0], sub: [0x10, 0], mul: [0x20, 0], div: [0x30, 0], sdiv: [0x30, 1], or: [0x40, 0], and: [0x50, 0],
  lsh: [0x60, 0], rsh: [0x70, 0], neg: [0x80, 0], mod: [0x90, 0], smod: [0x90, 1], xor: [0xa0, 0], mov: [0xb0, 0],
  arsh: [0xc0, 0],
};

export const CONFORMANCE_JMP: Readonly<Record<string, number>> = {
  jeq: 0x10, jgt: 0x20, jge: 0x30, jset: 0x40, jne: 0x50, jsgt: 0x60, jsge: 0x70, jlt: 0xa0, jle: 0xb0, jslt: 0xc0,
  jsle: 0xd0,
};

export const CONFORMANCE_SIZE: Readonly<Record<string, number>> = { b: BPF_B, h: BPF_H, w: BPF_W, dw: BPF_DW };

/** Atomic operation word → imm (without BPF_FETCH). */
export const CONFORMANCE_ATOMIC: Readonly<Record<string, number>> = {
  add: 0x00, or: 0x40, and: 0x50, xor: 0xa0, xchg: BPF_XCHG, cmpxchg: BPF_CMPXCHG,
};

const CONFORMANCE_MNEMONIC = [
  /^(add|sub|mul|div|sdiv|or|and|lsh|rsh|neg|mod|smod|xor|mov|arsh)(32|64)?$/, /^movsx(8|16|32)(32|64)$/,
  /^(le|be|swap|bswap)(16|32|64)$/, /^(jeq|jgt|jge|jset|jne|jsgt|jsge|jlt|jle|jslt|jsle)(32)?$/,
  /^(ldx|ldxs|st|stx|ldabs|ldind)(b|h|w|dw)$/, /^(lddw|ja|ja32|exit|call|callx|lock)$/,
];

/** Whether `word` is a mnemonic of this syntax (how the assembler tells it from the llvm/kernel syntaxes). */
export const isConformanceMnemonic = (word: string): boolean => CONFORMANCE_MNEMONIC.some((re) => re.test(word));

/** Assembles one instruction `text` (comment and label already removed) starting at 1-based `column`. */
export function assembleConformanceLine(ctx: AsmContext, text: string, column: number): void {
  const tokens = splitOperands(text, column);
  const head = tokens[0]!;
  const ops = tokens.slice(1);
  const word = head.text;
  const arity = (n: number): void => {
    if (ops.length !== n) ctx.fail(`'${word}' takes ${n} operand${n === 1 ? "" : "s"}, got ${ops.length}`, head.column);
  };
  let m: RegExpExecArray | null;

  if ((m = /^(add|sub|mul|div|sdiv|or|and|lsh|rsh|neg|mod|smod|xor|mov|arsh)(32|64)?$/.exec(word))) {
    const [op, off] = CONFORMANCE_ALU[m[1]!]!;
    const cls = m[2] === "32" ? BPF_ALU : BPF_ALU64;
    const dst = (arity(op === 0x80 ? 1 : 2), readRegister(ctx, ops[0]!));
    if (op === 0x80) return ctx.emit(insn(cls | op, dst, 0, off, 0));
    return emitAluOperand(ctx, cls | op, dst, off, ops[1]!);
  }
  if ((m = /^movsx(8|16|32)(32|64)$/.exec(word))) {
    arity(2);
    const cls = m[2] === "32" ? BPF_ALU : BPF_ALU64;
    return ctx.emit(insn(cls | BPF_MOV | BPF_X, readRegister(ctx, ops[0]!), readRegister(ctx, ops[1]!), Number(m[1]), 0));
  }
  if ((m = /^(le|be|swap|bswap)(16|32|64)$/.exec(word))) {
    arity(1);
    // swapN/bswapN: unconditional byte swap, ALU64|END|TO_LE (RFC 9669 §4.2).
    const code = m[1] === "le" ? BPF_ALU | BPF_END | BPF_TO_LE
      : m[1] === "be" ? BPF_ALU | BPF_END | BPF_TO_BE : BPF_ALU64 | BPF_END | BPF_TO_LE;
    return ctx.emit(insn(code, readRegister(ctx, ops[0]!), 0, 0, Number(m[2])));
  }
  if ((m = /^(jeq|jgt|jge|jset|jne|jsgt|jsge|jlt|jle|jslt|jsle)(32)?$/.exec(word))) {
    arity(3);
    const cls = m[2] ? BPF_JMP32 : BPF_JMP;
    const dst = readRegister(ctx, ops[0]!);
    const b = ops[1]!;
    const code = cls | CONFORMANCE_JMP[m[1]!]! | (isRegisterText(b.text) ? BPF_X : BPF_K);
    const src = isRegisterText(b.text) ? readRegister(ctx, b) : 0;
    const imm = isRegisterText(b.text) ? 0 : readImm32(ctx, b);
    return emitTarget(ctx, insn(code, dst, src, 0, imm), "off", ops[2]!);
  }
  if ((m = /^(ldxs?)(b|h|w|dw)$/.exec(word))) {
    arity(2);
    const mode = m[1] === "ldxs" ? BPF_MEMSX : BPF_MEM;
    if (mode === BPF_MEMSX && m[2] === "dw") ctx.fail(`'${word}' is not an instruction (no sign-extending 64-bit load)`, head.column);
    const [src, off] = readMemory(ctx, ops[1]!);
    return ctx.emit(insn(BPF_LDX | mode | CONFORMANCE_SIZE[m[2]!]!, readRegister(ctx, ops[0]!), src, off, 0));
  }
  if ((m = /^st(b|h|w|dw)$/.exec(word))) {
    arity(2);
    const [dst, off] = readMemory(ctx, ops[0]!);
    return ctx.emit(insn(BPF_ST | BPF_MEM | CONFORMANCE_SIZE[m[1]!]!, dst, 0, off, readImm32(ctx, ops[1]!)));
  }
  if ((m = /^stx(b|h|w|dw)$/.exec(word))) {
    arity(2);
    const [dst, off] = readMemory(ctx, ops[0]!);
    return ctx.emit(insn(BPF_STX | BPF_MEM | CONFORMANCE_SIZE[m[1]!]!, dst, readRegister(ctx, ops[1]!), off, 0));
  }
  if ((m = /^ldabs(b|h|w|dw)$/.exec(word))) {
    arity(1);
    return ctx.emit(insn(BPF_LD | BPF_ABS | CONFORMANCE_SIZE[m[1]!]!, 0, 0, 0, readImm32(ctx, ops[0]!)));
  }
  if ((m = /^ldind(b|h|w|dw)$/.exec(word))) {
    arity(2);
    return ctx.emit(insn(BPF_LD | BPF_IND | CONFORMANCE_SIZE[m[1]!]!, 0, readRegister(ctx, ops[0]!), 0, readImm32(ctx, ops[1]!)));
  }
  switch (word) {
    case "lddw": {
      arity(2);
      const dst = readRegister(ctx, ops[0]!);
      const v = parseIntLiteral(ops[1]!.text);
      if (v === undefined) ctx.fail(`expected a 64-bit integer, got '${ops[1]!.text}'`, ops[1]!.column);
      const halves = toImm64Halves(v);
      if (!halves) ctx.fail(`immediate ${ops[1]!.text} does not fit in 64 bits`, ops[1]!.column);
      ctx.emit(insn(BPF_LD | BPF_IMM | BPF_DW, dst, 0, 0, halves.lo));
      return ctx.emit(insn(0, 0, 0, 0, halves.hi));
    }
    case "ja":
      arity(1);
      return emitTarget(ctx, insn(BPF_JMP | BPF_JA), "off", ops[0]!);
    case "ja32":
      arity(1);
      return emitTarget(ctx, insn(BPF_JMP32 | BPF_JA), "imm", ops[0]!);
    case "exit":
      arity(0);
      return ctx.emit(insn(BPF_JMP | BPF_EXIT));
    case "callx":
      arity(1);
      return ctx.emit(insn(BPF_JMP | BPF_CALL | BPF_X, readRegister(ctx, ops[0]!)));
    case "call":
      return assembleCall(ctx, head, ops);
    case "lock":
      return assembleLock(ctx, head, ops);
  }
  ctx.fail(`unknown instruction '${word}'`, head.column);
}

function emitAluOperand(ctx: AsmContext, code: number, dst: number, off: number, b: Token): void {
  if (isRegisterText(b.text)) ctx.emit(insn(code | BPF_X, dst, readRegister(ctx, b), off, 0));
  else ctx.emit(insn(code | BPF_K, dst, 0, off, readImm32(ctx, b)));
}

/** A jump target: `+N`/`-N` is a relative slot count, anything else a label resolved after the last line. */
function emitTarget(ctx: AsmContext, base: ReturnType<typeof insn>, field: "off" | "imm", t: Token): void {
  if (/^[+-]/.test(t.text)) {
    const v = field === "off" ? readOff16(ctx, t) : readImm32(ctx, t);
    return ctx.emit({ ...base, [field]: v });
  }
  if (!/^[A-Za-z_.$][\w.$]*$/.test(t.text)) ctx.fail(`expected a label or +/-offset, got '${t.text}'`, t.column);
  ctx.emitToLabel(base, field, t);
}

/** `call N` / `call helper N` (helper), `call %rN` (callx, register in dst), `call local L` (src=1), `call runtime N` (kfunc, src=2). */
function assembleCall(ctx: AsmContext, head: Token, ops: readonly Token[]): void {
  const code = BPF_JMP | BPF_CALL;
  if (ops.length === 1) {
    const t = ops[0]!;
    if (isRegisterText(t.text)) return ctx.emit(insn(code | BPF_X, readRegister(ctx, t)));
    return ctx.emit(insn(code, 0, 0, 0, readImm32(ctx, t)));
  }
  if (ops.length !== 2) ctx.fail(`'call' takes a target or a mode and a target`, head.column);
  const [mode, t] = ops as [Token, Token];
  switch (mode.text) {
    case "helper":
      if (isRegisterText(t.text)) return ctx.emit(insn(code | BPF_X, readRegister(ctx, t)));
      return ctx.emit(insn(code, 0, 0, 0, readImm32(ctx, t)));
    case "local":
      return emitTarget(ctx, insn(code, 0, BPF_PSEUDO_CALL), "imm", t);
    case "runtime":
      return ctx.emit(insn(code, 0, BPF_PSEUDO_KFUNC_CALL, 0, readImm32(ctx, t)));
  }
  ctx.fail(`unknown call mode '${mode.text}' (expected helper, local or runtime)`, mode.column);
}

/** `lock [fetch] OP[32] [%rD+off], %rS` with OP in add/or/and/xor/xchg/cmpxchg. */
function assembleLock(ctx: AsmContext, head: Token, ops: readonly Token[]): void {
  let i = 0;
  const fetch = ops[0]?.text === "fetch";
  if (fetch) i++;
  const opTok = ops[i];
  if (!opTok) ctx.fail(`'lock' needs an atomic operation`, head.column);
  const m = /^(add|or|and|xor|xchg|cmpxchg)(32|64)?$/.exec(opTok.text);
  if (!m) ctx.fail(`unknown atomic operation '${opTok.text}'`, opTok.column);
  if (ops.length !== i + 3) ctx.fail(`'lock ${opTok.text}' takes a memory operand and a register`, opTok.column);
  const base = CONFORMANCE_ATOMIC[m[1]!]!;
  const imm = base | (fetch ? BPF_FETCH : 0);
  const [dst, off] = readMemory(ctx, ops[i + 1]!);
  const size = m[2] === "32" ? BPF_W : BPF_DW;
  ctx.emit(insn(BPF_STX | BPF_ATOMIC | size, dst, readRegister(ctx, ops[i + 2]!), off, imm));
}

/** `[%rN]`, `[%rN+8]`, `[%rN-0x10]`, spaces allowed inside. */
function readMemory(ctx: AsmContext, t: Token): [number, number] {
  const m = /^\[\s*(%?r\d+)\s*(?:([+-])\s*(0x[0-9a-f]+|\d+)\s*)?\]$/i.exec(t.text);
  if (!m) ctx.fail(`expected a memory operand like [%r1+8], got '${t.text}'`, t.column);
  const reg = readRegister(ctx, { text: m[1]!, column: t.column + t.text.indexOf(m[1]!) });
  const off = m[2] ? readOff16(ctx, { text: m[2] + m[3]!, column: t.column }) : 0;
  return [reg, off];
}
