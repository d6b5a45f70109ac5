// Stack slots as wasm locals. In a function that never lets its frame address escape (r10 only ever the base of plain
// loads/stores inside the frame, each within one aligned 8-byte slot; no calls, no atomics), the bytes it touches
// live in i64 locals, loaded at entry and written back before anything can look at memory (a return, and the slow
// paths that call out), so memory matches the interpreter's. Each slot is either one local (whole), or cut at every
// access boundary into pieces, one local each (a u32 and the byte beside it then carry no dependency between
// them); a cost model, weighting accesses inside loops, picks the cheaper. A local holds its bytes zero-extended.
import type { BasicBlock } from "./cfg.ts";
import type { Code } from "./code.ts";
import { OP as OP_ } from "./wasm.ts";

const OP = OP_;

/** Bytes [off, off + size) of the frame (off < 0 from r10) held in `local`. */
export interface Piece { readonly off: number; readonly size: number; readonly local: number }

export interface SlotPlan {
  readonly pieces: readonly Piece[];
  /** Frame byte (offset + 512) → index of the piece holding it, -1 where none. */
  readonly at: Int8Array;
}

/** What the planner reads of a program (src/jit CompileInput satisfies it). */
interface Program { readonly op: Uint8Array; readonly dst: Uint8Array; readonly src: Uint8Array; readonly off: Int32Array }

export const NO_SLOTS: SlotPlan = { pieces: [], at: new Int8Array(0) };
const MAX_PIECES = 16;
/** Each call-out site (a checked access, a fault) writes every piece back: bound the code it adds. */
const MAX_FLUSH_WORK = 512;
/** Accesses in a loop count this many times over those outside one. */
const LOOP_WEIGHT = 16;
const SIZE_OF = [4, 2, 1, 8];

interface Access { readonly rel: number; readonly size: number; readonly store: boolean; readonly imm: boolean; readonly weight: number }

/** Which frame bytes of this function's blocks become locals, numbered from `firstLocal`. */
export function planSlots(p: Program, blocks: readonly BasicBlock[], firstLocal: number): SlotPlan {
  const inLoop = loopBlocks(blocks);
  const bySlot = new Map<number, Access[]>();
  let sites = 0;
  for (let bi = 0; bi < blocks.length; bi++) {
    const b = blocks[bi]!;
    for (let pc = b.start; pc < b.end; pc++) {
      const c = p.op[pc]!, cls = c & 7, d = p.dst[pc]!, s = p.src[pc]!;
      if (c === 0x18) { pc++; continue; }
      if (c === 0x85 || c === 0x8d) return NO_SLOTS;
      let base = false;
      if (cls === 1) { if (s === 10) { if ((c & 0xe0) !== 0x60) return NO_SLOTS; base = true; } }
      else if (cls === 2) { if (d === 10) { if ((c & 0xe0) !== 0x60) return NO_SLOTS; base = true; } }
      else if (cls === 3) {
        if ((c & 0xe0) !== 0x60 || s === 10) return NO_SLOTS;
        base = d === 10;
      } else if (cls === 4 || cls === 7) { if ((c & 8) && s === 10) return NO_SLOTS; }
      else if (cls === 5 || cls === 6) { if (d === 10 || ((c & 8) && s === 10)) return NO_SLOTS; }
      else if (cls === 0 && (c & 0xe0) === 0x40 && s === 10) return NO_SLOTS;
      if (!base) {
        // each piece costs a store at every call-out site: give up early when even one per slot is too many
        if (cls === 1 || cls === 2 || cls === 3) { sites++; if ((sites + blocks.length) * bySlot.size > MAX_FLUSH_WORK) return NO_SLOTS; }
        continue;
      }
      const off = p.off[pc]!, size = SIZE_OF[(c >> 3) & 3]!;
      if (off < -512 || off + size > 0 || (off & 7) + size > 8) return NO_SLOTS;
      const slot = off & ~7;
      let list = bySlot.get(slot);
      if (list === undefined) { if (bySlot.size === MAX_PIECES) return NO_SLOTS; bySlot.set(slot, list = []); }
      list.push({ rel: off - slot, size, store: cls !== 1, imm: cls === 2, weight: inLoop[bi] ? LOOP_WEIGHT : 1 });
    }
  }
  if (bySlot.size === 0) return NO_SLOTS;
  // per slot: the pieces between access boundaries (bytes no access touches stay in memory), or the whole slot
  const choice: { slot: number; cuts: number[] }[] = [];
  let total = 0;
  for (const [slot, list] of bySlot) {
    const covered = new Uint8Array(9), cut = new Uint8Array(9);
    for (const a of list) { cut[a.rel] = 1; cut[a.rel + a.size] = 1; for (let i = a.rel; i < a.rel + a.size; i++) covered[i] = 1; }
    const cuts: number[] = [];
    for (let i = 0; i <= 8; i++) if (cut[i]) cuts.push(i);
    let whole = 0, split = 0;
    for (const a of list) { whole += a.weight * wholeCost(a); split += a.weight * splitCost(a, cuts, covered); }
    const pieces = countPieces(cuts, covered);
    if (split < whole) { choice.push({ slot, cuts }); total += pieces; }
    else { choice.push({ slot, cuts: [0, 8] }); total++; }
  }
  // too many pieces: every slot whole
  if (total > MAX_PIECES) { for (const ch of choice) ch.cuts = [0, 8]; total = choice.length; }
  if ((sites + blocks.length) * total > MAX_FLUSH_WORK) return NO_SLOTS;
  const pieces: Piece[] = [];
  const at = new Int8Array(512).fill(-1);
  for (const { slot, cuts } of choice) {
    const covered = new Uint8Array(8);
    for (const a of bySlot.get(slot)!) for (let i = a.rel; i < a.rel + a.size; i++) covered[i] = 1;
    if (cuts.length === 2 && cuts[0] === 0 && cuts[1] === 8) covered.fill(1);
    for (let k = 0; k + 1 < cuts.length; k++) {
      const lo = cuts[k]!, hi = cuts[k + 1]!;
      if (!covered[lo]) continue;
      at.fill(pieces.length, slot + lo + 512, slot + hi + 512);
      pieces.push({ off: slot + lo, size: hi - lo, local: firstLocal + pieces.length });
    }
  }
  return { pieces, at };
}

/** Blocks inside some loop: between a back edge's target and its source. */
function loopBlocks(blocks: readonly BasicBlock[]): Uint8Array {
  const inLoop = new Uint8Array(blocks.length);
  for (let u = 0; u < blocks.length; u++) {
    const t = blocks[u]!.target;
    if (t === undefined || t > blocks[u]!.start) continue;
    for (let v = 0; v <= u; v++) if (blocks[v]!.start >= t) inLoop[v] = 1;
  }
  return inLoop;
}

function countPieces(cuts: readonly number[], covered: Uint8Array): number {
  let n = 0;
  for (let k = 0; k + 1 < cuts.length; k++) if (covered[cuts[k]!]) n++;
  return n;
}

/** wasm operations an access costs on a whole-slot local (see emitSlotAccess). */
function wholeCost(a: Access): number {
  if (!a.store) return (a.rel > 0 ? 1 : 0) + (a.rel + a.size < 8 ? 1 : 0);
  if (a.size === 8) return 0;
  return (a.imm ? 2 : 4) + (a.rel > 0 && !a.imm ? 1 : 0);
}

/** ... and on the pieces the cuts make. */
function splitCost(a: Access, cuts: readonly number[], covered: Uint8Array): number {
  let n = 0;
  for (let k = 0; k + 1 < cuts.length; k++) if (covered[cuts[k]!] && cuts[k]! >= a.rel && cuts[k + 1]! <= a.rel + a.size) n++;
  if (!a.store) return 2 * (n - 1);
  if (a.imm) return 0;
  return n === 1 ? (a.size === 8 ? 0 : 1) : 2 * n - 1;
}

// 64-bit constants as (lo, hi) halves, computed without BigInt
/** Mask of the low `n` bytes. */
function mask(n: number): [number, number] {
  if (n >= 8) return [-1, -1];
  if (n >= 4) return [-1, n === 4 ? 0 : (2 ** (8 * (n - 4)) - 1) | 0];
  return [(2 ** (8 * n) - 1) | 0, 0];
}
function shr(lo: number, hi: number, bits: number): [number, number] {
  if (bits === 0) return [lo, hi];
  if (bits >= 32) return [(hi >>> (bits - 32)) | 0, 0];
  return [((lo >>> bits) | (hi << (32 - bits))) | 0, (hi >>> bits) | 0];
}
function shl(lo: number, hi: number, bits: number): [number, number] {
  if (bits === 0) return [lo, hi];
  if (bits >= 32) return [0, (lo << (bits - 32)) | 0];
  return [(lo << bits) | 0, ((hi << bits) | (lo >>> (32 - bits))) | 0];
}

/** Aligned chunks (frame offset, size) covering [off, off + size), largest first at each position. */
function chunks(off: number, size: number): [number, number][] {
  const out: [number, number][] = [];
  for (let pos = off; pos < off + size;) {
    let c = 8;
    while (c > 1 && (c > off + size - pos || (pos & (c - 1)) !== 0)) c >>= 1;
    out.push([pos, c]);
    pos += c;
  }
  return out;
}

const LOAD = new Map([[8, OP.i64_load], [4, OP.i64_load32_u], [2, OP.i64_load16_u], [1, OP.i64_load8_u]]);
const STORE = new Map([[8, OP.i64_store], [4, OP.i64_store32], [2, OP.i64_store16], [1, OP.i64_store8]]);
const LOG2 = [0, 0, 1, 0, 2, 0, 0, 0, 3];

/** Each piece from the frame (at entry, and after the interpreter ran a block). `fp` holds the frame's bottom. */
export function loadSlots(c: Code, plan: SlotPlan, fp: number): void {
  for (const q of plan.pieces) {
    let first = true;
    for (const [pos, n] of chunks(q.off, q.size)) {
      c.get(fp); c.mem(LOAD.get(n)!, LOG2[n]!, pos + 512);
      if (pos > q.off) { c.i64(8 * (pos - q.off), 0); c.op(OP.i64_shl); }
      if (!first) c.op(OP.i64_or);
      first = false;
    }
    c.set(q.local);
  }
}

/** Each piece back to the frame. */
export function flushSlots(c: Code, plan: SlotPlan, fp: number): void {
  for (const q of plan.pieces) {
    for (const [pos, n] of chunks(q.off, q.size)) {
      c.get(fp); c.get(q.local);
      if (pos > q.off) { c.i64(8 * (pos - q.off), 0); c.op(OP.i64_shr_u); }
      c.mem(STORE.get(n)!, LOG2[n]!, pos + 512);
    }
  }
}

/** A load (cls 1) into `d`, or a store of `s` (cls 3) or the constant `k` (cls 2), at r10 + off, on the plan's locals. */
export function emitSlotAccess(c: Code, plan: SlotPlan, cls: number, size: number, off: number, d: number, s: number, k: number): void {
  const i = plan.at[off + 512]!, j = plan.at[off + size - 1 + 512]!;
  const pieces = plan.pieces;
  if (i === j) {
    const q = pieces[i]!, rel = off - q.off;
    if (cls === 1) {
      c.get(q.local);
      if (rel) { c.i64(8 * rel, 0); c.op(OP.i64_shr_u); }
      if (rel + size < q.size) { const [lo, hi] = mask(size); c.i64(lo, hi); c.op(OP.i64_and); }
      c.set(d);
      return;
    }
    const [ml, mh] = mask(size);
    if (rel === 0 && size === q.size) {
      // the whole piece
      if (cls === 2) c.i64(k & ml, (k >> 31) & mh);
      else { c.get(s); if (size < 8) { c.i64(ml, mh); c.op(OP.i64_and); } }
      c.set(q.local);
      return;
    }
    // part of a piece: clear the bytes, or the value in
    const [cl, ch] = shl(ml, mh, 8 * rel);
    c.get(q.local); c.i64(~cl, ~ch); c.op(OP.i64_and);
    if (cls === 2) { const [vl, vh] = shl(k & ml, (k >> 31) & mh, 8 * rel); c.i64(vl, vh); }
    else { c.get(s); c.i64(ml, mh); c.op(OP.i64_and); if (rel) { c.i64(8 * rel, 0); c.op(OP.i64_shl); } }
    c.op(OP.i64_or); c.set(q.local);
    return;
  }
  // the access spans pieces i..j exactly
  if (cls === 1) {
    for (let x = i; x <= j; x++) {
      const q = pieces[x]!;
      c.get(q.local);
      if (q.off > off) { c.i64(8 * (q.off - off), 0); c.op(OP.i64_shl); }
      if (x > i) c.op(OP.i64_or);
    }
    c.set(d);
    return;
  }
  for (let x = i; x <= j; x++) {
    const q = pieces[x]!, sh = q.off - off;
    const [ml, mh] = mask(q.size);
    if (cls === 2) {
      const [vl, vh] = shr(k, k >> 31, 8 * sh);
      c.i64(vl & ml, vh & mh);
    } else {
      c.get(s);
      if (sh) { c.i64(8 * sh, 0); c.op(OP.i64_shr_u); }
      if (sh + q.size < 8) { c.i64(ml, mh); c.op(OP.i64_and); }
    }
    c.set(q.local);
  }
}
