// Tristate numbers: 64-bit values where each bit is known 0, known 1 or unknown (kernel/bpf/tnum.c).
// `value` holds the known-1 bits, `mask` the unknown bits; value & mask is always 0. u64 algebra on int32 halves
// (src/verifier/i64.ts); tnum.test.ts checks it against a BigInt model.
import {
  type I64, U64_MAX, ZERO, add, and, andNot, fls64, fromBig, isZero, lowMask, or, sar, shl, shr, sub, toBigU, xor,
} from "./i64.ts";

export interface Tnum {
  readonly value: I64;
  readonly mask: I64;
}

export const tnumConst = (v: I64): Tnum => ({ value: v, mask: ZERO });
export const TNUM_UNKNOWN: Tnum = { value: ZERO, mask: U64_MAX };

/** The smallest tnum holding every value in [min, max] (unsigned). */
export function tnumRange(min: I64, max: I64): Tnum {
  const bits = fls64(xor(min, max));
  if (bits > 63) return TNUM_UNKNOWN;
  const delta = lowMask(bits);
  return { value: andNot(min, delta), mask: delta };
}

export const tnumLshift = (a: Tnum, s: number): Tnum => ({ value: shl(a.value, s), mask: shl(a.mask, s) });
export const tnumRshift = (a: Tnum, s: number): Tnum => ({ value: shr(a.value, s), mask: shr(a.mask, s) });

/** Arithmetic shift right at 32 or 64 bit width (the kernel's tnum_arshift). */
export function tnumArshift(a: Tnum, s: number, bits: 32 | 64): Tnum {
  if (bits === 32) {
    return { value: { hi: 0, lo: (a.value.lo >> s) }, mask: { hi: 0, lo: (a.mask.lo >> s) } };
  }
  return { value: sar(a.value, s), mask: sar(a.mask, s) };
}

export function tnumAdd(a: Tnum, b: Tnum): Tnum {
  const sm = add(a.mask, b.mask);
  const sv = add(a.value, b.value);
  const sigma = add(sm, sv);
  const chi = xor(sigma, sv);
  const mu = or(or(chi, a.mask), b.mask);
  return { value: andNot(sv, mu), mask: mu };
}

export function tnumSub(a: Tnum, b: Tnum): Tnum {
  const dv = sub(a.value, b.value);
  const alpha = add(dv, a.mask);
  const beta = sub(dv, b.mask);
  const chi = xor(alpha, beta);
  const mu = or(or(chi, a.mask), b.mask);
  return { value: andNot(dv, mu), mask: mu };
}

export function tnumAnd(a: Tnum, b: Tnum): Tnum {
  const alpha = or(a.value, a.mask);
  const beta = or(b.value, b.mask);
  const v = and(a.value, b.value);
  return { value: v, mask: andNot(and(alpha, beta), v) };
}

export function tnumOr(a: Tnum, b: Tnum): Tnum {
  const v = or(a.value, b.value);
  return { value: v, mask: andNot(or(a.mask, b.mask), v) };
}

export function tnumXor(a: Tnum, b: Tnum): Tnum {
  const v = xor(a.value, b.value);
  const mu = or(a.mask, b.mask);
  return { value: andNot(v, mu), mask: mu };
}

/** Long multiplication over tristate bits (the kernel's tnum_mul since 6.x); the known bits' product on BigInt (rare). */
export function tnumMul(a: Tnum, b: Tnum): Tnum {
  const accV = fromBig(toBigU(a.value) * toBigU(b.value));
  let accM: Tnum = { value: ZERO, mask: ZERO };
  while (!isZero(a.value) || !isZero(a.mask)) {
    if (a.value.lo & 1) accM = tnumAdd(accM, { value: ZERO, mask: b.mask });
    else if (a.mask.lo & 1) accM = tnumAdd(accM, { value: ZERO, mask: or(b.value, b.mask) });
    a = tnumRshift(a, 1);
    b = tnumLshift(b, 1);
  }
  return tnumAdd(tnumConst(accV), accM);
}

/** Bits known in either operand (both must describe the same value). */
export function tnumIntersect(a: Tnum, b: Tnum): Tnum {
  const v = or(a.value, b.value);
  const mu = and(a.mask, b.mask);
  return { value: andNot(v, mu), mask: mu };
}

/** Truncate to `size` bytes. */
export function tnumCast(a: Tnum, size: number): Tnum {
  const m = lowMask(size * 8);
  return { value: and(a.value, m), mask: and(a.mask, m) };
}

export const tnumIsConst = (a: Tnum): boolean => isZero(a.mask);
export const tnumIsUnknown = (a: Tnum): boolean => a.mask.hi === -1 && a.mask.lo === -1;
export const tnumEquals = (a: Tnum, b: Tnum): boolean =>
  a.value.hi === b.value.hi && a.value.lo === b.value.lo && a.mask.hi === b.mask.hi && a.mask.lo === b.mask.lo;

export function tnumIsAligned(a: Tnum, size: number): boolean {
  if (size === 0) return true;
  return ((a.value.lo | a.mask.lo) & (size - 1)) === 0;
}

/** Whether every value of `b` is also a value of `a` (a is at least as general). */
export function tnumIn(a: Tnum, b: Tnum): boolean {
  if ((b.mask.hi & ~a.mask.hi) !== 0 || (b.mask.lo & ~a.mask.lo) !== 0) return false;
  return a.value.hi === (b.value.hi & ~a.mask.hi) && a.value.lo === (b.value.lo & ~a.mask.lo);
}

/** Whether the concrete value `x` is described by `a`. */
export const tnumContains = (a: Tnum, x: I64): boolean =>
  (x.hi & ~a.mask.hi) === a.value.hi && (x.lo & ~a.mask.lo) === a.value.lo;

export const tnumSubreg = (a: Tnum): Tnum => ({ value: { hi: 0, lo: a.value.lo }, mask: { hi: 0, lo: a.mask.lo } });
export const tnumClearSubreg = (a: Tnum): Tnum => ({ value: { hi: a.value.hi, lo: 0 }, mask: { hi: a.mask.hi, lo: 0 } });
export const tnumWithSubreg = (reg: Tnum, sub: Tnum): Tnum =>
  ({ value: { hi: reg.value.hi, lo: sub.value.lo }, mask: { hi: reg.mask.hi, lo: sub.mask.lo } });
export const tnumConstSubreg = (a: Tnum, v: I64): Tnum => tnumWithSubreg(a, tnumConst(v));

/** Smallest and largest unsigned values described. */
export const tnumUmin = (a: Tnum): I64 => a.value;
export const tnumUmax = (a: Tnum): I64 => or(a.value, a.mask);

/** The kernel's `(0x0; 0xffffffff)` rendering. */
export const tnumToString = (a: Tnum): string => `(0x${toBigU(a.value).toString(16)}; 0x${toBigU(a.mask).toString(16)})`;
