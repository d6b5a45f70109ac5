// Scalar knowledge as the kernel keeps it in struct bpf_reg_state: a tnum plus s64/u64/s32/u32 ranges,
// kept consistent by boundsSync (the kernel's reg_bounds_sync: update from tnum, deduce across domains, refine tnum).
import {
  type Tnum, TNUM_UNKNOWN, U32_MASK, U64_MASK, tnumCast, tnumClearSubreg, tnumConst, tnumIntersect, tnumOr, tnumRange,
  tnumSubreg,
} from "./tnum.ts";

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
export const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);
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

export { U32_MASK };
