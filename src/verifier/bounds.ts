// Scalar knowledge as the kernel keeps it in struct bpf_reg_state: a tnum plus s64/u64/s32/u32 ranges,
// kept consistent by boundsSync (the kernel's reg_bounds_sync: update from tnum, deduce across domains, refine tnum).
// The 64-bit bounds are bit patterns on int32 halves (i64.ts); the 32-bit ones plain numbers. No BigInt here.
import {
  type I64, S64_MAX, S64_MIN, U32_MAX64, U64_MAX, ZERO, and, andNot, eq, fromS32, fromU32, isZero, lowMask, sle, slt,
  smax, smin, ule, ult, umax, umin,
} from "./i64.ts";
import { type Tnum, TNUM_UNKNOWN, tnumCast, tnumConst, tnumEquals, tnumIn, tnumIntersect, tnumRange } from "./tnum.ts";

export const S32_MIN = -0x80000000;
export const S32_MAX = 0x7fffffff;
export const U32_MAX = 0xffffffff;

/**
 * Mutable scalar bounds. smin/smax/umin/umax are 64-bit bit patterns (read signed or unsigned by name);
 * s32min/s32max are int32 numbers, u32min/u32max uint32 numbers.
 */
export interface Bounds {
  varOff: Tnum;
  smin: I64; smax: I64; umin: I64; umax: I64;
  s32min: number; s32max: number; u32min: number; u32max: number;
}

export function unknownBounds(): Bounds {
  return {
    varOff: TNUM_UNKNOWN, smin: S64_MIN, smax: S64_MAX, umin: ZERO, umax: U64_MAX,
    s32min: S32_MIN, s32max: S32_MAX, u32min: 0, u32max: U32_MAX,
  };
}

export function knownBounds(x: I64): Bounds {
  return {
    varOff: tnumConst(x), smin: x, smax: x, umin: x, umax: x,
    s32min: x.lo | 0, s32max: x.lo | 0, u32min: x.lo >>> 0, u32max: x.lo >>> 0,
  };
}

export function copyBounds(b: Bounds): Bounds {
  return {
    varOff: b.varOff, smin: b.smin, smax: b.smax, umin: b.umin, umax: b.umax,
    s32min: b.s32min, s32max: b.s32max, u32min: b.u32min, u32max: b.u32max,
  };
}

export function setBounds(b: Bounds, from: Bounds): void {
  b.varOff = from.varOff; b.smin = from.smin; b.smax = from.smax; b.umin = from.umin; b.umax = from.umax;
  b.s32min = from.s32min; b.s32max = from.s32max; b.u32min = from.u32min; b.u32max = from.u32max;
}

export function mark32Unbounded(b: Bounds): void {
  b.s32min = S32_MIN; b.s32max = S32_MAX; b.u32min = 0; b.u32max = U32_MAX;
}

export const isConst = (b: Bounds): boolean => isZero(b.varOff.mask);
export const isConst32 = (b: Bounds): boolean => b.varOff.mask.lo === 0;
/** A known constant equal to the small integer `n`. */
export const isConstValue = (b: Bounds, n: number): boolean =>
  isZero(b.varOff.mask) && b.varOff.value.lo === (n | 0) && b.varOff.value.hi === (n < 0 ? -1 : 0);

function updateBounds(b: Bounds): void {
  const v = b.varOff.value, m = b.varOff.mask;
  const s32lo = (v.lo | (m.lo & 0x80000000)) | 0, s32hi = (v.lo | (m.lo & 0x7fffffff)) | 0;
  if (s32lo > b.s32min) b.s32min = s32lo;
  if (s32hi < b.s32max) b.s32max = s32hi;
  const u32lo = v.lo >>> 0, u32hi = (v.lo | m.lo) >>> 0;
  if (u32lo > b.u32min) b.u32min = u32lo;
  if (u32hi < b.u32max) b.u32max = u32hi;
  // The 64-bit candidates are compared as halves and only boxed when they tighten a bound (this runs at every
  // sync, and there is a sync at every ALU op and branch).
  let hi = v.hi | (m.hi & 0x80000000), lo = v.lo;
  if (hi > b.smin.hi || (hi === b.smin.hi && lo >>> 0 > b.smin.lo >>> 0)) b.smin = { hi, lo };
  hi = v.hi | (m.hi & 0x7fffffff); lo = v.lo | m.lo;
  if (hi < b.smax.hi || (hi === b.smax.hi && lo >>> 0 < b.smax.lo >>> 0)) b.smax = { hi, lo };
  if (ult(b.umin, v)) b.umin = v;
  hi = v.hi | m.hi;
  if (hi >>> 0 < b.umax.hi >>> 0 || (hi === b.umax.hi && lo >>> 0 < b.umax.lo >>> 0)) b.umax = { hi, lo };
}

function deduce32(b: Bounds): void {
  const { umin: u0, umax: u1, smin: s0, smax: s1 } = b;
  if (u0.hi === u1.hi) {
    if (u0.lo >>> 0 > b.u32min) b.u32min = u0.lo >>> 0;
    if (u1.lo >>> 0 < b.u32max) b.u32max = u1.lo >>> 0;
    if ((u0.lo | 0) <= (u1.lo | 0)) {
      if ((u0.lo | 0) > b.s32min) b.s32min = u0.lo | 0;
      if ((u1.lo | 0) < b.s32max) b.s32max = u1.lo | 0;
    }
  }
  if (s0.hi === s1.hi) {
    if (s0.lo >>> 0 <= s1.lo >>> 0) {
      if (s0.lo >>> 0 > b.u32min) b.u32min = s0.lo >>> 0;
      if (s1.lo >>> 0 < b.u32max) b.u32max = s1.lo >>> 0;
    }
    if ((s0.lo | 0) <= (s1.lo | 0)) {
      if ((s0.lo | 0) > b.s32min) b.s32min = s0.lo | 0;
      if ((s1.lo | 0) < b.s32max) b.s32max = s1.lo | 0;
    }
  }
  // Upper halves differ by one and the low halves straddle the s32 sign change: still a contiguous s32 range.
  if (((u0.hi + 1) | 0) === u1.hi && (u0.lo | 0) < 0 && (u1.lo | 0) >= 0) {
    if ((u0.lo | 0) > b.s32min) b.s32min = u0.lo | 0;
    if ((u1.lo | 0) < b.s32max) b.s32max = u1.lo | 0;
  }
  if (((s0.hi + 1) | 0) === s1.hi && (s0.lo | 0) < 0 && (s1.lo | 0) >= 0) {
    if ((s0.lo | 0) > b.s32min) b.s32min = s0.lo | 0;
    if ((s1.lo | 0) < b.s32max) b.s32max = s1.lo | 0;
  }
  if ((b.u32min | 0) <= (b.u32max | 0)) {
    if ((b.u32min | 0) > b.s32min) b.s32min = b.u32min | 0;
    if ((b.u32max | 0) < b.s32max) b.s32max = b.u32max | 0;
  }
  if (b.s32min >>> 0 <= b.s32max >>> 0) {
    if (b.s32min >>> 0 > b.u32min) b.u32min = b.s32min >>> 0;
    if (b.s32max >>> 0 < b.u32max) b.u32max = b.s32max >>> 0;
  }
}

function deduce64(b: Bounds): void {
  if (sle(b.umin, b.umax)) {
    b.smin = smax(b.smin, b.umin);
    b.smax = smin(b.smax, b.umax);
  }
  if (ule(b.smin, b.smax)) {
    b.umin = umax(b.umin, b.smin);
    b.umax = umin(b.umax, b.smax);
  } else if (ult(b.umax, b.smin)) {
    b.smin = b.umin;
    b.umax = umin(b.umax, b.smax);
  } else if (ult(b.smax, b.umin)) {
    b.smax = b.umax;
    b.umin = umax(b.umin, b.smin);
  }
}

const S32_MIN64 = fromS32(S32_MIN);
const S32_MAX64 = fromS32(S32_MAX);

function deduceMixed(b: Bounds): void {
  // Each 64-bit bound against itself with its low half replaced by the 32-bit bound: same upper half, so only the
  // low halves compare.
  if (b.u32min > b.umin.lo >>> 0) b.umin = { hi: b.umin.hi, lo: b.u32min | 0 };
  if (b.u32max < b.umax.lo >>> 0) b.umax = { hi: b.umax.hi, lo: b.u32max | 0 };
  if (b.u32min > b.smin.lo >>> 0) b.smin = { hi: b.smin.hi, lo: b.u32min | 0 };
  if (b.u32max < b.smax.lo >>> 0) b.smax = { hi: b.smax.hi, lo: b.u32max | 0 };
  if (b.s32min >= 0 && sle(S32_MIN64, b.smin) && sle(b.smax, S32_MAX64)) {
    // The kernel also intersects var_off with tnum_range(smin, smax) here: boundOffset, next in boundsSync, does
    // exactly that with the same range, so it is left to it.
    b.smin = b.umin = b.smin.hi === 0 && b.smin.lo === b.s32min ? b.smin : fromS32(b.s32min);
    b.smax = b.umax = b.smax.hi === 0 && b.smax.lo === b.s32max ? b.smax : fromS32(b.s32max);
  }
}

/** The low `n` bits set, as an int32 half (n in 0..32). */
const low32 = (n: number): number => (n >= 32 ? -1 : (1 << n) - 1);
/** fls of a 32-bit half. */
const fls32 = (x: number): number => 32 - Math.clz32(x);

function boundOffset(b: Bounds): void {
  // tnum_intersect(var_off, tnum_range(umin, umax)), its low half intersected with tnum_range(u32min, u32max), on
  // halves; a new tnum is boxed only when a bit changes.
  const t = b.varOff;
  let rvh = 0, rvl = 0, rmh = -1, rml = -1;
  const xh = b.umin.hi ^ b.umax.hi, xl = b.umin.lo ^ b.umax.lo;
  const bits = xh !== 0 ? 32 + fls32(xh) : fls32(xl);
  if (bits <= 63) {
    rmh = bits > 32 ? low32(bits - 32) : 0; rml = bits >= 32 ? -1 : low32(bits);
    rvh = b.umin.hi & ~rmh; rvl = b.umin.lo & ~rml;
  }
  const mh = t.mask.hi & rmh;
  let ml = t.mask.lo & rml;
  const vh = (t.value.hi | rvh) & ~mh;
  let vl = (t.value.lo | rvl) & ~ml;
  const m32 = low32(fls32(b.u32min ^ b.u32max)), v32 = b.u32min & ~m32;
  ml &= m32;
  vl = (vl | v32) & ~ml;
  if (vh !== t.value.hi || vl !== t.value.lo || mh !== t.mask.hi || ml !== t.mask.lo) {
    b.varOff = { value: { hi: vh, lo: vl }, mask: { hi: mh, lo: ml } };
  }
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
  return ult(b.umax, b.umin) || slt(b.smax, b.smin) || b.u32min > b.u32max || b.s32min > b.s32max;
}

/** Result of a 32-bit operation: zero-extend the low half into 64 bits (the kernel's zext_32_to_64). */
export function zext32(b: Bounds): void {
  const t = b.varOff;
  b.varOff = { value: { hi: 0, lo: t.value.lo }, mask: { hi: 0, lo: t.mask.lo } };
  b.umin = fromU32(b.u32min); b.umax = fromU32(b.u32max);
  if (b.s32min >= 0) { b.smin = fromS32(b.s32min); b.smax = fromS32(b.s32max); } else { b.smin = ZERO; b.smax = U32_MAX64; }
}

/** Sign-extend the low `size` bytes (movsx / ldsx); mirrors the kernel's coerce_reg_to_size_sx loosely but soundly. */
export function signExtend(b: Bounds, size: number, to32: boolean): void {
  const bits = size * 8;
  const lo = tnumCast(b.varOff, size);
  const signBit = bits === 32 ? 0x80000000 | 0 : 1 << (bits - 1);
  const r = unknownBounds();
  if ((lo.mask.lo & signBit) === 0) {
    // Sign known: extend the known bits.
    const ext = (lo.value.lo & signBit) !== 0 ? andNot(U64_MAX, lowMask(bits)) : ZERO;
    r.varOff = { value: { hi: lo.value.hi | ext.hi, lo: lo.value.lo | ext.lo }, mask: lo.mask };
  } else {
    const lowMin = -(2 ** (bits - 1)), lowMax = 2 ** (bits - 1) - 1;
    r.smin = fromS32(lowMin); r.smax = fromS32(lowMax);
    r.s32min = lowMin; r.s32max = lowMax;
  }
  if (to32) { r.varOff = tnumCast(r.varOff, 4); setBounds(b, r); boundsSync(b); zext32(b); boundsSync(b); return; }
  setBounds(b, r);
  boundsSync(b);
}

/** Truncate to `size` bytes (loads and 32-bit moves; the kernel's coerce_reg_to_size). */
export function truncate(b: Bounds, size: number): void {
  b.varOff = tnumCast(b.varOff, size);
  const mask = lowMask(size * 8);
  if (eq(andNot(b.umin, mask), andNot(b.umax, mask))) { b.umin = and(b.umin, mask); b.umax = and(b.umax, mask); }
  else { b.umin = ZERO; b.umax = mask; }
  b.smin = S64_MIN; b.smax = S64_MAX;
  if (size <= 4) {
    b.u32min = b.umin.lo >>> 0; b.u32max = b.umax.lo >>> 0; b.s32min = S32_MIN; b.s32max = S32_MAX;
    b.smin = b.umin; b.smax = b.umax;
  }
  boundsSync(b);
}

/** Bounds of an unsigned value in [0, max] as a fresh scalar (e.g. loads of `size` bytes). */
export function rangeBounds(maxValue: I64): Bounds {
  const b = unknownBounds();
  b.umin = ZERO; b.umax = maxValue; b.varOff = tnumRange(ZERO, maxValue);
  boundsSync(b);
  return b;
}

export function boundsEqual(a: Bounds, b: Bounds): boolean {
  return tnumEquals(a.varOff, b.varOff) && eq(a.smin, b.smin) && eq(a.smax, b.smax) && eq(a.umin, b.umin) && eq(a.umax, b.umax) &&
    a.s32min === b.s32min && a.s32max === b.s32max && a.u32min === b.u32min && a.u32max === b.u32max;
}

/** Whether every value allowed by `cur` is allowed by `old` (the kernel's range_within + tnum_in). */
export function boundsWithin(old: Bounds, cur: Bounds): boolean {
  if (!(ule(old.umin, cur.umin) && ule(cur.umax, old.umax) && sle(old.smin, cur.smin) && sle(cur.smax, old.smax) &&
    old.u32min <= cur.u32min && old.u32max >= cur.u32max && old.s32min <= cur.s32min && old.s32max >= cur.s32max)) return false;
  return tnumIn(old.varOff, cur.varOff);
}
