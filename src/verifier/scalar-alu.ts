// Abstract ALU on scalars: the kernel's adjust_scalar_min_max_vals, one function per operator, both widths.
// 64-bit operations also track the low 32 bits; 32-bit operations compute 32-bit bounds and zero-extend.
import {
  type Bounds, S32_MAX, S32_MIN, S64_MAX, S64_MIN, U32_MAX, U64_MAX, boundsSync, isConst, knownBounds, mark32Unbounded,
  mark64Unbounded, s32, s64, u32, u64, unknownBounds, zext32,
} from "./bounds.ts";
import {
  tnumAdd, tnumAnd, tnumArshift, tnumLshift, tnumMul, tnumOr, tnumRshift, tnumSub, tnumSubreg, tnumXor,
} from "./tnum.ts";
import { BPF_ADD, BPF_AND, BPF_ARSH, BPF_DIV, BPF_LSH, BPF_MOD, BPF_MUL, BPF_NEG, BPF_OR, BPF_RSH, BPF_SUB, BPF_XOR } from "../isa/ebpf/opcodes.ts";

interface Range { smin: bigint; smax: bigint; umin: bigint; umax: bigint }
interface Width { smin: bigint; smax: bigint; umax: bigint; s: (x: bigint) => bigint; u: (x: bigint) => bigint }
const W64: Width = { smin: S64_MIN, smax: S64_MAX, umax: U64_MAX, s: s64, u: u64 };
const W32: Width = { smin: S32_MIN, smax: S32_MAX, umax: U32_MAX, s: s32, u: u32 };

const get = (b: Bounds, w32: boolean): Range =>
  w32 ? { smin: b.s32min, smax: b.s32max, umin: b.u32min, umax: b.u32max } : { smin: b.smin, smax: b.smax, umin: b.umin, umax: b.umax };
function put(b: Bounds, w32: boolean, r: Range): void {
  if (w32) { b.s32min = r.smin; b.s32max = r.smax; b.u32min = r.umin; b.u32max = r.umax; }
  else { b.smin = r.smin; b.smax = r.smax; b.umin = r.umin; b.umax = r.umax; }
}

function add(d: Range, s: Range, w: Width): Range {
  const r = { ...d };
  const lo = d.smin + s.smin, hi = d.smax + s.smax;
  if (lo < w.smin || hi > w.smax) { r.smin = w.smin; r.smax = w.smax; } else { r.smin = lo; r.smax = hi; }
  const ulo = d.umin + s.umin, uhi = d.umax + s.umax;
  if (uhi > w.umax) {
    // Both ends overflowing by the same wrap keeps the range contiguous (kernel 6.x scalar_min_max_add).
    if (ulo > w.umax) { r.umin = ulo - w.umax - 1n; r.umax = uhi - w.umax - 1n; } else { r.umin = 0n; r.umax = w.umax; }
  } else { r.umin = ulo; r.umax = uhi; }
  return r;
}

function sub(d: Range, s: Range, w: Width): Range {
  const r = { ...d };
  const lo = d.smin - s.smax, hi = d.smax - s.smin;
  if (lo < w.smin || hi > w.smax) { r.smin = w.smin; r.smax = w.smax; } else { r.smin = lo; r.smax = hi; }
  const ulo = d.umin - s.umax, uhi = d.umax - s.umin;
  if (ulo < 0n) {
    if (uhi < 0n) { r.umin = ulo + w.umax + 1n; r.umax = uhi + w.umax + 1n; } else { r.umin = 0n; r.umax = w.umax; }
  } else { r.umin = ulo; r.umax = uhi; }
  return r;
}

function mul(d: Range, s: Range, w: Width): Range {
  const r = { ...d };
  const uhi = d.umax * s.umax;
  if (uhi > w.umax) { r.umin = 0n; r.umax = w.umax; } else { r.umin = d.umin * s.umin; r.umax = uhi; }
  const p = [d.smin * s.smin, d.smin * s.smax, d.smax * s.smin, d.smax * s.smax];
  let lo = p[0]!, hi = p[0]!;
  for (const x of p) { if (x < lo) lo = x; if (x > hi) hi = x; }
  if (lo < w.smin || hi > w.smax) { r.smin = w.smin; r.smax = w.smax; } else { r.smin = lo; r.smax = hi; }
  return r;
}

/** Signed range from an unsigned one when it does not cross the sign boundary (and/or/xor). */
function signedFromUnsigned(r: Range, w: Width): void {
  if (w.s(r.umin) <= w.s(r.umax)) { r.smin = w.s(r.umin); r.smax = w.s(r.umax); } else { r.smin = w.smin; r.smax = w.smax; }
}

/** Applies a scalar ALU op to `dst` (mutated). Returns false when the op gives an unknown result. */
export function scalarAlu(op: number, dst: Bounds, src: Bounds, alu32: boolean): void {
  if (op === BPF_NEG) {
    const zero = knownBounds(0n);
    scalarAlu(BPF_SUB, zero, dst, alu32);
    Object.assign(dst, zero);
    return;
  }
  const bits = alu32 ? 32 : 64;
  // Shifts are only tracked for constant, in-range amounts; div/mod are not tracked (kernel: is_safe_to_compute_dst_reg_range).
  const shift = op === BPF_LSH || op === BPF_RSH || op === BPF_ARSH;
  // Untracked results are fully unknown, even for 32-bit ops: the kernel returns before zero-extending.
  if (op === BPF_DIV || op === BPF_MOD || (shift && !(alu32 ? (src.varOff.mask & U32_MAX) === 0n : isConst(src)))) {
    Object.assign(dst, unknownBounds());
    return;
  }
  if (shift) {
    const amount = Number(alu32 ? src.varOff.value & U32_MAX : src.varOff.value);
    if (amount >= bits) {
      Object.assign(dst, unknownBounds());
      return;
    }
    shiftOp(op, dst, amount, alu32);
    return;
  }
  const d32 = get(dst, true), s32r = get(src, true), d64 = get(dst, false), s64r = get(src, false);
  let r32: Range, r64: Range;
  switch (op) {
    case BPF_ADD: r32 = add(d32, s32r, W32); r64 = add(d64, s64r, W64); dst.varOff = tnumAdd(dst.varOff, src.varOff); break;
    case BPF_SUB: r32 = sub(d32, s32r, W32); r64 = sub(d64, s64r, W64); dst.varOff = tnumSub(dst.varOff, src.varOff); break;
    case BPF_MUL: r32 = mul(d32, s32r, W32); r64 = mul(d64, s64r, W64); dst.varOff = tnumMul(dst.varOff, src.varOff); break;
    case BPF_AND: case BPF_OR: case BPF_XOR: {
      const t = op === BPF_AND ? tnumAnd(dst.varOff, src.varOff) : op === BPF_OR ? tnumOr(dst.varOff, src.varOff) : tnumXor(dst.varOff, src.varOff);
      dst.varOff = t;
      const t32 = tnumSubreg(t);
      r32 = { ...d32 }; r64 = { ...d64 };
      if (op === BPF_AND) {
        r32.umin = t32.value; r32.umax = d32.umax < s32r.umax ? d32.umax : s32r.umax;
        r64.umin = t.value; r64.umax = d64.umax < s64r.umax ? d64.umax : s64r.umax;
      } else if (op === BPF_OR) {
        r32.umin = d32.umin > s32r.umin ? d32.umin : s32r.umin; r32.umax = t32.value | t32.mask;
        r64.umin = d64.umin > s64r.umin ? d64.umin : s64r.umin; r64.umax = t.value | t.mask;
      } else {
        r32.umin = t32.value; r32.umax = t32.value | t32.mask;
        r64.umin = t.value; r64.umax = t.value | t.mask;
      }
      signedFromUnsigned(r32, W32); signedFromUnsigned(r64, W64);
      break;
    }
    default: throw new Error(`scalarAlu: op ${op}`);
  }
  put(dst, true, r32);
  if (alu32) { zext32(dst); } else put(dst, false, r64);
  boundsSync(dst);
}

function shiftOp(op: number, dst: Bounds, k: number, alu32: boolean): void {
  const K = BigInt(k);
  if (alu32) {
    const t = tnumSubreg(dst.varOff);
    if (op === BPF_LSH) {
      dst.varOff = tnumSubreg(tnumLshift(t, k));
      if (dst.u32max > (1n << BigInt(31 - k))) { dst.u32min = 0n; dst.u32max = U32_MAX; }
      else { dst.u32min = dst.u32min << K; dst.u32max = dst.u32max << K; }
      dst.s32min = S32_MIN; dst.s32max = S32_MAX;
    } else if (op === BPF_RSH) {
      dst.varOff = tnumRshift(t, k);
      dst.u32min >>= K; dst.u32max >>= K; dst.s32min = S32_MIN; dst.s32max = S32_MAX;
    } else {
      dst.varOff = tnumArshift(t, k, 32);
      dst.s32min >>= K; dst.s32max >>= K; dst.u32min = 0n; dst.u32max = U32_MAX;
    }
    zext32(dst);
    boundsSync(dst);
    return;
  }
  if (op === BPF_LSH) {
    const smax = k === 32 && dst.s32max >= 0n ? dst.s32max << 32n : S64_MAX;
    const smin = k === 32 && dst.s32min >= 0n ? dst.s32min << 32n : S64_MIN;
    dst.smin = smin; dst.smax = smax;
    if (dst.umax > (1n << BigInt(63 - k))) { dst.umin = 0n; dst.umax = U64_MAX; }
    else { dst.umin <<= K; dst.umax <<= K; }
    dst.varOff = tnumLshift(dst.varOff, k);
    mark32Unbounded(dst);
  } else if (op === BPF_RSH) {
    dst.varOff = tnumRshift(dst.varOff, k);
    dst.smin = S64_MIN; dst.smax = S64_MAX;
    dst.umin >>= K; dst.umax >>= K;
    mark32Unbounded(dst);
  } else {
    dst.smin >>= K; dst.smax >>= K;
    dst.varOff = tnumArshift(dst.varOff, k, 64);
    dst.umin = 0n; dst.umax = U64_MAX;
    mark32Unbounded(dst);
  }
  boundsSync(dst);
}

export { mark64Unbounded };
