// Classic BPF instruction model: struct sock_filter, its opcode names (shared bit values with eBPF), the ancillary
// (SKF_AD_*) offsets, encode/decode, the bpf_asm assembler and its inverse. Imports nothing outside isa/ (and errors.ts).
export * from "./insn.ts";
export { assembleCbpf, formatBpfAsm, formatBpfAsmC, CBPF_EXTENSIONS } from "./asm.ts";
export { disassembleCbpf } from "./disasm.ts";
