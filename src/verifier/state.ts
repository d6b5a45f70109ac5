// The verifier's abstract machine state: registers (struct bpf_reg_state), stack slots per frame
// (struct bpf_stack_state), call frames and acquired references (struct bpf_verifier_state).
import { type Bounds, boundsEqual, boundsWithin, copyBounds, isConstValue, knownBounds, unknownBounds } from "./bounds.ts";
import { type I64, ZERO } from "./i64.ts";

export type RegType =
  | "not_init" | "scalar" | "ctx" | "map_ptr" | "map_value" | "map_key" | "fp" | "pkt" | "pkt_meta" | "pkt_end" | "mem"
  | "func"
  /** the state of an open-coded iterator, spilled in its stack slots (STACK_ITER): see check-kfunc.ts */
  | "iter";

export interface Reg {
  type: RegType;
  /** Scalar value, or the variable part of a pointer's offset. */
  b: Bounds;
  /** Fixed part of a pointer's offset. */
  off: number;
  /** Scalar link id, null-check id of a maybe-null pointer, or packet pointer id. */
  id: number;
  refObjId: number;
  maybeNull: boolean;
  /** Map index for map_ptr / map_value / map_key. */
  map: number;
  /** Proven packet range (pkt) or memory size (mem). */
  range: number;
  /** Frame that owns the stack a `fp` pointer points into. */
  frameno: number;
  ringbuf: boolean;
  /** MEM_RDONLY memory (an iterator's element): programs may only read it. */
  rdonly: boolean;
}

function freshReg(type: RegType, b: Bounds): Reg {
  return { type, b, off: 0, id: 0, refObjId: 0, maybeNull: false, map: -1, range: 0, frameno: 0, ringbuf: false, rdonly: false };
}
/** One frozen register for every unwritten slot: copies share it (most registers of a state are unwritten). */
const NOT_INIT: Reg = Object.freeze(freshReg("not_init", Object.freeze(unknownBounds())));
export const notInit = (): Reg => NOT_INIT;
export function scalarReg(b: Bounds = unknownBounds()): Reg {
  return freshReg("scalar", b);
}
export const constReg = (v: I64): Reg => scalarReg(knownBounds(v));
export function ptrReg(type: RegType, off = 0): Reg {
  const r = freshReg(type, knownBounds(ZERO)); r.off = off; return r;
}
/** Field by field, so every register has one shape (the state copies at each branch are the walk's main cost). */
export function copyReg(r: Reg): Reg {
  if (r === NOT_INIT) return r;
  return {
    type: r.type, b: copyBounds(r.b), off: r.off, id: r.id, refObjId: r.refObjId, maybeNull: r.maybeNull, map: r.map,
    range: r.range, frameno: r.frameno, ringbuf: r.ringbuf, rdonly: r.rdonly,
  };
}

export const isPointer = (r: Reg): boolean => r.type !== "scalar" && r.type !== "not_init";
export const isPktPointer = (r: Reg): boolean => r.type === "pkt" || r.type === "pkt_meta";

/** One byte of stack: the kernel's STACK_INVALID / STACK_SPILL / STACK_MISC / STACK_ZERO / STACK_ITER, printed as ? r m 0 i. */
export type SlotByte = "?" | "r" | "m" | "0" | "i";

export interface StackSlot {
  bytes: SlotByte[];
  spilled: Reg | undefined;
}

export interface Frame {
  regs: Reg[];
  /** Slot i covers fp-8*(i+1) .. fp-8*i-1. */
  stack: StackSlot[];
  callsite: number;
  subprog: number;
  /** The pc to resume at in the caller, or -1 for the main frame. */
  returnPc: number;
  /** Slots touched (the kernel's allocated_stack / 8). */
  allocated: number;
  /** bpf_loop / callback frames: the callback's R0 must be in [0,1]. */
  isCallback: boolean;
}

export interface Ref { id: number; insn: number }

export interface State {
  frames: Frame[];
  refs: Ref[];
  /** Insn that reached this state's branch (for `from X to Y` lines). */
  parentPc: number;
  /** Open bpf_rcu_read_lock and bpf_preempt_disable sections (active_rcu_locks, active_preempt_locks). */
  rcu: number;
  preempt: number;
}

export function newFrame(callsite: number, subprog: number, returnPc: number): Frame {
  const regs: Reg[] = [];
  for (let i = 0; i < 11; i++) regs.push(notInit());
  return { regs, stack: [], callsite, subprog, returnPc, allocated: 0, isCallback: false };
}

function copySlot(s: StackSlot): StackSlot {
  return { bytes: s.bytes.slice(), spilled: s.spilled ? copyReg(s.spilled) : undefined };
}

export function copyFrame(f: Frame): Frame {
  const regs: Reg[] = new Array(f.regs.length);
  for (let i = 0; i < regs.length; i++) regs[i] = copyReg(f.regs[i]!);
  const stack: StackSlot[] = new Array(f.stack.length);
  for (let i = 0; i < stack.length; i++) stack[i] = copySlot(f.stack[i]!);
  return {
    regs, stack, callsite: f.callsite, subprog: f.subprog, returnPc: f.returnPc, allocated: f.allocated, isCallback: f.isCallback,
  };
}

export function copyState(s: State): State {
  return { frames: s.frames.map(copyFrame), refs: s.refs.map((r) => ({ id: r.id, insn: r.insn })), parentPc: s.parentPc, rcu: s.rcu, preempt: s.preempt };
}

export const curFrame = (s: State): Frame => s.frames[s.frames.length - 1]!;

export function slotAt(f: Frame, i: number): StackSlot {
  while (f.stack.length <= i) f.stack.push({ bytes: ["?", "?", "?", "?", "?", "?", "?", "?"], spilled: undefined });
  if (f.allocated < i + 1) f.allocated = i + 1;
  return f.stack[i]!;
}

/** Whether a register in `cur` is covered by the one in `old` (the kernel's regsafe, with every scalar precise). */
export function regSafe(old: Reg, cur: Reg, idmap: IdMap, exact = false): boolean {
  if (exact && old.type !== cur.type) return false;
  if (old.type === "not_init") return true;
  if (old.type !== cur.type) return false;
  if (old.maybeNull !== cur.maybeNull || old.ringbuf !== cur.ringbuf || old.rdonly !== cur.rdonly) return false;
  if (old.type === "scalar") {
    if (exact ? !boundsEqual(old.b, cur.b) : !boundsWithin(old.b, cur.b)) return false;
    return checkIds(old.id, cur.id, idmap, true);
  }
  if (old.off !== cur.off || old.map !== cur.map || old.frameno !== cur.frameno) return false;
  if (!boundsWithin(old.b, cur.b)) return false;
  if (isPktPointer(old)) {
    if (old.range > cur.range) return false;
    if (!checkIds(old.id, cur.id, idmap, false)) return false;
  }
  if (old.maybeNull && !checkIds(old.id, cur.id, idmap, false)) return false;
  if (old.refObjId !== 0 || cur.refObjId !== 0) return checkIds(old.refObjId, cur.refObjId, idmap, false) && old.range === cur.range;
  if (old.type === "mem" && old.range !== cur.range) return false;
  return true;
}

/** The kernel's check_ids: old ids must map one-to-one onto current ids (the pairs seen so far are in `m`). */
function checkIds(oldId: number, curId: number, m: IdMap, scalar: boolean): boolean {
  if (oldId === 0 && curId === 0) return true;
  if (scalar && oldId === 0) return true;
  if (oldId === 0 || curId === 0) return false;
  for (let i = 0; i < m.n; i++) {
    if (m.old[i] === oldId) return m.cur[i] === curId;
    if (m.cur[i] === curId) return false;
  }
  m.old[m.n] = oldId; m.cur[m.n] = curId; m.n++;
  return true;
}

function stackSafe(old: Frame, cur: Frame, idmap: IdMap, exact: boolean): boolean {
  for (let i = 0; i < old.stack.length; i++) {
    const o = old.stack[i]!;
    const c: StackSlot = cur.stack[i] ?? { bytes: ["?", "?", "?", "?", "?", "?", "?", "?"], spilled: undefined };
    for (let k = 0; k < 8; k++) {
      const ob = o.bytes[k]!, cb = c.bytes[k]!;
      if (ob === "?" && (!exact || cb === "?")) continue;
      if (ob === "m" && cb !== "?") {
        if (cb === "r" && c.spilled && c.spilled.type !== "scalar") return false;
        continue;
      }
      if (ob === "0" && cb === "0") continue;
      if (ob === "0" && cb === "r" && c.spilled?.type === "scalar" && isConstValue(c.spilled.b, 0)) continue;
      if (ob !== cb) return false;
    }
    if (o.bytes[0] === "i") {
      // an iterator: same state and reference; its depth only matters when looking for loops that change nothing
      const os = o.spilled!, cs = c.bytes[0] === "i" ? c.spilled : undefined;
      if (!cs || os.range !== cs.range || (exact && os.off !== cs.off) || !checkIds(os.refObjId, cs.refObjId, idmap, false)) return false;
      continue;
    }
    if (o.bytes[7] === "r" || o.bytes[0] === "r") {
      if (!o.spilled || !c.spilled) { if (o.spilled || c.spilled) return false; continue; }
      if (!regSafe(o.spilled, c.spilled, idmap, exact)) return false;
    }
  }
  return true;
}

/** check_ids' pairs, reused (states are compared at every prune point): ids are few, a linear scan is enough. */
interface IdMap { old: number[]; cur: number[]; n: number }
const IDMAP: IdMap = { old: [], cur: [], n: 0 };

/** Whether `cur` is covered by the already-explored `old` (states_equal), given the registers live at this insn. */
export function statesEqual(old: State, cur: State, liveRegs: number, exact = false): boolean {
  if (old.frames.length !== cur.frames.length) return false;
  if (old.refs.length !== cur.refs.length || old.rcu !== cur.rcu || old.preempt !== cur.preempt) return false;
  const idmap = IDMAP;
  idmap.n = 0;
  for (let i = 0; i < old.refs.length; i++) if (!checkIds(old.refs[i]!.id, cur.refs[i]!.id, idmap, false)) return false;
  for (let f = 0; f < old.frames.length; f++) {
    const of = old.frames[f]!, cf = cur.frames[f]!;
    if (of.callsite !== cf.callsite) return false;
    const top = f === old.frames.length - 1;
    for (let r = 0; r < 10; r++) {
      if (top && !(liveRegs & (1 << r))) continue;
      if (!top && r < 6) continue;
      if (!regSafe(of.regs[r]!, cf.regs[r]!, idmap, exact)) return false;
    }
    if (!stackSafe(of, cf, idmap, exact)) return false;
  }
  return true;
}

export { boundsEqual };
