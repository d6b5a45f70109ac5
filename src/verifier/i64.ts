// 64-bit values as two int32 halves (the bit pattern, as in struct bpf_reg_state where s64 and u64 share bits; the
// operation says whether it reads them signed or unsigned), so the verifier's domains run on plain numbers — BigInt
// only at the edges (messages, formatting, rare operators).

/** A 64-bit bit pattern: `hi` and `lo` are int32 (so they stay small integers in the engine). */
export interface I64 {
  readonly hi: number;
  readonly lo: number;
}

export const i64 = (hi: number, lo: number): I64 => ({ hi: hi | 0, lo: lo | 0 });

export const ZERO: I64 = i64(0, 0);
export const ONE: I64 = i64(0, 1);
export const U64_MAX: I64 = i64(-1, -1);
export const S64_MIN: I64 = i64(0x80000000, 0);
export const S64_MAX: I64 = i64(0x7fffffff, -1);
export const U32_MAX64: I64 = i64(0, -1);
const TWO32 = 4294967296;

export const eq = (a: I64, b: I64): boolean => a.hi === b.hi && a.lo === b.lo;
export const isZero = (a: I64): boolean => a.hi === 0 && a.lo === 0;
/** Unsigned a < b. */
export const ult = (a: I64, b: I64): boolean => a.hi === b.hi ? (a.lo >>> 0) < (b.lo >>> 0) : (a.hi >>> 0) < (b.hi >>> 0);
export const ule = (a: I64, b: I64): boolean => a.hi === b.hi ? (a.lo >>> 0) <= (b.lo >>> 0) : (a.hi >>> 0) < (b.hi >>> 0);
/** Signed a < b. */
export const slt = (a: I64, b: I64): boolean => a.hi === b.hi ? (a.lo >>> 0) < (b.lo >>> 0) : a.hi < b.hi;
export const sle = (a: I64, b: I64): boolean => a.hi === b.hi ? (a.lo >>> 0) <= (b.lo >>> 0) : a.hi < b.hi;
export const umin = (a: I64, b: I64): I64 => (ult(b, a) ? b : a);
export const umax = (a: I64, b: I64): I64 => (ult(a, b) ? b : a);
export const smin = (a: I64, b: I64): I64 => (slt(b, a) ? b : a);
export const smax = (a: I64, b: I64): I64 => (slt(a, b) ? b : a);

export function add(a: I64, b: I64): I64 {
  const lo = (a.lo >>> 0) + (b.lo >>> 0);
  return { hi: (a.hi + b.hi + (lo >= TWO32 ? 1 : 0)) | 0, lo: lo | 0 };
}
export function sub(a: I64, b: I64): I64 {
  const lo = (a.lo >>> 0) - (b.lo >>> 0);
  return { hi: (a.hi - b.hi - (lo < 0 ? 1 : 0)) | 0, lo: lo | 0 };
}
/** Unsigned a + b overflows 64 bits. */
export function addCarries(a: I64, b: I64): boolean {
  const lo = (a.lo >>> 0) + (b.lo >>> 0);
  return (a.hi >>> 0) + (b.hi >>> 0) + (lo >= TWO32 ? 1 : 0) >= TWO32;
}
/** Signed a + b overflows (operands of one sign, result of the other). */
export function addOverflowsS(a: I64, b: I64): boolean {
  if ((a.hi < 0) !== (b.hi < 0)) return false;
  const hi = (a.hi + b.hi + ((a.lo >>> 0) + (b.lo >>> 0) >= TWO32 ? 1 : 0)) | 0;
  return (hi < 0) !== (a.hi < 0);
}
/** Signed a - b overflows (operands of different signs, result's sign not the minuend's). */
export function subOverflowsS(a: I64, b: I64): boolean {
  if ((a.hi < 0) === (b.hi < 0)) return false;
  const hi = (a.hi - b.hi - ((a.lo >>> 0) < (b.lo >>> 0) ? 1 : 0)) | 0;
  return (hi < 0) !== (a.hi < 0);
}

export const and = (a: I64, b: I64): I64 => ({ hi: a.hi & b.hi, lo: a.lo & b.lo });
export const or = (a: I64, b: I64): I64 => ({ hi: a.hi | b.hi, lo: a.lo | b.lo });
export const xor = (a: I64, b: I64): I64 => ({ hi: a.hi ^ b.hi, lo: a.lo ^ b.lo });
export const not = (a: I64): I64 => ({ hi: ~a.hi, lo: ~a.lo });
/** a & ~b */
export const andNot = (a: I64, b: I64): I64 => ({ hi: a.hi & ~b.hi, lo: a.lo & ~b.lo });

/** Logical shift left by 0..63. */
export function shl(a: I64, k: number): I64 {
  if (k === 0) return a;
  if (k >= 32) return { hi: k >= 64 ? 0 : a.lo << (k - 32), lo: 0 };
  return { hi: (a.hi << k) | (a.lo >>> (32 - k)), lo: a.lo << k };
}
/** Logical shift right by 0..63. */
export function shr(a: I64, k: number): I64 {
  if (k === 0) return a;
  if (k >= 32) return { hi: 0, lo: k >= 64 ? 0 : (a.hi >>> (k - 32)) | 0 };
  return { hi: (a.hi >>> k) | 0, lo: ((a.lo >>> k) | (a.hi << (32 - k))) | 0 };
}
/** Arithmetic shift right by 0..63. */
export function sar(a: I64, k: number): I64 {
  if (k === 0) return a;
  if (k >= 32) return { hi: a.hi >> 31, lo: a.hi >> Math.min(k - 32, 31) };
  return { hi: a.hi >> k, lo: ((a.lo >>> k) | (a.hi << (32 - k))) | 0 };
}
/** A u32 zero-extended, an s32 sign-extended. */
export const fromU32 = (x: number): I64 => ({ hi: 0, lo: x | 0 });
export const fromS32 = (x: number): I64 => ({ hi: (x | 0) >> 31, lo: x | 0 });
/** Position of the highest set bit + 1 (fls64). */
export const fls64 = (a: I64): number => (a.hi !== 0 ? 64 - Math.clz32(a.hi) : a.lo !== 0 ? 32 - Math.clz32(a.lo) : 0);
/** Bits 0..n-1 set, n in 0..64. */
export function lowMask(n: number): I64 {
  if (n >= 64) return U64_MAX;
  if (n >= 32) return { hi: n === 32 ? 0 : -1 >>> (64 - n) | 0, lo: -1 };
  return { hi: 0, lo: n === 0 ? 0 : (-1 >>> (32 - n)) | 0 };
}

/** An integer number (|x| < 2^53) as its 64-bit two's complement. */
export function fromNumber(x: number): I64 {
  const hi = Math.floor(x / TWO32);
  return { hi: hi | 0, lo: (x - hi * TWO32) | 0 };
}
/** Signed value as a number (rounded beyond 2^53, as Number(bigint) rounds). */
export const toNumberS = (a: I64): number => a.hi * TWO32 + (a.lo >>> 0);
/** Unsigned value as a number (rounded beyond 2^53). */
export const toNumberU = (a: I64): number => (a.hi >>> 0) * TWO32 + (a.lo >>> 0);

/** BigInt edges: any bigint (taken modulo 2^64) in, the signed or unsigned reading out. */
export function fromBig(x: bigint): I64 {
  const u = BigInt.asUintN(64, x);
  return { hi: Number(u >> 32n) | 0, lo: Number(u & 0xffffffffn) | 0 };
}
export const toBigU = (a: I64): bigint => (BigInt(a.hi >>> 0) << 32n) | BigInt(a.lo >>> 0);
export const toBigS = (a: I64): bigint => BigInt.asIntN(64, toBigU(a));
