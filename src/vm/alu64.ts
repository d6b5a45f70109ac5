// 64-bit arithmetic on 32-bit halves for what is not a one-liner: multiply, divide, modulo, shifts, compares.
// Each works in place on register d of the interpreter's halves (L = low words, H = high words), allocating nothing.
// Division semantics are the kernel's after the verifier's fixups (do_misc_fixups): x/0 = 0, x%0 = x,
// signed INT_MIN/-1 = INT_MIN and INT_MIN%-1 = 0; signed division truncates toward zero (div64_s64, abs_s32).

const TWO32 = 4294967296;
const M64 = (1n << 64n) - 1n;

const toU64 = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
const toS64 = (lo: number, hi: number): bigint => BigInt.asIntN(64, toU64(lo, hi));

function setBig(L: Int32Array, H: Int32Array, d: number, v: bigint): void {
  const u = v & M64;
  L[d] = Number(u & 0xffffffffn);
  H[d] = Number(u >> 32n);
}

/** Sets register d from an exact integer of magnitude below 2^53. */
function setNumber(L: Int32Array, H: Int32Array, d: number, q: number): void {
  L[d] = q;
  H[d] = Math.floor(q / TWO32);
}

/** d = low 64 bits of d * b (16-bit partial products keep every intermediate exact in a double). */
export function mul64(L: Int32Array, H: Int32Array, d: number, blo: number, bhi: number): void {
  const alo = L[d]!, ahi = H[d]!;
  const a0 = alo & 0xffff, a1 = alo >>> 16, b0 = blo & 0xffff, b1 = blo >>> 16;
  const t = a0 * b0;
  const u = a1 * b0 + (t >>> 16);
  const w = (u & 0xffff) + a0 * b1;
  const carry = a1 * b1 + (u >>> 16) + (w >>> 16);
  L[d] = Math.imul(alo, blo);
  H[d] = carry + Math.imul(alo, bhi) + Math.imul(ahi, blo);
}

export function udiv64(L: Int32Array, H: Int32Array, d: number, blo: number, bhi: number): void {
  const alo = L[d]!, ahi = H[d]!;
  if (blo === 0 && bhi === 0) { L[d] = 0; H[d] = 0; return; }
  if (ahi === 0 && bhi === 0) { L[d] = Math.floor((alo >>> 0) / (blo >>> 0)); return; }
  setBig(L, H, d, toU64(alo, ahi) / toU64(blo, bhi));
}

export function umod64(L: Int32Array, H: Int32Array, d: number, blo: number, bhi: number): void {
  const alo = L[d]!, ahi = H[d]!;
  if (blo === 0 && bhi === 0) return;
  if (ahi === 0 && bhi === 0) { L[d] = (alo >>> 0) % (blo >>> 0); return; }
  setBig(L, H, d, toU64(alo, ahi) % toU64(blo, bhi));
}

const fitsI32 = (lo: number, hi: number): boolean => hi === lo >> 31;

export function sdiv64(L: Int32Array, H: Int32Array, d: number, blo: number, bhi: number): void {
  const alo = L[d]!, ahi = H[d]!;
  if (blo === 0 && bhi === 0) { L[d] = 0; H[d] = 0; return; }
  if (fitsI32(alo, ahi) && fitsI32(blo, bhi)) { setNumber(L, H, d, Math.trunc(alo / blo)); return; }
  // BigInt division truncates toward zero; INT64_MIN / -1 wraps back to INT64_MIN through setBig's mask.
  setBig(L, H, d, toS64(alo, ahi) / toS64(blo, bhi));
}

export function smod64(L: Int32Array, H: Int32Array, d: number, blo: number, bhi: number): void {
  const alo = L[d]!, ahi = H[d]!;
  if (blo === 0 && bhi === 0) return;
  if (fitsI32(alo, ahi) && fitsI32(blo, bhi)) { setNumber(L, H, d, alo % blo || 0); return; }
  setBig(L, H, d, toS64(alo, ahi) % toS64(blo, bhi));
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

// 64-bit compares on halves (the high words decide unless equal; low words always compare unsigned).
export const ugt = (al: number, ah: number, bl: number, bh: number): boolean =>
  (ah >>> 0) > (bh >>> 0) || (ah === bh && (al >>> 0) > (bl >>> 0));
export const uge = (al: number, ah: number, bl: number, bh: number): boolean =>
  (ah >>> 0) > (bh >>> 0) || (ah === bh && (al >>> 0) >= (bl >>> 0));
export const sgt = (al: number, ah: number, bl: number, bh: number): boolean =>
  ah > bh || (ah === bh && (al >>> 0) > (bl >>> 0));
export const sge = (al: number, ah: number, bl: number, bh: number): boolean =>
  ah > bh || (ah === bh && (al >>> 0) >= (bl >>> 0));

// 64-bit shifts in place on register d; n is already masked to 0..63.
export function lsh64(L: Int32Array, H: Int32Array, d: number, n: number): void {
  if (n === 0) return;
  if (n < 32) { H[d] = (H[d]! << n) | (L[d]! >>> (32 - n)); L[d] = L[d]! << n; }
  else { H[d] = L[d]! << (n - 32); L[d] = 0; }
}

export function rsh64(L: Int32Array, H: Int32Array, d: number, n: number): void {
  if (n === 0) return;
  if (n < 32) { L[d] = (L[d]! >>> n) | (H[d]! << (32 - n)); H[d] = H[d]! >>> n; }
  else { L[d] = H[d]! >>> (n - 32); H[d] = 0; }
}

export function arsh64(L: Int32Array, H: Int32Array, d: number, n: number): void {
  if (n === 0) return;
  if (n < 32) { L[d] = (L[d]! >>> n) | (H[d]! << (32 - n)); H[d] = H[d]! >> n; }
  else { L[d] = H[d]! >> (n - 32); H[d] = H[d]! >> 31; }
}
