// Seccomp filters: seccomp_check_filter() (kernel/seccomp.c) — the allowed opcode subset, only aligned 32-bit loads
// inside struct seccomp_data, BPF_LEN rewritten to the struct size — and a runner over struct seccomp_data
// with the kernel's action decoding and its rule for several filters (the lowest-precedence action wins).

import { BpfError } from "../errors.ts";
import {
  BPF_ABS, BPF_ADD, BPF_ALU, BPF_AND, BPF_DIV, BPF_IMM, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_JSET, BPF_K,
  BPF_LD, BPF_LDX, BPF_LEN, BPF_LSH, BPF_MEM, BPF_MISC, BPF_MUL, BPF_NEG, BPF_OR, BPF_RET, BPF_RSH, BPF_ST, BPF_STX,
  BPF_SUB, BPF_TAX, BPF_TXA, BPF_W, BPF_X, BPF_XOR, BPF_A,
} from "../isa/cbpf/insn.ts";
import type { CbpfInsn } from "../isa/cbpf/insn.ts";
import { checkCbpfStructure } from "./check.ts";
import type { CbpfFilter } from "./interp.ts";
import { compileCbpf } from "./interp.ts";

/** sizeof(struct seccomp_data). */
export const SECCOMP_DATA_SIZE = 64;
/** AUDIT_ARCH_X86_64, the arch word of this machine's syscalls. */
export const AUDIT_ARCH_X86_64 = 0xc000003e;

// Return actions (uapi/linux/seccomp.h).
export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_KILL_THREAD = 0x00000000;
export const SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_USER_NOTIF = 0x7fc00000;
export const SECCOMP_RET_TRACE = 0x7ff00000;
export const SECCOMP_RET_LOG = 0x7ffc0000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_ACTION_FULL = 0xffff0000;
export const SECCOMP_RET_DATA = 0x0000ffff;
const MAX_ERRNO = 4095;
/** MAX_INSNS_PER_PATH: the instruction budget of a task's filter chain (each filter costs len + 4). */
export const SECCOMP_MAX_INSNS_PER_PATH = (1 << 18) / 8;

export type SeccompActionName =
  | "kill_process" | "kill_thread" | "trap" | "errno" | "user_notif" | "trace" | "log" | "allow";

/** Names as /proc/sys/kernel/seccomp/actions_avail spells them, by action value. */
export const SECCOMP_ACTIONS: ReadonlyMap<number, SeccompActionName> = new Map([
  [SECCOMP_RET_KILL_PROCESS, "kill_process"], [SECCOMP_RET_KILL_THREAD, "kill_thread"],
  [SECCOMP_RET_TRAP, "trap"], [SECCOMP_RET_ERRNO, "errno"], [SECCOMP_RET_USER_NOTIF, "user_notif"],
  [SECCOMP_RET_TRACE, "trace"], [SECCOMP_RET_LOG, "log"], [SECCOMP_RET_ALLOW, "allow"],
]);

/** A decoded filter result. */
export interface SeccompAction {
  /** The raw u32 the filter returned. */
  readonly value: number;
  /** What the kernel does: an unknown action value is treated as kill_process. */
  readonly action: SeccompActionName;
  /** The low 16 data bits (for errno: the errno, capped at MAX_ERRNO 4095; for trap/trace: the data passed on). */
  readonly data: number;
  /** True when the action bits were not a known action. */
  readonly unknown: boolean;
}

export function decodeSeccompAction(value: number): SeccompAction {
  const ret = value >>> 0;
  const bits = (ret & SECCOMP_RET_ACTION_FULL) >>> 0;
  const known = SECCOMP_ACTIONS.get(bits);
  let data = ret & SECCOMP_RET_DATA;
  if (known === "errno" && data > MAX_ERRNO) data = MAX_ERRNO;
  return { value: ret, action: known ?? "kill_process", data, unknown: known === undefined };
}

/** struct seccomp_data: the syscall a filter judges. */
export interface SeccompData {
  readonly nr: number;
  readonly arch?: number;
  readonly instructionPointer?: bigint | number;
  readonly args?: readonly (bigint | number)[];
}

/** Lays out struct seccomp_data in host (little-endian) order. */
export function encodeSeccompData(data: SeccompData): Uint8Array {
  const bytes = new Uint8Array(SECCOMP_DATA_SIZE);
  const view = new DataView(bytes.buffer);
  view.setInt32(0, data.nr | 0, true);
  view.setUint32(4, (data.arch ?? AUDIT_ARCH_X86_64) >>> 0, true);
  view.setBigUint64(8, BigInt.asUintN(64, BigInt(data.instructionPointer ?? 0)), true);
  const args = data.args ?? [];
  if (args.length > 6) throw new BpfError("EINVAL", `seccomp_data has 6 syscall arguments, got ${args.length}`);
  args.forEach((a, i) => view.setBigUint64(16 + 8 * i, BigInt.asUintN(64, BigInt(a)), true));
  return bytes;
}

// The instructions seccomp_check_filter() lets through unchanged.
const SECCOMP_ALLOWED = new Set([
  BPF_RET | BPF_K, BPF_RET | BPF_A,
  BPF_ALU | BPF_ADD | BPF_K, BPF_ALU | BPF_ADD | BPF_X, BPF_ALU | BPF_SUB | BPF_K, BPF_ALU | BPF_SUB | BPF_X,
  BPF_ALU | BPF_MUL | BPF_K, BPF_ALU | BPF_MUL | BPF_X, BPF_ALU | BPF_DIV | BPF_K, BPF_ALU | BPF_DIV | BPF_X,
  BPF_ALU | BPF_AND | BPF_K, BPF_ALU | BPF_AND | BPF_X, BPF_ALU | BPF_OR | BPF_K, BPF_ALU | BPF_OR | BPF_X,
  BPF_ALU | BPF_XOR | BPF_K, BPF_ALU | BPF_XOR | BPF_X, BPF_ALU | BPF_LSH | BPF_K, BPF_ALU | BPF_LSH | BPF_X,
  BPF_ALU | BPF_RSH | BPF_K, BPF_ALU | BPF_RSH | BPF_X, BPF_ALU | BPF_NEG,
  BPF_LD | BPF_IMM, BPF_LDX | BPF_IMM, BPF_MISC | BPF_TAX, BPF_MISC | BPF_TXA,
  BPF_LD | BPF_MEM, BPF_LDX | BPF_MEM, BPF_ST, BPF_STX,
  BPF_JMP | BPF_JA, BPF_JMP | BPF_JEQ | BPF_K, BPF_JMP | BPF_JEQ | BPF_X, BPF_JMP | BPF_JGE | BPF_K,
  BPF_JMP | BPF_JGE | BPF_X, BPF_JMP | BPF_JGT | BPF_K, BPF_JMP | BPF_JGT | BPF_X, BPF_JMP | BPF_JSET | BPF_K,
  BPF_JMP | BPF_JSET | BPF_X,
]);

/**
 * seccomp_check_filter(): rejects (EINVAL) what seccomp does not allow and returns the rewritten program:
 * `ld [k]` becomes the context load BPF_LDX|BPF_W|BPF_ABS, `ld #len`/`ldx #len` become immediates of 64.
 * Run checkCbpfStructure first, as the kernel runs bpf_check_classic() first.
 */
export function seccompCheckFilter(insns: readonly CbpfInsn[]): CbpfInsn[] {
  return insns.map((insn, pc) => {
    const k = insn.k >>> 0;
    switch (insn.code) {
      case BPF_LD | BPF_W | BPF_ABS:
        if (k >= SECCOMP_DATA_SIZE || (k & 3) !== 0) {
          throw new BpfError("EINVAL", `classic instruction ${pc}: seccomp may only load aligned 32-bit words `
            + `inside struct seccomp_data (offset 0..60, multiple of 4), not offset ${k}`, { pc });
        }
        return { ...insn, code: BPF_LDX | BPF_W | BPF_ABS };
      case BPF_LD | BPF_W | BPF_LEN:
        return { ...insn, code: BPF_LD | BPF_IMM, k: SECCOMP_DATA_SIZE };
      case BPF_LDX | BPF_W | BPF_LEN:
        return { ...insn, code: BPF_LDX | BPF_IMM, k: SECCOMP_DATA_SIZE };
      default:
        if (!SECCOMP_ALLOWED.has(insn.code)) {
          throw new BpfError("EINVAL", `classic instruction ${pc}: opcode 0x${insn.code.toString(16).padStart(2, "0")} `
            + `is not allowed in a seccomp filter (no packet, ancillary or mod instructions)`, { pc });
        }
        return insn;
    }
  });
}

/** A checked seccomp filter ready to run. */
export interface SeccompFilter {
  readonly insns: readonly CbpfInsn[];
  /** Runs the filter on one syscall and returns its raw u32 result. */
  readonly run: (data: SeccompData | Uint8Array) => number;
}

/** Checks like seccomp_prepare_filter() (EINVAL with the reason) and compiles the filter. */
export function compileSeccomp(insns: readonly CbpfInsn[]): SeccompFilter {
  checkCbpfStructure(insns);
  const rewritten = seccompCheckFilter(insns);
  const run: CbpfFilter = compileCbpf(rewritten, { seccomp: true });
  return {
    insns: rewritten,
    run: (data) => run(data instanceof Uint8Array ? data : encodeSeccompData(data), SECCOMP_DATA_SIZE),
  };
}

/** A task's stack of seccomp filters: every filter runs, the action with the lowest precedence value wins. */
export class SeccompFilterChain {
  private readonly filters: SeccompFilter[] = [];

  /** SECCOMP_SET_MODE_FILTER: ENOMEM once the chain passes MAX_INSNS_PER_PATH (each filter costs len + 4). */
  attach(insns: readonly CbpfInsn[]): void {
    const filter = compileSeccomp(insns);
    let total = insns.length;
    for (const f of this.filters) total += f.insns.length + 4;
    if (total > SECCOMP_MAX_INSNS_PER_PATH) {
      throw new BpfError("ENOMEM", `seccomp filter chain would hold ${total} instructions, `
        + `more than MAX_INSNS_PER_PATH (${SECCOMP_MAX_INSNS_PER_PATH})`);
    }
    this.filters.unshift(filter); // newest first, as current->seccomp.filter
  }

  get length(): number { return this.filters.length; }

  /** seccomp_run_filters(): ALLOW with no filter; otherwise the lowest (signed) action over all filters. */
  evaluate(data: SeccompData): SeccompAction {
    const bytes = encodeSeccompData(data);
    let ret = SECCOMP_RET_ALLOW;
    for (const f of this.filters) {
      const cur = f.run(bytes);
      if ((cur & SECCOMP_RET_ACTION_FULL) < (ret & SECCOMP_RET_ACTION_FULL)) ret = cur;
    }
    return decodeSeccompAction(ret);
  }
}


