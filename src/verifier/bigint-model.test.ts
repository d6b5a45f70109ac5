// The verifier's numeric domains on int32 halves (i64.ts, tnum.ts, bounds.ts, scalar-alu.ts, check-jmp.ts's
// refinement) against the BigInt model they replaced (bigint-model.testkit.ts): same results, bit for bit, on random
// inputs — the i64 primitives against BigInt arithmetic, each tnum operator, reg_bounds_sync, every scalar ALU
// operator at both widths, and branch prediction + refinement for every conditional jump, over random op chains.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import * as I from "./i64.ts";
import * as T from "./tnum.ts";
import * as B from "./bounds.ts";
import * as M from "./bigint-model.testkit.ts";
import { scalarAlu } from "./scalar-alu.ts";
import { checkCondJmp } from "./check-jmp.ts";
import {
  BPF_ADD, BPF_AND, BPF_ARSH, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JLE, BPF_JLT, BPF_JMP, BPF_JMP32, BPF_JNE, BPF_JSET, BPF_JSGE,
  BPF_JSGT, BPF_JSLE, BPF_JSLT, BPF_LSH, BPF_MUL, BPF_NEG, BPF_OR, BPF_RSH, BPF_SUB, BPF_X, BPF_XOR,
} from "../isa/ebpf/opcodes.ts";
import { newFrame, scalarReg, type State } from "./state.ts";
import type { Env } from "./env.ts";

const MASK = (1n << 64n) - 1n;
const u64 = fc.bigInt({ min: 0n, max: MASK });
/** Values near the edges (0, 2^31, 2^32, 2^63, 2^64) matter most: mix them in. */
const edgy = fc.oneof(
  u64,
  fc.bigInt({ min: 0n, max: 0xffffn }),
  fc.constantFrom(0n, 1n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, (1n << 63n) - 1n, 1n << 63n, MASK, MASK - 1n)
    .chain((c) => fc.bigInt({ min: -3n, max: 3n }).map((d) => (c + d) & MASK)),
);
const arbTnum = fc.tuple(edgy, edgy).map(([v, m]) => ({ value: v & ~m & MASK, mask: m }));

const toT = (a: { value: bigint; mask: bigint }): T.Tnum => ({ value: I.fromBig(a.value), mask: I.fromBig(a.mask) });
const ofT = (a: T.Tnum): { value: bigint; mask: bigint } => ({ value: I.toBigU(a.value), mask: I.toBigU(a.mask) });
const toB = (m: M.Bounds): B.Bounds => ({
  varOff: toT(m.varOff), smin: I.fromBig(m.smin), smax: I.fromBig(m.smax), umin: I.fromBig(m.umin), umax: I.fromBig(m.umax),
  s32min: Number(m.s32min), s32max: Number(m.s32max), u32min: Number(m.u32min), u32max: Number(m.u32max),
});
const ofB = (b: B.Bounds): M.Bounds => ({
  varOff: ofT(b.varOff), smin: I.toBigS(b.smin), smax: I.toBigS(b.smax), umin: I.toBigU(b.umin), umax: I.toBigU(b.umax),
  s32min: BigInt(b.s32min), s32max: BigInt(b.s32max), u32min: BigInt(b.u32min), u32max: BigInt(b.u32max),
});
const show = (m: M.Bounds): string => JSON.stringify(m, (_k, v) => (typeof v === "bigint" ? v.toString() : v));

test("i64 primitives match BigInt arithmetic", () => {
  fc.assert(fc.property(edgy, edgy, fc.integer({ min: 0, max: 63 }), (x, y, k) => {
    const a = I.fromBig(x), b = I.fromBig(y);
    const sx = BigInt.asIntN(64, x), sy = BigInt.asIntN(64, y);
    assert.equal(I.toBigU(I.add(a, b)), (x + y) & MASK);
    assert.equal(I.toBigU(I.sub(a, b)), (x - y) & MASK);
    assert.equal(I.addCarries(a, b), x + y > MASK);
    assert.equal(I.addOverflowsS(a, b), BigInt.asIntN(64, sx + sy) !== sx + sy);
    assert.equal(I.subOverflowsS(a, b), BigInt.asIntN(64, sx - sy) !== sx - sy);
    assert.equal(I.ult(a, b), x < y); assert.equal(I.ule(a, b), x <= y);
    assert.equal(I.slt(a, b), sx < sy); assert.equal(I.sle(a, b), sx <= sy);
    assert.equal(I.toBigU(I.shl(a, k)), (x << BigInt(k)) & MASK);
    assert.equal(I.toBigU(I.shr(a, k)), x >> BigInt(k));
    assert.equal(I.toBigU(I.sar(a, k)), BigInt.asUintN(64, sx >> BigInt(k)));
    assert.equal(I.fls64(a), x === 0n ? 0 : x.toString(2).length);
    assert.equal(I.toBigU(I.lowMask(k + 1)), (1n << BigInt(k + 1)) - 1n);
    assert.equal(I.toNumberS(a), Number(sx));
    assert.equal(I.toNumberU(a), Number(x));
    if (sx >= -(2n ** 53n) && sx <= 2n ** 53n) assert.equal(I.toBigS(I.fromNumber(Number(sx))), sx);
  }), { numRuns: 3000 });
});

const tnumBinops: [string, (a: T.Tnum, b: T.Tnum) => T.Tnum, (a: M.Tnum, b: M.Tnum) => M.Tnum][] = [
  ["add", T.tnumAdd, M.tnumAdd], ["sub", T.tnumSub, M.tnumSub], ["and", T.tnumAnd, M.tnumAnd], ["or", T.tnumOr, M.tnumOr],
  ["xor", T.tnumXor, M.tnumXor], ["mul", T.tnumMul, M.tnumMul], ["intersect", T.tnumIntersect, M.tnumIntersect],
];

test("tnum operators match the BigInt model exactly", () => {
  fc.assert(fc.property(arbTnum, arbTnum, fc.integer({ min: 0, max: 63 }), fc.constantFrom(1, 2, 4, 8), (a, b, k, size) => {
    for (const [name, ours, model] of tnumBinops) assert.deepEqual(ofT(ours(toT(a), toT(b))), model(a, b), name);
    assert.deepEqual(ofT(T.tnumLshift(toT(a), k)), M.tnumLshift(a, k));
    assert.deepEqual(ofT(T.tnumRshift(toT(a), k)), M.tnumRshift(a, k));
    assert.deepEqual(ofT(T.tnumArshift(toT(a), k, 64)), M.tnumArshift(a, k, 64));
    const a32 = M.tnumCast(a, 4);
    assert.deepEqual(ofT(T.tnumArshift(toT(a32), k & 31, 32)), M.tnumArshift(a32, k & 31, 32));
    assert.deepEqual(ofT(T.tnumCast(toT(a), size)), M.tnumCast(a, size));
    const [lo, hi] = a.value < b.value ? [a.value, b.value] : [b.value, a.value];
    assert.deepEqual(ofT(T.tnumRange(I.fromBig(lo), I.fromBig(hi))), M.tnumRange(lo, hi));
    assert.equal(T.tnumIn(toT(a), toT(b)), M.tnumIn(a, b));
    assert.equal(T.tnumToString(toT(a)), M.tnumToString(a));
  }), { numRuns: 2000 });
});

/** A consistent abstract value: an unsigned range turned into synced bounds by the model (as the verifier makes them). */
const arbBounds = fc.tuple(edgy, fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 15n }), fc.bigInt({ min: 0n, max: 1n << 40n }), u64), fc.boolean())
  .map(([x, spread, narrow32]) => {
    const hi = x + spread > MASK ? MASK : x + spread;
    const m = M.unknownBounds();
    m.umin = x; m.umax = hi; m.varOff = M.tnumRange(x, hi);
    if (narrow32 && (x & 0xffffffffn) <= (hi & 0xffffffffn)) { m.u32min = x & 0xffffffffn; m.u32max = hi & 0xffffffffn; }
    M.boundsSync(m);
    return m;
  })
  .filter((m) => !M.boundsEmpty(m));

test("reg_bounds_sync matches the BigInt model exactly", () => {
  fc.assert(fc.property(arbBounds, arbTnum, (m, t) => {
    // Also with a tnum that disagrees with the ranges: the sync must still compute the same thing.
    const m2 = { ...m, varOff: M.tnumIntersect(m.varOff, t) };
    for (const x of [m, m2]) {
      const ours = toB(x);
      const ref = { ...x };
      B.boundsSync(ours); M.boundsSync(ref);
      if (M.boundsEmpty(ref)) { assert.ok(B.boundsEmpty(ours), show(ref)); continue; }
      assert.deepEqual(ofB(ours), ref, show(x));
    }
  }), { numRuns: 3000 });
});

const ALU_OPS = [BPF_ADD, BPF_SUB, BPF_MUL, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH, BPF_ARSH, BPF_NEG];

test("the scalar ALU matches the BigInt model exactly (every operator, both widths)", () => {
  fc.assert(fc.property(arbBounds, arbBounds, fc.constantFrom(...ALU_OPS), fc.boolean(), fc.integer({ min: 0, max: 70 }), (d, s, op, alu32, k) => {
    // Shifts take a constant amount (tracked below the width, unknown at or above it).
    const src = op === BPF_LSH || op === BPF_RSH || op === BPF_ARSH ? M.knownBounds(BigInt(k)) : s;
    const ours = toB(d), ref = { ...d };
    scalarAlu(op, ours, toB(src), alu32);
    M.scalarAlu(op, ref, { ...src }, alu32);
    assert.deepEqual(ofB(ours), ref, `op ${op} alu32 ${alu32} dst ${show(d)} src ${show(src)}`);
  }), { numRuns: 4000 });
});

const JMP_OPS = [BPF_JEQ, BPF_JNE, BPF_JSET, BPF_JGT, BPF_JGE, BPF_JLT, BPF_JLE, BPF_JSGT, BPF_JSGE, BPF_JSLT, BPF_JSLE];

/** The conditional jump through checkCondJmp (prediction, refinement of both successors) against the model's. */
function jumpBoth(a: M.Bounds, b: M.Bounds, op: number, w32: boolean): void {
  const f = newFrame(-1, 0, -1);
  f.regs[1] = scalarReg(toB(a)); f.regs[2] = scalarReg(toB(b));
  const state: State = { frames: [f], refs: [], parentPc: -1, rcu: 0, preempt: 0 };
  const env = { state, unpriv: false, pc: 0 } as unknown as Env;
  const insn = { code: (w32 ? BPF_JMP32 : BPF_JMP) | op | BPF_X, dst: 1, src: 2, off: 0, imm: 0 };
  const copy = (s: State): State => ({ frames: [{ ...s.frames[0]!, regs: s.frames[0]!.regs.map((r) => ({ ...r, b: B.copyBounds(r.b) })) }], refs: [], parentPc: -1, rcu: 0, preempt: 0 });
  const res = checkCondJmp(env, insn, copy);
  const pred = M.scalarBranchTaken(M.view(a, w32), M.view(b, w32), op, w32);
  const ctx = `op ${op} w32 ${w32} a ${show(a)} b ${show(b)}`;
  if (pred === 1) { assert.equal(res.fallthrough, false, ctx); assert.equal(res.taken, state, ctx); return; }
  if (pred === 0) { assert.equal(res.taken, undefined, ctx); assert.equal(res.fallthrough, true, ctx); return; }
  const side = (s: State | undefined, rop: number): void => {
    const ra = { ...a }, rb = { ...b };
    M.refine(ra, rb, rop, w32);
    M.boundsSync(ra); M.boundsSync(rb);
    const dead = M.boundsEmpty(ra) || M.boundsEmpty(rb);
    if (dead) { assert.equal(s, undefined, `dead side ${ctx}`); return; }
    assert.ok(s, `live side ${ctx}`);
    assert.deepEqual(ofB(s.frames[0]!.regs[1]!.b), ra, `dst ${ctx}`);
    assert.deepEqual(ofB(s.frames[0]!.regs[2]!.b), rb, `src ${ctx}`);
  };
  side(res.taken, op);
  side(res.fallthrough ? state : undefined, M.revOp(op));
}

test("conditional jumps predict and refine as the BigInt model does (every operator, both widths)", () => {
  fc.assert(fc.property(arbBounds, arbBounds, fc.constantFrom(...JMP_OPS), fc.boolean(), (a, b, op, w32) => {
    jumpBoth(a, b, op, w32);
  }), { numRuns: 4000 });
});

test("op chains stay identical to the BigInt model", () => {
  const step = fc.tuple(fc.boolean(), fc.constantFrom(...ALU_OPS, ...JMP_OPS), arbBounds, fc.boolean(), fc.integer({ min: 0, max: 63 }));
  fc.assert(fc.property(arbBounds, fc.array(step, { minLength: 1, maxLength: 8 }), (start, steps) => {
    let ours = toB(start);
    let ref = { ...start };
    for (const [isAlu, op0, other, w32, k] of steps) {
      if (isAlu) {
        const op = ALU_OPS[op0 % ALU_OPS.length]!;
        const src = op === BPF_LSH || op === BPF_RSH || op === BPF_ARSH ? M.knownBounds(BigInt(k)) : other;
        scalarAlu(op, ours, toB(src), w32); M.scalarAlu(op, ref, { ...src }, w32);
      } else {
        const op = JMP_OPS[op0 % JMP_OPS.length]!;
        if (M.scalarBranchTaken(M.view(ref, w32), M.view(other, w32), op, w32) >= 0) continue;
        const ra = { ...ref }, rb = { ...other };
        M.refine(ra, rb, op, w32); M.boundsSync(ra); M.boundsSync(rb);
        if (M.boundsEmpty(ra) || M.boundsEmpty(rb)) continue;
        jumpBoth(ref, other, op, w32);
        ref = ra; ours = toB(ra);
      }
      assert.deepEqual(ofB(ours), ref);
    }
  }), { numRuns: 1000 });
});

void BPF_NEG;
