// Abstract ALU on scalars: the kernel's adjust_scalar_min_max_vals, one function per operator, both widths.
// 64-bit operations also track the low 32 bits; 32-bit operations compute 32-bit bounds and zero-extend.
// 32-bit ranges are numbers, 64-bit ones int32 halves (i64.ts); only multiplication goes through BigInt.
import {
  type Bounds, S32_MAX, S32_MIN, U32_MAX, boundsSync, isConst, knownBounds, mark32Unbounded, setBounds,
  unknownBounds, zext32,
} from "./bounds.ts";
import {
  ONE, S64_MAX, S64_MIN, U64_MAX, ZERO, add as add64, addCarries, addOverflowsS, fromBig, or as or64, sar, shl,
  shr, sle, sub as sub64, subOverflowsS, toBigS, toBigU, ult,
} from "./i64.ts";
import {
  tnumAdd, tnumAnd, tnumArshift, tnumLshift, tnumMul, tnumOr, tnumRshift, tnumSub, tnumSubreg, tnumXor,
} from "./tnum.ts";
import { BPF_ADD, BPF_AND, BPF_ARSH, BPF_DIV, BPF_LSH, BPF_MOD, BPF_MUL, BPF_NEG, BPF_OR, BPF_RSH, BPF_SUB, BPF_XOR } from "../isa/ebpf/opcodes.ts";

const TWO32 = 4294967296;

/** 32-bit half: updates dst's s32/u32 bounds from src's (doubles are exact for sums; products are compared only). */
function alu32Ranges(op: number, d: Bounds, s: Bounds): void {
  let smin = d.s32min, smax = d.s32max, umin = d.u32min, umax = d.u32max;
  switch (op) {
    case BPF_ADD: {
      const lo = smin + s.s32min, hi = smax + s.s32max;
      if (lo < S32_MIN || hi > S32_MAX) { smin = S32_MIN; smax = S32_MAX; } else { smin = lo; smax = hi; }
      const ulo = umin + s.u32min, uhi = umax + s.u32max;
      // Both ends overflowing by the same wrap keeps the range contiguous (kernel 6.x scalar32_min_max_add).
      if (uhi > U32_MAX) { if (ulo > U32_MAX) { umin = ulo - TWO32; umax = uhi - TWO32; } else { umin = 0; umax = U32_MAX; } }
      else { umin = ulo; umax = uhi; }
      break;
    }
    case BPF_SUB: {
      const lo = smin - s.s32max, hi = smax - s.s32min;
      if (lo < S32_MIN || hi > S32_MAX) { smin = S32_MIN; smax = S32_MAX; } else { smin = lo; smax = hi; }
      const ulo = umin - s.u32max, uhi = umax - s.u32min;
      if (ulo < 0) { if (uhi < 0) { umin = ulo + TWO32; umax = uhi + TWO32; } else { umin = 0; umax = U32_MAX; } }
      else { umin = ulo; umax = uhi; }
      break;
    }
    case BPF_MUL: {
      // Products beyond 2^53 round, but monotonically: a product over the limit still compares over it.
      const uhi = umax * s.u32max;
      if (uhi > U32_MAX) { umin = 0; umax = U32_MAX; } else { umin = umin * s.u32min; umax = uhi; }
      const p0 = smin * s.s32min, p1 = smin * s.s32max, p2 = smax * s.s32min, p3 = smax * s.s32max;
      const lo = Math.min(p0, p1, p2, p3), hi = Math.max(p0, p1, p2, p3);
      if (lo < S32_MIN || hi > S32_MAX) { smin = S32_MIN; smax = S32_MAX; } else { smin = lo; smax = hi; }
      break;
    }
    default: { // and, or, xor: unsigned from the tnum (already computed into d.varOff), signed when no sign change
      const t = d.varOff;
      const tv = t.value.lo >>> 0, tmax = (t.value.lo | t.mask.lo) >>> 0;
      if (op === BPF_AND) { umin = tv; umax = umax < s.u32max ? umax : s.u32max; }
      else if (op === BPF_OR) { umin = umin > s.u32min ? umin : s.u32min; umax = tmax; }
      else { umin = tv; umax = tmax; }
      if ((umin | 0) <= (umax | 0)) { smin = umin | 0; smax = umax | 0; } else { smin = S32_MIN; smax = S32_MAX; }
    }
  }
  d.s32min = smin; d.s32max = smax; d.u32min = umin; d.u32max = umax;
}

/** 64-bit half, as the kernel's scalar_min_max_{add,sub,mul,and,or,xor}. */
function alu64Ranges(op: number, d: Bounds, s: Bounds): void {
  switch (op) {
    case BPF_ADD: {
      if (addOverflowsS(d.smin, s.smin) || addOverflowsS(d.smax, s.smax)) { d.smin = S64_MIN; d.smax = S64_MAX; }
      else { d.smin = add64(d.smin, s.smin); d.smax = add64(d.smax, s.smax); }
      const minOv = addCarries(d.umin, s.umin), maxOv = addCarries(d.umax, s.umax);
      if (!minOv && maxOv) { d.umin = ZERO; d.umax = U64_MAX; }
      else { d.umin = add64(d.umin, s.umin); d.umax = add64(d.umax, s.umax); }
      return;
    }
    case BPF_SUB: {
      if (subOverflowsS(d.smin, s.smax) || subOverflowsS(d.smax, s.smin)) { d.smin = S64_MIN; d.smax = S64_MAX; }
      else { const lo = sub64(d.smin, s.smax); d.smax = sub64(d.smax, s.smin); d.smin = lo; }
      const minUnder = ult(d.umin, s.umax), maxUnder = ult(d.umax, s.umin);
      if (minUnder && !maxUnder) { d.umin = ZERO; d.umax = U64_MAX; }
      else { const lo = sub64(d.umin, s.umax); d.umax = sub64(d.umax, s.umin); d.umin = lo; }
      return;
    }
    case BPF_MUL: {
      const M = (1n << 64n) - 1n;
      const uhi = toBigU(d.umax) * toBigU(s.umax);
      if (uhi > M) { d.umin = ZERO; d.umax = U64_MAX; }
      else { d.umin = fromBig(toBigU(d.umin) * toBigU(s.umin)); d.umax = fromBig(uhi); }
      const a0 = toBigS(d.smin), a1 = toBigS(d.smax), b0 = toBigS(s.smin), b1 = toBigS(s.smax);
      const p = [a0 * b0, a0 * b1, a1 * b0, a1 * b1];
      let lo = p[0]!, hi = p[0]!;
      for (const x of p) { if (x < lo) lo = x; if (x > hi) hi = x; }
      if (lo < toBigS(S64_MIN) || hi > toBigS(S64_MAX)) { d.smin = S64_MIN; d.smax = S64_MAX; }
      else { d.smin = fromBig(lo); d.smax = fromBig(hi); }
      return;
    }
    default: {
      const t = d.varOff;
      if (op === BPF_AND) { d.umin = t.value; d.umax = ult(d.umax, s.umax) ? d.umax : s.umax; }
      else if (op === BPF_OR) { d.umin = ult(d.umin, s.umin) ? s.umin : d.umin; d.umax = or64(t.value, t.mask); }
      else { d.umin = t.value; d.umax = or64(t.value, t.mask); }
      if (sle(d.umin, d.umax)) { d.smin = d.umin; d.smax = d.umax; } else { d.smin = S64_MIN; d.smax = S64_MAX; }
    }
  }
}

/** Applies a scalar ALU op to `dst` (mutated); untracked operators leave it unknown. */
export function scalarAlu(op: number, dst: Bounds, src: Bounds, alu32: boolean): void {
  if (op === BPF_NEG) {
    const zero = knownBounds(ZERO);
    scalarAlu(BPF_SUB, zero, dst, alu32);
    setBounds(dst, zero);
    return;
  }
  const bits = alu32 ? 32 : 64;
  // Shifts are only tracked for constant, in-range amounts; div/mod are not tracked (kernel: is_safe_to_compute_dst_reg_range).
  const shift = op === BPF_LSH || op === BPF_RSH || op === BPF_ARSH;
  // Untracked results are fully unknown, even for 32-bit ops: the kernel returns before zero-extending.
  if (op === BPF_DIV || op === BPF_MOD || (shift && !(alu32 ? src.varOff.mask.lo === 0 : isConst(src)))) {
    setBounds(dst, unknownBounds());
    return;
  }
  if (shift) {
    const v = src.varOff.value;
    const amount = alu32 || v.hi === 0 ? v.lo >>> 0 : bits;
    if (amount >= bits) {
      setBounds(dst, unknownBounds());
      return;
    }
    shiftOp(op, dst, amount, alu32);
    return;
  }
  switch (op) {
    case BPF_ADD: dst.varOff = tnumAdd(dst.varOff, src.varOff); break;
    case BPF_SUB: dst.varOff = tnumSub(dst.varOff, src.varOff); break;
    case BPF_MUL: dst.varOff = tnumMul(dst.varOff, src.varOff); break;
    case BPF_AND: dst.varOff = tnumAnd(dst.varOff, src.varOff); break;
    case BPF_OR: dst.varOff = tnumOr(dst.varOff, src.varOff); break;
    case BPF_XOR: dst.varOff = tnumXor(dst.varOff, src.varOff); break;
    default: throw new Error(`scalarAlu: op ${op}`);
  }
  alu32Ranges(op, dst, src);
  if (alu32) zext32(dst); else alu64Ranges(op, dst, src);
  boundsSync(dst);
}

function shiftOp(op: number, dst: Bounds, k: number, alu32: boolean): void {
  if (alu32) {
    const t = tnumSubreg(dst.varOff);
    if (op === BPF_LSH) {
      dst.varOff = tnumSubreg(tnumLshift(t, k));
      if (dst.u32max > 2 ** (31 - k)) { dst.u32min = 0; dst.u32max = U32_MAX; }
      else { dst.u32min = dst.u32min * 2 ** k; dst.u32max = dst.u32max * 2 ** k; }
      dst.s32min = S32_MIN; dst.s32max = S32_MAX;
    } else if (op === BPF_RSH) {
      dst.varOff = tnumRshift(t, k);
      dst.u32min = dst.u32min >>> k; dst.u32max = dst.u32max >>> k; dst.s32min = S32_MIN; dst.s32max = S32_MAX;
    } else {
      dst.varOff = tnumArshift(t, k, 32);
      dst.s32min >>= k; dst.s32max >>= k; dst.u32min = 0; dst.u32max = U32_MAX;
    }
    zext32(dst);
    boundsSync(dst);
    return;
  }
  if (op === BPF_LSH) {
    dst.smax = k === 32 && dst.s32max >= 0 ? { hi: dst.s32max, lo: 0 } : S64_MAX;
    dst.smin = k === 32 && dst.s32min >= 0 ? { hi: dst.s32min, lo: 0 } : S64_MIN;
    if (ult(shl(ONE, 63 - k), dst.umax)) { dst.umin = ZERO; dst.umax = U64_MAX; }
    else { dst.umin = shl(dst.umin, k); dst.umax = shl(dst.umax, k); }
    dst.varOff = tnumLshift(dst.varOff, k);
    mark32Unbounded(dst);
  } else if (op === BPF_RSH) {
    dst.varOff = tnumRshift(dst.varOff, k);
    dst.smin = S64_MIN; dst.smax = S64_MAX;
    dst.umin = shr(dst.umin, k); dst.umax = shr(dst.umax, k);
    mark32Unbounded(dst);
  } else {
    dst.smin = sar(dst.smin, k); dst.smax = sar(dst.smax, k);
    dst.varOff = tnumArshift(dst.varOff, k, 64);
    dst.umin = ZERO; dst.umax = U64_MAX;
    mark32Unbounded(dst);
  }
  boundsSync(dst);
}
