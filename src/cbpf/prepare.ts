// What the kernel does with a classic program handed to it (bpf_prog_create(), SO_ATTACH_FILTER, seccomp):
// bpf_check_basics_ok, bpf_check_classic, the optional seccomp transformation, then bpf_convert_filter.
// The verdict and errno are the kernel's; the result carries the eBPF form the kernel would run.

import { BpfError, isBpfError } from "../errors.ts";
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

/** offsetof(struct bpf_prog, insns) on x86-64 Linux 6.x: what bpf_prog_size() adds to 8 bytes per instruction. */
export const BPF_PROG_HEADER_SIZE = 96;

export interface SocketFilterOptions {
  /** net.core.optmem_max (default 131072, Linux 6.x). */
  readonly optmemMax?: number;
  /** Socket option memory the socket already holds (sk_omem_alloc; 0 for a fresh socket). */
  readonly omemAlloc?: number;
}

/**
 * SO_ATTACH_FILTER: prepareCbpf, then __sk_filter_charge(): the converted program (bpf_prog_size) must fit in the
 * socket's option memory, else ENOMEM.
 */
export function attachSocketFilter(insns: readonly CbpfInsn[], options: SocketFilterOptions = {}): PreparedCbpf {
  const prepared = prepareCbpf(insns);
  const optmemMax = options.optmemMax ?? 131072;
  const size = BPF_PROG_HEADER_SIZE + 8 * prepared.converted.insns.length;
  if (!(size <= optmemMax && (options.omemAlloc ?? 0) + size < optmemMax)) {
    throw new BpfError("ENOMEM", `classic program: converted to ${prepared.converted.insns.length} eBPF instructions it `
      + `needs ${size} bytes of socket option memory, not below net.core.optmem_max (${optmemMax})`);
  }
  return prepared;
}

/** The kernel's SO_ATTACH_FILTER verdict: null when accepted, else the error (code = errno name). */
export function checkSocketFilter(insns: readonly CbpfInsn[], options: SocketFilterOptions = {}): BpfError | null {
  try {
    attachSocketFilter(insns, options);
    return null;
  } catch (e) {
    if (isBpfError(e)) return e;
    throw e;
  }
}
