// Operand readers shared by the assembler syntaxes: registers, immediates, offsets, with errors at the operand's column.

import type { AsmContext, Token } from "./asm-context.ts";
import { parseIntLiteral, toImm32, toOff16 } from "./asm-numbers.ts";

/** Registers r0..r15 fit the 4-bit field; r11..r15 assemble (for negative tests) and are rejected by validateProgram. */
export function readRegister(ctx: AsmContext, t: Token, allowPercent = true): number {
  const m = (allowPercent ? /^%?[rw](\d+)$/ : /^[rw](\d+)$/).exec(t.text);
  const n = m ? Number(m[1]) : NaN;
  if (!m || n > 15) ctx.fail(`invalid register '${t.text}'`, t.column);
  return n;
}

export function readImm32(ctx: AsmContext, t: Token): number {
  const v = parseIntLiteral(t.text);
  if (v === undefined) ctx.fail(`expected an integer, got '${t.text}'`, t.column);
  const imm = toImm32(v);
  if (imm === undefined) ctx.fail(`immediate ${t.text} does not fit in 32 bits`, t.column);
  return imm;
}

export function readOff16(ctx: AsmContext, t: Token): number {
  const v = parseIntLiteral(t.text);
  if (v === undefined) ctx.fail(`expected an integer offset, got '${t.text}'`, t.column);
  const off = toOff16(v, /0x/i.test(t.text));
  if (off === undefined) ctx.fail(`offset ${t.text} does not fit in 16 bits`, t.column);
  return off;
}

export const isRegisterText = (s: string): boolean => /^%?[rw]\d+$/.test(s);
export const isIntText = (s: string): boolean => parseIntLiteral(s) !== undefined;

/** Splits `text` (starting at 1-based `column`) into tokens: bracketed groups stay whole, separators are spaces and commas. */
export function splitOperands(text: string, column: number): Token[] {
  const out: Token[] = [];
  for (const m of text.matchAll(/\[[^\]]*\]?|[^\s,]+/g)) out.push({ text: m[0], column: column + m.index });
  return out;
}
