// The verifier's numeric domains as they were written on BigInt (tnum, reg_bounds_sync, the scalar ALU, branch
// refinement): the reference the int32-halves code in tnum.ts / bounds.ts / scalar-alu.ts / check-jmp.ts is
// compared with on random inputs (bigint-model.test.ts). Test-only; not built into dist.
import { BPF_ADD, BPF_AND, BPF_ARSH, BPF_DIV, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JLE, BPF_JLT, BPF_JNE, BPF_JSET, BPF_JSGE, BPF_JSGT, BPF_JSLE, BPF_JSLT, BPF_LSH, BPF_MOD, BPF_MUL, BPF_NEG, BPF_OR, BPF_RSH, BPF_SUB, BPF_XOR } from "../isa/ebpf/opcodes.ts";
import { JSET_ANTI, flipOp, revOp } from "./check-jmp.ts";

// ---- tnum

export interface Tnum {
  readonly value: bigint;
  readonly mask: bigint;
}

export const U64_MASK = (1n << 64n) - 1n;
export const U32_MASK = 0xffffffffn;
const u64 = (x: bigint): bigint => x & U64_MASK;

export const tnumConst = (v: bigint): Tnum => ({ value: u64(v), mask: 0n });
export const TNUM_UNKNOWN: Tnum = { value: 0n, mask: U64_MASK };

/** Most significant set bit position + 1 (fls64). */
function fls64(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

/** The smallest tnum holding every value in [min, max] (unsigned). */
export function tnumRange(min: bigint, max: bigint): Tnum {
  const chi = u64(min ^ max);
  const bits = fls64(chi);
  if (bits > 63) return TNUM_UNKNOWN;
  const delta = (1n << BigInt(bits)) - 1n;
  return { value: min & ~delta & U64_MASK, mask: delta };
}

export const tnumLshift = (a: Tnum, s: number): Tnum => ({ value: u64(a.value << BigInt(s)), mask: u64(a.mask << BigInt(s)) });
export const tnumRshift = (a: Tnum, s: number): Tnum => ({ value: a.value >> BigInt(s), mask: a.mask >> BigInt(s) });

/** Arithmetic shift right at 32 or 64 bit width (the kernel's tnum_arshift). */
export function tnumArshift(a: Tnum, s: number, bits: 32 | 64): Tnum {
  if (bits === 32) {
    const sv = BigInt.asIntN(32, a.value) >> BigInt(s);
    const sm = BigInt.asIntN(32, a.mask) >> BigInt(s);
    return { value: sv & U32_MASK, mask: sm & U32_MASK };
  }
  return { value: u64(BigInt.asIntN(64, a.value) >> BigInt(s)), mask: u64(BigInt.asIntN(64, a.mask) >> BigInt(s)) };
}

export function tnumAdd(a: Tnum, b: Tnum): Tnum {
  const sm = u64(a.mask + b.mask);
  const sv = u64(a.value + b.value);
  const sigma = u64(sm + sv);
  const chi = sigma ^ sv;
  const mu = chi | a.mask | b.mask;
  return { value: sv & ~mu & U64_MASK, mask: mu };
}

export function tnumSub(a: Tnum, b: Tnum): Tnum {
  const dv = u64(a.value - b.value);
  const alpha = u64(dv + a.mask);
  const beta = u64(dv - b.mask);
  const chi = alpha ^ beta;
  const mu = chi | a.mask | b.mask;
  return { value: dv & ~mu & U64_MASK, mask: mu };
}

export function tnumAnd(a: Tnum, b: Tnum): Tnum {
  const alpha = a.value | a.mask;
  const beta = b.value | b.mask;
  const v = a.value & b.value;
  return { value: v, mask: alpha & beta & ~v & U64_MASK };
}

export function tnumOr(a: Tnum, b: Tnum): Tnum {
  const v = a.value | b.value;
  const mu = a.mask | b.mask;
  return { value: v, mask: mu & ~v & U64_MASK };
}

export function tnumXor(a: Tnum, b: Tnum): Tnum {
  const v = a.value ^ b.value;
  const mu = a.mask | b.mask;
  return { value: v & ~mu & U64_MASK, mask: mu };
}

/** Long multiplication over tristate bits (the kernel's tnum_mul since 6.x). */
export function tnumMul(a: Tnum, b: Tnum): Tnum {
  const accV = u64(a.value * b.value);
  let accM: Tnum = { value: 0n, mask: 0n };
  while (a.value !== 0n || a.mask !== 0n) {
    if (a.value & 1n) accM = tnumAdd(accM, { value: 0n, mask: b.mask });
    else if (a.mask & 1n) accM = tnumAdd(accM, { value: 0n, mask: b.value | b.mask });
    a = tnumRshift(a, 1);
    b = tnumLshift(b, 1);
  }
  return tnumAdd({ value: accV, mask: 0n }, accM);
}

/** Bits known in either operand (both must describe the same value). */
export function tnumIntersect(a: Tnum, b: Tnum): Tnum {
  const v = a.value | b.value;
  const mu = a.mask & b.mask;
  return { value: v & ~mu & U64_MASK, mask: mu };
}

/** Truncate to `size` bytes. */
export function tnumCast(a: Tnum, size: number): Tnum {
  const m = (1n << BigInt(size * 8)) - 1n;
  return { value: a.value & m, mask: a.mask & m };
}

export const tnumIsConst = (a: Tnum): boolean => a.mask === 0n;
export const tnumIsUnknown = (a: Tnum): boolean => a.mask === U64_MASK;
export const tnumEquals = (a: Tnum, b: Tnum): boolean => a.value === b.value && a.mask === b.mask;

export function tnumIsAligned(a: Tnum, size: number): boolean {
  if (size === 0) return true;
  return ((a.value | a.mask) & BigInt(size - 1)) === 0n;
}

/** Whether every value of `b` is also a value of `a` (a is at least as general). */
export function tnumIn(a: Tnum, b: Tnum): boolean {
  if (b.mask & ~a.mask) return false;
  return a.value === (b.value & ~a.mask);
}

/** Whether the concrete value `x` is described by `a`. */
export const tnumContains = (a: Tnum, x: bigint): boolean => (u64(x) & ~a.mask) === a.value;

export const tnumSubreg = (a: Tnum): Tnum => tnumCast(a, 4);
export const tnumClearSubreg = (a: Tnum): Tnum => tnumLshift(tnumRshift(a, 32), 32);
export const tnumWithSubreg = (reg: Tnum, sub: Tnum): Tnum => tnumOr(tnumClearSubreg(reg), tnumSubreg(sub));
export const tnumConstSubreg = (a: Tnum, v: bigint): Tnum => tnumWithSubreg(a, tnumConst(v));

/** Smallest and largest unsigned values described. */
export const tnumUmin = (a: Tnum): bigint => a.value;
export const tnumUmax = (a: Tnum): bigint => a.value | a.mask;

/** The kernel's `(0x0; 0xffffffff)` rendering. */
export const tnumToString = (a: Tnum): string => `(0x${a.value.toString(16)}; 0x${a.mask.toString(16)})`;

// ---- bounds

export const S64_MIN = -(1n << 63n);
export const S64_MAX = (1n << 63n) - 1n;
export const S32_MIN = -(1n << 31n);
export const S32_MAX = (1n << 31n) - 1n;
export const U64_MAX = U64_MASK;
export const U32_MAX = U32_MASK;

/** Mutable scalar bounds; every field is a bigint in its own domain (signed fields signed, unsigned unsigned). */
export interface Bounds {
  varOff: Tnum;
  smin: bigint; smax: bigint; umin: bigint; umax: bigint;
  s32min: bigint; s32max: bigint; u32min: bigint; u32max: bigint;
}

export const s64 = (x: bigint): bigint => BigInt.asIntN(64, x);
export const s32 = (x: bigint): bigint => BigInt.asIntN(32, x);
export const u32 = (x: bigint): bigint => BigInt.asUintN(32, x);
const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

export function unknownBounds(): Bounds {
  return {
    varOff: TNUM_UNKNOWN, smin: S64_MIN, smax: S64_MAX, umin: 0n, umax: U64_MAX,
    s32min: S32_MIN, s32max: S32_MAX, u32min: 0n, u32max: U32_MAX,
  };
}

export function knownBounds(v: bigint): Bounds {
  const x = u64(v);
  return {
    varOff: tnumConst(x), smin: s64(x), smax: s64(x), umin: x, umax: x,
    s32min: s32(x), s32max: s32(x), u32min: u32(x), u32max: u32(x),
  };
}

export const copyBounds = (b: Bounds): Bounds => ({ ...b });

export function mark32Unbounded(b: Bounds): void {
  b.s32min = S32_MIN; b.s32max = S32_MAX; b.u32min = 0n; b.u32max = U32_MAX;
}
export function mark64Unbounded(b: Bounds): void {
  b.smin = S64_MIN; b.smax = S64_MAX; b.umin = 0n; b.umax = U64_MAX;
}

export const isConst = (b: Bounds): boolean => b.varOff.mask === 0n;
export const isConst32 = (b: Bounds): boolean => (b.varOff.mask & U32_MASK) === 0n;

function updateBounds(b: Bounds): void {
  const v32 = tnumSubreg(b.varOff);
  b.s32min = max(b.s32min, s32(v32.value | (v32.mask & 0x80000000n)));
  b.s32max = min(b.s32max, s32(v32.value | (v32.mask & 0x7fffffffn)));
  b.u32min = max(b.u32min, v32.value);
  b.u32max = min(b.u32max, v32.value | v32.mask);
  const v = b.varOff;
  b.smin = max(b.smin, s64(v.value | (v.mask & (1n << 63n))));
  b.smax = min(b.smax, s64(v.value | (v.mask & S64_MAX)));
  b.umin = max(b.umin, v.value);
  b.umax = min(b.umax, v.value | v.mask);
}

function deduce32(b: Bounds): void {
  if (b.umin >> 32n === b.umax >> 32n) {
    b.u32min = max(b.u32min, u32(b.umin));
    b.u32max = min(b.u32max, u32(b.umax));
    if (s32(b.umin) <= s32(b.umax)) {
      b.s32min = max(b.s32min, s32(b.umin));
      b.s32max = min(b.s32max, s32(b.umax));
    }
  }
  if (b.smin >> 32n === b.smax >> 32n) {
    if (u32(b.smin) <= u32(b.smax)) {
      b.u32min = max(b.u32min, u32(b.smin));
      b.u32max = min(b.u32max, u32(b.smax));
    }
    if (s32(b.smin) <= s32(b.smax)) {
      b.s32min = max(b.s32min, s32(b.smin));
      b.s32max = min(b.s32max, s32(b.smax));
    }
  }
  // Upper halves differ by one and the low halves straddle the s32 sign change: still a contiguous s32 range.
  if (u32((b.umin >> 32n) + 1n) === u32(b.umax >> 32n) && s32(b.umin) < 0n && s32(b.umax) >= 0n) {
    b.s32min = max(b.s32min, s32(b.umin));
    b.s32max = min(b.s32max, s32(b.umax));
  }
  if (u32((b.smin >> 32n) + 1n) === u32(b.smax >> 32n) && s32(b.smin) < 0n && s32(b.smax) >= 0n) {
    b.s32min = max(b.s32min, s32(b.smin));
    b.s32max = min(b.s32max, s32(b.smax));
  }
  if (s32(b.u32min) <= s32(b.u32max)) {
    b.s32min = max(b.s32min, s32(b.u32min));
    b.s32max = min(b.s32max, s32(b.u32max));
  }
  if (u32(b.s32min) <= u32(b.s32max)) {
    b.u32min = max(b.u32min, u32(b.s32min));
    b.u32max = min(b.u32max, u32(b.s32max));
  }
}

function deduce64(b: Bounds): void {
  if (s64(b.umin) <= s64(b.umax)) {
    b.smin = max(b.smin, s64(b.umin));
    b.smax = min(b.smax, s64(b.umax));
  }
  if (u64(b.smin) <= u64(b.smax)) {
    b.umin = max(b.umin, u64(b.smin));
    b.umax = min(b.umax, u64(b.smax));
  } else if (b.umax < u64(b.smin)) {
    b.smin = s64(b.umin);
    b.umax = min(b.umax, u64(b.smax));
  } else if (u64(b.smax) < b.umin) {
    b.smax = s64(b.umax);
    b.umin = max(b.umin, u64(b.smin));
  }
}

function deduceMixed(b: Bounds): void {
  const hi = ~U32_MASK;
  b.umin = max(b.umin, (b.umin & hi & U64_MASK) | b.u32min);
  b.umax = min(b.umax, (b.umax & hi & U64_MASK) | b.u32max);
  b.smin = max(b.smin, s64((u64(b.smin) & hi & U64_MASK) | b.u32min));
  b.smax = min(b.smax, s64((u64(b.smax) & hi & U64_MASK) | b.u32max));
  if (b.s32min >= 0n && b.smin >= S32_MIN && b.smax <= S32_MAX) {
    b.smin = b.s32min; b.smax = b.s32max; b.umin = b.s32min; b.umax = b.s32max;
    b.varOff = tnumIntersect(b.varOff, tnumRange(b.smin, b.smax));
  }
}

function boundOffset(b: Bounds): void {
  const v64 = tnumIntersect(b.varOff, tnumRange(b.umin, b.umax));
  const v32 = tnumIntersect(tnumSubreg(v64), tnumRange(b.u32min, b.u32max));
  b.varOff = tnumOr(tnumClearSubreg(v64), v32);
}

/** The kernel's reg_bounds_sync. */
export function boundsSync(b: Bounds): void {
  updateBounds(b);
  deduce32(b);
  deduce64(b);
  deduceMixed(b);
  boundOffset(b);
  updateBounds(b);
}

/** Whether the ranges are empty (an impossible branch), the kernel's reg_bounds_sanity_check failing. */
export function boundsEmpty(b: Bounds): boolean {
  return b.umin > b.umax || b.smin > b.smax || b.u32min > b.u32max || b.s32min > b.s32max;
}

/** Result of a 32-bit operation: zero-extend the low half into 64 bits (the kernel's zext_32_to_64). */
export function zext32(b: Bounds): void {
  b.varOff = tnumSubreg(b.varOff);
  b.umin = b.u32min; b.umax = b.u32max;
  if (b.s32min >= 0n) { b.smin = b.s32min; b.smax = b.s32max; } else { b.smin = 0n; b.smax = U32_MAX; }
}

/** Sign-extend the low `size` bytes (movsx / ldsx); mirrors the kernel's coerce_reg_to_size_sx loosely but soundly. */
export function signExtend(b: Bounds, size: number, to32: boolean): void {
  const bits = BigInt(size * 8);
  const lo = tnumCast(b.varOff, size);
  const signBit = 1n << (bits - 1n);
  let r: Bounds;
  if ((lo.mask & signBit) === 0n) {
    // Sign known: extend the known bits.
    const neg = (lo.value & signBit) !== 0n;
    const ext = neg ? (U64_MASK ^ ((1n << bits) - 1n)) : 0n;
    r = unknownBounds();
    r.varOff = { value: lo.value | ext, mask: lo.mask };
  } else {
    r = unknownBounds();
    const lowMin = -(1n << (bits - 1n));
    const lowMax = (1n << (bits - 1n)) - 1n;
    r.smin = lowMin; r.smax = lowMax;
    r.s32min = lowMin > S32_MIN ? lowMin : S32_MIN; r.s32max = lowMax < S32_MAX ? lowMax : S32_MAX;
  }
  if (to32) { r.varOff = tnumCast(r.varOff, 4); Object.assign(b, r); boundsSync(b); zext32(b); boundsSync(b); return; }
  Object.assign(b, r);
  boundsSync(b);
}

/** Truncate to `size` bytes (loads and 32-bit moves; the kernel's coerce_reg_to_size). */
export function truncate(b: Bounds, size: number): void {
  b.varOff = tnumCast(b.varOff, size);
  const mask = (1n << BigInt(size * 8)) - 1n;
  if ((b.umin & ~mask) === (b.umax & ~mask)) { b.umin &= mask; b.umax &= mask; } else { b.umin = 0n; b.umax = mask; }
  b.smin = S64_MIN; b.smax = S64_MAX;
  if (size < 4) { b.u32min = b.umin; b.u32max = b.umax; b.s32min = S32_MIN; b.s32max = S32_MAX; }
  else if (size === 4) { b.u32min = b.umin; b.u32max = b.umax; b.s32min = S32_MIN; b.s32max = S32_MAX; }
  if (size <= 4) { b.smin = b.umin; b.smax = b.umax; }
  boundsSync(b);
}

/** Bounds of an unsigned value in [0, max] as a fresh scalar (e.g. loads of `size` bytes). */
export function rangeBounds(maxValue: bigint): Bounds {
  const b = unknownBounds();
  b.umin = 0n; b.umax = maxValue; b.varOff = tnumRange(0n, maxValue);
  boundsSync(b);
  return b;
}

export function boundsEqual(a: Bounds, b: Bounds): boolean {
  return a.varOff.value === b.varOff.value && a.varOff.mask === b.varOff.mask && a.smin === b.smin && a.smax === b.smax &&
    a.umin === b.umin && a.umax === b.umax && a.s32min === b.s32min && a.s32max === b.s32max &&
    a.u32min === b.u32min && a.u32max === b.u32max;
}

/** Whether every value allowed by `cur` is allowed by `old` (the kernel's range_within + tnum_in). */
export function boundsWithin(old: Bounds, cur: Bounds): boolean {
  return old.umin <= cur.umin && old.umax >= cur.umax && old.smin <= cur.smin && old.smax >= cur.smax &&
    old.u32min <= cur.u32min && old.u32max >= cur.u32max && old.s32min <= cur.s32min && old.s32max >= cur.s32max &&
    (cur.varOff.mask & ~old.varOff.mask) === 0n && old.varOff.value === (cur.varOff.value & ~old.varOff.mask);
}


// ---- scalar ALU

interface Range { smin: bigint; smax: bigint; umin: bigint; umax: bigint }
interface Width { smin: bigint; smax: bigint; umax: bigint; s: (x: bigint) => bigint; u: (x: bigint) => bigint }
const W64: Width = { smin: S64_MIN, smax: S64_MAX, umax: U64_MAX, s: s64, u: u64 };
const W32: Width = { smin: S32_MIN, smax: S32_MAX, umax: U32_MAX, s: s32, u: u32 };

const get = (b: Bounds, w32: boolean): Range =>
  w32 ? { smin: b.s32min, smax: b.s32max, umin: b.u32min, umax: b.u32max } : { smin: b.smin, smax: b.smax, umin: b.umin, umax: b.umax };
function put(b: Bounds, w32: boolean, r: Range): void {
  if (w32) { b.s32min = r.smin; b.s32max = r.smax; b.u32min = r.umin; b.u32max = r.umax; }
  else { b.smin = r.smin; b.smax = r.smax; b.umin = r.umin; b.umax = r.umax; }
}

function add(d: Range, s: Range, w: Width): Range {
  const r = { ...d };
  const lo = d.smin + s.smin, hi = d.smax + s.smax;
  if (lo < w.smin || hi > w.smax) { r.smin = w.smin; r.smax = w.smax; } else { r.smin = lo; r.smax = hi; }
  const ulo = d.umin + s.umin, uhi = d.umax + s.umax;
  if (uhi > w.umax) {
    // Both ends overflowing by the same wrap keeps the range contiguous (kernel 6.x scalar_min_max_add).
    if (ulo > w.umax) { r.umin = ulo - w.umax - 1n; r.umax = uhi - w.umax - 1n; } else { r.umin = 0n; r.umax = w.umax; }
  } else { r.umin = ulo; r.umax = uhi; }
  return r;
}

function sub(d: Range, s: Range, w: Width): Range {
  const r = { ...d };
  const lo = d.smin - s.smax, hi = d.smax - s.smin;
  if (lo < w.smin || hi > w.smax) { r.smin = w.smin; r.smax = w.smax; } else { r.smin = lo; r.smax = hi; }
  const ulo = d.umin - s.umax, uhi = d.umax - s.umin;
  if (ulo < 0n) {
    if (uhi < 0n) { r.umin = ulo + w.umax + 1n; r.umax = uhi + w.umax + 1n; } else { r.umin = 0n; r.umax = w.umax; }
  } else { r.umin = ulo; r.umax = uhi; }
  return r;
}

function mul(d: Range, s: Range, w: Width): Range {
  const r = { ...d };
  const uhi = d.umax * s.umax;
  if (uhi > w.umax) { r.umin = 0n; r.umax = w.umax; } else { r.umin = d.umin * s.umin; r.umax = uhi; }
  const p = [d.smin * s.smin, d.smin * s.smax, d.smax * s.smin, d.smax * s.smax];
  let lo = p[0]!, hi = p[0]!;
  for (const x of p) { if (x < lo) lo = x; if (x > hi) hi = x; }
  if (lo < w.smin || hi > w.smax) { r.smin = w.smin; r.smax = w.smax; } else { r.smin = lo; r.smax = hi; }
  return r;
}

/** Signed range from an unsigned one when it does not cross the sign boundary (and/or/xor). */
function signedFromUnsigned(r: Range, w: Width): void {
  if (w.s(r.umin) <= w.s(r.umax)) { r.smin = w.s(r.umin); r.smax = w.s(r.umax); } else { r.smin = w.smin; r.smax = w.smax; }
}

/** Applies a scalar ALU op to `dst` (mutated). Returns false when the op gives an unknown result. */
export function scalarAlu(op: number, dst: Bounds, src: Bounds, alu32: boolean): void {
  if (op === BPF_NEG) {
    const zero = knownBounds(0n);
    scalarAlu(BPF_SUB, zero, dst, alu32);
    Object.assign(dst, zero);
    return;
  }
  const bits = alu32 ? 32 : 64;
  // Shifts are only tracked for constant, in-range amounts; div/mod are not tracked (kernel: is_safe_to_compute_dst_reg_range).
  const shift = op === BPF_LSH || op === BPF_RSH || op === BPF_ARSH;
  // Untracked results are fully unknown, even for 32-bit ops: the kernel returns before zero-extending.
  if (op === BPF_DIV || op === BPF_MOD || (shift && !(alu32 ? (src.varOff.mask & U32_MAX) === 0n : isConst(src)))) {
    Object.assign(dst, unknownBounds());
    return;
  }
  if (shift) {
    const amount = Number(alu32 ? src.varOff.value & U32_MAX : src.varOff.value);
    if (amount >= bits) {
      Object.assign(dst, unknownBounds());
      return;
    }
    shiftOp(op, dst, amount, alu32);
    return;
  }
  const d32 = get(dst, true), s32r = get(src, true), d64 = get(dst, false), s64r = get(src, false);
  let r32: Range, r64: Range;
  switch (op) {
    case BPF_ADD: r32 = add(d32, s32r, W32); r64 = add(d64, s64r, W64); dst.varOff = tnumAdd(dst.varOff, src.varOff); break;
    case BPF_SUB: r32 = sub(d32, s32r, W32); r64 = sub(d64, s64r, W64); dst.varOff = tnumSub(dst.varOff, src.varOff); break;
    case BPF_MUL: r32 = mul(d32, s32r, W32); r64 = mul(d64, s64r, W64); dst.varOff = tnumMul(dst.varOff, src.varOff); break;
    case BPF_AND: case BPF_OR: case BPF_XOR: {
      const t = op === BPF_AND ? tnumAnd(dst.varOff, src.varOff) : op === BPF_OR ? tnumOr(dst.varOff, src.varOff) : tnumXor(dst.varOff, src.varOff);
      dst.varOff = t;
      const t32 = tnumSubreg(t);
      r32 = { ...d32 }; r64 = { ...d64 };
      if (op === BPF_AND) {
        r32.umin = t32.value; r32.umax = d32.umax < s32r.umax ? d32.umax : s32r.umax;
        r64.umin = t.value; r64.umax = d64.umax < s64r.umax ? d64.umax : s64r.umax;
      } else if (op === BPF_OR) {
        r32.umin = d32.umin > s32r.umin ? d32.umin : s32r.umin; r32.umax = t32.value | t32.mask;
        r64.umin = d64.umin > s64r.umin ? d64.umin : s64r.umin; r64.umax = t.value | t.mask;
      } else {
        r32.umin = t32.value; r32.umax = t32.value | t32.mask;
        r64.umin = t.value; r64.umax = t.value | t.mask;
      }
      signedFromUnsigned(r32, W32); signedFromUnsigned(r64, W64);
      break;
    }
    default: throw new Error(`scalarAlu: op ${op}`);
  }
  put(dst, true, r32);
  if (alu32) { zext32(dst); } else put(dst, false, r64);
  boundsSync(dst);
}

function shiftOp(op: number, dst: Bounds, k: number, alu32: boolean): void {
  const K = BigInt(k);
  if (alu32) {
    const t = tnumSubreg(dst.varOff);
    if (op === BPF_LSH) {
      dst.varOff = tnumSubreg(tnumLshift(t, k));
      if (dst.u32max > (1n << BigInt(31 - k))) { dst.u32min = 0n; dst.u32max = U32_MAX; }
      else { dst.u32min = dst.u32min << K; dst.u32max = dst.u32max << K; }
      dst.s32min = S32_MIN; dst.s32max = S32_MAX;
    } else if (op === BPF_RSH) {
      dst.varOff = tnumRshift(t, k);
      dst.u32min >>= K; dst.u32max >>= K; dst.s32min = S32_MIN; dst.s32max = S32_MAX;
    } else {
      dst.varOff = tnumArshift(t, k, 32);
      dst.s32min >>= K; dst.s32max >>= K; dst.u32min = 0n; dst.u32max = U32_MAX;
    }
    zext32(dst);
    boundsSync(dst);
    return;
  }
  if (op === BPF_LSH) {
    const smax = k === 32 && dst.s32max >= 0n ? dst.s32max << 32n : S64_MAX;
    const smin = k === 32 && dst.s32min >= 0n ? dst.s32min << 32n : S64_MIN;
    dst.smin = smin; dst.smax = smax;
    if (dst.umax > (1n << BigInt(63 - k))) { dst.umin = 0n; dst.umax = U64_MAX; }
    else { dst.umin <<= K; dst.umax <<= K; }
    dst.varOff = tnumLshift(dst.varOff, k);
    mark32Unbounded(dst);
  } else if (op === BPF_RSH) {
    dst.varOff = tnumRshift(dst.varOff, k);
    dst.smin = S64_MIN; dst.smax = S64_MAX;
    dst.umin >>= K; dst.umax >>= K;
    mark32Unbounded(dst);
  } else {
    dst.smin >>= K; dst.smax >>= K;
    dst.varOff = tnumArshift(dst.varOff, k, 64);
    dst.umin = 0n; dst.umax = U64_MAX;
    mark32Unbounded(dst);
  }
  boundsSync(dst);
}


// ---- branch refinement
// rev_opcode / flip_opcode are opcode tables, not arithmetic: the model uses the verifier's own.
export { revOp };

interface R { smin: bigint; smax: bigint; umin: bigint; umax: bigint; value: bigint; mask: bigint; isConst: boolean }
export function view(b: Bounds, w32: boolean): R {
  if (w32) {
    const t = tnumSubreg(b.varOff);
    return { smin: b.s32min, smax: b.s32max, umin: b.u32min, umax: b.u32max, value: t.value, mask: t.mask, isConst: t.mask === 0n };
  }
  return { smin: b.smin, smax: b.smax, umin: b.umin, umax: b.umax, value: b.varOff.value, mask: b.varOff.mask, isConst: b.varOff.mask === 0n };
}

/** 1 = always taken, 0 = never, -1 = unknown, for two scalars (is_scalar_branch_taken). */
export function scalarBranchTaken(a: R, b: R, op: number, w32: boolean): number {
  switch (op) {
    case BPF_JEQ:
      if (a.isConst && b.isConst) return a.value === b.value ? 1 : 0;
      if (a.umin > b.umax || a.umax < b.umin || a.smin > b.smax || a.smax < b.smin) return 0;
      if (((a.value ^ b.value) & ~a.mask & ~b.mask & (w32 ? 0xffffffffn : U64_MASK)) !== 0n) return 0;
      return -1;
    case BPF_JNE: {
      const r = scalarBranchTaken(a, b, BPF_JEQ, w32);
      return r < 0 ? r : 1 - r;
    }
    case BPF_JSET:
      if (!b.isConst) { if (!a.isConst) return -1; [a, b] = [b, a]; }
      if (a.value & b.value) return 1;
      if (((a.value | a.mask) & b.value) === 0n) return 0;
      return -1;
    case BPF_JGT: if (a.umin > b.umax) return 1; if (a.umax <= b.umin) return 0; return -1;
    case BPF_JSGT: if (a.smin > b.smax) return 1; if (a.smax <= b.smin) return 0; return -1;
    case BPF_JLT: if (a.umax < b.umin) return 1; if (a.umin >= b.umax) return 0; return -1;
    case BPF_JSLT: if (a.smax < b.smin) return 1; if (a.smin >= b.smax) return 0; return -1;
    case BPF_JGE: if (a.umin >= b.umax) return 1; if (a.umax < b.umin) return 0; return -1;
    case BPF_JSGE: if (a.smin >= b.smax) return 1; if (a.smax < b.smin) return 0; return -1;
    case BPF_JLE: if (a.umax <= b.umin) return 1; if (a.umin > b.umax) return 0; return -1;
    case BPF_JSLE: if (a.smax <= b.smin) return 1; if (a.smin > b.smax) return 0; return -1;
  }
  return -1;
}

/** Narrows a and b (both scalars) for "a op b" holding (regs_refine_cond_op). */
export function refine(a: Bounds, b: Bounds, op: number, w32: boolean): void {
  const isK = (x: Bounds): boolean => (w32 ? (x.varOff.mask & 0xffffffffn) === 0n : x.varOff.mask === 0n);
  const kval = (x: Bounds): bigint => (w32 ? x.varOff.value & 0xffffffffn : x.varOff.value);
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
        a.umin = b.umin = a.umin > b.umin ? a.umin : b.umin;
        a.umax = b.umax = a.umax < b.umax ? a.umax : b.umax;
        a.smin = b.smin = a.smin > b.smin ? a.smin : b.smin;
        a.smax = b.smax = a.smax < b.smax ? a.smax : b.smax;
        a.varOff = b.varOff = tnumIntersect(a.varOff, b.varOff);
      }
      break;
    }
    case BPF_JNE: {
      if (!isK(b)) [a, b] = [b, a];
      if (!isK(b)) break;
      const v = kval(b);
      if (w32) {
        if (a.u32min === u32(v)) a.u32min++;
        if (a.u32max === u32(v)) a.u32max--;
        if (a.s32min === s32(v)) a.s32min++;
        if (a.s32max === s32(v)) a.s32max--;
      } else {
        if (a.umin === v) a.umin++;
        if (a.umax === v) a.umax--;
        if (a.smin === s64(v)) a.smin++;
        if (a.smax === s64(v)) a.smax--;
      }
      break;
    }
    case BPF_JSET: case JSET_ANTI: {
      if (!isK(b)) [a, b] = [b, a];
      if (!isK(b)) break;
      const v = kval(b);
      if (op === BPF_JSET) {
        if (w32) a.varOff = tnumWithSubreg(a.varOff, tnumOr(tnumSubreg(a.varOff), tnumConst(v)));
        else a.varOff = tnumOr(a.varOff, tnumConst(v));
      } else {
        const fresh = knownBounds(0n); Object.assign(fresh, { varOff: a.varOff }); // forget ranges, keep tnum
        a.smin = -(1n << 63n); a.smax = (1n << 63n) - 1n; a.umin = 0n; a.umax = U64_MASK;
        a.s32min = -(1n << 31n); a.s32max = (1n << 31n) - 1n; a.u32min = 0n; a.u32max = 0xffffffffn;
        if (w32) a.varOff = tnumWithSubreg(a.varOff, tnumAnd(tnumSubreg(a.varOff), tnumConst(~v & 0xffffffffn)));
        else a.varOff = tnumAnd(a.varOff, tnumConst(~v & U64_MASK));
      }
      break;
    }
    case BPF_JLE:
      if (w32) { if (b.u32max < a.u32max) a.u32max = b.u32max; if (a.u32min > b.u32min) b.u32min = a.u32min; }
      else { if (b.umax < a.umax) a.umax = b.umax; if (a.umin > b.umin) b.umin = a.umin; }
      break;
    case BPF_JLT:
      if (w32) { if (b.u32max - 1n < a.u32max) a.u32max = b.u32max - 1n; if (a.u32min + 1n > b.u32min) b.u32min = a.u32min + 1n; }
      else { if (b.umax - 1n < a.umax) a.umax = b.umax - 1n; if (a.umin + 1n > b.umin) b.umin = a.umin + 1n; }
      break;
    case BPF_JSLE:
      if (w32) { if (b.s32max < a.s32max) a.s32max = b.s32max; if (a.s32min > b.s32min) b.s32min = a.s32min; }
      else { if (b.smax < a.smax) a.smax = b.smax; if (a.smin > b.smin) b.smin = a.smin; }
      break;
    case BPF_JSLT:
      if (w32) { if (b.s32max - 1n < a.s32max) a.s32max = b.s32max - 1n; if (a.s32min + 1n > b.s32min) b.s32min = a.s32min + 1n; }
      else { if (b.smax - 1n < a.smax) a.smax = b.smax - 1n; if (a.smin + 1n > b.smin) b.smin = a.smin + 1n; }
      break;
    case BPF_JGE: case BPF_JGT: case BPF_JSGE: case BPF_JSGT:
      refine(b, a, flipOp(op), w32);
      break;
  }
}

