// enum bpf_map_type (uapi/linux/bpf.h, Linux 6.18) with the names bpftool prints (libbpf's map_type_name: the enum
// name lower-cased without BPF_MAP_TYPE_). Index = enum value; checked against the kernel's BTF in test/oracle.
// bpftool 7.1 (libbpf 1.1) knows the names up to "user_ringbuf" (31); later ones are newer libbpf's.

export const MAP_TYPE_NAMES = [
  "unspec", "hash", "array", "prog_array", "perf_event_array", "percpu_hash", "percpu_array", "stack_trace",
  "cgroup_array", "lru_hash", "lru_percpu_hash", "lpm_trie", "array_of_maps", "hash_of_maps", "devmap", "sockmap",
  "cpumap", "xskmap", "sockhash", "cgroup_storage", "reuseport_sockarray", "percpu_cgroup_storage", "queue", "stack",
  "sk_storage", "devmap_hash", "struct_ops", "ringbuf", "inode_storage", "task_storage", "bloom_filter", "user_ringbuf",
  "cgrp_storage", "arena",
] as const;

export type MapTypeName = (typeof MAP_TYPE_NAMES)[number];

/** The enum value of a map type named as bpftool prints it ("lru_hash" → 9). */
export const mapTypeOf = (name: MapTypeName): number => MAP_TYPE_NAMES.indexOf(name);

/** Map type ids by uapi name without prefix: BPF_MAP_TYPE.HASH = 1. */
export const BPF_MAP_TYPE: Readonly<Record<string, number>> =
  Object.fromEntries(MAP_TYPE_NAMES.map((n, i) => [n.toUpperCase(), i]));

// The uapi constants the VM's maps, the verifier and the loader test against (values from the table above).
export const BPF_MAP_TYPE_UNSPEC = mapTypeOf("unspec");
export const BPF_MAP_TYPE_HASH = mapTypeOf("hash");
export const BPF_MAP_TYPE_ARRAY = mapTypeOf("array");
export const BPF_MAP_TYPE_PROG_ARRAY = mapTypeOf("prog_array");
export const BPF_MAP_TYPE_PERF_EVENT_ARRAY = mapTypeOf("perf_event_array");
export const BPF_MAP_TYPE_PERCPU_HASH = mapTypeOf("percpu_hash");
export const BPF_MAP_TYPE_PERCPU_ARRAY = mapTypeOf("percpu_array");
export const BPF_MAP_TYPE_STACK_TRACE = mapTypeOf("stack_trace");
export const BPF_MAP_TYPE_LRU_HASH = mapTypeOf("lru_hash");
export const BPF_MAP_TYPE_LRU_PERCPU_HASH = mapTypeOf("lru_percpu_hash");
export const BPF_MAP_TYPE_LPM_TRIE = mapTypeOf("lpm_trie");
export const BPF_MAP_TYPE_ARRAY_OF_MAPS = mapTypeOf("array_of_maps");
export const BPF_MAP_TYPE_HASH_OF_MAPS = mapTypeOf("hash_of_maps");
export const BPF_MAP_TYPE_QUEUE = mapTypeOf("queue");
export const BPF_MAP_TYPE_STACK = mapTypeOf("stack");
export const BPF_MAP_TYPE_RINGBUF = mapTypeOf("ringbuf");
export const BPF_MAP_TYPE_BLOOM_FILTER = mapTypeOf("bloom_filter");
export const BPF_MAP_TYPE_CGROUP_ARRAY = mapTypeOf("cgroup_array");
