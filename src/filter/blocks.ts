// The block graph libpcap's code generator builds and its optimizer rewrites (gencode.h: struct stmt, slist, block,
// edge). It is mutable on purpose: the optimizer's passes (jump threading, pull-ups, interning) move edges in place,
// and reproducing libpcap's output instruction for instruction means reproducing those moves.
import { BPF_MEMWORDS } from "../isa/cbpf/insn.ts";

/** Statement code of a deleted statement. */
export const NOP = -1;
/** Value-number atoms: M[0..15], then A and X (optimize.c). */
export const A_ATOM = BPF_MEMWORDS;
export const X_ATOM = BPF_MEMWORDS + 1;
export const AX_ATOM = BPF_MEMWORDS + 2;
export const N_ATOMS = BPF_MEMWORDS + 2;

export interface Stmt {
  code: number;
  k: number;
  /** Block-local jump targets (only the VLAN/geneve generators use these). */
  jt: SList | null;
  jf: SList | null;
}

export interface SList {
  s: Stmt;
  next: SList | null;
  /** A node further along this list (lists only ever grow at their end): where sappend resumes its walk. */
  tail: SList | null;
}

export interface Edge {
  id: number;
  code: number;
  edom: Uint32Array;
  succ: Block | null;
  pred: Block;
  next: Edge | null;
}

export interface Block {
  id: number;
  stmts: SList | null;
  s: Stmt;
  mark: number;
  longjt: number;
  longjf: number;
  level: number;
  offset: number;
  sense: boolean;
  et: Edge;
  ef: Edge;
  head: Block;
  link: Block | null;
  dom: Uint32Array;
  inEdges: Edge | null;
  def: number;
  kill: number;
  inUse: number;
  outUse: number;
  oval: number;
  val: Uint32Array;
}

const EMPTY = new Uint32Array(0);

export function newStmt(code: number, k = 0): SList {
  return { s: { code, k: k >>> 0, jt: null, jf: null }, next: null, tail: null };
}

export function newBlock(code: number, k = 0): Block {
  const b = {
    id: 0, stmts: null, s: { code, k: k >>> 0, jt: null, jf: null }, mark: 0, longjt: 0, longjf: 0, level: 0,
    offset: 0, sense: false, link: null, dom: EMPTY, inEdges: null, def: 0, kill: 0, inUse: 0, outUse: 0, oval: 0,
    val: new Uint32Array(N_ATOMS),
  } as unknown as Block;
  b.et = { id: 0, code: 0, edom: EMPTY, succ: null, pred: b, next: null };
  b.ef = { id: 0, code: 0, edom: EMPTY, succ: null, pred: b, next: null };
  b.head = b;
  return b;
}

/**
 * Appends list s1 to the end of s0 (gencode.c sappend). The walk to the end resumes from the tail last found, so a
 * value built by appending again and again (`- - … - 1`) costs linear time, not quadratic.
 */
export function sappend(s0: SList, s1: SList | null): void {
  let p = s0;
  for (;;) {
    if (p.tail !== null && p.tail !== p) p = p.tail;
    else if (p.next !== null) p = p.next;
    else break;
  }
  p.next = s1;
  s0.tail = s1 ?? p;
}

/** The root of the graph plus the mark counter the traversals share (struct icode). */
export interface ICode {
  root: Block;
  curMark: number;
}

export const isMarked = (ic: ICode, b: Block): boolean => b.mark === ic.curMark;
export const mark = (ic: ICode, b: Block): void => { b.mark = ic.curMark; };
export const unmarkAll = (ic: ICode): void => { ic.curMark += 1; };
