// The classic BPF interpreter with the kernel's observable semantics (the kernel runs classic filters after
// bpf_convert_filter(), so those are the semantics mirrored): A and X start at 0, 32-bit unsigned arithmetic,
// a failed packet load or division/modulo by X == 0 ends the program returning 0, ancillary loads read SkbMeta.
// Programs are pre-decoded once into a flat Int32Array (op, true target, false target, k); running allocates nothing.

import { BpfError } from "../errors.ts";
import {
  BPF_ABS, BPF_B, BPF_H, BPF_JA, BPF_JMP, BPF_LD, BPF_LDX, BPF_MEMWORDS, BPF_MSH, BPF_W, ancillaryOf,
} from "../isa/cbpf/insn.ts";
import type { CbpfInsn } from "../isa/cbpf/insn.ts";
import { CBPF_ALLOWED_CODES, checkCbpfStructure } from "./check.ts";
import { skbPayloadOffset } from "./payoffset.ts";
import type { SkbMeta } from "./skb.ts";
import {
  skbLoad, skbNlattr, skbNlattrNest,
} from "./skb.ts";

export type { SkbMeta } from "./skb.ts";

/** A compiled classic filter: returns the filter's u32 result (0 = drop, else bytes to keep / seccomp action). */
export type CbpfFilter = (packet: Uint8Array, wireLen: number, meta?: SkbMeta) => number;

export interface CompileOptions {
  /** Seccomp mode: loads read u32 words of struct seccomp_data (see ./seccomp.ts); SKF_AD loads are not special. */
  readonly seccomp?: boolean;
  /**
   * "kernel" (default): Linux socket-filter semantics and bpf_check_classic().
   * "libpcap": pcap_filter() and pcap_validate_filter() of libpcap 1.10, what `tcpdump -r` applies: no ancillary
   * loads but VLAN tag/present (read from meta, 0 without meta), no negative offsets, X + k never wraps,
   * shifts by X >= 32 give 0, `ja` may jump backwards (ip6 protochain), no length or scratch-order checks.
   */
  readonly semantics?: "kernel" | "libpcap";
  /** Instruction budget per run in libpcap mode (backward jumps could loop); default 1e6. */
  readonly budget?: number;
}

// Internal ops beyond the classic codes: ancillary loads get their own op (0x100 + SKF_AD_x / 4) so the loop never
// inspects k and the op numbers stay dense.
const OP_ANC = 0x100;
// libpcap-mode variants (0x140 + classic code for indirect loads and register shifts, then specials).
const OP_PCAP = 0x140;
const OP_RET0 = 0x1f0; // a load libpcap knows is out of bounds for any packet (k >= 2^31)
const OP_JA_BACK = 0x1f1; // a backward ja (ip6 protochain), charged to the budget
const SKF_AD_VLAN_TAG_ = 44, SKF_AD_VLAN_TAG_PRESENT_ = 48;
/** Marker the seccomp checker rewrites `ld [k]` into (kernel: BPF_LDX | BPF_W | BPF_ABS), a u32 ctx load. */
export const OP_SECCOMP_LD = BPF_LDX | BPF_W | BPF_ABS;

/** Pre-decodes a program: 4 int32 per instruction (op, absolute true target, absolute false target, k). */
export function predecodeCbpf(insns: readonly CbpfInsn[], options: CompileOptions = {}): Int32Array {
  const out = new Int32Array(insns.length * 4);
  const libpcap = options.semantics === "libpcap";
  insns.forEach((insn, pc) => {
    let op = insn.code;
    const absLoad = op === (BPF_LD | BPF_W | BPF_ABS) || op === (BPF_LD | BPF_H | BPF_ABS)
      || op === (BPF_LD | BPF_B | BPF_ABS);
    if (libpcap) {
      const k = insn.k >>> 0;
      const anc = absLoad ? ancillaryOf(k) : -1;
      if (anc === SKF_AD_VLAN_TAG_ || anc === SKF_AD_VLAN_TAG_PRESENT_) op = OP_PCAP + anc;
      else if ((absLoad || op === (BPF_LDX | BPF_B | BPF_MSH)) && k >= 0x80000000) op = OP_RET0;
      else if (op === 0x40 || op === 0x48 || op === 0x50 || op === 0x6c || op === 0x7c) op = OP_PCAP + op;
      else if (op === (BPF_JMP | BPF_JA) && (insn.k | 0) < 0) op = OP_JA_BACK;
    } else if (!options.seccomp && absLoad) {
      const anc = ancillaryOf(insn.k);
      if (anc >= 0) op = OP_ANC + (anc >> 2);
    }
    out[pc * 4] = op;
    if (insn.code === (BPF_JMP | BPF_JA)) {
      // libpcap sign-extends k (backward jumps); the kernel's checker keeps k below the program length.
      out[pc * 4 + 1] = out[pc * 4 + 2] = libpcap ? (pc + 1 + (insn.k | 0)) >>> 0 : pc + 1 + insn.k;
    } else {
      out[pc * 4 + 1] = pc + 1 + insn.jt;
      out[pc * 4 + 2] = pc + 1 + insn.jf;
    }
    out[pc * 4 + 3] = insn.k | 0;
  });
  return out;
}

/**
 * Compiles a classic program into a filter function. The program is first checked like the kernel's
 * bpf_check_classic() (a BpfError otherwise), which also guarantees every scratch word is written before read.
 */
export function compileCbpf(insns: readonly CbpfInsn[], options: CompileOptions = {}): CbpfFilter {
  if (options.semantics === "libpcap") validateLibpcap(insns);
  else checkCbpfStructure(insns, options);
  const budget = options.budget ?? 1_000_000;
  const code = predecodeCbpf(insns, options);
  const mem = new Uint32Array(BPF_MEMWORDS);
  // The loop's case labels are numeric literals: under the TypeScript loader imported bindings are getter calls,
  // and a switch over them compares case by case (tens of microseconds per packet). The tests pin every literal.
  let rnd = 0x2545f491; // xorshift32 state for SKF_AD_RANDOM when the caller gives no source

  return (pkt: Uint8Array, wireLen: number, meta?: SkbMeta): number => {
    let A = 0;
    let X = 0;
    let pc = 0;
    let v = 0;
    let left = budget;
    for (;;) {
      const i = pc << 2;
      const k = code[i + 3]!;
      switch (code[i]!) {
        case 0x06: /* BPF_RET | BPF_K */ return k >>> 0;
        case 0x16: /* BPF_RET | BPF_A */ return A;
        case 0x20: /* BPF_LD | BPF_W | BPF_ABS */
          if (k >= 0 && k + 4 <= pkt.length) {
            A = ((pkt[k]! << 24) | (pkt[k + 1]! << 16) | (pkt[k + 2]! << 8) | pkt[k + 3]!) >>> 0;
          } else {
            if ((v = skbLoad(pkt, meta, k, 4)) === -1 /* LOAD_FAULT */) return 0;
            A = v;
          }
          break;
        case 0x28: /* BPF_LD | BPF_H | BPF_ABS */
          if (k >= 0 && k + 2 <= pkt.length) A = (pkt[k]! << 8) | pkt[k + 1]!;
          else {
            if ((v = skbLoad(pkt, meta, k, 2)) === -1 /* LOAD_FAULT */) return 0;
            A = v;
          }
          break;
        case 0x30: /* BPF_LD | BPF_B | BPF_ABS */
          if (k >= 0 && k < pkt.length) A = pkt[k]!;
          else {
            if ((v = skbLoad(pkt, meta, k, 1)) === -1 /* LOAD_FAULT */) return 0;
            A = v;
          }
          break;
        case 0x40: /* BPF_LD | BPF_W | BPF_IND */
          if ((v = skbLoad(pkt, meta, (X + k) | 0, 4)) === -1 /* LOAD_FAULT */) return 0;
          A = v;
          break;
        case 0x48: /* BPF_LD | BPF_H | BPF_IND */
          if ((v = skbLoad(pkt, meta, (X + k) | 0, 2)) === -1 /* LOAD_FAULT */) return 0;
          A = v;
          break;
        case 0x50: /* BPF_LD | BPF_B | BPF_IND */
          if ((v = skbLoad(pkt, meta, (X + k) | 0, 1)) === -1 /* LOAD_FAULT */) return 0;
          A = v;
          break;
        case 0xb1: /* BPF_LDX | BPF_B | BPF_MSH */
          if (k >= 0 && k < pkt.length) v = pkt[k]!;
          else if ((v = skbLoad(pkt, meta, k, 1)) === -1 /* LOAD_FAULT */) return 0;
          X = (v & 0xf) << 2;
          break;
        case 0x80: /* BPF_LD | BPF_W | BPF_LEN */ A = wireLen >>> 0; break;
        case 0x81: /* BPF_LDX | BPF_W | BPF_LEN */ X = wireLen >>> 0; break;
        case 0x00: /* BPF_LD | BPF_IMM */ A = k >>> 0; break;
        case 0x01: /* BPF_LDX | BPF_IMM */ X = k >>> 0; break;
        case 0x60: /* BPF_LD | BPF_MEM */ A = mem[k]!; break;
        case 0x61: /* BPF_LDX | BPF_MEM */ X = mem[k]!; break;
        case 0x02: /* BPF_ST */ mem[k] = A; break;
        case 0x03: /* BPF_STX */ mem[k] = X; break;
        case 0x07: /* BPF_MISC | BPF_TAX */ X = A; break;
        case 0x87: /* BPF_MISC | BPF_TXA */ A = X; break;
        case 0x21: /* OP_SECCOMP_LD */ // struct seccomp_data words are host (little-endian) order
          A = (pkt[k]! | (pkt[k + 1]! << 8) | (pkt[k + 2]! << 16) | (pkt[k + 3]! << 24)) >>> 0;
          break;

        case 0x4: /* BPF_ALU | BPF_ADD | BPF_K */ A = (A + k) >>> 0; break;
        case 0xc: /* BPF_ALU | BPF_ADD | BPF_X */ A = (A + X) >>> 0; break;
        case 0x14: /* BPF_ALU | BPF_SUB | BPF_K */ A = (A - k) >>> 0; break;
        case 0x1c: /* BPF_ALU | BPF_SUB | BPF_X */ A = (A - X) >>> 0; break;
        case 0x24: /* BPF_ALU | BPF_MUL | BPF_K */ A = Math.imul(A, k) >>> 0; break;
        case 0x2c: /* BPF_ALU | BPF_MUL | BPF_X */ A = Math.imul(A, X) >>> 0; break;
        case 0x34: /* BPF_ALU | BPF_DIV | BPF_K */ A = Math.floor(A / (k >>> 0)); break;
        case 0x3c: /* BPF_ALU | BPF_DIV | BPF_X */ if (X === 0) return 0; A = Math.floor(A / X); break;
        case 0x94: /* BPF_ALU | BPF_MOD | BPF_K */ A = A % (k >>> 0); break;
        case 0x9c: /* BPF_ALU | BPF_MOD | BPF_X */ if (X === 0) return 0; A = A % X; break;
        case 0x54: /* BPF_ALU | BPF_AND | BPF_K */ A = (A & k) >>> 0; break;
        case 0x5c: /* BPF_ALU | BPF_AND | BPF_X */ A = (A & X) >>> 0; break;
        case 0x44: /* BPF_ALU | BPF_OR | BPF_K */ A = (A | k) >>> 0; break;
        case 0x4c: /* BPF_ALU | BPF_OR | BPF_X */ A = (A | X) >>> 0; break;
        case 0xa4: /* BPF_ALU | BPF_XOR | BPF_K */ A = (A ^ k) >>> 0; break;
        case 0xac: /* BPF_ALU | BPF_XOR | BPF_X */ A = (A ^ X) >>> 0; break;
        // kernel: 32-bit shifts by a register use the count modulo 32 (as JavaScript does).
        case 0x64: /* BPF_ALU | BPF_LSH | BPF_K */ A = (A << k) >>> 0; break;
        case 0x6c: /* BPF_ALU | BPF_LSH | BPF_X */ A = (A << X) >>> 0; break;
        case 0x74: /* BPF_ALU | BPF_RSH | BPF_K */ A = A >>> k; break;
        case 0x7c: /* BPF_ALU | BPF_RSH | BPF_X */ A = A >>> X; break;
        case 0x84: /* BPF_ALU | BPF_NEG */ A = (-A) >>> 0; break;

        case 0x05: /* BPF_JMP | BPF_JA */ pc = code[i + 1]!; continue;
        case 0x15: /* BPF_JMP | BPF_JEQ | BPF_K */ pc = code[i + (A === k >>> 0 ? 1 : 2)]!; continue;
        case 0x1d: /* BPF_JMP | BPF_JEQ | BPF_X */ pc = code[i + (A === X ? 1 : 2)]!; continue;
        case 0x25: /* BPF_JMP | BPF_JGT | BPF_K */ pc = code[i + (A > k >>> 0 ? 1 : 2)]!; continue;
        case 0x2d: /* BPF_JMP | BPF_JGT | BPF_X */ pc = code[i + (A > X ? 1 : 2)]!; continue;
        case 0x35: /* BPF_JMP | BPF_JGE | BPF_K */ pc = code[i + (A >= k >>> 0 ? 1 : 2)]!; continue;
        case 0x3d: /* BPF_JMP | BPF_JGE | BPF_X */ pc = code[i + (A >= X ? 1 : 2)]!; continue;
        case 0x45: /* BPF_JMP | BPF_JSET | BPF_K */ pc = code[i + ((A & k) !== 0 ? 1 : 2)]!; continue;
        case 0x4d: /* BPF_JMP | BPF_JSET | BPF_X */ pc = code[i + ((A & X) !== 0 ? 1 : 2)]!; continue;

        case 0x100: /* OP_ANC | SKF_AD_PROTOCOL */ A = (meta?.protocol ?? 0) & 0xffff; break;
        case 0x101: /* OP_ANC | SKF_AD_PKTTYPE */ A = (meta?.pktType ?? 0) & 7; break;
        case 0x102: /* OP_ANC | SKF_AD_IFINDEX */
          // kernel: with skb->dev NULL the converted program exits returning A as it stands.
          if (meta?.ifindex === undefined && meta?.hatype === undefined) return A;
          A = (meta!.ifindex ?? 0) >>> 0;
          break;
        case 0x107: /* OP_ANC | SKF_AD_HATYPE */
          if (meta?.ifindex === undefined && meta?.hatype === undefined) return A;
          A = (meta!.hatype ?? 0) & 0xffff;
          break;
        case 0x105: /* OP_ANC | SKF_AD_MARK */ A = (meta?.mark ?? 0) >>> 0; break;
        case 0x106: /* OP_ANC | SKF_AD_QUEUE */ A = (meta?.queueMapping ?? 0) & 0xffff; break;
        case 0x108: /* OP_ANC | SKF_AD_RXHASH */ A = (meta?.hash ?? 0) >>> 0; break;
        case 0x109: /* OP_ANC | SKF_AD_CPU */ A = (meta?.cpu ?? 0) >>> 0; break;
        case 0x10b: /* OP_ANC | SKF_AD_VLAN_TAG */ A = (meta?.vlanTci ?? 0) & 0xffff; break;
        case 0x10c: /* OP_ANC | SKF_AD_VLAN_TAG_PRESENT */ A = ((meta?.vlanTci ?? 0) | (meta?.vlanProto ?? 0)) !== 0 ? 1 : 0; break;
        case 0x10f: /* OP_ANC | SKF_AD_VLAN_TPID */ A = (meta?.vlanProto ?? 0) & 0xffff; break;
        case 0x10a: /* OP_ANC | SKF_AD_ALU_XOR_X */ A = (A ^ X) >>> 0; break;
        case 0x103: /* OP_ANC | SKF_AD_NLATTR */ A = skbNlattr(pkt, meta, A, X); break;
        case 0x104: /* OP_ANC | SKF_AD_NLATTR_NEST */ A = skbNlattrNest(pkt, meta, A, X); break;
        case 0x10d: /* OP_ANC | SKF_AD_PAY_OFFSET */ A = skbPayloadOffset(pkt, meta); break;
        case 0x10e: /* OP_ANC | SKF_AD_RANDOM */
          if (meta?.random) A = meta.random() >>> 0;
          else {
            rnd ^= rnd << 13; rnd ^= rnd >>> 17; rnd ^= rnd << 5;
            A = rnd >>> 0;
          }
          break;

        // libpcap mode (pcap_filter): bounds without wrap-around, shifts by X >= 32 give 0, VLAN from meta.
        case 0x180: /* OP_PCAP + BPF_LD|BPF_W|BPF_IND */
          v = X + (k >>> 0);
          if (v + 4 > pkt.length) return 0;
          A = ((pkt[v]! << 24) | (pkt[v + 1]! << 16) | (pkt[v + 2]! << 8) | pkt[v + 3]!) >>> 0;
          break;
        case 0x188: /* OP_PCAP + BPF_LD|BPF_H|BPF_IND */
          v = X + (k >>> 0);
          if (v + 2 > pkt.length) return 0;
          A = (pkt[v]! << 8) | pkt[v + 1]!;
          break;
        case 0x190: /* OP_PCAP + BPF_LD|BPF_B|BPF_IND */
          v = X + (k >>> 0);
          if (v + 1 > pkt.length) return 0;
          A = pkt[v]!;
          break;
        case 0x1ac: /* OP_PCAP + BPF_ALU|BPF_LSH|BPF_X */ A = X < 32 ? (A << X) >>> 0 : 0; break;
        case 0x1bc: /* OP_PCAP + BPF_ALU|BPF_RSH|BPF_X */ A = X < 32 ? A >>> X : 0; break;
        case 0x16c: /* OP_PCAP + SKF_AD_VLAN_TAG */
          if (!meta) return 0;
          A = (meta.vlanTci ?? 0) & 0xffff;
          break;
        case 0x170: /* OP_PCAP + SKF_AD_VLAN_TAG_PRESENT */
          if (!meta) return 0;
          A = ((meta.vlanTci ?? 0) | (meta.vlanProto ?? 0)) !== 0 ? 1 : 0;
          break;
        case 0x1f0: /* OP_RET0 */ return 0;
        case 0x1f1: /* OP_JA_BACK */
          if (--left < 0) {
            throw new BpfError("BUDGET", `classic instruction ${pc}: more than ${budget} backward jumps in one run`, { pc });
          }
          pc = code[i + 1]!;
          continue;
        default:
          // Unreachable after checkCbpfStructure; kept so a corrupted table cannot loop.
          throw new BpfError("EINVAL", `classic instruction ${pc}: unknown opcode 0x${code[i]!.toString(16)}`, { pc });
      }
      pc++;
    }
  };
}

/** pcap_validate_filter() (libpcap 1.10), restricted to the instructions pcap_filter() executes. */
export function validateLibpcap(insns: readonly CbpfInsn[]): void {
  const len = insns.length;
  const bad = (pc: number, why: string): never => {
    throw new BpfError("EINVAL", `classic instruction ${pc}: ${why} (libpcap bpf_validate)`, { pc });
  };
  if (len < 1) throw new BpfError("EINVAL", "classic program: is empty (libpcap bpf_validate)");
  insns.forEach(({ code, jt, jf, k }, pc) => {
    if (!CBPF_ALLOWED_CODES.has(code)) bad(pc, `opcode 0x${code.toString(16).padStart(2, "0")} is not executed by pcap_filter`);
    const cls = code & 7;
    const from = pc + 1;
    if ((cls === 0 || cls === 1) && (code & 0xe0) === 0x60 && k >>> 0 >= BPF_MEMWORDS) bad(pc, `scratch slot M[${k >>> 0}] is out of range`);
    if ((cls === 2 || cls === 3) && k >>> 0 >= BPF_MEMWORDS) bad(pc, `scratch slot M[${k >>> 0}] is out of range`);
    if (cls === 4 && ((code & 0xf0) === 0x30 || (code & 0xf0) === 0x90) && (code & 8) === 0 && k >>> 0 === 0) {
      bad(pc, "division by the constant 0");
    }
    if (code === 0x05 && ((from + k) >>> 0) >= len) bad(pc, `ja lands outside the program`);
    if (cls === 5 && code !== 0x05 && (from + jt >= len || from + jf >= len)) bad(pc, "conditional jump lands past the end");
  });
  if ((insns[len - 1]!.code & 7) !== 6) bad(len - 1, "the last instruction must be a return");
}

const compiledByProgram = new WeakMap<readonly CbpfInsn[], CbpfFilter>();

/**
 * Runs a classic program (kernel semantics) on one packet. The compiled form is cached per instruction array, so
 * calling this per packet with the same array costs one lookup; compileCbpf gives the filter function directly.
 */
export function runCbpf(insns: readonly CbpfInsn[], packet: Uint8Array, wireLen: number = packet.length,
  meta?: SkbMeta): number {
  let f = compiledByProgram.get(insns);
  if (!f) { f = compileCbpf(insns); compiledByProgram.set(insns, f); }
  return f(packet, wireLen, meta);
}

