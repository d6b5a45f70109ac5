// Helpers the JIT runs in wasm instead of calling out to the engine, as the kernel's verifier rewrites them into
// instructions (map_gen_lookup for arrays, the per-CPU id): bpf_map_lookup_elem on an array, per-CPU array, hash or
// per-CPU hash map known at the call (its lddw in the same block; hash: the kernel's jhash of the key, then the
// bucket walk, over the map's own table in memory), bpf_get_smp_processor_id, and bpf_ktime_get_ns (a direct call
// of the environment's clock). Only in verified programs (the key
// pointer is valid) whose helper table holds the default implementations, so r0 is the interpreter's r0.
import type { HashLookupLayout } from "../maps/hash.ts";
import type { BasicBlock } from "./cfg.ts";
import type { Code } from "./code.ts";
import { I64 as I64_, OP as OP_ } from "./wasm.ts";

const OP = OP_, I64 = I64_;

/** An array map's values as the JIT inlines lookups into them: element i at base + i * stride, i < maxEntries. */
export interface ArrayLayout {
  readonly base: number;
  readonly stride: number;
  readonly maxEntries: number;
  /** Per-CPU arrays: CPU c's copy of an element at + c * valueStride, c < nCpus. */
  readonly percpu?: { readonly valueStride: number; readonly nCpus: number };
}

/** A hash map's table as src/maps HashMap.lookupLayout gives it. */
export type HashLayout = HashLookupLayout;

export type Inlined = { readonly kind: "array"; readonly layout: ArrayLayout } | { readonly kind: "hash"; readonly layout: HashLayout }
  | { readonly kind: "cpu" } | { readonly kind: "ktime" };

/** What the compiler knows at compile time that decides which calls are inlined (part of CompileOptions). */
export interface InlineOptions {
  /** The program passed the verifier: helper arguments are valid, so hot helpers may be inlined. */
  readonly verified?: boolean;
  /** Layout of the array map whose pointer is `addr` (values contiguous, one per index). */
  readonly arrayAt?: (addr: number) => ArrayLayout | undefined;
  /** Table of the hash map whose pointer is `addr`. */
  readonly hashAt?: (addr: number) => HashLayout | undefined;
  /** Whether the engine's helper `id` is the default implementation (only those are inlined). */
  readonly defaultHelper?: (id: number) => boolean;
}

interface Program { readonly op: Uint8Array; readonly dst: Uint8Array; readonly src: Uint8Array; readonly imm: Int32Array }

const MAP_LOOKUP_ELEM = 1, KTIME_GET_NS = 5, GET_SMP_PROCESSOR_ID = 8;

/** The helper calls of these blocks the JIT inlines, by pc. */
export function inlinedCalls(p: Program, blocks: readonly BasicBlock[], opts: InlineOptions): Map<number, Inlined> {
  const out = new Map<number, Inlined>();
  if (!opts.verified || opts.defaultHelper === undefined) return out;
  for (const b of blocks) {
    let r1: number | undefined; // the map address r1 holds, when an lddw of this block set it
    for (let pc = b.start; pc < b.end; pc++) {
      const c = p.op[pc]!, cls = c & 7, d = p.dst[pc]!;
      if (c === 0x18) { if (d === 1) r1 = p.src[pc] === 1 || p.src[pc] === 5 ? p.imm[pc]! >>> 0 : undefined; pc++; continue; }
      if (c === 0x85 && p.src[pc] === 0) {
        const id = p.imm[pc]!;
        if (id === MAP_LOOKUP_ELEM && r1 !== undefined && opts.defaultHelper(id)) {
          const layout = opts.arrayAt?.(r1);
          const table = layout === undefined ? opts.hashAt?.(r1) : undefined;
          if (layout !== undefined) out.set(pc, { kind: "array", layout });
          else if (table !== undefined) out.set(pc, { kind: "hash", layout: table });
        } else if (id === GET_SMP_PROCESSOR_ID && opts.defaultHelper(id)) out.set(pc, { kind: "cpu" });
        else if (id === KTIME_GET_NS && opts.defaultHelper(id)) out.set(pc, { kind: "ktime" });
      }
      if (c === 0x85 || c === 0x8d) r1 = undefined;
      else if ((cls === 4 || cls === 7 || cls === 1 || cls === 0) && d === 1) r1 = undefined;
      else if (cls === 3 && (c & 0xe0) === 0xc0 && (p.src[pc] === 1 || d === 1)) r1 = undefined;
    }
  }
  return out;
}

/**
 * r0 = the helper's result, in wasm. `t32` is the first of HASH_LOCALS free i32 locals, `cpuGlobal` the imported
 * global of the run's CPU, `ktimeFunc` the imported clock (the engine's env.ktimeNs as an i64).
 */
export function emitInlined(c: Code, how: Inlined, t32: number, cpuGlobal: number, ktimeFunc: number): void {
  if (how.kind === "ktime") {
    // the clock read straight from the environment: none of the generic helper path (r1-r5 through scratch, r0 back)
    c.comment("bpf_ktime_get_ns: the environment's clock, called directly");
    c.opu(OP.call, ktimeFunc); c.set(0);
    return;
  }
  if (how.kind === "hash") { emitHashLookup(c, how.layout, t32, cpuGlobal); return; }
  if (how.kind === "cpu") {
    c.comment("bpf_get_smp_processor_id inlined");
    c.opu(OP.global_get, cpuGlobal); c.op(OP.i64_extend_i32_u); c.set(0);
    return;
  }
  // r0 = key < max (&& cpu < nCpus) ? base + key * stride (+ cpu * valueStride) : 0 (addresses fit in 32 bits)
  const a = how.layout;
  c.comment(`${a.percpu ? "per-CPU " : ""}array lookup inlined: ${a.maxEntries} x ${a.stride} bytes at 0x${a.base.toString(16)}`);
  c.get(2); c.op(OP.i32_wrap_i64); c.mem(OP.i32_load, 0, 0); c.set(t32);
  c.get(t32); c.i32(a.stride); c.op(OP.i32_mul); c.i32(a.base); c.op(OP.i32_add);
  if (a.percpu) { c.opu(OP.global_get, cpuGlobal); c.i32(a.percpu.valueStride); c.op(OP.i32_mul); c.op(OP.i32_add); }
  c.op(OP.i64_extend_i32_u);
  c.i64(0, 0);
  c.get(t32); c.i32(a.maxEntries); c.op(OP.i32_lt_u);
  if (a.percpu) { c.opu(OP.global_get, cpuGlobal); c.i32(a.percpu.nCpus); c.op(OP.i32_lt_u); c.op(OP.i32_and); }
  c.op(OP.select);
  c.set(0);
}

/** i32 locals a hash lookup uses. */
export const HASH_LOCALS = 6;
const JHASH_INITVAL = 0xdeadbeef;
/** __jhash_mix as rows (x, z, k, y): x -= z; x ^= rol(z, k); z += y, over registers a = 0, b = 1, c = 2. */
const MIX: readonly [number, number, number, number][] = [[0, 2, 4, 1], [1, 0, 6, 2], [2, 1, 8, 0], [0, 2, 16, 1], [1, 0, 19, 2], [2, 1, 4, 0]];
/** __jhash_final as rows (x, y, k): x ^= y; x -= rol(y, k). */
const FINAL: readonly [number, number, number][] = [[2, 1, 14], [0, 2, 11], [1, 0, 25], [2, 1, 16], [0, 2, 4], [1, 0, 14], [2, 1, 24]];

/**
 * htab_map_lookup_elem in wasm: the kernel's jhash/jhash2 of the key (unrolled for the map's key size, the seed a
 * constant), then the bucket's chain walked newest-first, bounded as src/maps HashMap.find bounds it; r0 = the value
 * (this CPU's copy for per-CPU maps) or 0.
 */
function emitHashLookup(c: Code, h: HashLayout, l: number, cpuGlobal: number): void {
  const A = l, B = l + 1, C = l + 2, KEY = l + 3, I = l + 4, N = l + 5;
  const R = [A, B, C];
  c.comment(`${h.percpu ? "per-CPU " : ""}hash lookup inlined: ${h.keySize}-byte keys, ${h.mask + 1} buckets`);
  c.get(2); c.op(OP.i32_wrap_i64); c.set(KEY);
  const init = (JHASH_INITVAL + h.keySize + h.seed) | 0;
  c.i32(init); c.set(A); c.i32(init); c.set(B); c.i32(init); c.set(C);
  const addWord = (r: number, at: number, n: number): void => {
    // r += the n key bytes at `at` as a little-endian number
    c.get(r);
    if (n === 4) { c.get(KEY); c.mem(OP.i32_load, 0, at); }
    else {
      for (let k = 0; k < n; k++) {
        c.get(KEY); c.mem(OP.i32_load8_u, 0, at + k);
        if (k) { c.i32(8 * k); c.op(OP.i32_shl); c.op(OP.i32_or); }
      }
    }
    c.op(OP.i32_add); c.set(r);
  };
  let len = h.keySize, at = 0;
  while (len > 12) {
    addWord(A, at, 4); addWord(B, at + 4, 4); addWord(C, at + 8, 4);
    for (const [x, z, k, y] of MIX) {
      c.get(R[x]!); c.get(R[z]!); c.op(OP.i32_sub); c.get(R[z]!); c.i32(k); c.op(OP.i32_rotl); c.op(OP.i32_xor); c.set(R[x]!);
      c.get(R[z]!); c.get(R[y]!); c.op(OP.i32_add); c.set(R[z]!);
    }
    len -= 12; at += 12;
  }
  if (len > 0) {
    for (let i = 0; i < len; i += 4) addWord(R[i >> 2]!, at + i, Math.min(4, len - i));
    for (const [x, y, k] of FINAL) {
      c.get(R[x]!); c.get(R[y]!); c.op(OP.i32_xor); c.get(R[y]!); c.i32(k); c.op(OP.i32_rotl); c.op(OP.i32_sub); c.set(R[x]!);
    }
  }
  // C = hash; I = head of its bucket - 1; N = steps left
  c.i32(0); c.get(C); c.i32(h.mask); c.op(OP.i32_and); c.i32(2); c.op(OP.i32_shl); c.op(OP.i32_add);
  c.mem(OP.i32_load, 2, h.heads); c.i32(1); c.op(OP.i32_sub); c.set(I);
  c.i32(h.capacity); c.set(N);
  c.scope(OP.block, I64); // found: the element's address
  c.scope(OP.block, 0x40); // miss
  c.scope(OP.loop, 0x40);
  c.get(I); c.i32(-1); c.op(OP.i32_eq); c.opu(OP.br_if, 1);
  c.get(N); c.i32(0); c.op(OP.i32_lt_s); c.opu(OP.br_if, 1);
  c.get(N); c.i32(1); c.op(OP.i32_sub); c.set(N);
  c.get(I); c.i32(2); c.op(OP.i32_shl); c.mem(OP.i32_load, 2, h.hash); c.get(C); c.op(OP.i32_eq);
  c.scope(OP.if, 0x40);
  // A = the element's address; B = whether every key byte differs nowhere
  c.get(I); c.i32(h.elemSize); c.op(OP.i32_mul); c.i32(h.elems); c.op(OP.i32_add); c.set(A);
  let first = true;
  for (let k = 0; k < h.keySize;) {
    const n = h.keySize - k >= 8 ? 8 : h.keySize - k >= 4 ? 4 : h.keySize - k >= 2 ? 2 : 1;
    const ld = n === 8 ? OP.i64_load : n === 4 ? OP.i64_load32_u : n === 2 ? OP.i64_load16_u : OP.i64_load8_u;
    c.get(A); c.mem(ld, 0, k); c.get(KEY); c.mem(ld, 0, k); c.op(OP.i64_xor);
    if (!first) c.op(OP.i64_or);
    first = false;
    k += n;
  }
  c.op(OP.i64_eqz);
  c.scope(OP.if, 0x40);
  c.get(A); c.i32(h.valueOff); c.op(OP.i32_add);
  if (h.percpu) { c.opu(OP.global_get, cpuGlobal); c.i32(h.valueStride); c.op(OP.i32_mul); c.op(OP.i32_add); }
  c.op(OP.i64_extend_i32_u);
  if (h.percpu) { c.i64(0, 0); c.opu(OP.global_get, cpuGlobal); c.i32(h.nCpus); c.op(OP.i32_lt_u); c.op(OP.select); }
  c.opu(OP.br, 4);
  c.op(OP.end);
  c.op(OP.end);
  c.get(I); c.i32(2); c.op(OP.i32_shl); c.mem(OP.i32_load, 2, h.next); c.i32(1); c.op(OP.i32_sub); c.set(I);
  c.opu(OP.br, 0);
  c.op(OP.end); // loop
  c.op(OP.end); // miss
  c.i64(0, 0);
  c.op(OP.end); // found
  c.set(0);
}
