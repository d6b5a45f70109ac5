// Code-generator primitives (gencode.c): joining blocks with and/or/not through the `sense` bit and backpatching,
// comparisons against packet fields at link/network/transport-relative offsets, and the accessor arithmetic
// (`tcp[13] & 2 != 0`) with its scratch-register allocation.
import {
  BPF_LD, BPF_LDX, BPF_ST, BPF_ALU, BPF_JMP, BPF_ABS, BPF_IND, BPF_MEM, BPF_MSH, BPF_LEN, BPF_IMM, BPF_K, BPF_X,
  BPF_B, BPF_H, BPF_W, BPF_AND, BPF_OR, BPF_LSH, BPF_ADD, BPF_NEG, BPF_DIV, BPF_MOD, BPF_RSH, BPF_JEQ, BPF_JGT, BPF_JGE,
  BPF_MISC, BPF_TAX,
} from "../isa/cbpf/insn.ts";
import { type Block, type SList, newBlock, newStmt, sappend } from "./blocks.ts";
import { type AbsOffset, type CompilerState, allocReg, freeReg, fail } from "./state.ts";

export const JMP = (op: number): number => BPF_JMP | op | BPF_K;

// gencode.c enum e_offrel: what an offset is relative to.
export const enum OffRel {
  PACKET, LINKHDR, PREVLINKHDR, LLC, PREVMPLSHDR, LINKTYPE, LINKPL, LINKPL_NOSNAP, TRAN_IPV4, TRAN_IPV6,
}

const JT = (b: Block): Block | null => b.et.succ;
const JF = (b: Block): Block | null => b.ef.succ;

/** Points every open exit of `list` (true exits when sense is clear, false exits when set) at `target`. */
export function backpatch(list: Block | null, target: Block): void {
  while (list !== null) {
    let next: Block | null;
    if (!list.sense) { next = JT(list); list.et.succ = target; }
    else { next = JF(list); list.ef.succ = target; }
    list = next;
  }
}

/** Appends list b1 at the end of b0's chain of open exits. */
export function merge(b0: Block, b1: Block): void {
  let p = b0;
  for (;;) {
    const e = !p.sense ? p.et : p.ef;
    if (e.succ === null) { e.succ = b1; return; }
    p = e.succ;
  }
}

export function genAnd(b0: Block, b1: Block): void {
  backpatch(b0, b1.head);
  b0.sense = !b0.sense;
  b1.sense = !b1.sense;
  merge(b1, b0);
  b1.sense = !b1.sense;
  b1.head = b0.head;
}

export function genOr(b0: Block, b1: Block): void {
  b0.sense = !b0.sense;
  backpatch(b0, b1.head);
  b0.sense = !b0.sense;
  merge(b1, b0);
  b1.head = b0.head;
}

export function genNot(b: Block): void {
  b.sense = !b.sense;
}

/** The variable part of an offset: `ldx M[reg]` (allocating the register on first use), or null when constant. */
export function absOffsetVarpart(cs: CompilerState, o: AbsOffset): SList | null {
  if (!o.isVariable) return null;
  if (o.reg === -1) o.reg = allocReg(cs);
  return newStmt(BPF_LDX | BPF_MEM, o.reg);
}

function loadAbsOffsetRel(cs: CompilerState, o: AbsOffset, offset: number, size: number): SList {
  const s = absOffsetVarpart(cs, o);
  if (s !== null) {
    sappend(s, newStmt(BPF_LD | BPF_IND | size, o.constantPart + offset));
    return s;
  }
  return newStmt(BPF_LD | BPF_ABS | size, o.constantPart + offset);
}

/** X = length of the IPv4 header (ldxb 4*([n]&0xf), or computed when the payload offset is variable). */
export function loadxIpHdrLen(cs: CompilerState): SList {
  const s = absOffsetVarpart(cs, cs.offLinkpl);
  if (s !== null) {
    sappend(s, newStmt(BPF_LD | BPF_IND | BPF_B, cs.offLinkpl.constantPart + cs.offNl));
    sappend(s, newStmt(BPF_ALU | BPF_AND | BPF_K, 0xf));
    sappend(s, newStmt(BPF_ALU | BPF_LSH | BPF_K, 2));
    sappend(s, newStmt(BPF_ALU | BPF_ADD | BPF_X));
    sappend(s, newStmt(BPF_MISC | BPF_TAX));
    return s;
  }
  return newStmt(BPF_LDX | BPF_MSH | BPF_B, cs.offLinkpl.constantPart + cs.offNl);
}

/** A = the `size` bytes at `offset` relative to `rel`. */
export function loadA(cs: CompilerState, rel: OffRel, offset: number, size: number): SList {
  switch (rel) {
    case OffRel.PACKET: return newStmt(BPF_LD | BPF_ABS | size, offset);
    case OffRel.LINKHDR: return loadAbsOffsetRel(cs, cs.offLinkhdr, offset, size);
    case OffRel.PREVLINKHDR: return loadAbsOffsetRel(cs, cs.offPrevlinkhdr, offset, size);
    case OffRel.LLC: return loadAbsOffsetRel(cs, cs.offLinkpl, offset, size);
    case OffRel.PREVMPLSHDR: return loadAbsOffsetRel(cs, cs.offLinkpl, cs.offNl - 4 + offset, size);
    case OffRel.LINKPL: return loadAbsOffsetRel(cs, cs.offLinkpl, cs.offNl + offset, size);
    case OffRel.LINKPL_NOSNAP: return loadAbsOffsetRel(cs, cs.offLinkpl, cs.offNlNosnap + offset, size);
    case OffRel.LINKTYPE: return loadAbsOffsetRel(cs, cs.offLinktype, offset, size);
    case OffRel.TRAN_IPV4: {
      const s = loadxIpHdrLen(cs);
      sappend(s, newStmt(BPF_LD | BPF_IND | size, cs.offLinkpl.constantPart + cs.offNl + offset));
      return s;
    }
    case OffRel.TRAN_IPV6: return loadAbsOffsetRel(cs, cs.offLinkpl, cs.offNl + 40 + offset, size);
  }
}

export function genNcmp(cs: CompilerState, rel: OffRel, offset: number, size: number, mask: number, jtype: number,
  reverse: boolean, v: number): Block {
  const s = loadA(cs, rel, offset, size);
  if ((mask >>> 0) !== 0xffffffff) sappend(s, newStmt(BPF_ALU | BPF_AND | BPF_K, mask));
  const b = newBlock(JMP(jtype), v);
  b.stmts = s;
  if (reverse && (jtype === BPF_JGT || jtype === BPF_JGE)) genNot(b);
  return b;
}

export const genCmp = (cs: CompilerState, rel: OffRel, offset: number, size: number, v: number): Block =>
  genNcmp(cs, rel, offset, size, 0xffffffff, BPF_JEQ, false, v);
export const genCmpGt = (cs: CompilerState, rel: OffRel, offset: number, size: number, v: number): Block =>
  genNcmp(cs, rel, offset, size, 0xffffffff, BPF_JGT, false, v);
export const genCmpGe = (cs: CompilerState, rel: OffRel, offset: number, size: number, v: number): Block =>
  genNcmp(cs, rel, offset, size, 0xffffffff, BPF_JGE, false, v);
export const genCmpLt = (cs: CompilerState, rel: OffRel, offset: number, size: number, v: number): Block =>
  genNcmp(cs, rel, offset, size, 0xffffffff, BPF_JGE, true, v);
export const genCmpLe = (cs: CompilerState, rel: OffRel, offset: number, size: number, v: number): Block =>
  genNcmp(cs, rel, offset, size, 0xffffffff, BPF_JGT, true, v);
export const genMcmp = (cs: CompilerState, rel: OffRel, offset: number, size: number, v: number, mask: number): Block =>
  genNcmp(cs, rel, offset, size, mask, BPF_JEQ, false, v);

/** Compares a byte string, 4 then 2 then 1 bytes at a time from the end (gen_bcmp). */
export function genBcmp(cs: CompilerState, rel: OffRel, offset: number, v: Uint8Array | readonly number[]): Block {
  let size = v.length;
  let b: Block | null = null;
  const add = (tmp: Block): void => { if (b !== null) genAnd(b, tmp); b = tmp; };
  while (size >= 4) {
    const p = size - 4;
    add(genCmp(cs, rel, offset + size - 4, BPF_W, ((v[p]! << 24) | (v[p + 1]! << 16) | (v[p + 2]! << 8) | v[p + 3]!) >>> 0));
    size -= 4;
  }
  while (size >= 2) {
    const p = size - 2;
    add(genCmp(cs, rel, offset + size - 2, BPF_H, (v[p]! << 8) | v[p + 1]!));
    size -= 2;
  }
  if (size > 0) add(genCmp(cs, rel, offset, BPF_B, v[0]!));
  return b!;
}

/** Always true (rsense=1) or always false: `ld #1; jeq #0` / `ld #0; jeq #0`... as gen_uncond builds it. */
export function genUncond(rsense: boolean): Block {
  const b = newBlock(JMP(BPF_JEQ));
  b.stmts = newStmt(BPF_LD | BPF_IMM, rsense ? 0 : 1);
  return b;
}
export const genTrue = (): Block => genUncond(true);
export const genFalse = (): Block => genUncond(false);

/** jset #k on the byte at `offset` (relative to `rel`). */
export function genJset(cs: CompilerState, rel: OffRel, offset: number, k: number): Block {
  const b = newBlock(JMP(0x40 /* BPF_JSET */), k);
  b.stmts = loadA(cs, rel, offset, BPF_B);
  return b;
}

export function genRetblk(v: number): Block {
  return newBlock(0x06 | BPF_K, v);
}

// ---- accessor arithmetic (struct arth) ----

export interface ArthValue {
  /** Conditions the value depends on (e.g. "is TCP, not a fragment"), or null. */
  b: Block | null;
  s: SList;
  regno: number;
}

const xferToX = (a: ArthValue): SList => newStmt(BPF_LDX | BPF_MEM, a.regno);
const xferToA = (a: ArthValue): SList => newStmt(BPF_LD | BPF_MEM, a.regno);

export function genLoadi(cs: CompilerState, val: number): ArthValue {
  const reg = allocReg(cs);
  const s = newStmt(BPF_LD | BPF_IMM, val);
  s.next = newStmt(BPF_ST, reg);
  return { b: null, s, regno: reg };
}

export function genLoadlen(cs: CompilerState): ArthValue {
  const regno = allocReg(cs);
  const s = newStmt(BPF_LD | BPF_LEN);
  s.next = newStmt(BPF_ST, regno);
  return { b: null, s, regno };
}

export function genNeg(a: ArthValue): ArthValue {
  sappend(a.s, xferToA(a));
  sappend(a.s, newStmt(BPF_ALU | BPF_NEG, 0));
  sappend(a.s, newStmt(BPF_ST, a.regno));
  return a;
}

export function genArth(cs: CompilerState, code: number, a0: ArthValue, a1: ArthValue): ArthValue {
  const imm = a1.s.s.code === (BPF_LD | BPF_IMM);
  if (code === BPF_DIV && imm && a1.s.s.k === 0) fail("division by zero");
  if (code === BPF_MOD && imm && a1.s.s.k === 0) fail("modulus by zero");
  if ((code === BPF_LSH || code === BPF_RSH) && imm && a1.s.s.k > 31) fail("shift by more than 31 bits");
  const s0 = xferToX(a1);
  const s1 = xferToA(a0);
  sappend(s1, newStmt(BPF_ALU | BPF_X | code));
  sappend(s0, s1);
  sappend(a1.s, s0);
  sappend(a0.s, a1.s);
  freeReg(cs, a0.regno);
  freeReg(cs, a1.regno);
  const st = newStmt(BPF_ST);
  a0.regno = allocReg(cs);
  st.s.k = a0.regno;
  sappend(a0.s, st);
  return a0;
}

export function genRelation(cs: CompilerState, code: number, a0: ArthValue, a1: ArthValue, reversed: boolean): Block {
  const s0 = xferToX(a1);
  const s1 = xferToA(a0);
  let b: Block;
  if (code === BPF_JEQ) {
    b = newBlock(JMP(code));
    sappend(s1, newStmt(BPF_ALU | 0x10 /* BPF_SUB */ | BPF_X));
  } else {
    b = newBlock(BPF_JMP | code | BPF_X);
  }
  if (reversed) genNot(b);
  sappend(s0, s1);
  sappend(a1.s, s0);
  sappend(a0.s, a1.s);
  b.stmts = a0.s;
  freeReg(cs, a0.regno);
  freeReg(cs, a1.regno);
  let tmp: Block | null;
  if (a0.b !== null) {
    if (a1.b !== null) { genAnd(a0.b, a1.b); tmp = a1.b; }
    else tmp = a0.b;
  } else tmp = a1.b;
  if (tmp !== null) genAnd(tmp, b);
  return b;
}

export function genLen(jmp: number, n: number): Block {
  const b = newBlock(JMP(jmp), n);
  b.stmts = newStmt(BPF_LD | BPF_LEN);
  return b;
}

export { BPF_B, BPF_H, BPF_W, BPF_JEQ, BPF_JGT, BPF_JGE, BPF_OR as BPF_OR_OP };
