// The Linux backend (Node only): the bpf() syscall typed per command, perf events, mmap'd buffers, loading and
// attaching bpfkit programs in the real kernel, and reading back maps and bpftool-style object info.
// Imports isa (and object/btf when loading ELF objects); nothing in the pure core imports this folder.
export * from "./bpf.ts";
export { KernelError, nativeUnavailable, errnoName, perfEventOpen, mmapShared, closeFd as closeNativeFd } from "./libc.ts";
export type { Mapping } from "./libc.ts";
export * from "./names.ts";
