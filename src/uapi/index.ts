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
