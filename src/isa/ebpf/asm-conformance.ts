// The bpf_conformance / uBPF mnemonic syntax: `add32 %r0, -3`, `ldxdw %r0, [%r1+8]`, `lock fetch add [%r10-8], %r1`,
// `jeq %r1, 0x5, L1`, `call local fn`, `call %r2` (callx), `ja32 L` (gotol), `movsx832`, `swap16` (= bswap16).
// Mirrors the encoding of bpf_conformance's assembler (lib/src/bpf_assembler.cc) so its 313 test programs assemble as written.

import type { AsmContext, Token } from "./asm-context.ts";
import { insn } from "./insn.ts";
import { isRegisterText, readImm32, readOff16, readRegister, splitOperands } from "./asm-operands.ts";
import { parseIntLiteral, toImm64Halves } from "./asm-numbers.ts";
import { ALU_OPS, ATOMIC_ALU_OPS, COND_JMP_OPS, SIZES } from "./opcode-table.ts";
import {
  BPF_ABS, BPF_ALU, BPF_ALU64, BPF_ATOMIC, BPF_CALL, BPF_CMPXCHG, BPF_DW, BPF_END, BPF_EXIT, BPF_FETCH,
  BPF_IMM, BPF_IND, BPF_JA, BPF_JMP, BPF_JMP32, BPF_K, BPF_LD, BPF_LDX, BPF_MEM, BPF_MEMSX, BPF_MOV, BPF_PSEUDO_CALL,
  BPF_PSEUDO_KFUNC_CALL, BPF_ST, BPF_STX, BPF_TO_BE, BPF_TO_LE, BPF_W, BPF_X, BPF_XCHG,
} from "./opcodes.ts";

/** ALU mnemonic stem → [op, off], from the ALU table: sdiv/smod are div/mod with off=1 (RFC 9669 §4.1). */
export const CONFORMANCE_ALU: ReadonlyMap<string, readonly [number, number]> = new Map<string, readonly [number, number]>(
  ALU_OPS.filter((a) => a.op !== BPF_END).flatMap((a) => [[a.name, [a.op, 0]] as const, ...(a.signed ? [[a.signed.name, [a.op, 1]] as const] : [])]),
);
const CONFORMANCE_JMP = new Map(COND_JMP_OPS.map((j) => [j.name, j.op]));
const CONFORMANCE_SIZE = new Map(SIZES.map((s) => [s.suffix, s.size]));
/** Atomic operation word → imm (without BPF_FETCH). */
const CONFORMANCE_ATOMIC = new Map<string, number>([...ATOMIC_ALU_OPS.map((a) => [a.name, a.op] as const), ["xchg", BPF_XCHG], ["cmpxchg", BPF_CMPXCHG]]);

const alt = (names: Iterable<string>): string => [...names].sort((a, b) => b.length - a.length).join("|");
const ALU_RE = new RegExp(`^(${alt(CONFORMANCE_ALU.keys())})(32|64)?$`);
const JMP_RE = new RegExp(`^(${alt(CONFORMANCE_JMP.keys())})(32)?$`);
const SIZE_ALT = alt(CONFORMANCE_SIZE.keys());
const ATOMIC_RE = new RegExp(`^(${alt(CONFORMANCE_ATOMIC.keys())})(32|64)?$`);

const CONFORMANCE_MNEMONIC = [
  ALU_RE, JMP_RE, /^movsx(8|16|32)(32|64)$/, /^(le|be|swap|bswap)(16|32|64)$/,
  new RegExp(`^(ldx|ldxs|st|stx|ldabs|ldind)(${SIZE_ALT})$`), /^(lddw|ja|ja32|exit|call|callx|lock)$/,
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

  if ((m = ALU_RE.exec(word))) {
    const [op, off] = CONFORMANCE_ALU.get(m[1]!)!;
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
  if ((m = JMP_RE.exec(word))) {
    arity(3);
    const cls = m[2] ? BPF_JMP32 : BPF_JMP;
    const dst = readRegister(ctx, ops[0]!);
    const b = ops[1]!;
    const code = cls | CONFORMANCE_JMP.get(m[1]!)! | (isRegisterText(b.text) ? BPF_X : BPF_K);
    const src = isRegisterText(b.text) ? readRegister(ctx, b) : 0;
    const imm = isRegisterText(b.text) ? 0 : readImm32(ctx, b);
    return emitTarget(ctx, insn(code, dst, src, 0, imm), "off", ops[2]!);
  }
  if ((m = new RegExp(`^(ldxs?)(${SIZE_ALT})$`).exec(word))) {
    arity(2);
    const mode = m[1] === "ldxs" ? BPF_MEMSX : BPF_MEM;
    if (mode === BPF_MEMSX && m[2] === "dw") ctx.fail(`'${word}' is not an instruction (no sign-extending 64-bit load)`, head.column);
    const [src, off] = readMemory(ctx, ops[1]!);
    return ctx.emit(insn(BPF_LDX | mode | CONFORMANCE_SIZE.get(m[2]!)!, readRegister(ctx, ops[0]!), src, off, 0));
  }
  if ((m = new RegExp(`^st(${SIZE_ALT})$`).exec(word))) {
    arity(2);
    const [dst, off] = readMemory(ctx, ops[0]!);
    return ctx.emit(insn(BPF_ST | BPF_MEM | CONFORMANCE_SIZE.get(m[1]!)!, dst, 0, off, readImm32(ctx, ops[1]!)));
  }
  if ((m = new RegExp(`^stx(${SIZE_ALT})$`).exec(word))) {
    arity(2);
    const [dst, off] = readMemory(ctx, ops[0]!);
    return ctx.emit(insn(BPF_STX | BPF_MEM | CONFORMANCE_SIZE.get(m[1]!)!, dst, readRegister(ctx, ops[1]!), off, 0));
  }
  if ((m = new RegExp(`^ldabs(${SIZE_ALT})$`).exec(word))) {
    arity(1);
    return ctx.emit(insn(BPF_LD | BPF_ABS | CONFORMANCE_SIZE.get(m[1]!)!, 0, 0, 0, readImm32(ctx, ops[0]!)));
  }
  if ((m = new RegExp(`^ldind(${SIZE_ALT})$`).exec(word))) {
    arity(2);
    return ctx.emit(insn(BPF_LD | BPF_IND | CONFORMANCE_SIZE.get(m[1]!)!, 0, readRegister(ctx, ops[0]!), 0, readImm32(ctx, ops[1]!)));
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
  const m = ATOMIC_RE.exec(opTok.text);
  if (!m) ctx.fail(`unknown atomic operation '${opTok.text}'`, opTok.column);
  if (ops.length !== i + 3) ctx.fail(`'lock ${opTok.text}' takes a memory operand and a register`, opTok.column);
  const base = CONFORMANCE_ATOMIC.get(m[1]!)!;
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
