// The eBPF instruction set: opcodes, the `struct bpf_insn` slot model, encode/decode/validate of the 8-byte wire form,
// the assembler (bpf_conformance, llvm-objdump and kernel syntaxes) and the kernel (bpftool) and llvm disassemblers.
// Pure: imports nothing outside src/isa/ebpf and src/errors.ts.

export * from "./opcodes.ts";
export * from "./insn.ts";
export { assemble } from "./assemble.ts";
