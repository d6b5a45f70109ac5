// maps: every BPF map type over the VM address space, with the kernel's semantics and error codes.
// Programs reach a map through its handle address (mapFromAddress) and call the program-side operations, which take
// addresses and return what the kernel's helpers return; user space calls the syscall-side operations with bytes.
// May import: vm/memory, errors, uapi. Pure (no node: imports).

export { createMap } from "./create.ts";
export { BpfMap, sysError } from "./map.ts";
export type { BatchOptions, BatchResult, MapImage, MapInfo, MapOptions } from "./map.ts";
export { mapFromAddress, mapFromId, mapsOf } from "./registry.ts";
export { innerMapMatches, isMapInMap, isPerCpu, validateMapSpec } from "./spec.ts";
export type { MapSpec } from "./spec.ts";
export * from "./types.ts";
export { HashMap } from "./hash.ts";
export { ArrayMap } from "./array.ts";
export { ArrayOfMapsMap, ProgArrayMap } from "./fd-array.ts";
export { PerfBuffer, PerfEventArrayMap, PERF_RECORD_LOST, PERF_RECORD_SAMPLE } from "./perf.ts";
export { LpmTrieMap } from "./lpm.ts";
export { LruLists } from "./lru.ts";
export { QueueStackMap } from "./queue-stack.ts";
export { RingBufMap } from "./ringbuf.ts";
export { BloomFilterMap } from "./bloom.ts";
export { StackTraceMap } from "./stack-trace.ts";
export { htabHash, jhash, jhash2 } from "./jhash.ts";
export { memlockOf } from "./mem-usage.ts";
