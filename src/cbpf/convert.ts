// cBPF -> eBPF exactly as the kernel's bpf_convert_filter() (net/core/filter.c): A=r0, X=r7, ctx=r6, skb->data in
// r8, headlen in r9, r2 as temporary, M[k] at fp-(4k+4); LD_ABS/LD_IND become a bounds-checked direct load with
// a call to bpf_skb_load_helper_N as slow path; ancillary loads become skb field loads or calls. Instruction counts
// match the kernel's, so jump offsets (and the 16-bit offset limit that rejects some long programs) match too.

import { BpfError } from "../errors.ts";
import {
  BPF_ABS, BPF_ALU, BPF_B, BPF_DIV, BPF_H, BPF_IMM, BPF_IND, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_K,
  BPF_LD, BPF_LDX, BPF_LEN, BPF_MEM, BPF_MISC, BPF_MOD, BPF_MSH, BPF_RET, BPF_ST, BPF_STX, BPF_TAX, BPF_TXA, BPF_W,
  BPF_X, BPF_A, SKF_AD_ALU_XOR_X, SKF_AD_CPU, SKF_AD_HATYPE, SKF_AD_IFINDEX, SKF_AD_MARK, SKF_AD_NLATTR,
  SKF_AD_NLATTR_NEST, SKF_AD_PAY_OFFSET, SKF_AD_PKTTYPE, SKF_AD_PROTOCOL, SKF_AD_QUEUE, SKF_AD_RANDOM, SKF_AD_RXHASH,
  SKF_AD_VLAN_TAG, SKF_AD_VLAN_TAG_PRESENT, SKF_AD_VLAN_TPID, ancillaryOf,
} from "../isa/cbpf/insn.ts";
import type { CbpfInsn } from "../isa/cbpf/insn.ts";
import {
  BPF_ALU64, BPF_AND, BPF_CALL, BPF_DW, BPF_END, BPF_EXIT, BPF_JLE, BPF_JLT, BPF_JNE, BPF_JSGE, BPF_JSLT, BPF_LSH,
  BPF_MOV, BPF_ADD, BPF_SUB, BPF_TO_BE, BPF_XOR,
} from "../isa/ebpf/opcodes.ts";
import type { Insn } from "../isa/ebpf/insn.ts";
import { isConditionalJump } from "./check.ts";
import { CBPF_CALL, CBPF_NETDEV, CBPF_SKB } from "./skbctx.ts";

// Register mapping (include/linux/filter.h).
export const BPF_REG_A = 0;
export const BPF_REG_X = 7;
export const BPF_REG_TMP = 2;
export const BPF_REG_D = 8;
export const BPF_REG_H = 9;
export const BPF_REG_CTX = 6;
export const BPF_REG_FP = 10;
const ARG1 = 1, ARG2 = 2, ARG3 = 3, ARG4 = 4;
const S16_MIN = -0x8000, S16_MAX = 0x7fff;

export interface ConvertedProgram {
  readonly insns: Insn[];
  /** Bytes of stack the scratch words use (prog->aux->stack_depth). */
  readonly stackDepth: number;
  /** Whether packet loads were seen (the prologue caches skb->data and headlen). */
  readonly seenLdAbs: boolean;
}

const raw = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({ code, dst, src, off, imm: imm | 0 });
const mov64Reg = (dst: number, src: number) => raw(BPF_ALU64 | BPF_MOV | BPF_X, dst, src);
const mov32Reg = (dst: number, src: number) => raw(BPF_ALU | BPF_MOV | BPF_X, dst, src);
const mov32Imm = (dst: number, imm: number) => raw(BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, imm);
const mov64Imm = (dst: number, imm: number) => raw(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
const alu32Reg = (op: number, dst: number, src: number) => raw(BPF_ALU | op | BPF_X, dst, src);
const alu32Imm = (op: number, dst: number, imm: number) => raw(BPF_ALU | op | BPF_K, dst, 0, 0, imm);
const alu64Imm = (op: number, dst: number, imm: number) => raw(BPF_ALU64 | op | BPF_K, dst, 0, 0, imm);
const ldxMem = (size: number, dst: number, src: number, off: number) => raw(BPF_LDX | BPF_MEM | size, dst, src, off);
const stxMem = (size: number, dst: number, src: number, off: number) => raw(BPF_STX | BPF_MEM | size, dst, src, off);
const jmpImm = (op: number, dst: number, imm: number, off: number) => raw(BPF_JMP | op | BPF_K, dst, 0, off, imm);
const jmpA = (off: number) => raw(BPF_JMP | BPF_JA, 0, 0, off);
const endianBe = (dst: number, bits: number) => raw(BPF_ALU | BPF_END | BPF_TO_BE, dst, 0, 0, bits);
const call = (id: number) => raw(BPF_JMP | BPF_CALL, 0, 0, 0, id);
const exit = () => raw(BPF_JMP | BPF_EXIT);

/** convert_bpf_extensions(): the ancillary load as skb field loads or a call; null when k is not ancillary. */
function convertExtension(k: number): Insn[] | null {
  const anc = ancillaryOf(k);
  if (anc < 0) return null;
  const A = BPF_REG_A, CTX = BPF_REG_CTX, TMP = BPF_REG_TMP;
  switch (anc) {
    case SKF_AD_PROTOCOL: return [ldxMem(BPF_H, A, CTX, CBPF_SKB.protocol), endianBe(A, 16)];
    case SKF_AD_PKTTYPE: return [ldxMem(BPF_B, A, CTX, CBPF_SKB.pktType), alu32Imm(BPF_AND, A, 7)];
    case SKF_AD_IFINDEX:
    case SKF_AD_HATYPE:
      return [
        ldxMem(BPF_DW, TMP, CTX, CBPF_SKB.dev),
        jmpImm(BPF_JNE, TMP, 0, 1),
        exit(),
        anc === SKF_AD_IFINDEX ? ldxMem(BPF_W, A, TMP, CBPF_NETDEV.ifindex) : ldxMem(BPF_H, A, TMP, CBPF_NETDEV.type),
      ];
    case SKF_AD_MARK: return [ldxMem(BPF_W, A, CTX, CBPF_SKB.mark)];
    case SKF_AD_RXHASH: return [ldxMem(BPF_W, A, CTX, CBPF_SKB.hash)];
    case SKF_AD_QUEUE: return [ldxMem(BPF_H, A, CTX, CBPF_SKB.queueMapping)];
    case SKF_AD_VLAN_TAG: return [ldxMem(BPF_H, A, CTX, CBPF_SKB.vlanTci)];
    case SKF_AD_VLAN_TAG_PRESENT:
      return [ldxMem(BPF_W, A, CTX, CBPF_SKB.vlanAll), jmpImm(BPF_JEQ, A, 0, 1), alu32Imm(BPF_MOV, A, 1)];
    case SKF_AD_VLAN_TPID: return [ldxMem(BPF_H, A, CTX, CBPF_SKB.vlanProto), endianBe(A, 16)];
    case SKF_AD_PAY_OFFSET:
    case SKF_AD_NLATTR:
    case SKF_AD_NLATTR_NEST:
    case SKF_AD_CPU:
    case SKF_AD_RANDOM: {
      const fn = anc === SKF_AD_PAY_OFFSET ? CBPF_CALL.bpf_skb_get_pay_offset
        : anc === SKF_AD_NLATTR ? CBPF_CALL.bpf_skb_get_nlattr
        : anc === SKF_AD_NLATTR_NEST ? CBPF_CALL.bpf_skb_get_nlattr_nest
        : anc === SKF_AD_CPU ? CBPF_CALL.bpf_get_raw_cpu_id : CBPF_CALL.bpf_user_rnd_u32;
      return [mov64Reg(ARG1, CTX), mov64Reg(ARG2, A), mov64Reg(ARG3, BPF_REG_X), call(fn)];
    }
    case SKF_AD_ALU_XOR_X: return [alu32Reg(BPF_XOR, A, BPF_REG_X)];
  }
  return null;
}

/** convert_bpf_ld_abs(): a packet load of `size` at k (BPF_ABS) or X + k (BPF_IND). */
function convertLdAbs(code: number, k: number): Insn[] {
  const size = code & 0x18;
  const bytes = size === BPF_W ? 4 : size === BPF_H ? 2 : 1;
  const endian = size !== BPF_B;
  const indirect = (code & 0xe0) === BPF_IND;
  const offset = k | 0;
  const out: Insn[] = [];
  // x86-64 has efficient unaligned access: the inline fast path is used for every non-negative absolute offset.
  if (!indirect && offset >= 0) {
    const ldxOffOk = offset <= S16_MAX;
    out.push(mov64Reg(BPF_REG_TMP, BPF_REG_H));
    if (offset) out.push(alu64Imm(BPF_SUB, BPF_REG_TMP, offset));
    out.push(jmpImm(BPF_JSLT, BPF_REG_TMP, bytes, 2 + (endian ? 1 : 0) + (ldxOffOk ? 0 : 2)));
    if (ldxOffOk) {
      out.push(ldxMem(size, BPF_REG_A, BPF_REG_D, offset));
    } else {
      out.push(mov64Reg(BPF_REG_TMP, BPF_REG_D), alu64Imm(BPF_ADD, BPF_REG_TMP, offset),
        ldxMem(size, BPF_REG_A, BPF_REG_TMP, 0));
    }
    if (endian) out.push(endianBe(BPF_REG_A, bytes * 8));
    out.push(jmpA(8));
  }
  out.push(mov64Reg(ARG1, BPF_REG_CTX), mov64Reg(ARG2, BPF_REG_D), mov64Reg(ARG3, BPF_REG_H));
  if (!indirect) {
    out.push(mov64Imm(ARG4, offset));
  } else {
    out.push(mov64Reg(ARG4, BPF_REG_X));
    if (offset) out.push(alu64Imm(BPF_ADD, ARG4, offset));
  }
  out.push(call(bytes === 1 ? CBPF_CALL.bpf_skb_load_helper_8
    : bytes === 2 ? CBPF_CALL.bpf_skb_load_helper_16 : CBPF_CALL.bpf_skb_load_helper_32));
  out.push(jmpImm(BPF_JSGE, BPF_REG_A, 0, 2), alu32Reg(BPF_XOR, BPF_REG_A, BPF_REG_A), exit());
  return out;
}

interface PendingJump { readonly index: number; readonly target: number }

/** One classic instruction's expansion; jumps carry their classic target, resolved once addresses are known. */
function expand(fp: CbpfInsn, i: number, seccomp: boolean): { insns: Insn[]; jumps: PendingJump[]; ldAbs: boolean } {
  const { code } = fp;
  const k = fp.k >>> 0;
  const A = BPF_REG_A, X = BPF_REG_X;
  const cls = code & 0x07;
  if (cls === BPF_ALU) {
    const pre: Insn[] = [];
    if (code === (BPF_ALU | BPF_DIV | BPF_X) || code === (BPF_ALU | BPF_MOD | BPF_X)) {
      // Division by X == 0 returns 0 (the classic behaviour) instead of the eBPF result.
      pre.push(mov32Reg(X, X), jmpImm(BPF_JNE, X, 0, 2), alu32Reg(BPF_XOR, A, A), exit());
    }
    return { insns: [...pre, raw(code, A, X, 0, k)], jumps: [], ldAbs: false };
  }
  if (cls === BPF_LD && ((code & 0xe0) === BPF_ABS || (code & 0xe0) === BPF_IND)) {
    if ((code & 0xe0) === BPF_ABS) {
      const ext = convertExtension(k);
      if (ext) return { insns: ext, jumps: [], ldAbs: false };
    }
    return { insns: convertLdAbs(code, k), jumps: [], ldAbs: true };
  }
  if (isConditionalJump(code) || code === (BPF_JMP | BPF_JA)) return expandJump(fp, i);
  switch (code) {
    case BPF_LDX | BPF_MSH | BPF_B:
      return {
        insns: [
          mov64Reg(X, A), ...convertLdAbs(BPF_LD | BPF_ABS | BPF_B, k),
          alu32Imm(BPF_AND, A, 0xf), alu32Imm(BPF_LSH, A, 2),
          mov64Reg(BPF_REG_TMP, X), mov64Reg(X, A), mov64Reg(A, BPF_REG_TMP),
        ],
        jumps: [], ldAbs: true,
      };
    case BPF_RET | BPF_K: return { insns: [mov32Imm(0, k), exit()], jumps: [], ldAbs: false };
    case BPF_RET | BPF_A: return { insns: [exit()], jumps: [], ldAbs: false };
    case BPF_ST:
    case BPF_STX:
      return { insns: [stxMem(BPF_W, BPF_REG_FP, code === BPF_ST ? A : X, -(k * 4 + 4))], jumps: [], ldAbs: false };
    case BPF_LD | BPF_MEM:
    case BPF_LDX | BPF_MEM:
      return { insns: [ldxMem(BPF_W, cls === BPF_LD ? A : X, BPF_REG_FP, -(k * 4 + 4))], jumps: [], ldAbs: false };
    case BPF_LD | BPF_IMM:
    case BPF_LDX | BPF_IMM:
      return { insns: [mov32Imm(cls === BPF_LD ? A : X, k)], jumps: [], ldAbs: false };
    case BPF_MISC | BPF_TAX: return { insns: [mov64Reg(X, A)], jumps: [], ldAbs: false };
    case BPF_MISC | BPF_TXA: return { insns: [mov64Reg(A, X)], jumps: [], ldAbs: false };
    case BPF_LD | BPF_W | BPF_LEN:
    case BPF_LDX | BPF_W | BPF_LEN:
      return { insns: [ldxMem(BPF_W, cls === BPF_LD ? A : X, BPF_REG_CTX, CBPF_SKB.len)], jumps: [], ldAbs: false };
    case BPF_LDX | BPF_ABS | BPF_W:
      if (seccomp) return { insns: [ldxMem(BPF_W, A, BPF_REG_CTX, k)], jumps: [], ldAbs: false };
  }
  throw new BpfError("EINVAL", `classic instruction ${i}: opcode 0x${code.toString(16)} cannot be converted to eBPF`,
    { pc: i });
}

function expandJump(fp: CbpfInsn, i: number): { insns: Insn[]; jumps: PendingJump[]; ldAbs: boolean } {
  const { code, jt, jf } = fp;
  const k = fp.k >>> 0;
  if (code === (BPF_JMP | BPF_JA)) {
    return { insns: [raw(code)], jumps: [{ index: 0, target: i + k + 1 }], ldAbs: false };
  }
  const insns: Insn[] = [];
  let src: number;
  let regSrc: number;
  let imm = 0;
  if ((code & BPF_X) === BPF_K && (k | 0) < 0) {
    // eBPF immediates are sign-extended: the kernel zero-extends k through the temporary register.
    insns.push(mov32Imm(BPF_REG_TMP, k));
    src = BPF_X;
    regSrc = BPF_REG_TMP;
  } else {
    src = code & BPF_X;
    regSrc = src === BPF_X ? BPF_REG_X : 0;
    imm = k;
  }
  const op = code & 0xf0;
  if (jf === 0) {
    insns.push(raw(BPF_JMP | op | src, BPF_REG_A, regSrc, 0, imm));
    return { insns, jumps: [{ index: insns.length - 1, target: i + jt + 1 }], ldAbs: false };
  }
  if (jt === 0 && (op === BPF_JEQ || op === BPF_JGT || op === BPF_JGE)) {
    const inverse = op === BPF_JEQ ? BPF_JNE : op === BPF_JGT ? BPF_JLE : BPF_JLT;
    insns.push(raw(BPF_JMP | inverse | src, BPF_REG_A, regSrc, 0, imm));
    return { insns, jumps: [{ index: insns.length - 1, target: i + jf + 1 }], ldAbs: false };
  }
  insns.push(raw(BPF_JMP | op | src, BPF_REG_A, regSrc, 0, imm), raw(BPF_JMP | BPF_JA));
  return {
    insns,
    jumps: [{ index: insns.length - 2, target: i + jt + 1 }, { index: insns.length - 1, target: i + jf + 1 }],
    ldAbs: false,
  };
}

/**
 * bpf_convert_filter(): converts a checked classic program (run checkCbpfStructure first) to eBPF instructions.
 * Throws EINVAL when a converted jump does not fit the 16-bit offset, as the kernel does.
 */
export function convertCbpf(prog: readonly CbpfInsn[], options: { seccomp?: boolean } = {}): ConvertedProgram {
  const seccomp = options.seccomp ?? false;
  const parts = prog.map((fp, i) => expand(fp, i, seccomp));
  const seenLdAbs = parts.some((p) => p.ldAbs);
  const prologue: Insn[] = [
    alu32Reg(BPF_XOR, BPF_REG_A, BPF_REG_A),
    alu32Reg(BPF_XOR, BPF_REG_X, BPF_REG_X),
    mov64Reg(BPF_REG_CTX, ARG1),
  ];
  if (seenLdAbs) {
    prologue.push(
      ldxMem(BPF_DW, BPF_REG_D, BPF_REG_CTX, CBPF_SKB.data),
      ldxMem(BPF_W, BPF_REG_H, BPF_REG_CTX, CBPF_SKB.len),
      ldxMem(BPF_W, BPF_REG_TMP, BPF_REG_CTX, CBPF_SKB.dataLen),
      alu32Reg(BPF_SUB, BPF_REG_H, BPF_REG_TMP),
    );
  }
  const addrs: number[] = [];
  let at = prologue.length;
  for (const p of parts) { addrs.push(at); at += p.insns.length; }

  const out: Insn[] = [...prologue];
  let stackDepth = 0;
  parts.forEach((p, i) => {
    const insns = p.insns.slice();
    for (const j of p.jumps) {
      if (j.target >= prog.length || j.target < 0) {
        throw new BpfError("EINVAL", `classic instruction ${i}: jump target ${j.target} is outside the program`, { pc: i });
      }
      const off = addrs[j.target]! - addrs[i]! - 1 - j.index;
      if (off < S16_MIN || off > S16_MAX) {
        throw new BpfError("EINVAL",
          `classic instruction ${i}: converted to eBPF, the jump to instruction ${j.target} spans ${off} instructions, `
          + `more than a 16-bit offset holds (kernel bpf_convert_filter)`, { pc: i });
      }
      insns[j.index] = { ...insns[j.index]!, off };
    }
    const code = prog[i]!.code;
    if (code === BPF_ST || code === BPF_STX) stackDepth = Math.max(stackDepth, (prog[i]!.k >>> 0) * 4 + 4);
    out.push(...insns);
  });
  return { insns: out, stackDepth, seenLdAbs };
}

