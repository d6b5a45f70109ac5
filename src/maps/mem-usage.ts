// memlock: the bytes the kernel charges a map (map->ops->map_mem_usage, shown by bpftool as `memlock NB` and in
// /proc/PID/fdinfo), computed from the same formulas with the structure sizes of Linux 6.18 on x86-64, so a listing
// of bpfkit maps shows what the kernel would. Fitted and checked against fdinfo for every type below.

import { ArrayMap } from "./array.ts";
import { BloomFilterMap } from "./bloom.ts";
import { HashMap } from "./hash.ts";
import { LpmTrieMap } from "./lpm.ts";
import type { BpfMap } from "./map.ts";
import { RingBufMap } from "./ringbuf.ts";
import { roundUp8 } from "./spec.ts";
import { StackTraceMap } from "./stack-trace.ts";
import {
  BPF_F_MMAPABLE, BPF_F_NO_PREALLOC, BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_CGROUP_ARRAY, BPF_MAP_TYPE_PERF_EVENT_ARRAY, BPF_MAP_TYPE_PROG_ARRAY,
  BPF_MAP_TYPE_QUEUE, BPF_MAP_TYPE_STACK,
} from "./types.ts";

/** Structure sizes in bytes (Linux 6.18, x86-64). */
const SIZEOF = {
  bpf_array: 312, bpf_htab: 832, bucket: 16, htab_elem: 48, llist_node: 8, pointer: 8, bpf_queue_stack: 312,
  bpf_bloom_filter: 312, bpf_stack_map: 320, stack_map_bucket: 16, lpm_trie_node: 24,
} as const;
const HASHTAB_MAP_LOCK_COUNT = 8;
const PAGE = 4096;
/** sizeof(struct bpf_ringbuf_map) + the ringbuf's header, consumer and producer pages with their page pointers. */
const RINGBUF_FIXED = 12616;
const pageAlign = (n: number): number => Math.ceil(n / PAGE) * PAGE;

/** The kernel's map_mem_usage for this map, in bytes. */
export function memlockOf(m: BpfMap): number {
  const t = m.type, max = m.maxEntries, nCpus = m.nCpus;
  if (m instanceof ArrayMap) {
    if (m.percpu) return SIZEOF.bpf_array + max * SIZEOF.pointer + max * m.valueStride * nCpus;
    if (m.flags & BPF_F_MMAPABLE) return pageAlign(SIZEOF.bpf_array) + pageAlign(max * m.valueStride);
    return SIZEOF.bpf_array + max * m.valueStride;
  }
  if (t === BPF_MAP_TYPE_PROG_ARRAY || t === BPF_MAP_TYPE_PERF_EVENT_ARRAY || t === BPF_MAP_TYPE_ARRAY_OF_MAPS || t === BPF_MAP_TYPE_CGROUP_ARRAY) {
    return SIZEOF.bpf_array + max * SIZEOF.pointer;
  }
  if (m instanceof HashMap) {
    const elem = SIZEOF.htab_elem + roundUp8(m.keySize) + (m.percpu ? SIZEOF.pointer : m.valueStride);
    let usage = SIZEOF.bpf_htab + SIZEOF.bucket * m.nBuckets + 4 * nCpus * HASHTAB_MAP_LOCK_COUNT;
    if (!(m.flags & BPF_F_NO_PREALLOC)) {
      const extra = !m.percpu && !m.lru && !m.mapInMap ? nCpus : 0;
      usage += elem * (max + extra);
      if (m.percpu) usage += m.valueStride * nCpus * max;
      else if (!m.lru) usage += SIZEOF.pointer * nCpus;
    } else {
      usage += (elem + SIZEOF.llist_node) * m.count;
      if (m.percpu) usage += (SIZEOF.llist_node + SIZEOF.pointer + m.valueStride * nCpus) * m.count;
    }
    return usage;
  }
  if (t === BPF_MAP_TYPE_QUEUE || t === BPF_MAP_TYPE_STACK) return SIZEOF.bpf_queue_stack + (max + 1) * m.valueSize;
  if (m instanceof RingBufMap) {
    const pages = m.size / PAGE;
    return RINGBUF_FIXED + pages * (PAGE + 2 * SIZEOF.pointer);
  }
  if (m instanceof BloomFilterMap) return SIZEOF.bpf_bloom_filter + roundUp8(Math.ceil(m.nBits / 8));
  if (m instanceof StackTraceMap) {
    return SIZEOF.bpf_stack_map + m.nBuckets * SIZEOF.pointer + max * (SIZEOF.stack_map_bucket + m.valueSize);
  }
  if (m instanceof LpmTrieMap) return (m.keySize - 4 + SIZEOF.lpm_trie_node + m.valueSize) * m.count;
  return 0;
}
