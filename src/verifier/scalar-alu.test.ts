import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";

const bigU = (bits: number) => fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n });
import { type Bounds, boundsSync, knownBounds, unknownBounds } from "./bounds.ts";
import { fromBig, toBigS, toBigU } from "./i64.ts";
import { scalarAlu } from "./scalar-alu.ts";
import { tnumContains, tnumRange } from "./tnum.ts";

const s64 = (x: bigint): bigint => BigInt.asIntN(64, x);
const s32 = (x: bigint): bigint => BigInt.asIntN(32, x);
import { BPF_ADD, BPF_AND, BPF_ARSH, BPF_LSH, BPF_MUL, BPF_NEG, BPF_OR, BPF_RSH, BPF_SUB, BPF_XOR } from "../isa/ebpf/opcodes.ts";

/** An abstract value around concrete `x`: an unsigned range [x-a, x+b] (clamped) turned into synced bounds. */
function around(x: bigint, a: bigint, b: bigint): Bounds {
  const lo = x >= a ? x - a : 0n;
  const hi = x + b > (1n << 64n) - 1n ? (1n << 64n) - 1n : x + b;
  const r = unknownBounds();
  r.umin = fromBig(lo); r.umax = fromBig(hi); r.varOff = tnumRange(fromBig(lo), fromBig(hi));
  boundsSync(r);
  return r;
}

function holds(b: Bounds, v: bigint): boolean {
  const u = BigInt.asUintN(64, v);
  return tnumContains(b.varOff, fromBig(u)) && toBigU(b.umin) <= u && u <= toBigU(b.umax) && toBigS(b.smin) <= s64(u) &&
    s64(u) <= toBigS(b.smax) && BigInt(b.u32min) <= (u & 0xffffffffn) && (u & 0xffffffffn) <= BigInt(b.u32max) &&
    BigInt(b.s32min) <= s32(u) && s32(u) <= BigInt(b.s32max);
}

const ops: [string, number, (x: bigint, y: bigint) => bigint][] = [
  ["add", BPF_ADD, (x, y) => x + y], ["sub", BPF_SUB, (x, y) => x - y], ["mul", BPF_MUL, (x, y) => x * y],
  ["and", BPF_AND, (x, y) => x & y], ["or", BPF_OR, (x, y) => x | y], ["xor", BPF_XOR, (x, y) => x ^ y],
];
const small = fc.oneof(bigU(64), bigU(32), bigU(8), fc.constantFrom(0n, 1n, (1n << 63n), (1n << 64n) - 1n, 0xffffffffn));
const spread = fc.oneof(fc.constant(0n), bigU(4), bigU(16), bigU(40));

for (const [name, op, f] of ops) {
  for (const alu32 of [false, true]) {
    test(`scalar ${alu32 ? "alu32" : "alu64"} ${name} keeps every concrete result inside the bounds`, () => {
      fc.assert(fc.property(small, spread, spread, small, spread, spread, (x, a, b, y, c, d) => {
        const dst = around(x, a, b), src = around(y, c, d);
        scalarAlu(op, dst, src, alu32);
        const r = alu32 ? BigInt.asUintN(32, f(x & 0xffffffffn, y & 0xffffffffn)) : BigInt.asUintN(64, f(x, y));
        return holds(dst, r);
      }), { numRuns: 300 });
    });
  }
}

test("scalar shifts by constants are sound", () => {
  fc.assert(fc.property(small, spread, spread, fc.integer({ min: 0, max: 63 }), (x, a, b, k) => {
    const K = BigInt(k);
    const results: [number, bigint][] = [
      [BPF_LSH, BigInt.asUintN(64, x << K)], [BPF_RSH, x >> K], [BPF_ARSH, BigInt.asUintN(64, s64(x) >> K)],
    ];
    return results.every(([op, r]) => { const d = around(x, a, b); scalarAlu(op, d, knownBounds(fromBig(K)), false); return holds(d, r); });
  }), { numRuns: 300 });
});

test("neg and known constants", () => {
  const d = knownBounds(fromBig(5n));
  scalarAlu(BPF_NEG, d, knownBounds(fromBig(0n)), false);
  assert.equal(toBigS(d.smin), -5n);
  assert.equal(toBigS(d.smax), -5n);
  const e = knownBounds(fromBig(7n));
  scalarAlu(BPF_ADD, e, knownBounds(fromBig(3n)), true);
  assert.equal(toBigU(e.umax), 10n);
});
