// Map types and flags as Linux numbers them (enum bpf_map_type and the BPF_F_* map flags in uapi/linux/bpf.h).
// MAP_TYPES is the one table of map types: the id, the name bpftool prints (libbpf's map_type_name) and whether bpfkit
// implements it. The kernel backend and bpftool-style listings read the names from here.
import { MAP_TYPE_NAMES, pickErrno } from "../uapi/index.ts";
import type { MapTypeName } from "../uapi/index.ts";

/** One row of enum bpf_map_type. */
export interface MapTypeInfo {
  readonly id: number;
  /** As bpftool prints it: "hash", "percpu_array", "lru_hash", "ringbuf", "prog_array". */
  readonly name: string;
  /** The uapi enum name, BPF_MAP_TYPE_*. */
  readonly kernelName: string;
  /** bpfkit's VM backend can create it. */
  readonly implemented: boolean;
}

// The map types bpfkit's VM backend can create (the ids and names are src/uapi's enum bpf_map_type table).
const IMPLEMENTED: ReadonlySet<MapTypeName> = new Set<MapTypeName>([
  "hash", "array", "prog_array", "perf_event_array", "percpu_hash", "percpu_array", "stack_trace", "lru_hash",
  "lru_percpu_hash", "lpm_trie", "array_of_maps", "hash_of_maps", "queue", "stack", "ringbuf", "bloom_filter",
  "cgroup_array",
]);

export const MAP_TYPES: readonly MapTypeInfo[] = MAP_TYPE_NAMES.map((name, id) => ({
  id, name, kernelName: "BPF_MAP_TYPE_" + name.toUpperCase(), implemented: IMPLEMENTED.has(name),
}));

export {
  BPF_MAP_TYPE_UNSPEC, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PROG_ARRAY, BPF_MAP_TYPE_PERF_EVENT_ARRAY,
  BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_STACK_TRACE, BPF_MAP_TYPE_LRU_HASH,
  BPF_MAP_TYPE_LRU_PERCPU_HASH, BPF_MAP_TYPE_LPM_TRIE, BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_HASH_OF_MAPS,
  BPF_MAP_TYPE_QUEUE, BPF_MAP_TYPE_STACK, BPF_MAP_TYPE_RINGBUF, BPF_MAP_TYPE_BLOOM_FILTER, BPF_MAP_TYPE_CGROUP_ARRAY,
} from "../uapi/index.ts";

/** The name bpftool prints for a map type id ("hash"), or the number when unknown, as bpftool does. */
export function mapTypeName(id: number): string {
  return MAP_TYPES[id]?.name ?? String(id);
}

/** A map type id from a number, a bpftool name ("lru_hash") or a kernel name ("BPF_MAP_TYPE_LRU_HASH"). */
export function mapTypeId(v: number | string): number | undefined {
  if (typeof v === "number") return Number.isInteger(v) && v >= 0 ? v : undefined;
  const s = v.toLowerCase().replace(/^bpf_map_type_/, "");
  const row = MAP_TYPES.find((t) => t.name === s);
  return row?.id;
}

// map_flags at BPF_MAP_CREATE (src/uapi/map-flags.ts).
export {
  BPF_F_NO_PREALLOC, BPF_F_NO_COMMON_LRU, BPF_F_NUMA_NODE, BPF_F_RDONLY, BPF_F_WRONLY, BPF_F_STACK_BUILD_ID, BPF_F_ZERO_SEED, BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG, BPF_F_CLONE, BPF_F_MMAPABLE, BPF_F_PRESERVE_ELEMS, BPF_F_INNER_MAP, BPF_F_ACCESS_MASK,
} from "../uapi/index.ts";

// Element update flags (BPF_MAP_UPDATE_ELEM, bpf_map_update_elem, bpf_map_push_elem).
export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;
export const BPF_F_LOCK = 4;

// bpf_get_stackid flags.
export const BPF_F_SKIP_FIELD_MASK = 0xff;
export const BPF_F_USER_STACK = 1 << 8;
export const BPF_F_FAST_STACK_CMP = 1 << 9;
export const BPF_F_REUSE_STACKID = 1 << 10;

// bpf_ringbuf_* flags and bpf_ringbuf_query selectors.
export const BPF_RB_NO_WAKEUP = 1 << 0;
export const BPF_RB_FORCE_WAKEUP = 1 << 1;
export const BPF_RB_AVAIL_DATA = 0;
export const BPF_RB_RING_SIZE = 1;
export const BPF_RB_CONS_POS = 2;
export const BPF_RB_PROD_POS = 3;
export const BPF_RINGBUF_BUSY_BIT = 0x80000000;
export const BPF_RINGBUF_DISCARD_BIT = 0x40000000;
export const BPF_RINGBUF_HDR_SZ = 8;

// bpf_perf_event_output flags.
export const BPF_F_INDEX_MASK = 0xffffffff;
export const BPF_F_CURRENT_CPU = 0xffffffff;

/** The Linux errno numbers the map operations return (negated on the program side, like the helpers). */
export const ERRNO = pickErrno([
  "EPERM", "ENOENT", "EBADF", "EAGAIN", "ENOMEM", "EFAULT", "EBUSY", "EEXIST", "EINVAL", "ENOSPC", "E2BIG", "EOPNOTSUPP",
  "ENOTSUPP",
]);
export type ErrnoName = keyof typeof ERRNO;

const ERRNO_NAMES = new Map<number, ErrnoName>(Object.entries(ERRNO).map(([k, v]) => [v, k as ErrnoName]));
/** The errno name for a positive errno number the map code uses. */
export function errnoName(n: number): ErrnoName {
  return ERRNO_NAMES.get(n) ?? "EINVAL";
}

/** A u32 as 4 little-endian bytes (array indices, ids and batch tokens as user space sees them). */
export function u32Bytes(n: number): Uint8Array {
  const b = new Uint8Array(4);
  b[0] = n & 0xff; b[1] = (n >>> 8) & 0xff; b[2] = (n >>> 16) & 0xff; b[3] = (n >>> 24) & 0xff;
  return b;
}

/** The little-endian u32 at the start of `b`. */
export function readU32(b: Uint8Array, off = 0): number {
  return (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
}
