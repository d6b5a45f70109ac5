// Helpers that call back into the program: bpf_loop and bpf_for_each_map_elem. The callback is a BPF subprogram
// (its address comes from `lddw rX, func`) and runs in a fresh call frame, as bpf-to-bpf calls do.
import type { HelperFn } from "./types.ts";
import { E, argMap, argU32, argU64, retI32, retNum, unsupported } from "./args.ts";

const BPF_MAX_LOOPS = 1 << 23;

/** bpf_loop(nr_loops, callback, ctx, flags): callback(i, ctx) until it returns non-zero; returns the iterations run. */
export const loop: HelperFn = (h) => {
  const nr = argU32(h, 1);
  const fn = h.lo[2]! >>> 0;
  const ctx = argU64(h, 3);
  if (argU64(h, 4) !== 0n) return retI32(h, -E.EINVAL);
  if (nr > BPF_MAX_LOOPS) return retI32(h, -E.E2BIG);
  let i = 0;
  for (; i < nr; i++) {
    if (h.callback(fn, i, ctx, 0, 0, 0) !== 0n) { i++; break; }
  }
  retNum(h, i);
};

/** bpf_for_each_map_elem(map, callback, ctx, flags): callback(map, key, value, ctx); 1 stops. Returns the count. */
export const forEachMapElem: HelperFn = (h) => {
  const m = argMap(h, 1);
  const mapAddr = h.lo[1]! >>> 0;
  const fn = h.lo[2]! >>> 0;
  const ctx = argU64(h, 3);
  if (argU64(h, 4) !== 0n) return retI32(h, -E.EINVAL);
  if (!m.forEach) throw unsupported(h, `for_each_map_elem is not supported on map ${m.name ?? ""}`);
  const n = m.forEach((key, value) => (h.callback(fn, mapAddr, key, value, ctx, 0) !== 0n ? 1 : 0), h.cpu);
  retNum(h, n);
};
