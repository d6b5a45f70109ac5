// What a one-line instruction parser needs from the assembler: emit slots, refer to labels, fail with a position.
// Each syntax (bpf_conformance, llvm-objdump, kernel/bpftool) is a parser over this context.

import type { Insn } from "./insn.ts";

/** A piece of the source line and the 1-based column where it starts. */
export interface Token {
  readonly text: string;
  readonly column: number;
}

export interface AsmContext {
  /** 1-based source line being assembled. */
  readonly line: number;
  /** Throws BpfError("ASSEMBLE") at this line and column. */
  fail(message: string, column: number): never;
  /** Appends one slot (an lddw is two calls). */
  emit(insn: Insn): void;
  /** Appends a jump/call slot whose `field` becomes (label's pc - this pc - 1) once every label is known. */
  emitToLabel(insn: Insn, field: "off" | "imm", label: Token): void;
}
