// The classic BPF instruction, `struct sock_filter` (uapi/linux/filter.h): u16 code, u8 jt, u8 jf, u32 k.
// Classic shares the class/size/mode/op/src bit values with eBPF (one table: ../ebpf/opcodes.ts); only the
// classic-specific names (RET, MISC, TAX/TXA, the RET value source A) and the ancillary offsets are defined here.

import { BpfError } from "../../errors.ts";

export {
  BPF_LD, BPF_LDX, BPF_ST, BPF_STX, BPF_ALU, BPF_JMP,
  BPF_W, BPF_H, BPF_B, BPF_IMM, BPF_ABS, BPF_IND, BPF_MEM, BPF_LEN, BPF_MSH,
  BPF_K, BPF_X,
  BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH, BPF_RSH, BPF_NEG, BPF_MOD, BPF_XOR,
  BPF_JA, BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET,
  BPF_MAXINSNS,
  bpfClass, bpfSize, bpfMode, bpfOp, bpfSrc,
} from "../ebpf/opcodes.ts";

/** One `struct sock_filter`. `k` is an unsigned 32-bit number (0..2^32-1); jt/jf are 0..255. */
export interface CbpfInsn {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  readonly k: number;
}

export const cbpfInsn = (code: number, jt = 0, jf = 0, k = 0): CbpfInsn => ({ code, jt, jf, k: k >>> 0 });
/** BPF_STMT(code, k) from linux/filter.h. */
export const bpfStmt = (code: number, k: number): CbpfInsn => cbpfInsn(code, 0, 0, k);
/** BPF_JUMP(code, k, jt, jf) from linux/filter.h. */
export const bpfJump = (code: number, k: number, jt: number, jf: number): CbpfInsn => cbpfInsn(code, jt, jf, k);

// Classes that exist only in classic BPF (eBPF reuses these values for JMP32/ALU64).
export const BPF_RET = 0x06;
export const BPF_MISC = 0x07;
// BPF_RET value source: BPF_K (0x00), BPF_X (0x08) or the accumulator.
export const BPF_A = 0x10;
// BPF_MISC operations.
export const BPF_TAX = 0x00;
export const BPF_TXA = 0x80;
export const bpfRval = (code: number): number => code & 0x18;
export const bpfMiscOp = (code: number): number => code & 0xf8;

/** Scratch memory words M[0..15]. */
export const BPF_MEMWORDS = 16;

// Ancillary data offsets (uapi/linux/filter.h): a load from SKF_AD_OFF + n reads skb metadata, not packet bytes.
export const SKF_AD_OFF = -0x1000;
export const SKF_AD_PROTOCOL = 0;
export const SKF_AD_PKTTYPE = 4;
export const SKF_AD_IFINDEX = 8;
export const SKF_AD_NLATTR = 12;
export const SKF_AD_NLATTR_NEST = 16;
export const SKF_AD_MARK = 20;
export const SKF_AD_QUEUE = 24;
export const SKF_AD_HATYPE = 28;
export const SKF_AD_RXHASH = 32;
export const SKF_AD_CPU = 36;
export const SKF_AD_ALU_XOR_X = 40;
export const SKF_AD_VLAN_TAG = 44;
export const SKF_AD_VLAN_TAG_PRESENT = 48;
export const SKF_AD_PAY_OFFSET = 52;
export const SKF_AD_RANDOM = 56;
export const SKF_AD_VLAN_TPID = 60;
export const SKF_AD_MAX = 64;
/** Loads at SKF_NET_OFF + n read from the network header, SKF_LL_OFF + n from the link-layer (mac) header. */
export const SKF_NET_OFF = -0x100000;
export const SKF_LL_OFF = -0x200000;
export const BPF_NET_OFF = SKF_NET_OFF;

/**
 * The SKF_AD_* number an absolute load at k reads (bpf_anc_helper's list: SKF_AD_PROTOCOL .. SKF_AD_VLAN_TPID,
 * every 4 bytes), or -1 when k is not a known ancillary offset.
 */
export function ancillaryOf(k: number): number {
  const off = (k | 0) - SKF_AD_OFF;
  return off >= 0 && off < SKF_AD_MAX && (off & 3) === 0 ? off : -1;
}
export const BPF_LL_OFF = SKF_LL_OFF;

/** Size of one encoded `struct sock_filter`. */
export const CBPF_INSN_SIZE = 8;

/** Decodes an array of 8-byte `struct sock_filter` records (little-endian unless told otherwise). */
export function decodeCbpf(bytes: Uint8Array, littleEndian = true): CbpfInsn[] {
  if (bytes.length % CBPF_INSN_SIZE !== 0) {
    throw new BpfError("DECODE",
      `classic BPF program length ${bytes.length} is not a multiple of ${CBPF_INSN_SIZE} bytes (struct sock_filter)`,
      { offset: bytes.length - (bytes.length % CBPF_INSN_SIZE) });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: CbpfInsn[] = [];
  for (let off = 0; off < bytes.length; off += CBPF_INSN_SIZE) {
    out.push({
      code: view.getUint16(off, littleEndian),
      jt: view.getUint8(off + 2),
      jf: view.getUint8(off + 3),
      k: view.getUint32(off + 4, littleEndian),
    });
  }
  return out;
}

/** Encodes instructions as 8-byte `struct sock_filter` records; rejects fields out of their C ranges. */
export function encodeCbpf(insns: readonly CbpfInsn[], littleEndian = true): Uint8Array {
  const bytes = new Uint8Array(insns.length * CBPF_INSN_SIZE);
  const view = new DataView(bytes.buffer);
  insns.forEach((insn, pc) => {
    const { code, jt, jf } = insn;
    if (!isUint(code, 0xffff) || !isUint(jt, 0xff) || !isUint(jf, 0xff) || !Number.isInteger(insn.k)
      || insn.k < -0x80000000 || insn.k > 0xffffffff) {
      throw new BpfError("EINVAL", `classic instruction ${pc} has a field out of range: ${JSON.stringify(insn)}`, { pc });
    }
    const off = pc * CBPF_INSN_SIZE;
    view.setUint16(off, code, littleEndian);
    view.setUint8(off + 2, jt);
    view.setUint8(off + 3, jf);
    view.setUint32(off + 4, insn.k >>> 0, littleEndian);
  });
  return bytes;
}

const isUint = (v: number, max: number): boolean => Number.isInteger(v) && v >= 0 && v <= max;
