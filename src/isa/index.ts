// The instruction sets, as the package's `bpfkit/isa` entry: eBPF (ebpf/: encode, validate, assemble, the kernel and
// llvm disassemblers) flat, classic BPF (cbpf/: struct sock_filter, bpf_asm, disassembler) under the `cbpf` namespace.
// Pure.
export * from "./ebpf/index.ts";
export * as cbpf from "./cbpf/index.ts";
