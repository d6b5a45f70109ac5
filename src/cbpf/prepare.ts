// What the kernel does with a classic program handed to it (bpf_prog_create(), SO_ATTACH_FILTER, seccomp):
// bpf_check_basics_ok, bpf_check_classic, the optional seccomp transformation, then bpf_convert_filter.
// The verdict and errno are the kernel's; the result carries the eBPF form the kernel would run.

import type { BpfError } from "../errors.ts";
import { isBpfError } from "../errors.ts";
import type { CbpfInsn } from "../isa/cbpf/insn.ts";
import { checkCbpfStructure } from "./check.ts";
import type { ConvertedProgram } from "./convert.ts";
import { convertCbpf } from "./convert.ts";
import { seccompCheckFilter } from "./seccomp.ts";

export interface PreparedCbpf {
  /** The classic program as the kernel keeps it (after the seccomp rewrite when seccomp). */
  readonly insns: readonly CbpfInsn[];
  /** The eBPF program bpf_convert_filter() produced. */
  readonly converted: ConvertedProgram;
}

/** Checks and converts like the kernel; throws the kernel's errno as a BpfError with the reason. */
export function prepareCbpf(insns: readonly CbpfInsn[], options: { seccomp?: boolean } = {}): PreparedCbpf {
  checkCbpfStructure(insns);
  const kept = options.seccomp ? seccompCheckFilter(insns) : insns;
  return { insns: kept, converted: convertCbpf(kept, options) };
}

/** The kernel's verdict: null when it would accept the program, else the error (code = errno name). */
export function checkCbpf(insns: readonly CbpfInsn[], options: { seccomp?: boolean } = {}): BpfError | null {
  try {
    prepareCbpf(insns, options);
    return null;
  } catch (e) {
    if (isBpfError(e)) return e;
    throw e;
  }
}
