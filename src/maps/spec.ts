// MapSpec, the one description of a map every source (ELF objects, bpftrace, the CLI) and both backends share, and its
// validation with the kernel's BPF_MAP_CREATE checks: the generic ones in syscall.c map_create() and each type's
// map_alloc_check (hashtab.c, arraymap.c, lpm_trie.c, queue_stack_maps.c, ringbuf.c, bloom_filter.c, stackmap.c,
// map_in_map.c), with the same error codes (checked against Linux 6.18).

import { BpfError } from "../errors.ts";
import type { BpfErrorCode } from "../errors.ts";
import {
  BPF_F_ACCESS_MASK, BPF_F_INNER_MAP, BPF_F_MMAPABLE, BPF_F_NO_COMMON_LRU, BPF_F_NO_PREALLOC, BPF_F_NUMA_NODE,
  BPF_F_PRESERVE_ELEMS, BPF_F_RDONLY, BPF_F_RDONLY_PROG, BPF_F_STACK_BUILD_ID, BPF_F_WRONLY, BPF_F_WRONLY_PROG,
  BPF_F_ZERO_SEED, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_BLOOM_FILTER, BPF_MAP_TYPE_HASH,
  BPF_MAP_TYPE_HASH_OF_MAPS, BPF_MAP_TYPE_LPM_TRIE, BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH,
  BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_PERF_EVENT_ARRAY, BPF_MAP_TYPE_PROG_ARRAY, BPF_MAP_TYPE_CGROUP_ARRAY,
  BPF_MAP_TYPE_QUEUE, BPF_MAP_TYPE_RINGBUF, BPF_MAP_TYPE_STACK, BPF_MAP_TYPE_STACK_TRACE, MAP_TYPES, mapTypeName,
} from "./types.ts";

/** A map as BPF_MAP_CREATE describes it. */
export interface MapSpec {
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags?: number;
  /** At most 15 characters of [A-Za-z0-9_.], as bpf_obj_name_cpy accepts. */
  readonly name?: string;
  /** The template every inner map of an ARRAY_OF_MAPS / HASH_OF_MAPS must match (the kernel's inner_map_fd). */
  readonly innerMap?: MapSpec;
  /** Only with BPF_F_NUMA_NODE; bpfkit models one node, 0. */
  readonly numaNode?: number;
  /** map_extra: for BLOOM_FILTER the number of hash functions in the low 4 bits (0 means 5). */
  readonly mapExtra?: bigint;
  /** Offset of a struct bpf_spin_lock in the value (what BTF tells the kernel); enables BPF_F_LOCK. */
  readonly spinLockOffset?: number;
}

// Kernel limits the checks below use.
/** KMALLOC_MAX_SIZE on x86-64 (4 MiB). */
export const KMALLOC_MAX_SIZE = 4 << 20;
/** PCPU_MIN_UNIT_SIZE: the largest per-CPU value. */
export const PCPU_MIN_UNIT_SIZE = 32768;
/** sysctl kernel.perf_event_max_stack default. */
export const PERF_EVENT_MAX_STACK = 127;
const HTAB_ELEM_SIZE = 48;
/** htab_map_alloc refuses n_buckets above U32_MAX / sizeof(struct bucket) (16 bytes) with E2BIG. */
export const HTAB_MAX_BUCKETS = Math.floor(0xffffffff / 16);
const INT_MAX = 0x7fffffff;
const PAGE_SIZE = 4096;
/** struct bpf_stack_build_id is 32 bytes. */
const STACK_BUILD_ID_SIZE = 32;
const LPM_KEY_SIZE_MIN = 4 + 1;
const LPM_KEY_SIZE_MAX = 4 + 256;

const HTAB_CREATE_FLAG_MASK = BPF_F_NO_PREALLOC | BPF_F_NO_COMMON_LRU | BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK | BPF_F_ZERO_SEED;
const ARRAY_CREATE_FLAG_MASK = BPF_F_NUMA_NODE | BPF_F_MMAPABLE | BPF_F_ACCESS_MASK | BPF_F_PRESERVE_ELEMS | BPF_F_INNER_MAP;
const LPM_CREATE_FLAG_MASK = BPF_F_NO_PREALLOC | BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK;
const QUEUE_STACK_CREATE_FLAG_MASK = BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK;
const RINGBUF_CREATE_FLAG_MASK = BPF_F_NUMA_NODE;
const BLOOM_CREATE_FLAG_MASK = BPF_F_NUMA_NODE | BPF_F_ZERO_SEED | BPF_F_ACCESS_MASK;
const STACK_CREATE_FLAG_MASK = BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK | BPF_F_STACK_BUILD_ID;

const isHashType = (t: number): boolean =>
  t === BPF_MAP_TYPE_HASH || t === BPF_MAP_TYPE_PERCPU_HASH || t === BPF_MAP_TYPE_LRU_HASH ||
  t === BPF_MAP_TYPE_LRU_PERCPU_HASH || t === BPF_MAP_TYPE_HASH_OF_MAPS;
const isArrayType = (t: number): boolean =>
  t === BPF_MAP_TYPE_ARRAY || t === BPF_MAP_TYPE_PERCPU_ARRAY || t === BPF_MAP_TYPE_PROG_ARRAY ||
  t === BPF_MAP_TYPE_PERF_EVENT_ARRAY || t === BPF_MAP_TYPE_ARRAY_OF_MAPS || t === BPF_MAP_TYPE_CGROUP_ARRAY;
export const isMapInMap = (t: number): boolean => t === BPF_MAP_TYPE_ARRAY_OF_MAPS || t === BPF_MAP_TYPE_HASH_OF_MAPS;
export const isPerCpu = (t: number): boolean =>
  t === BPF_MAP_TYPE_PERCPU_HASH || t === BPF_MAP_TYPE_PERCPU_ARRAY || t === BPF_MAP_TYPE_LRU_PERCPU_HASH;
/** Map types the kernel refuses as inner maps (no map_meta_equal): ENOTSUPP. */
const NO_INNER_TYPES = new Set([BPF_MAP_TYPE_PROG_ARRAY]);

function fail(code: BpfErrorCode, spec: MapSpec, why: string): never {
  const name = spec.name ? ` '${spec.name}'` : "";
  throw new BpfError(code, `map${name} (${mapTypeName(spec.type)}): ${why}`);
}

const isU32 = (n: unknown): n is number => typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 0xffffffff;

/**
 * Checks a spec like BPF_MAP_CREATE does; throws a BpfError with the kernel's errno name as its code.
 * Returns max_entries as the kernel stores it (LRU per-CPU lists round it up to a multiple of the CPU count).
 */
export function validateMapSpec(spec: MapSpec, nCpus = 1): number {
  const { type, keySize, valueSize, maxEntries } = spec;
  const flags = spec.flags ?? 0;
  if (!isU32(type) || !isU32(keySize) || !isU32(valueSize) || !isU32(maxEntries) || !isU32(flags)) {
    fail("EINVAL", spec, "type, key_size, value_size, max_entries and map_flags must be u32 values");
  }
  const info = MAP_TYPES[type];
  if (info === undefined || type === 0) fail("EINVAL", spec, `unknown map type ${type}`);
  if (!info.implemented) fail("UNSUPPORTED", spec, `map type ${info.name} is not implemented by bpfkit`);
  // syscall.c map_create(): checks every type shares.
  if ((spec.mapExtra ?? 0n) !== 0n && type !== BPF_MAP_TYPE_BLOOM_FILTER) fail("EINVAL", spec, "map_extra is only for bloom_filter maps");
  if ((flags & BPF_F_RDONLY) && (flags & BPF_F_WRONLY)) fail("EINVAL", spec, "BPF_F_RDONLY and BPF_F_WRONLY together");
  if (flags & BPF_F_NUMA_NODE) {
    if ((spec.numaNode ?? 0) !== 0) fail("EINVAL", spec, `NUMA node ${spec.numaNode} does not exist (bpfkit has node 0)`);
  }
  if (spec.name !== undefined) {
    if (spec.name.length > 15) fail("EINVAL", spec, "name longer than 15 characters");
    if (!/^[A-Za-z0-9_.]*$/.test(spec.name)) fail("EINVAL", spec, "name may hold only letters, digits, '_' and '.'");
  }
  const accessOk = !((flags & BPF_F_RDONLY_PROG) && (flags & BPF_F_WRONLY_PROG));
  const numa = (flags & BPF_F_NUMA_NODE) !== 0;
  if (spec.spinLockOffset !== undefined) {
    if (!isU32(spec.spinLockOffset) || spec.spinLockOffset % 4 !== 0 || spec.spinLockOffset + 4 > valueSize) {
      fail("EINVAL", spec, `bpf_spin_lock at offset ${spec.spinLockOffset} does not fit the value`);
    }
  }
  let stored = maxEntries;

  if (isMapInMap(type) && valueSize !== 4) fail("EINVAL", spec, "value_size must be 4 (an inner map fd)");
  if (isHashType(type)) {
    const lru = type === BPF_MAP_TYPE_LRU_HASH || type === BPF_MAP_TYPE_LRU_PERCPU_HASH;
    const percpu = type === BPF_MAP_TYPE_PERCPU_HASH || type === BPF_MAP_TYPE_LRU_PERCPU_HASH;
    const percpuLru = (flags & BPF_F_NO_COMMON_LRU) !== 0;
    const prealloc = (flags & BPF_F_NO_PREALLOC) === 0;
    if (flags & ~HTAB_CREATE_FLAG_MASK) fail("EINVAL", spec, `map_flags 0x${flags.toString(16)} not valid for hash maps`);
    if (!lru && percpuLru) fail("EINVAL", spec, "BPF_F_NO_COMMON_LRU is only for LRU maps");
    if (lru && !prealloc) fail("ENOTSUPP", spec, "LRU maps are always preallocated (BPF_F_NO_PREALLOC)");
    if (numa && (percpu || percpuLru)) fail("EINVAL", spec, "BPF_F_NUMA_NODE with per-CPU storage");
    if (!accessOk) fail("EINVAL", spec, "BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG together");
    if (maxEntries === 0 || keySize === 0 || valueSize === 0) fail("EINVAL", spec, "key_size, value_size and max_entries must be non-zero");
    if (keySize + valueSize >= KMALLOC_MAX_SIZE - HTAB_ELEM_SIZE) fail("E2BIG", spec, "key_size + value_size too large");
    if (percpu && roundUp8(valueSize) > PCPU_MIN_UNIT_SIZE) fail("E2BIG", spec, `per-CPU value_size above ${PCPU_MIN_UNIT_SIZE}`);
    if (percpuLru) {
      // htab_map_alloc: every CPU's LRU list gets at least one element.
      stored = Math.ceil(maxEntries / nCpus) * nCpus;
      if (stored > 0xffffffff) fail("E2BIG", spec, "max_entries overflows when rounded up to the CPU count");
    }
    if (stored > 2 ** 31) fail("E2BIG", spec, "max_entries above 2^31");
    // htab_map_alloc: the bucket array (16-byte struct bucket) must stay within U32_MAX bytes.
    if (roundUpPow2(stored) > HTAB_MAX_BUCKETS) fail("E2BIG", spec, `max_entries above 2^27 (${roundUpPow2(stored)} buckets)`);
  } else if (isArrayType(type)) {
    const fdArray = type === BPF_MAP_TYPE_PROG_ARRAY || type === BPF_MAP_TYPE_PERF_EVENT_ARRAY || type === BPF_MAP_TYPE_ARRAY_OF_MAPS ||
      type === BPF_MAP_TYPE_CGROUP_ARRAY;
    if (fdArray) {
      if (valueSize !== 4) fail("EINVAL", spec, "value_size must be 4 (an fd)");
      if (flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)) fail("EINVAL", spec, "fd arrays take no program access flags");
    }
    const percpu = type === BPF_MAP_TYPE_PERCPU_ARRAY;
    if (maxEntries === 0 || keySize !== 4 || valueSize === 0) fail("EINVAL", spec, "arrays need key_size 4 and non-zero value_size and max_entries");
    if (flags & ~ARRAY_CREATE_FLAG_MASK) fail("EINVAL", spec, `map_flags 0x${flags.toString(16)} not valid for arrays`);
    if (!accessOk) fail("EINVAL", spec, "BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG together");
    if (percpu && numa) fail("EINVAL", spec, "BPF_F_NUMA_NODE with per-CPU storage");
    if (type !== BPF_MAP_TYPE_ARRAY && (flags & (BPF_F_MMAPABLE | BPF_F_INNER_MAP))) fail("EINVAL", spec, "BPF_F_MMAPABLE / BPF_F_INNER_MAP only for plain arrays");
    if (type !== BPF_MAP_TYPE_PERF_EVENT_ARRAY && (flags & BPF_F_PRESERVE_ELEMS)) fail("EINVAL", spec, "BPF_F_PRESERVE_ELEMS only for perf_event_array");
    if (valueSize > INT_MAX) fail("E2BIG", spec, "value_size too large");
    if (percpu && roundUp8(valueSize) > PCPU_MIN_UNIT_SIZE) fail("E2BIG", spec, `per-CPU value_size above ${PCPU_MIN_UNIT_SIZE}`);
  } else if (type === BPF_MAP_TYPE_LPM_TRIE) {
    if (maxEntries === 0 || !(flags & BPF_F_NO_PREALLOC) || (flags & ~LPM_CREATE_FLAG_MASK) || !accessOk) {
      fail("EINVAL", spec, "lpm_trie maps need BPF_F_NO_PREALLOC, non-zero max_entries and no other flags");
    }
    if (keySize < LPM_KEY_SIZE_MIN || keySize > LPM_KEY_SIZE_MAX) fail("EINVAL", spec, "key_size must be 5..260 (u32 prefixlen + 1..256 data bytes)");
    if (valueSize < 1 || valueSize > KMALLOC_MAX_SIZE - 256 - 48) fail("EINVAL", spec, "value_size out of range");
  } else if (type === BPF_MAP_TYPE_QUEUE || type === BPF_MAP_TYPE_STACK) {
    if (maxEntries === 0 || keySize !== 0 || valueSize === 0 || (flags & ~QUEUE_STACK_CREATE_FLAG_MASK) || !accessOk) {
      fail("EINVAL", spec, "queue/stack maps need key_size 0 and non-zero value_size and max_entries");
    }
    if (valueSize > KMALLOC_MAX_SIZE) fail("E2BIG", spec, "value_size too large");
  } else if (type === BPF_MAP_TYPE_RINGBUF) {
    if (flags & ~RINGBUF_CREATE_FLAG_MASK) fail("EINVAL", spec, `map_flags 0x${flags.toString(16)} not valid for ringbuf`);
    if (keySize !== 0 || valueSize !== 0 || !isPow2(maxEntries) || maxEntries % PAGE_SIZE !== 0) {
      fail("EINVAL", spec, "ringbuf needs key_size 0, value_size 0 and a page-aligned power-of-2 max_entries");
    }
  } else if (type === BPF_MAP_TYPE_BLOOM_FILTER) {
    const extra = spec.mapExtra ?? 0n;
    if (keySize !== 0 || valueSize === 0 || maxEntries === 0 || (flags & ~BLOOM_CREATE_FLAG_MASK) || !accessOk || (extra & ~0xfn) !== 0n) {
      fail("EINVAL", spec, "bloom_filter needs key_size 0, non-zero value_size and max_entries, map_extra < 16");
    }
    if (valueSize > KMALLOC_MAX_SIZE) fail("E2BIG", spec, "value_size too large");
  } else if (type === BPF_MAP_TYPE_STACK_TRACE) {
    if (flags & ~STACK_CREATE_FLAG_MASK) fail("EINVAL", spec, `map_flags 0x${flags.toString(16)} not valid for stack_trace`);
    if (keySize !== 4 || valueSize < 8 || valueSize % 8 !== 0) fail("EINVAL", spec, "stack_trace needs key_size 4 and value_size a multiple of 8");
    if ((flags & BPF_F_STACK_BUILD_ID) && valueSize % STACK_BUILD_ID_SIZE !== 0) fail("EINVAL", spec, "build-id stacks need value_size a multiple of 32");
    const depth = valueSize / ((flags & BPF_F_STACK_BUILD_ID) ? STACK_BUILD_ID_SIZE : 8);
    if (depth > PERF_EVENT_MAX_STACK) fail("EINVAL", spec, `more than ${PERF_EVENT_MAX_STACK} frames (kernel.perf_event_max_stack)`);
    if (maxEntries === 0) fail("EINVAL", spec, "max_entries must be non-zero");
    if (maxEntries > 2 ** 31) fail("E2BIG", spec, "max_entries above 2^31");
  }
  // The inner-map template is checked when the map is allocated, after the type's map_alloc_check.
  if (isMapInMap(type)) {
    if (spec.innerMap === undefined) fail("EINVAL", spec, "needs an inner map template (inner_map_fd)");
    checkInnerTemplate(spec.innerMap, nCpus);
  }
  return stored;
}

/** bpf_map_meta_alloc: which maps may serve as inner-map templates. */
function checkInnerTemplate(inner: MapSpec, nCpus: number): void {
  if (isMapInMap(inner.type)) fail("EINVAL", inner, "maps of maps cannot nest");
  if (NO_INNER_TYPES.has(inner.type)) fail("ENOTSUPP", inner, "this map type cannot be an inner map");
  validateMapSpec(inner, nCpus);
}

/**
 * The kernel's map_meta_equal for an inner map against the template: same type, key_size, value_size and map_flags;
 * arrays also the same max_entries unless the template has BPF_F_INNER_MAP.
 */
export function innerMapMatches(template: MapSpec, m: MapSpec): boolean {
  if (template.type !== m.type || template.keySize !== m.keySize || template.valueSize !== m.valueSize) return false;
  if ((template.flags ?? 0) !== (m.flags ?? 0)) return false;
  if (template.type === BPF_MAP_TYPE_ARRAY || template.type === BPF_MAP_TYPE_PERCPU_ARRAY) {
    return ((template.flags ?? 0) & BPF_F_INNER_MAP) !== 0 || template.maxEntries === m.maxEntries;
  }
  return true;
}

export const roundUp8 = (n: number): number => (n + 7) & ~7;
const isPow2 = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;
export function roundUpPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
