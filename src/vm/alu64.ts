// 64-bit arithmetic on 32-bit halves for the operations that are not one-liners: multiply, divide, modulo.
// Results land in `out.lo`/`out.hi` (a module-level scratch) so the interpreter allocates nothing.
// Division semantics are the kernel's after the verifier's fixups (do_misc_fixups): x/0 = 0, x%0 = x,
// signed INT_MIN/-1 = INT_MIN and INT_MIN%-1 = 0; signed division truncates toward zero (div64_s64, abs_s32).

export const out = { lo: 0, hi: 0 };

const TWO32 = 4294967296;
const M64 = (1n << 64n) - 1n;

const toU64 = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
const toS64 = (lo: number, hi: number): bigint => BigInt.asIntN(64, toU64(lo, hi));

function setBig(v: bigint): void {
  const u = v & M64;
  out.lo = Number(u & 0xffffffffn) | 0;
  out.hi = Number(u >> 32n) | 0;
}

/** Sets `out` from an exact integer of magnitude below 2^53. */
function setNumber(q: number): void {
  out.lo = q | 0;
  out.hi = Math.floor(q / TWO32) | 0;
}

/** Low 64 bits of a * b. */
export function mul64(alo: number, ahi: number, blo: number, bhi: number): void {
  const a = alo >>> 0, b = blo >>> 0;
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  out.lo = ((mid & 0xffff) << 16) | (p00 & 0xffff);
  const hi = p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
  out.hi = (hi + Math.imul(alo, bhi) + Math.imul(ahi, blo)) | 0;
}

export function udiv64(alo: number, ahi: number, blo: number, bhi: number): void {
  if (blo === 0 && bhi === 0) { out.lo = 0; out.hi = 0; return; }
  if (ahi === 0 && bhi === 0) { out.lo = Math.floor((alo >>> 0) / (blo >>> 0)) | 0; out.hi = 0; return; }
  setBig(toU64(alo, ahi) / toU64(blo, bhi));
}

export function umod64(alo: number, ahi: number, blo: number, bhi: number): void {
  if (blo === 0 && bhi === 0) { out.lo = alo; out.hi = ahi; return; }
  if (ahi === 0 && bhi === 0) { out.lo = ((alo >>> 0) % (blo >>> 0)) | 0; out.hi = 0; return; }
  setBig(toU64(alo, ahi) % toU64(blo, bhi));
}

const fitsI32 = (lo: number, hi: number): boolean => hi === lo >> 31;

export function sdiv64(alo: number, ahi: number, blo: number, bhi: number): void {
  if (blo === 0 && bhi === 0) { out.lo = 0; out.hi = 0; return; }
  if (fitsI32(alo, ahi) && fitsI32(blo, bhi)) { setNumber(Math.trunc(alo / blo)); return; }
  // BigInt division truncates toward zero; INT64_MIN / -1 wraps back to INT64_MIN through setBig's mask.
  setBig(toS64(alo, ahi) / toS64(blo, bhi));
}

export function smod64(alo: number, ahi: number, blo: number, bhi: number): void {
  if (blo === 0 && bhi === 0) { out.lo = alo; out.hi = ahi; return; }
  if (fitsI32(alo, ahi) && fitsI32(blo, bhi)) { setNumber(alo % blo || 0); return; }
  setBig(toS64(alo, ahi) % toS64(blo, bhi));
}

/** 32-bit unsigned division and modulo; the result is zero-extended by the caller. */
export const udiv32 = (a: number, b: number): number => (b === 0 ? 0 : Math.floor((a >>> 0) / (b >>> 0)) | 0);
export const umod32 = (a: number, b: number): number => (b === 0 ? a : ((a >>> 0) % (b >>> 0)) | 0);
/** Signed 32-bit (kernel: abs_s32 + do_div, sign fixed afterwards), so INT_MIN / -1 = INT_MIN, INT_MIN % -1 = 0. */
export const sdiv32 = (a: number, b: number): number => (b === 0 ? 0 : Math.trunc((a | 0) / (b | 0)) | 0);
export const smod32 = (a: number, b: number): number => (b === 0 ? a : ((a | 0) % (b | 0)) | 0);

export const bswap32 = (x: number): number =>
  ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | ((x >>> 24) & 0xff);
export const bswap16 = (x: number): number => ((x & 0xff) << 8) | ((x >>> 8) & 0xff);

/** Unsigned 64-bit decimal of a (lo, hi) pair. */
export const u64String = (lo: number, hi: number): string => toU64(lo, hi).toString();
export { toU64, toS64 };
