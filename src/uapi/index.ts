// Linux's uapi enums shared by every layer: program, map, attach and link types with the names bpftool prints,
// helper ids (enum bpf_func_id) and errno numbers. Each fact is written once here; other folders import or
// re-export it.
// Pure data: imports nothing.
export { PROG_TYPE_NAMES, BPF_PROG_TYPE, progTypeOf } from "./prog-types.ts";
export type { ProgTypeName } from "./prog-types.ts";
export * from "./map-types.ts";
export { ATTACH_TYPE_NAMES, attachTypeOf } from "./attach-types.ts";
export type { AttachTypeName } from "./attach-types.ts";
export { LINK_TYPE_NAMES } from "./link-types.ts";
export type { LinkTypeName } from "./link-types.ts";
export { ERRNO, errnoName, pickErrno } from "./errno.ts";
export type { ErrnoName } from "./errno.ts";
export { HELPER_NAMES, HELPER_IDS, helperName } from "./helpers.ts";
export { BPF_F_NO_PREALLOC, BPF_F_NO_COMMON_LRU, BPF_F_NUMA_NODE, BPF_F_RDONLY, BPF_F_WRONLY, BPF_F_STACK_BUILD_ID, BPF_F_ZERO_SEED, BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG, BPF_F_CLONE, BPF_F_MMAPABLE, BPF_F_PRESERVE_ELEMS, BPF_F_INNER_MAP, BPF_F_ACCESS_MASK } from "./map-flags.ts";
export { SYSCALLS_X86_64 } from "./syscalls.ts";
