// A small WebAssembly binary encoder: a growable byte buffer with LEB128, the opcodes the JIT emits, and a module
// assembler (types, imports, functions, exports). Written for the JIT's needs only (no validation beyond what
// WebAssembly.Module does); a text rendering of each instruction is kept beside the bytes for `prog dump jited`.

export const I32 = 0x7f, I64 = 0x7e, FUNCREF = 0x70, VOID = 0x40;

/** Growable byte buffer with the encodings wasm uses. */
export class Bytes {
  buf = new Uint8Array(1024);
  len = 0;
  byte(b: number): void {
    if (this.len === this.buf.length) { const n = new Uint8Array(this.buf.length * 2); n.set(this.buf); this.buf = n; }
    this.buf[this.len++] = b;
  }
  bytes(b: ArrayLike<number>): void { for (let i = 0; i < b.length; i++) this.byte(b[i]!); }
  /** Append the first `n` bytes of `b` (one copy). */
  append(b: Uint8Array, n: number): void {
    if (this.len + n > this.buf.length) {
      const g = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
      g.set(this.buf.subarray(0, this.len)); this.buf = g;
    }
    this.buf.set(b.subarray(0, n), this.len); this.len += n;
  }
  u32(v: number): void {
    v >>>= 0;
    do { let b = v & 0x7f; v >>>= 7; if (v !== 0) b |= 0x80; this.byte(b); } while (v !== 0);
  }
  s32(v: number): void {
    v |= 0;
    for (;;) {
      const b = v & 0x7f; v >>= 7;
      if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) { this.byte(b); return; }
      this.byte(b | 0x80);
    }
  }
  /** Signed LEB128 of the 64-bit value hi:lo (two's complement halves), without BigInt. */
  s64(lo: number, hi: number): void {
    lo >>>= 0; hi |= 0;
    for (;;) {
      const b = lo & 0x7f;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0; hi >>= 7;
      const done = (hi === 0 && lo === 0 && (b & 0x40) === 0) || (hi === -1 && lo === 0xffffffff && (b & 0x40) !== 0);
      if (done) { this.byte(b); return; }
      this.byte(b | 0x80);
    }
  }
  name(s: string): void { const e = new TextEncoder().encode(s); this.u32(e.length); this.bytes(e); }
  /** Append `b` prefixed by its length. */
  vec(b: Bytes): void { this.u32(b.len); this.append(b.buf, b.len); }
  out(): Uint8Array { return this.buf.slice(0, this.len); }
}

export const OP = {
  unreachable: 0x00, block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, br_if: 0x0d, br_table: 0x0e,
  return: 0x0f, call: 0x10, call_indirect: 0x11, drop: 0x1a, select: 0x1b,
  local_get: 0x20, local_set: 0x21, local_tee: 0x22, global_get: 0x23, global_set: 0x24,
  i32_load: 0x28, i64_load: 0x29, i32_load8_u: 0x2d, i32_load16_u: 0x2f,
  i64_load8_s: 0x30, i64_load8_u: 0x31, i64_load16_s: 0x32, i64_load16_u: 0x33, i64_load32_s: 0x34, i64_load32_u: 0x35,
  i32_store: 0x36, i64_store: 0x37, i64_store8: 0x3c, i64_store16: 0x3d, i64_store32: 0x3e,
  i32_const: 0x41, i64_const: 0x42,
  i32_eqz: 0x45, i32_eq: 0x46, i32_ne: 0x47, i32_lt_s: 0x48, i32_lt_u: 0x49, i32_gt_s: 0x4a, i32_gt_u: 0x4b,
  i32_le_s: 0x4c, i32_le_u: 0x4d, i32_ge_s: 0x4e, i32_ge_u: 0x4f,
  i64_eqz: 0x50, i64_eq: 0x51, i64_ne: 0x52, i64_lt_s: 0x53, i64_lt_u: 0x54, i64_gt_s: 0x55, i64_gt_u: 0x56,
  i64_le_s: 0x57, i64_le_u: 0x58, i64_ge_s: 0x59, i64_ge_u: 0x5a,
  i32_add: 0x6a, i32_sub: 0x6b, i32_mul: 0x6c, i32_div_s: 0x6d, i32_div_u: 0x6e, i32_rem_s: 0x6f, i32_rem_u: 0x70,
  i32_and: 0x71, i32_or: 0x72, i32_xor: 0x73, i32_shl: 0x74, i32_shr_s: 0x75, i32_shr_u: 0x76, i32_rotl: 0x77, i32_rotr: 0x78,
  i64_add: 0x7c, i64_sub: 0x7d, i64_mul: 0x7e, i64_div_s: 0x7f, i64_div_u: 0x80, i64_rem_s: 0x81, i64_rem_u: 0x82,
  i64_and: 0x83, i64_or: 0x84, i64_xor: 0x85, i64_shl: 0x86, i64_shr_s: 0x87, i64_shr_u: 0x88, i64_rotl: 0x89,
  i32_wrap_i64: 0xa7, i64_extend_i32_s: 0xac, i64_extend_i32_u: 0xad,
  i32_extend8_s: 0xc0, i32_extend16_s: 0xc1, i64_extend8_s: 0xc2, i64_extend16_s: 0xc3, i64_extend32_s: 0xc4,
} as const;

const NAMES: string[] = [];
// local_get -> local.get; i64_load8_u -> i64.load8_u; br_if stays
for (const [k, v] of Object.entries(OP)) {
  const m = /^(i32|i64|local|global|br|call)_(.*)$/.exec(k);
  NAMES[v] = m ? (m[1] === "br" || m[1] === "call" ? `${m[1]}_${m[2]}` : `${m[1]}.${m[2]}`) : k;
}
export const opName = (op: number): string => NAMES[op] ?? `0x${op.toString(16)}`;

/** Atomic (0xfe-prefixed) opcodes used by the JIT. */
export const ATOMIC = {
  i64_load: 0x11, i64_load8_u: 0x14, i64_load16_u: 0x15, i64_load32_u: 0x16,
  i64_store: 0x18, i64_store8: 0x1b, i64_store16: 0x1c, i64_store32: 0x1d,
  i64_add: 0x1f, i64_add32: 0x24, i64_and: 0x2d, i64_and32: 0x32, i64_or: 0x34, i64_or32: 0x39,
  i64_xor: 0x3b, i64_xor32: 0x40, i64_xchg: 0x42, i64_xchg32: 0x47, i64_cmpxchg: 0x49, i64_cmpxchg32: 0x4e,
} as const;

export interface FuncType { readonly params: readonly number[]; readonly results: readonly number[] }

export type Import =
  | { readonly module: string; readonly name: string; readonly kind: "func"; readonly type: number }
  | { readonly module: string; readonly name: string; readonly kind: "memory"; readonly shared: boolean; readonly max?: number }
  | { readonly module: string; readonly name: string; readonly kind: "global"; readonly valtype: number; readonly mutable: boolean }
  | { readonly module: string; readonly name: string; readonly kind: "table"; readonly min: number };

export interface FuncBody {
  readonly type: number;
  /** Extra locals (beyond params) as [count, valtype] runs. */
  readonly locals: readonly (readonly [number, number])[];
  /** Instruction bytes, ending with `end`. */
  readonly code: Bytes;
}

export interface ModuleSpec {
  readonly types: readonly FuncType[];
  readonly imports: readonly Import[];
  readonly funcs: readonly FuncBody[];
  readonly exports: readonly { readonly name: string; readonly func: number }[];
}

function section(out: Bytes, id: number, body: Bytes): void {
  out.byte(id);
  out.vec(body);
}

/** Assemble a module. Function indices count imported functions first, as in wasm. */
export function encodeModule(m: ModuleSpec): Uint8Array {
  const out = new Bytes();
  out.bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  const types = new Bytes();
  types.u32(m.types.length);
  for (const t of m.types) {
    types.byte(0x60);
    types.u32(t.params.length); types.bytes(t.params);
    types.u32(t.results.length); types.bytes(t.results);
  }
  section(out, 1, types);
  const imps = new Bytes();
  imps.u32(m.imports.length);
  for (const i of m.imports) {
    imps.name(i.module); imps.name(i.name);
    switch (i.kind) {
      case "func": imps.byte(0); imps.u32(i.type); break;
      case "table": imps.byte(1); imps.byte(FUNCREF); imps.byte(0); imps.u32(i.min); break;
      case "memory":
        imps.byte(2);
        if (i.shared) { imps.byte(3); imps.u32(0); imps.u32(i.max ?? 65536); }
        else if (i.max !== undefined) { imps.byte(1); imps.u32(0); imps.u32(i.max); }
        else { imps.byte(0); imps.u32(0); }
        break;
      case "global": imps.byte(3); imps.byte(i.valtype); imps.byte(i.mutable ? 1 : 0); break;
    }
  }
  section(out, 2, imps);
  const fns = new Bytes();
  fns.u32(m.funcs.length);
  for (const f of m.funcs) fns.u32(f.type);
  section(out, 3, fns);
  const exps = new Bytes();
  exps.u32(m.exports.length);
  for (const e of m.exports) { exps.name(e.name); exps.byte(0); exps.u32(e.func); }
  section(out, 7, exps);
  const code = new Bytes();
  code.u32(m.funcs.length);
  for (const f of m.funcs) {
    const body = new Bytes();
    body.u32(f.locals.length);
    for (const [n, t] of f.locals) { body.u32(n); body.byte(t); }
    body.append(f.code.buf, f.code.len);
    code.vec(body);
  }
  section(out, 10, code);
  return out.out();
}
