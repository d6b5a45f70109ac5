// The eBPF instruction set: opcodes, the `struct bpf_insn` slot model, encode/decode/validate of the 8-byte wire form,
// the assembler (bpf_conformance, llvm-objdump and kernel syntaxes) and the kernel (bpftool) and llvm disassemblers.
// Pure: imports only src/errors.ts and the helper-name table (src/uapi/helpers.ts) for the kernel printer's default.

export * from "./opcodes.ts";
export * from "./insn.ts";
export * from "./opcode-table.ts";
export { decodeProgram, decodeInsn, encodeProgram, insnHexBytes, INSN_SIZE, type ByteOrderOptions } from "./encode.ts";
export { validateProgram, findProblem, type ValidateOptions, type InsnProblem } from "./validate.ts";
export { assemble, assembleWithLabels, type AssembledProgram } from "./assemble.ts";
export { parseIntLiteral } from "./asm-numbers.ts";
export {
  disassembleKernel, formatInsnKernel, opcodeLine, bpftoolImm, rawImm64, VERIFIER_LOG_OPTIONS, type KernelDisasmOptions,
} from "./disasm-kernel.ts";
export {
  disassembleLlvm, formatInsnLlvm, llvmObjdumpSection, llvmObjdumpLine, llvmObjdumpLines, llvmObjdumpHeader, llvmObjdumpFile,
  isUnknownToLlvm, type LlvmDisasmOptions, type LlvmSymbol, type LlvmCodeSection,
} from "./disasm-llvm.ts";
