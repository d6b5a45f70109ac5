import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";

const bigU = (bits: number) => fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n });
import * as T from "./tnum.ts";
import { fromBig, toBigU } from "./i64.ts";

// The tests speak BigInt (the concrete u64 values); the tnum module works on int32 halves.
type Tnum = { value: bigint; mask: bigint };
const U64_MASK = (1n << 64n) - 1n;
const toT = (a: Tnum): T.Tnum => ({ value: fromBig(a.value), mask: fromBig(a.mask) });
const ofT = (a: T.Tnum): Tnum => ({ value: toBigU(a.value), mask: toBigU(a.mask) });
const bin = (f: (a: T.Tnum, b: T.Tnum) => T.Tnum) => (a: Tnum, b: Tnum): Tnum => ofT(f(toT(a), toT(b)));
const [tnumAdd, tnumSub, tnumAnd, tnumOr, tnumXor, tnumMul, tnumIntersect] =
  [T.tnumAdd, T.tnumSub, T.tnumAnd, T.tnumOr, T.tnumXor, T.tnumMul, T.tnumIntersect].map(bin) as [
    ReturnType<typeof bin>, ReturnType<typeof bin>, ReturnType<typeof bin>, ReturnType<typeof bin>, ReturnType<typeof bin>,
    ReturnType<typeof bin>, ReturnType<typeof bin>];
const tnumLshift = (a: Tnum, s: number): Tnum => ofT(T.tnumLshift(toT(a), s));
const tnumRshift = (a: Tnum, s: number): Tnum => ofT(T.tnumRshift(toT(a), s));
const tnumArshift = (a: Tnum, s: number, w: 32 | 64): Tnum => ofT(T.tnumArshift(toT(a), s, w));
const tnumCast = (a: Tnum, n: number): Tnum => ofT(T.tnumCast(toT(a), n));
const tnumConst = (v: bigint): Tnum => ofT(T.tnumConst(fromBig(v)));
const tnumContains = (a: Tnum, x: bigint): boolean => T.tnumContains(toT(a), fromBig(x));
const tnumIn = (a: Tnum, b: Tnum): boolean => T.tnumIn(toT(a), toT(b));
const tnumRange = (lo: bigint, hi: bigint): Tnum => ofT(T.tnumRange(fromBig(lo), fromBig(hi)));
const tnumToString = (a: Tnum): string => T.tnumToString(toT(a));

const W = 3; // exhaustive over every 3-bit tnum (27 of them) and every member
const all3: Tnum[] = [];
for (let m = 0; m < 8; m++) for (let v = 0; v < 8; v++) if ((v & m) === 0) all3.push({ value: BigInt(v), mask: BigInt(m) });
const members = (t: Tnum): bigint[] => {
  const out: bigint[] = [];
  for (let x = 0n; x < 1n << BigInt(W); x++) if (tnumContains(t, x)) out.push(x);
  return out;
};
const u64 = (x: bigint): bigint => x & U64_MASK;

const binops: [string, (a: Tnum, b: Tnum) => Tnum, (x: bigint, y: bigint) => bigint][] = [
  ["add", tnumAdd, (x, y) => u64(x + y)],
  ["sub", tnumSub, (x, y) => u64(x - y)],
  ["and", tnumAnd, (x, y) => x & y],
  ["or", tnumOr, (x, y) => x | y],
  ["xor", tnumXor, (x, y) => x ^ y],
  ["mul", tnumMul, (x, y) => u64(x * y)],
];

for (const [name, op, concrete] of binops) {
  test(`tnum ${name} is sound for every 3-bit tnum pair (exhaustive)`, () => {
    for (const a of all3) for (const b of all3) {
      const r = op(a, b);
      assert.equal(r.value & r.mask, 0n);
      for (const x of members(a)) for (const y of members(b)) {
        assert.ok(tnumContains(r, concrete(x, y)), `${name} ${tnumToString(a)} ${tnumToString(b)} x=${x} y=${y}`);
      }
    }
  });
}

const arbTnum = fc.tuple(bigU(64), bigU(64)).map(([v, m]): Tnum => ({ value: v & ~m & U64_MASK, mask: m }));
const member = (t: Tnum, bits: bigint): bigint => t.value | (bits & t.mask);

for (const [name, op, concrete] of binops) {
  test(`tnum ${name} is sound on random 64-bit tnums`, () => {
    fc.assert(fc.property(arbTnum, arbTnum, bigU(64), bigU(64), (a, b, p, q) => {
      const x = member(a, p), y = member(b, q);
      return tnumContains(op(a, b), concrete(x, y));
    }), { numRuns: 500 });
  });
}

test("tnum shifts are sound", () => {
  fc.assert(fc.property(arbTnum, bigU(64), fc.integer({ min: 0, max: 63 }), (a, p, s) => {
    const x = member(a, p);
    const S = BigInt(s);
    return tnumContains(tnumLshift(a, s), u64(x << S)) && tnumContains(tnumRshift(a, s), x >> S) &&
      tnumContains(tnumArshift(a, s, 64), u64(BigInt.asIntN(64, x) >> S));
  }), { numRuns: 500 });
});

test("tnum 32-bit arithmetic shift is sound", () => {
  fc.assert(fc.property(arbTnum, bigU(64), fc.integer({ min: 0, max: 31 }), (a, p, s) => {
    const a32 = tnumCast(a, 4);
    const x = member(a32, p);
    return tnumContains(tnumArshift(a32, s, 32), BigInt.asUintN(32, BigInt.asIntN(32, x) >> BigInt(s)));
  }), { numRuns: 300 });
});

test("tnum range holds its whole range and intersect keeps common members", () => {
  fc.assert(fc.property(bigU(64), bigU(64), bigU(64), (p, q, r) => {
    const [lo, hi] = p < q ? [p, q] : [q, p];
    const t = tnumRange(lo, hi);
    const x = hi === lo ? lo : lo + (r % (hi - lo + 1n));
    return tnumContains(t, lo) && tnumContains(t, hi) && tnumContains(t, x);
  }), { numRuns: 500 });
  fc.assert(fc.property(arbTnum, arbTnum, bigU(64), (a, b, p) => {
    const x = member(a, p);
    return !tnumContains(b, x) || tnumContains(tnumIntersect(a, b), x);
  }), { numRuns: 500 });
});

test("tnum_in: a contains b exactly when every member of b is in a (exhaustive, 3 bits)", () => {
  for (const a of all3) for (const b of all3) {
    assert.equal(tnumIn(a, b), members(b).every((x) => tnumContains(a, x)), `${tnumToString(a)} ${tnumToString(b)}`);
  }
});

test("tnum prints as the kernel does", () => {
  assert.equal(tnumToString({ value: 0n, mask: 0xffffffffn }), "(0x0; 0xffffffff)");
  assert.equal(tnumToString(tnumConst(5n)), "(0x5; 0x0)");
});
