// Helpers the JIT runs in wasm instead of calling out to the engine, as the kernel's verifier rewrites them into
// instructions (map_gen_lookup for arrays, the per-CPU id): bpf_map_lookup_elem on an array or per-CPU array map
// known at the call (its lddw in the same block), and bpf_get_smp_processor_id. Only in verified programs (the key
// pointer is valid) whose helper table holds the default implementations, so r0 is the interpreter's r0.
import type { BasicBlock } from "./cfg.ts";
import type { Code } from "./code.ts";
import { OP as OP_ } from "./wasm.ts";

const OP = OP_;

/** An array map's values as the JIT inlines lookups into them: element i at base + i * stride, i < maxEntries. */
export interface ArrayLayout {
  readonly base: number;
  readonly stride: number;
  readonly maxEntries: number;
  /** Per-CPU arrays: CPU c's copy of an element at + c * valueStride, c < nCpus. */
  readonly percpu?: { readonly valueStride: number; readonly nCpus: number };
}

export type Inlined = { readonly kind: "array"; readonly layout: ArrayLayout } | { readonly kind: "cpu" };

export interface InlineOptions {
  readonly verified?: boolean;
  /** Layout of the array map whose pointer is `addr`. */
  readonly arrayAt?: (addr: number) => ArrayLayout | undefined;
  /** Whether the engine's helper `id` is the default implementation. */
  readonly defaultHelper?: (id: number) => boolean;
}

interface Program { readonly op: Uint8Array; readonly dst: Uint8Array; readonly src: Uint8Array; readonly imm: Int32Array }

const MAP_LOOKUP_ELEM = 1, GET_SMP_PROCESSOR_ID = 8;

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
          if (layout !== undefined) out.set(pc, { kind: "array", layout });
        } else if (id === GET_SMP_PROCESSOR_ID && opts.defaultHelper(id)) out.set(pc, { kind: "cpu" });
      }
      if (c === 0x85 || c === 0x8d) r1 = undefined;
      else if ((cls === 4 || cls === 7 || cls === 1 || cls === 0) && d === 1) r1 = undefined;
      else if (cls === 3 && (c & 0xe0) === 0xc0 && (p.src[pc] === 1 || d === 1)) r1 = undefined;
    }
  }
  return out;
}

/** r0 = the helper's result, in wasm. `t32` is a free i32 local, `cpuGlobal` the imported global of the run's CPU. */
export function emitInlined(c: Code, how: Inlined, t32: number, cpuGlobal: number): void {
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
