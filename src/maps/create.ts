// createMap: BPF_MAP_CREATE for the VM backend. Validates the spec like the kernel, then builds the map type's
// implementation in the given address space. The table below is the one place a map type meets its implementation.

import { BpfError } from "../errors.ts";
import type { AddressSpace } from "../vm/memory.ts";
import { ArrayMap } from "./array.ts";
import { BloomFilterMap } from "./bloom.ts";
import { ArrayOfMapsMap, CgroupArrayMap, ProgArrayMap } from "./fd-array.ts";
import { HashMap } from "./hash.ts";
import { LpmTrieMap } from "./lpm.ts";
import type { BpfMap, MapOptions } from "./map.ts";
import { PerfEventArrayMap } from "./perf.ts";
import { QueueStackMap } from "./queue-stack.ts";
import { RingBufMap } from "./ringbuf.ts";
import { validateMapSpec } from "./spec.ts";
import type { MapSpec } from "./spec.ts";
import { StackTraceMap } from "./stack-trace.ts";
import {
  BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_BLOOM_FILTER, BPF_MAP_TYPE_HASH,
  BPF_MAP_TYPE_HASH_OF_MAPS, BPF_MAP_TYPE_LPM_TRIE, BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH,
  BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_PERF_EVENT_ARRAY, BPF_MAP_TYPE_PROG_ARRAY,
  BPF_MAP_TYPE_QUEUE, BPF_MAP_TYPE_RINGBUF, BPF_MAP_TYPE_CGROUP_ARRAY, BPF_MAP_TYPE_STACK, BPF_MAP_TYPE_STACK_TRACE,
} from "./types.ts";

type MapClass = new (space: AddressSpace, spec: MapSpec, maxEntries: number, opts: MapOptions) => BpfMap;

const IMPLEMENTATIONS: ReadonlyMap<number, MapClass> = new Map<number, MapClass>([
  [BPF_MAP_TYPE_HASH, HashMap],
  [BPF_MAP_TYPE_PERCPU_HASH, HashMap],
  [BPF_MAP_TYPE_LRU_HASH, HashMap],
  [BPF_MAP_TYPE_LRU_PERCPU_HASH, HashMap],
  [BPF_MAP_TYPE_HASH_OF_MAPS, HashMap],
  [BPF_MAP_TYPE_ARRAY, ArrayMap],
  [BPF_MAP_TYPE_PERCPU_ARRAY, ArrayMap],
  [BPF_MAP_TYPE_PROG_ARRAY, ProgArrayMap],
  [BPF_MAP_TYPE_ARRAY_OF_MAPS, ArrayOfMapsMap],
  [BPF_MAP_TYPE_PERF_EVENT_ARRAY, PerfEventArrayMap],
  [BPF_MAP_TYPE_LPM_TRIE, LpmTrieMap],
  [BPF_MAP_TYPE_QUEUE, QueueStackMap],
  [BPF_MAP_TYPE_STACK, QueueStackMap],
  [BPF_MAP_TYPE_RINGBUF, RingBufMap],
  [BPF_MAP_TYPE_BLOOM_FILTER, BloomFilterMap],
  [BPF_MAP_TYPE_STACK_TRACE, StackTraceMap],
  [BPF_MAP_TYPE_CGROUP_ARRAY, CgroupArrayMap],
]);

/**
 * BPF_MAP_CREATE in `space`. Throws a BpfError with the kernel's errno name (EINVAL, E2BIG, ENOTSUPP...) for a spec
 * the kernel would refuse, ENOMEM when the space cannot hold it. `opts.nCpus` (default 1) sizes per-CPU storage.
 */
export function createMap(space: AddressSpace, spec: MapSpec, opts: MapOptions = {}): BpfMap {
  const nCpus = opts.nCpus ?? 1;
  if (!Number.isInteger(nCpus) || nCpus < 1 || nCpus > 4096) throw new BpfError("EINVAL", `nCpus must be an integer 1..4096, not ${nCpus}`);
  const maxEntries = validateMapSpec(spec, nCpus);
  const Impl = IMPLEMENTATIONS.get(spec.type)!;
  return new Impl(space, spec, maxEntries, { ...opts, nCpus });
}
