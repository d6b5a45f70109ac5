// The kernel's instruction printer (kernel/bpf/disasm.c print_bpf_insn, as bpftool `prog dump xlated` and the verifier
// log use it): `(bf) r6 = r1`, `(85) call bpf_map_lookup_elem#1`, `(18) r1 = map[id:5]`, `(63) *(u32 *)(r10 -4) = r1`.
// One printer with hooks for what differs between users (helper names, call targets, ldimm64 operands), like disasm.c's
// bpf_insn_cbs. The defaults reproduce bpftool's callbacks (xlated_dumper.c print_imm) for an interpreted program.

import type { Insn } from "./insn.ts";
import { HELPER_NAMES } from "../../uapi/index.ts";
import {
  BPF_ADDR_PERCPU, BPF_ADDR_SPACE_CAST, BPF_LOAD_ACQ, BPF_MAY_GOTO, BPF_STORE_REL, MOVSX_WIDTHS, aluOp, atomicAluOp,
  condJmpOp, sizeInfo,
} from "./opcode-table.ts";
import {
  BPF_ABS, BPF_ALU, BPF_ALU64, BPF_ATOMIC, BPF_CALL, BPF_DW, BPF_END, BPF_EXIT, BPF_IMM, BPF_IND, BPF_JA,
  BPF_JMP, BPF_JMP32, BPF_LD, BPF_LDX, BPF_MEM, BPF_MEMSX, BPF_MOV, BPF_NEG, BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC,
  BPF_PSEUDO_KFUNC_CALL, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_IDX_VALUE, BPF_PSEUDO_MAP_VALUE, BPF_ST, BPF_STX, BPF_TO_BE,
  BPF_X, bpfClass, bpfMode, bpfOp, bpfSize, bpfSrc,
} from "./opcodes.ts";
import { insnHexBytes } from "./encode.ts";

export interface KernelDisasmOptions {
  /**
   * Whose disasm.c: "current" (Linux 6.18, the kernel's verifier log and bpftool >= 7.6) or "bpftool-7.1" (the copy in
   * Debian's bpftool 7.1, from Linux 6.1: no v4 instructions, may_goto, gotol, arena or per-CPU moves, acquire/release;
   * it prints those as BUG_ lines or generic forms, and map ids unsigned). Default "current".
   */
  readonly dialect?: "current" | "bpftool-7.1";
  /** bpftool `opcodes`: a second line with the raw bytes (16 for an lddw) under each instruction. */
  readonly opcodes?: boolean;
  /** Helper name for `call NAME#id` (src 0). Default: the kernel's table (`bpf_map_lookup_elem`); undefined falls through to callTarget. */
  readonly helperName?: (id: number) => string | undefined;
  /**
   * disasm.c's cb_call: for a bpf-to-bpf call the text after `call pc` (default `%+d` of imm, the verifier log's form;
   * bpftool prints `+5#bpf_prog_TAG_NAME` from off), for other calls the name before `#imm` (bpftool: a kallsyms name).
   */
  readonly callTarget?: (pc: number, insn: Insn) => string | undefined;
  /** disasm.c's cb_imm: the right-hand side of an lddw. Default: bpftool's print_imm (`map[id:5]`, `map[id:5][0]+16`, ...). */
  readonly mapRef?: (pc: number, insn: Insn, next: Insn | undefined) => string | undefined;
}

// disasm.c's string tables index by op; the slots it leaves NULL print as glibc's "(null)".
const jmpSymbol = (op: number): string => (op === BPF_JA ? "jmp" : op === BPF_CALL ? "call" : op === BPF_EXIT ? "exit"
  : condJmpOp(op)?.symbol ?? "(null)");
const utype = (code: number): string => sizeInfo(code).utype;

const hex2 = (n: number): string => (n & 0xff).toString(16).padStart(2, "0");
/** printf `%+d`. */
const signed = (n: number): string => (n >= 0 ? "+" : "") + n;
const u64Hex = (lo: number, hi: number): string => "0x" + ((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)).toString(16);

/** bpftool's print_imm for an lddw (xlated_dumper.c); bpftool 7.1 printed the numbers with %u. */
export function bpftoolImm(insn: Insn, next: Insn | undefined, unsigned = false): string {
  const n = (v: number): number => (unsigned ? v >>> 0 : v);
  const hi = n(next?.imm ?? 0);
  switch (insn.src) {
    case BPF_PSEUDO_MAP_FD: return `map[id:${n(insn.imm)}]`;
    case BPF_PSEUDO_MAP_VALUE: return `map[id:${n(insn.imm)}][0]+${hi}`;
    case BPF_PSEUDO_MAP_IDX_VALUE: return `map[idx:${n(insn.imm)}]+${hi}`;
    case BPF_PSEUDO_FUNC: return `subprog[${signed(insn.imm)}]`;
  }
  return u64Hex(insn.imm, hi);
}

/** disasm.c's own ldimm64 text when no cb_imm is given: the full 64-bit value in hex (`r1 = 0x800000003`). */
export function rawImm64(insn: Insn, next: Insn | undefined): string {
  return u64Hex(insn.imm, next?.imm ?? 0);
}

/**
 * The verifier log's view (kernel/bpf/verifier.c passes no cb_imm; as root pointers are not masked): ldimm64 operands
 * print as raw hex, e.g. `(18) r1 = 0x800000003` for a subprog reference. Add a callTarget for kfunc names.
 */
export const VERIFIER_LOG_OPTIONS: KernelDisasmOptions = { mapRef: (_pc, insn, next) => rawImm64(insn, next) };

/** The instruction text after the `(code) ` prefix is part of it: exactly one print_bpf_insn line, without newline. */
export function formatInsnKernel(insns: readonly Insn[], pc: number, opts: KernelDisasmOptions = {}): string {
  const x = insns[pc]!;
  const c = x.code;
  const cls = bpfClass(c);
  const p = `(${hex2(c)}) `;
  const legacy = opts.dialect === "bpftool-7.1";
  if (cls === BPF_ALU || cls === BPF_ALU64) {
    const r = cls === BPF_ALU ? "w" : "r";
    const op = bpfOp(c);
    if (op === BPF_END) {
      if (cls === BPF_ALU64) return legacy ? `BUG_alu64_${hex2(c)}` : `${p}r${x.dst} = bswap${x.imm} r${x.dst}`;
      return `${p}r${x.dst} = ${bpfSrc(c) === BPF_TO_BE ? "be" : "le"}${x.imm} r${x.dst}`;
    }
    if (op === BPF_NEG) return `${p}${r}${x.dst} = -${r}${x.dst}`;
    if (c === (BPF_ALU64 | BPF_MOV | BPF_X) && x.off === BPF_ADDR_SPACE_CAST && !legacy) {
      return `${p}r${x.dst} = addr_space_cast(r${x.src}, ${x.imm >>> 16}, ${x.imm & 0xffff})`;
    }
    if (c === (BPF_ALU64 | BPF_MOV | BPF_X) && x.off === BPF_ADDR_PERCPU && !legacy) return `${p}r${x.dst} = &(void __percpu *)(r${x.src})`;
    const alu = aluOp(op);
    const sym = (x.off === 1 && !legacy ? alu?.signed?.symbol : undefined) ?? alu?.symbol ?? "(null)";
    if (bpfSrc(c) === BPF_X) {
      const cast = op === BPF_MOV && !legacy && MOVSX_WIDTHS.includes(x.off) ? `(s${x.off})` : "";
      return `${p}${r}${x.dst} ${sym} ${cast}${r}${x.src}`;
    }
    return `${p}${r}${x.dst} ${sym} ${x.imm}`;
  }
  if (cls === BPF_STX) {
    const mode = bpfMode(c);
    const mem = `(${utype(c)} *)(r${x.dst} ${signed(x.off)})`;
    if (mode === BPF_MEM) return `${p}*${mem} = r${x.src}`;
    if (mode === BPF_ATOMIC) {
      const w = bpfSize(c) === BPF_DW ? "64" : "";
      const rmw = atomicAluOp(x.imm & ~1);
      if (rmw && (x.imm & 1) === 0) return `${p}lock *${mem} ${rmw.symbol} r${x.src}`;
      if (rmw) return `${p}r${x.src} = atomic${w}_fetch_${rmw.name}(${mem}, r${x.src})`;
      if (x.imm === 0xf1) return `${p}r0 = atomic${w}_cmpxchg(${mem}, r0, r${x.src})`;
      if (x.imm === 0xe1) return `${p}r${x.src} = atomic${w}_xchg(${mem}, r${x.src})`;
      if (x.imm === BPF_LOAD_ACQ && !legacy) return `${p}r${x.dst} = load_acquire((${utype(c)} *)(r${x.src} ${signed(x.off)}))`;
      if (x.imm === BPF_STORE_REL && !legacy) return `${p}store_release(${mem}, r${x.src})`;
    }
    return `BUG_${hex2(c)}`;
  }
  if (cls === BPF_ST) {
    if (bpfMode(c) === BPF_MEM) return `${p}*(${utype(c)} *)(r${x.dst} ${signed(x.off)}) = ${x.imm}`;
    if (bpfMode(c) === 0xc0) return `${p}nospec`;
    return `BUG_st_${hex2(c)}`;
  }
  if (cls === BPF_LDX) {
    const mode = bpfMode(c);
    if (mode !== BPF_MEM && (mode !== BPF_MEMSX || legacy)) return `BUG_ldx_${hex2(c)}`;
    // disasm.c has no s64 entry in its sign-extending table: a DW MEMSX prints "(null)".
    const type = mode === BPF_MEM ? utype(c) : bpfSize(c) === BPF_DW ? "(null)" : sizeInfo(c).stype;
    return `${p}r${x.dst} = *(${type} *)(r${x.src} ${signed(x.off)})`;
  }
  if (cls === BPF_LD) {
    const mode = bpfMode(c);
    if (mode === BPF_ABS) return `${p}r0 = *(${utype(c)} *)skb[${x.imm}]`;
    if (mode === BPF_IND) return `${p}r0 = *(${utype(c)} *)skb[r${x.src} + ${x.imm}]`;
    if (mode === BPF_IMM && bpfSize(c) === BPF_DW) {
      const next = insns[pc + 1];
      const text = opts.mapRef?.(pc, x, next) ?? bpftoolImm(x, next, legacy);
      return `${p}r${x.dst} = ${text}`;
    }
    return `BUG_ld_${hex2(c)}`;
  }
  // BPF_JMP, BPF_JMP32
  const op = bpfOp(c);
  if (op === BPF_CALL) {
    const name = callName(pc, x, opts);
    return x.src === BPF_PSEUDO_CALL ? `${p}call pc${name}` : `${p}call ${name}#${x.imm}`;
  }
  if (c === (BPF_JMP | BPF_JA)) return `${p}goto pc${signed(x.off)}`;
  if (c === (BPF_JMP | BPF_JA | BPF_X) && !legacy) return `${p}gotox r${x.dst}`;
  if (c === (BPF_JMP | 0xe0) && x.src === BPF_MAY_GOTO && !legacy) return `${p}may_goto pc${signed(x.off)}`;
  if (c === (BPF_JMP32 | BPF_JA) && !legacy) return `${p}gotol pc${signed(x.imm)}`;
  if (c === (BPF_JMP | BPF_EXIT)) return `${p}exit`;
  const r = cls === BPF_JMP32 ? "w" : "r";
  // Codes disasm.c has no case for (JMP32|EXIT, JCOND variants, op 0xf0) fall into the conditional form, with its
  // string table's "exit"/"jmp" or a NULL that glibc prints as "(null)".
  if (bpfSrc(c) === BPF_X) return `${p}if ${r}${x.dst} ${jmpSymbol(op)} ${r}${x.src} goto pc${signed(x.off)}`;
  return `${p}if ${r}${x.dst} ${jmpSymbol(op)} 0x${(x.imm >>> 0).toString(16)} goto pc${signed(x.off)}`;
}

/** disasm.c __func_get_name. */
function callName(pc: number, x: Insn, opts: KernelDisasmOptions): string {
  if (x.src === 0) {
    const name = opts.helperName ? opts.helperName(x.imm)
      : x.imm >= 0 && x.imm < HELPER_NAMES.length ? `bpf_${HELPER_NAMES[x.imm]}` : undefined;
    if (name !== undefined) return name;
  }
  const hooked = opts.callTarget?.(pc, x);
  if (hooked !== undefined) return hooked;
  if (x.src === BPF_PSEUDO_CALL) return signed(x.imm);
  if (x.src === BPF_PSEUDO_KFUNC_CALL) return "kernel-function";
  return "unknown";
}

/** The lines `bpftool prog dump xlated` prints for the instructions (without its func/line-info headers). */
export function disassembleKernel(insns: readonly Insn[], opts: KernelDisasmOptions = {}): string[] {
  const out: string[] = [];
  for (let pc = 0; pc < insns.length; pc++) {
    const x = insns[pc]!;
    const isLddw = x.code === (BPF_LD | BPF_IMM | BPF_DW);
    out.push(`${String(pc).padStart(4)}: ${formatInsnKernel(insns, pc, opts)}`);
    if (opts.opcodes) out.push(opcodeLine(insns, pc));
    if (isLddw) pc++;
  }
  return out;
}

/** bpftool's `opcodes` line: 7 spaces, then the slot's bytes (both slots of an lddw, separated by one space). */
export function opcodeLine(insns: readonly Insn[], pc: number): string {
  const x = insns[pc]!;
  let s = "       " + insnHexBytes(x);
  const next = insns[pc + 1];
  if (x.code === (BPF_LD | BPF_IMM | BPF_DW) && next) s += " " + insnHexBytes(next);
  return s;
}
