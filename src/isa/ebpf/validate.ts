// validateProgram: refuses encodings that are not eBPF instructions, the way the kernel's loader does before verifying
// (unknown opcode, reserved fields set, bad registers, lddw pairs broken, bad atomic imm, bad pseudo src, jumps that
// leave the program or land inside an lddw). It says nothing about safety; that is the verifier's job.

import { BpfError } from "../../errors.ts";
import type { Insn } from "./insn.ts";
import {
  BPF_ADDR_SPACE_CAST, BPF_LOAD_ACQ, BPF_MAY_GOTO, BPF_STORE_REL, atomicOp, opcodeInfo,
} from "./opcode-table.ts";
import {
  BPF_DIV, BPF_DW, BPF_MOD, BPF_MOV, BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC, BPF_PSEUDO_KFUNC_CALL, BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE, BPF_W, MAX_BPF_REG,
} from "./opcodes.ts";

export interface ValidateOptions {
  /** Accept `callx` (0x8d), which bpf_conformance/uBPF use and Linux refuses. Default true. */
  readonly allowCallx?: boolean;
  /** Check that jump and bpf-to-bpf call targets lie inside the program and not inside an lddw. Default true. */
  readonly checkTargets?: boolean;
}

/** Throws BpfError("DECODE", "insn N: reason", {pc: N}) at the first malformed slot; returns normally otherwise. */
export function validateProgram(insns: readonly Insn[], opts: ValidateOptions = {}): void {
  const reason = findProblem(insns, opts);
  if (reason) throw new BpfError("DECODE", `insn ${reason.pc}: ${reason.message}`, { pc: reason.pc });
}

export interface InsnProblem {
  readonly pc: number;
  readonly message: string;
}

/** The first malformed slot, or undefined. */
export function findProblem(insns: readonly Insn[], opts: ValidateOptions = {}): InsnProblem | undefined {
  const secondHalf = new Uint8Array(insns.length);
  for (let pc = 0; pc < insns.length; pc++) {
    const message = checkInsn(insns, pc, opts);
    if (message) return { pc, message };
    if (opcodeInfo(insns[pc]!.code)?.kind === "lddw") secondHalf[++pc] = 1;
  }
  if (opts.checkTargets === false) return undefined;
  for (let pc = 0; pc < insns.length; pc++) {
    if (secondHalf[pc]) continue;
    const x = insns[pc]!;
    const kind = opcodeInfo(x.code)!.kind;
    let target: number | undefined;
    if (kind === "jcond" || kind === "ja" || kind === "may_goto") target = pc + 1 + x.off;
    else if (kind === "gotol") target = pc + 1 + x.imm;
    else if (kind === "call" && x.src === BPF_PSEUDO_CALL) target = pc + 1 + x.imm;
    else if (kind === "lddw" && x.src === BPF_PSEUDO_FUNC) target = pc + 1 + x.imm;
    if (target === undefined) continue;
    if (target < 0 || target >= insns.length) return { pc, message: `jump out of range from insn ${pc} to ${target}` };
    if (secondHalf[target]) return { pc, message: `jump into the middle of ldimm64 insn ${target - 1}` };
  }
  return undefined;
}

const hex = (n: number): string => "0x" + (n & 0xff).toString(16).padStart(2, "0");

function checkInsn(insns: readonly Insn[], pc: number, opts: ValidateOptions): string | undefined {
  const x = insns[pc]!;
  const info = opcodeInfo(x.code);
  if (!info || info.origin === "kernel") return `unknown opcode ${hex(x.code)}`;
  if (info.origin === "ubpf" && opts.allowCallx === false) return `callx (${hex(x.code)}) is not supported by Linux`;
  if (x.dst >= MAX_BPF_REG) return `invalid dst register r${x.dst}`;
  if (x.src >= MAX_BPF_REG) return `invalid src register r${x.src}`;
  const reserved = (what: string): string => `${what} uses reserved fields (code ${hex(x.code)})`;
  const op = x.code & 0xf0;
  switch (info.kind) {
    case "alu": {
      const divmod = op === BPF_DIV || op === BPF_MOD;
      if (!info.useSrcReg) {
        if (x.src !== 0) return reserved("BPF_ALU with immediate: src");
        if (x.off !== 0 && !(divmod && x.off === 1)) return `invalid off ${x.off} for ${info.is32 ? "BPF_ALU" : "BPF_ALU64"} op ${hex(op)}`;
        return undefined;
      }
      if (op === BPF_MOV && !info.is32 && x.off === BPF_ADDR_SPACE_CAST) {
        return x.imm === 1 || x.imm === 1 << 16 ? undefined : "addr_space_cast can only convert between address space 1 and 0";
      }
      if (x.imm !== 0) return reserved("BPF_ALU with register source: imm");
      const okOff = divmod ? x.off === 0 || x.off === 1
        : op === BPF_MOV ? x.off === 0 || x.off === 8 || x.off === 16 || (x.off === 32 && !info.is32)
        : x.off === 0;
      return okOff ? undefined : `invalid off ${x.off} for ${info.is32 ? "BPF_ALU" : "BPF_ALU64"} op ${hex(op)}`;
    }
    case "neg":
      return x.src !== 0 || x.off !== 0 || x.imm !== 0 ? reserved("BPF_NEG") : undefined;
    case "end":
    case "bswap":
      if (x.src !== 0 || x.off !== 0) return reserved("BPF_END");
      return x.imm === 16 || x.imm === 32 || x.imm === 64 ? undefined : `invalid byte swap width ${x.imm}`;
    case "jcond":
      if (info.useSrcReg ? x.imm !== 0 : x.src !== 0) return reserved(info.is32 ? "BPF_JMP32" : "BPF_JMP");
      return undefined;
    case "ja":
      return x.src !== 0 || x.dst !== 0 || x.imm !== 0 ? reserved("BPF_JA") : undefined;
    case "gotol":
      return x.src !== 0 || x.dst !== 0 || x.off !== 0 ? reserved("BPF_JMP32|BPF_JA") : undefined;
    case "may_goto":
      return x.src !== BPF_MAY_GOTO || x.dst !== 0 || x.imm !== 0 ? "invalid may_goto" : undefined;
    case "call":
      if (x.src !== 0 && x.src !== BPF_PSEUDO_CALL && x.src !== BPF_PSEUDO_KFUNC_CALL) return `invalid call src ${x.src}`;
      if (x.dst !== 0 || (x.off !== 0 && x.src !== BPF_PSEUDO_KFUNC_CALL)) return reserved("BPF_CALL");
      return undefined;
    case "callx":
      return x.src !== 0 || x.off !== 0 || x.imm !== 0 ? reserved("BPF_CALL|BPF_X") : undefined;
    case "exit":
      return x.src !== 0 || x.dst !== 0 || x.off !== 0 || x.imm !== 0 ? reserved("BPF_EXIT") : undefined;
    case "lddw": {
      if (x.off !== 0) return reserved("BPF_LD_IMM64");
      if (x.src > BPF_PSEUDO_MAP_IDX_VALUE) return `unrecognized bpf_ld_imm64 insn (src ${x.src})`;
      const next = insns[pc + 1];
      if (!next) return "lddw is missing its second half";
      if (next.code !== 0 || next.dst !== 0 || next.src !== 0 || next.off !== 0) return "invalid bpf_ld_imm64 insn: second slot must be code 0 with only imm set";
      if ((x.src === BPF_PSEUDO_MAP_FD || x.src === BPF_PSEUDO_MAP_IDX) && next.imm !== 0) return `unrecognized bpf_ld_imm64 insn (map reference with high imm ${next.imm})`;
      return undefined;
    }
    case "ldabs":
      return x.dst !== 0 || x.src !== 0 || x.off !== 0 ? reserved("BPF_LD_[ABS|IND]") : undefined;
    case "ldind":
      return x.dst !== 0 || x.off !== 0 ? reserved("BPF_LD_[ABS|IND]") : undefined;
    case "ldx":
    case "ldxs":
      return x.imm !== 0 ? reserved("BPF_LDX") : undefined;
    case "st":
      return x.src !== 0 ? reserved("BPF_ST") : undefined;
    case "stx":
      return x.imm !== 0 ? reserved("BPF_STX") : undefined;
    case "atomic": {
      const a = atomicOp(x.imm);
      if (!a) return `BPF_ATOMIC uses invalid atomic opcode 0x${(x.imm >>> 0).toString(16)}`;
      const size = x.code & 0x18;
      const ordered = x.imm === BPF_LOAD_ACQ || x.imm === BPF_STORE_REL;
      if (!ordered && size !== BPF_W && size !== BPF_DW) return "invalid atomic operand size";
      return undefined;
    }
    case "gotox":
    case "nospec":
      return `unknown opcode ${hex(x.code)}`;
  }
}
