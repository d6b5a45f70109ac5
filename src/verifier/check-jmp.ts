// Conditional jumps: which way a branch can go (is_branch_taken), what each side learns about scalars
// (regs_refine_cond_op + sync_linked_regs), null checks on maybe-null pointers, and packet ranges from pkt vs pkt_end.
import type { Insn } from "../isa/ebpf/insn.ts";
import {
  BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JLE, BPF_JLT, BPF_JMP32, BPF_JNE, BPF_JSET, BPF_JSGE, BPF_JSGT, BPF_JSLE, BPF_JSLT, BPF_K, BPF_X,
  bpfClass, bpfOp, bpfSrc,
} from "../isa/ebpf/opcodes.ts";
import { type Bounds, boundsEmpty, boundsSync, copyBounds, isConstValue, knownBounds, setBounds, unknownBounds } from "./bounds.ts";
import {
  type I64, ONE, S64_MAX, S64_MIN, U64_MAX, ZERO, add, and, andNot, eq, fromS32, fromU32, isZero, not, or, sle, slt, smax, smin,
  sub, ule, ult, umax, umin, xor,
} from "./i64.ts";
import { type Env, EINVAL, reject } from "./env.ts";
import { checkRegRead } from "./regs.ts";
import { type Reg, type State, constReg, curFrame, isPktPointer, scalarReg } from "./state.ts";
import { tnumAnd, tnumConst, tnumIntersect, tnumOr, tnumSubreg, tnumWithSubreg } from "./tnum.ts";

export const JSET_ANTI = 0x100; // the kernel's BPF_JSET | BPF_X trick for "bit not set"

/** The operator of the branch's other side (rev_opcode). */
export function revOp(op: number): number {
  switch (op) {
    case BPF_JEQ: return BPF_JNE;
    case BPF_JNE: return BPF_JEQ;
    case BPF_JSET: return JSET_ANTI;
    case JSET_ANTI: return BPF_JSET;
    case BPF_JGT: return BPF_JLE;
    case BPF_JGE: return BPF_JLT;
    case BPF_JLT: return BPF_JGE;
    case BPF_JLE: return BPF_JGT;
    case BPF_JSGT: return BPF_JSLE;
    case BPF_JSGE: return BPF_JSLT;
    case BPF_JSLT: return BPF_JSGE;
    default: return BPF_JSGT;
  }
}
/** Operator with operands swapped (flip_opcode). */
export function flipOp(op: number): number {
  switch (op) {
    case BPF_JGT: return BPF_JLT;
    case BPF_JGE: return BPF_JLE;
    case BPF_JLT: return BPF_JGT;
    case BPF_JLE: return BPF_JGE;
    case BPF_JSGT: return BPF_JSLT;
    case BPF_JSGE: return BPF_JSLE;
    case BPF_JSLT: return BPF_JSGT;
    case BPF_JSLE: return BPF_JSGE;
    default: return op;
  }
}

interface R { smin: I64; smax: I64; umin: I64; umax: I64; value: I64; mask: I64; isConst: boolean }
/** One width of a scalar, the 32-bit half widened (signed sign-extended, unsigned zero-extended) so one comparison serves both. */
function view(b: Bounds, w32: boolean): R {
  const t = b.varOff;
  if (w32) {
    return {
      smin: fromS32(b.s32min), smax: fromS32(b.s32max), umin: fromU32(b.u32min), umax: fromU32(b.u32max),
      value: fromU32(t.value.lo), mask: fromU32(t.mask.lo), isConst: t.mask.lo === 0,
    };
  }
  return { smin: b.smin, smax: b.smax, umin: b.umin, umax: b.umax, value: t.value, mask: t.mask, isConst: isZero(t.mask) };
}

/** 1 = always taken, 0 = never, -1 = unknown, for two scalars (is_scalar_branch_taken). */
function scalarBranchTaken(a: R, b: R, op: number): number {
  switch (op) {
    case BPF_JEQ:
      if (a.isConst && b.isConst) return eq(a.value, b.value) ? 1 : 0;
      if (ult(b.umax, a.umin) || ult(a.umax, b.umin) || slt(b.smax, a.smin) || slt(a.smax, b.smin)) return 0;
      if (!isZero(andNot(andNot(xor(a.value, b.value), a.mask), b.mask))) return 0;
      return -1;
    case BPF_JNE: {
      const r = scalarBranchTaken(a, b, BPF_JEQ);
      return r < 0 ? r : 1 - r;
    }
    case BPF_JSET:
      if (!b.isConst) { if (!a.isConst) return -1; [a, b] = [b, a]; }
      if (!isZero(and(a.value, b.value))) return 1;
      if (isZero(and(or(a.value, a.mask), b.value))) return 0;
      return -1;
    case BPF_JGT: if (ult(b.umax, a.umin)) return 1; if (ule(a.umax, b.umin)) return 0; return -1;
    case BPF_JSGT: if (slt(b.smax, a.smin)) return 1; if (sle(a.smax, b.smin)) return 0; return -1;
    case BPF_JLT: if (ult(a.umax, b.umin)) return 1; if (ule(b.umax, a.umin)) return 0; return -1;
    case BPF_JSLT: if (slt(a.smax, b.smin)) return 1; if (sle(b.smax, a.smin)) return 0; return -1;
    case BPF_JGE: if (ule(b.umax, a.umin)) return 1; if (ult(a.umax, b.umin)) return 0; return -1;
    case BPF_JSGE: if (sle(b.smax, a.smin)) return 1; if (slt(a.smax, b.smin)) return 0; return -1;
    case BPF_JLE: if (ule(a.umax, b.umin)) return 1; if (ult(b.umax, a.umin)) return 0; return -1;
    case BPF_JSLE: if (sle(a.smax, b.smin)) return 1; if (slt(b.smax, a.smin)) return 0; return -1;
  }
  return -1;
}

function branchTaken(a: Reg, b: Reg, op: number, w32: boolean): number {
  if (a.type === "scalar" && b.type === "scalar") return scalarBranchTaken(view(a.b, w32), view(b.b, w32), op);
  // A pointer that cannot be NULL compared with 0.
  const ptr = a.type !== "scalar" ? a : b, other = a.type !== "scalar" ? b : a;
  // Only pointer types that can never be NULL decide a test against 0 (the kernel's reg_not_null): not ctx, not stack.
  if (ptr.maybeNull || other.type !== "scalar" || w32 || !(ptr.type === "map_value" || ptr.type === "map_key" || ptr.type === "mem")) return -1;
  if (!isConstValue(other.b, 0)) return -1;
  if (op === BPF_JEQ) return 0;
  if (op === BPF_JNE) return 1;
  return -1;
}

/** Makes the 64-bit unsigned range empty: a refinement only an impossible branch can ask for. */
function emptyU64(a: Bounds): void { a.umin = U64_MAX; a.umax = ZERO; }
function emptyS64(a: Bounds): void { a.smin = S64_MAX; a.smax = S64_MIN; }

// Module-level rather than closures in refine: the walk calls it at every conditional jump.
function isK(x: Bounds, w32: boolean): boolean { return w32 ? x.varOff.mask.lo === 0 : isZero(x.varOff.mask); }
function kval(x: Bounds, w32: boolean): I64 { return w32 ? fromU32(x.varOff.value.lo) : x.varOff.value; }

/** Narrows a and b (both scalars) for "a op b" holding (regs_refine_cond_op). */
function refine(a: Bounds, b: Bounds, op: number, w32: boolean): void {
  switch (op) {
    case BPF_JEQ: {
      if (w32) {
        a.u32min = b.u32min = a.u32min > b.u32min ? a.u32min : b.u32min;
        a.u32max = b.u32max = a.u32max < b.u32max ? a.u32max : b.u32max;
        a.s32min = b.s32min = a.s32min > b.s32min ? a.s32min : b.s32min;
        a.s32max = b.s32max = a.s32max < b.s32max ? a.s32max : b.s32max;
        const t = tnumIntersect(tnumSubreg(a.varOff), tnumSubreg(b.varOff));
        a.varOff = tnumWithSubreg(a.varOff, t); b.varOff = tnumWithSubreg(b.varOff, t);
      } else {
        a.umin = b.umin = umax(a.umin, b.umin);
        a.umax = b.umax = umin(a.umax, b.umax);
        a.smin = b.smin = smax(a.smin, b.smin);
        a.smax = b.smax = smin(a.smax, b.smax);
        a.varOff = b.varOff = tnumIntersect(a.varOff, b.varOff);
      }
      break;
    }
    case BPF_JNE: {
      if (!isK(b, w32)) [a, b] = [b, a];
      if (!isK(b, w32)) break;
      const v = kval(b, w32);
      if (w32) {
        const u = v.lo >>> 0, sv = v.lo | 0;
        if (a.u32min === u) a.u32min++;
        if (a.u32max === u) a.u32max--;
        if (a.s32min === sv) a.s32min++;
        if (a.s32max === sv) a.s32max--;
      } else {
        if (eq(a.umin, v)) a.umin = add(a.umin, ONE);
        if (eq(a.umax, v)) a.umax = sub(a.umax, ONE);
        if (eq(a.smin, v)) a.smin = add(a.smin, ONE);
        if (eq(a.smax, v)) a.smax = sub(a.smax, ONE);
      }
      break;
    }
    case BPF_JSET: case JSET_ANTI: {
      if (!isK(b, w32)) [a, b] = [b, a];
      if (!isK(b, w32)) break;
      const v = kval(b, w32);
      if (op === BPF_JSET) {
        if (w32) a.varOff = tnumWithSubreg(a.varOff, tnumOr(tnumSubreg(a.varOff), tnumConst(v)));
        else a.varOff = tnumOr(a.varOff, tnumConst(v));
      } else {
        // forget ranges, keep tnum
        setBounds(a, { ...unknownBounds(), varOff: a.varOff });
        if (w32) a.varOff = tnumWithSubreg(a.varOff, tnumAnd(tnumSubreg(a.varOff), tnumConst(fromU32(~v.lo))));
        else a.varOff = tnumAnd(a.varOff, tnumConst(not(v)));
      }
      break;
    }
    case BPF_JLE:
      if (w32) { if (b.u32max < a.u32max) a.u32max = b.u32max; if (a.u32min > b.u32min) b.u32min = a.u32min; }
      else { if (ult(b.umax, a.umax)) a.umax = b.umax; if (ult(b.umin, a.umin)) b.umin = a.umin; }
      break;
    case BPF_JLT:
      if (w32) { if (b.u32max - 1 < a.u32max) a.u32max = b.u32max - 1; if (a.u32min + 1 > b.u32min) b.u32min = a.u32min + 1; }
      else {
        if (isZero(b.umax)) emptyU64(a); else if (ult(sub(b.umax, ONE), a.umax)) a.umax = sub(b.umax, ONE);
        if (eq(a.umin, U64_MAX)) emptyU64(b); else if (ult(b.umin, add(a.umin, ONE))) b.umin = add(a.umin, ONE);
      }
      break;
    case BPF_JSLE:
      if (w32) { if (b.s32max < a.s32max) a.s32max = b.s32max; if (a.s32min > b.s32min) b.s32min = a.s32min; }
      else { if (slt(b.smax, a.smax)) a.smax = b.smax; if (slt(b.smin, a.smin)) b.smin = a.smin; }
      break;
    case BPF_JSLT:
      if (w32) { if (b.s32max - 1 < a.s32max) a.s32max = b.s32max - 1; if (a.s32min + 1 > b.s32min) b.s32min = a.s32min + 1; }
      else {
        if (eq(b.smax, S64_MIN)) emptyS64(a); else if (slt(sub(b.smax, ONE), a.smax)) a.smax = sub(b.smax, ONE);
        if (eq(a.smin, S64_MAX)) emptyS64(b); else if (slt(b.smin, add(a.smin, ONE))) b.smin = add(a.smin, ONE);
      }
      break;
    case BPF_JGE: case BPF_JGT: case BPF_JSGE: case BPF_JSGT:
      refine(b, a, flipOp(op), w32);
      break;
  }
}

/** Copies what was learned about a linked scalar to every register and spill sharing its id (sync_linked_regs). */
function syncLinked(st: State, src: Reg): void {
  if (src.type !== "scalar" || src.id === 0) return;
  for (const f of st.frames) {
    for (const r of f.regs) if (r !== src && r.type === "scalar" && r.id === src.id) r.b = copyBounds(src.b);
    for (const s of f.stack) if (s.spilled && s.spilled !== src && s.spilled.type === "scalar" && s.spilled.id === src.id) s.spilled.b = copyBounds(src.b);
  }
}

/** Marks every copy of a maybe-null pointer (same id) as NULL (a known 0) or as non-NULL (mark_ptr_or_null_regs). */
function markPtrOrNull(st: State, id: number, isNull: boolean): void {
  const fix = (r: Reg): Reg => {
    if (!r.maybeNull || r.id !== id) return r;
    if (isNull) return constReg(ZERO);
    r.maybeNull = false;
    r.id = 0; // the kernel drops the id once NULL is ruled out (references live on in ref_obj_id)
    return r;
  };
  let refObj = 0;
  for (const f of st.frames) {
    for (let i = 0; i < f.regs.length; i++) { const r = f.regs[i]!; if (r.maybeNull && r.id === id && r.refObjId) refObj = r.refObjId; f.regs[i] = fix(r); }
    for (const s of f.stack) if (s.spilled) s.spilled = fix(s.spilled);
  }
  // A NULL reservation holds nothing to release.
  if (isNull && refObj) st.refs = st.refs.filter((x) => x.id !== refObj);
}

const MAX_PACKET_OFF = 0xffff;
function goodPktPointers(st: State, ptr: Reg, rightOpen: boolean): void {
  if (ptr.off < 0 || (ptr.off === 0 && rightOpen)) return;
  if (ptr.b.umax.hi !== 0 || (ptr.b.umax.lo >>> 0) + ptr.off > MAX_PACKET_OFF) return;
  const range = rightOpen ? ptr.off + 1 : ptr.off;
  for (const f of st.frames) {
    for (const r of f.regs) if (r.type === ptr.type && r.id === ptr.id && r.range < range) r.range = range;
    for (const s of f.stack) if (s.spilled && s.spilled.type === ptr.type && s.spilled.id === ptr.id && s.spilled.range < range) s.spilled.range = range;
  }
}

function pktCompare(env: Env, self: State, other: State, insn: Insn, op: number, dst: Reg, src: Reg): boolean {
  const dstPkt = dst.type === "pkt" && src.type === "pkt_end" || dst.type === "pkt_meta" && src.type === "pkt";
  const srcPkt = dst.type === "pkt_end" && src.type === "pkt" || dst.type === "pkt" && src.type === "pkt_meta";
  if (!dstPkt && !srcPkt) return false;
  const dIn = (s: State): Reg => curFrame(s).regs[insn.dst]!;
  const sIn = (s: State): Reg => curFrame(s).regs[insn.src]!;
  void env;
  switch (op) {
    case BPF_JGT:
      if (dstPkt) goodPktPointers(self, dIn(self), false); else goodPktPointers(other, sIn(other), true);
      return true;
    case BPF_JLT:
      if (dstPkt) goodPktPointers(other, dIn(other), true); else goodPktPointers(self, sIn(self), false);
      return true;
    case BPF_JGE:
      if (dstPkt) goodPktPointers(self, dIn(self), true); else goodPktPointers(other, sIn(other), false);
      return true;
    case BPF_JLE:
      if (dstPkt) goodPktPointers(other, dIn(other), false); else goodPktPointers(self, sIn(self), true);
      return true;
  }
  return false;
}

export interface CondResult {
  /** The state for the taken branch (undefined when the branch can never be taken). */
  taken: State | undefined;
  /** Whether the fall-through can happen. */
  fallthrough: boolean;
}

/** check_cond_jmp_op: validates, decides or splits, and refines both successor states. */
export function checkCondJmp(env: Env, insn: Insn, copy: (s: State) => State): CondResult {
  const cls = bpfClass(insn.code), op = bpfOp(insn.code), w32 = cls === BPF_JMP32;
  const name = "BPF_JMP/JMP32";
  if (op > BPF_JSLE) reject(env, `invalid ${name} opcode ${op.toString(16)}`, EINVAL);
  const srcX = bpfSrc(insn.code) === BPF_X;
  if (srcX) {
    if (insn.imm !== 0) reject(env, `${name} uses reserved fields`, EINVAL);
    checkRegRead(env, insn.src);
  } else if (insn.src !== 0) reject(env, `${name} uses reserved fields`, EINVAL);
  checkRegRead(env, insn.dst);
  const regs = curFrame(env.state).regs;
  const dst = regs[insn.dst]!;
  const src: Reg = srcX ? regs[insn.src]! : scalarReg(knownBounds(w32 ? fromU32(insn.imm) : fromS32(insn.imm)));
  if (srcX && env.unpriv && src.type !== "scalar") reject(env, `R${insn.src} pointer comparison prohibited`);
  if (env.unpriv && dst.type !== "scalar" && !(dst.maybeNull && !srcX && insn.imm === 0 && (op === BPF_JEQ || op === BPF_JNE))) {
    reject(env, `R${insn.dst} pointer comparison prohibited`);
  }
  const pred = branchTaken(dst, src, op, w32);
  if (pred === 1) return { taken: env.state, fallthrough: false };
  if (pred === 0) return { taken: undefined, fallthrough: true };

  const other = copy(env.state);
  const self = env.state;
  const oRegs = curFrame(other).regs;
  // Null checks: `if rX == 0` on a maybe-null pointer.
  if (!srcX && insn.imm === 0 && !w32 && (op === BPF_JEQ || op === BPF_JNE) && dst.maybeNull) {
    const id = dst.id; // captured first: marking rewrites the register in place
    markPtrOrNull(self, id, op === BPF_JNE);
    markPtrOrNull(other, id, op === BPF_JEQ);
    return { taken: other, fallthrough: true };
  }
  if (srcX && !w32 && pktCompare(env, self, other, insn, op, dst, src)) return { taken: other, fallthrough: true };
  if (dst.type === "scalar" && src.type === "scalar") {
    const od = oRegs[insn.dst]!;
    const os = srcX ? oRegs[insn.src]! : scalarReg(copyBounds(src.b));
    const sd = regs[insn.dst]!;
    const ss = srcX ? regs[insn.src]! : scalarReg(copyBounds(src.b));
    refine(od.b, os.b, op, w32);
    refine(sd.b, ss.b, revOp(op), w32);
    for (const r of [od, os, sd, ss]) boundsSync(r.b);
    const deadTaken = boundsEmpty(od.b) || boundsEmpty(os.b);
    const deadFall = boundsEmpty(sd.b) || boundsEmpty(ss.b);
    syncLinked(other, od); if (srcX) syncLinked(other, os);
    syncLinked(self, sd); if (srcX) syncLinked(self, ss);
    return { taken: deadTaken ? undefined : other, fallthrough: !deadFall };
  }
  return { taken: other, fallthrough: true };
}

export { BPF_K };
