// Bob Jenkins' lookup3 hash as the kernel uses it (include/linux/jhash.h): hash tables bucket keys with jhash2 when the
// key length is a multiple of 4 and jhash otherwise, seeded with a random u32 (0 under BPF_F_ZERO_SEED), so with a zero
// seed bpfkit's buckets, and therefore its get_next_key order, are the kernel's. Reads bytes straight from memory.

const JHASH_INITVAL = 0xdeadbeef;

const rol = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

/** __jhash_final: only c is needed afterwards. */
function final(a: number, b: number, c: number): number {
  c ^= b; c = (c - rol(b, 14)) | 0;
  a ^= c; a = (a - rol(c, 11)) | 0;
  b ^= a; b = (b - rol(a, 25)) | 0;
  c ^= b; c = (c - rol(b, 16)) | 0;
  a ^= c; a = (a - rol(c, 4)) | 0;
  b ^= a; b = (b - rol(a, 14)) | 0;
  c ^= b; c = (c - rol(b, 24)) | 0;
  return c >>> 0;
}

const le32 = (m: Uint8Array, p: number): number => m[p]! | (m[p + 1]! << 8) | (m[p + 2]! << 16) | (m[p + 3]! << 24);

/** jhash(key, length, initval) over `length` bytes of `m` at `p` (little-endian words, as on x86). */
export function jhash(m: Uint8Array, p: number, length: number, initval: number): number {
  let a = (JHASH_INITVAL + length + initval) | 0, b = a, c = a;
  while (length > 12) {
    a = (a + le32(m, p)) | 0;
    b = (b + le32(m, p + 4)) | 0;
    c = (c + le32(m, p + 8)) | 0;
    // __jhash_mix
    a = (a - c) | 0; a ^= rol(c, 4); c = (c + b) | 0;
    b = (b - a) | 0; b ^= rol(a, 6); a = (a + c) | 0;
    c = (c - b) | 0; c ^= rol(b, 8); b = (b + a) | 0;
    a = (a - c) | 0; a ^= rol(c, 16); c = (c + b) | 0;
    b = (b - a) | 0; b ^= rol(a, 19); a = (a + c) | 0;
    c = (c - b) | 0; c ^= rol(b, 4); b = (b + a) | 0;
    length -= 12;
    p += 12;
  }
  if (length === 0) return c >>> 0;
  // The tail: bytes 9-12 go to c, 5-8 to b, 1-4 to a, each at its byte position (whole words read at once).
  for (let i = 0; i < length; i += 4) {
    let v = 0;
    if (length - i >= 4) v = le32(m, p + i);
    else for (let k = length - i - 1; k >= 0; k--) v |= m[p + i + k]! << (k * 8);
    if (i >= 8) c = (c + v) | 0; else if (i >= 4) b = (b + v) | 0; else a = (a + v) | 0;
  }
  return final(a, b, c);
}

/**
 * jhash2(words, nwords, initval) over `nwords` u32 words of `m` at `p`. On a little-endian machine this is jhash over
 * the same 4 * nwords bytes: the same initial value, the same 12-byte rounds, and a tail whose bytes, added at their
 * byte positions, sum to the words jhash2 adds (mod 2^32).
 */
export function jhash2(m: Uint8Array, p: number, nwords: number, initval: number): number {
  return jhash(m, p, nwords << 2, initval);
}

/** The kernel's htab_map_hash: jhash2 for whole words, jhash otherwise. */
export function htabHash(m: Uint8Array, p: number, keySize: number, seed: number): number {
  return (keySize & 3) === 0 ? jhash2(m, p, keySize >>> 2, seed) : jhash(m, p, keySize, seed);
}
