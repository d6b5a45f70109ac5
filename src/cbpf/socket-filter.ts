// A classic socket filter as an eBPF socket_filter program the verifier accepts (unlike the kernel's internal
// conversion in convert.ts, which uses registers and skb offsets only the kernel may): A in r0, X in r7, the skb in
// r6 for the legacy LD_ABS/LD_IND packet loads (which end the program returning 0 past the packet, as classic loads
// do), M[] on the stack, ancillary loads as __sk_buff fields. Division by a zero X returns 0 as classic does.
// Where it differs from convert.ts: packet loads stay LD_ABS/LD_IND (no skb->data/headlen fast path or internal
// helper calls), ancillary loads read uapi __sk_buff (not the internal sk_buff), jumps compare in JMP32 (no
// zero-extension through a temporary).

import type { Insn } from "../isa/ebpf/insn.ts";
import {
  BPF_ABS, BPF_ALU, BPF_ALU64, BPF_AND, BPF_B, BPF_END, BPF_EXIT, BPF_IMM, BPF_IND, BPF_JA, BPF_JEQ, BPF_JMP,
  BPF_JMP32, BPF_K, BPF_LD, BPF_LDX, BPF_LEN, BPF_LSH, BPF_MEM, BPF_MOV, BPF_MSH, BPF_NEG, BPF_DIV, BPF_MOD, BPF_ST,
  BPF_STX, BPF_TO_BE, BPF_W, BPF_X,
} from "../isa/ebpf/opcodes.ts";
import {
  type CbpfInsn, BPF_MEMWORDS, BPF_MISC, BPF_RET, BPF_TAX, SKF_AD_IFINDEX, SKF_AD_MARK, SKF_AD_OFF,
  SKF_AD_PKTTYPE, SKF_AD_PROTOCOL, SKF_AD_QUEUE, SKF_AD_RXHASH, SKF_AD_VLAN_TAG, SKF_AD_VLAN_TAG_PRESENT,
} from "../isa/cbpf/insn.ts";
import { BPF_REG_A as A, BPF_REG_CTX as CTX, BPF_REG_FP as FP, BPF_REG_X as X } from "./convert.ts";

const R0 = 0, R1 = 1, SAVE = 8;
const SKF_AD_BASE = SKF_AD_OFF >>> 0;

/**
 * SKF_AD_* → the uapi struct __sk_buff offset holding it (runtime/layouts.ts's SK_BUFF_FIELDS, which cbpf may not
 * import); protocol is in network order there.
 */
const ANCILLARY: ReadonlyMap<number, number> = new Map([
  [SKF_AD_PROTOCOL, 16], [SKF_AD_PKTTYPE, 4], [SKF_AD_IFINDEX, 40], [SKF_AD_MARK, 8], [SKF_AD_QUEUE, 12],
  [SKF_AD_RXHASH, 68], [SKF_AD_VLAN_TAG, 24], [SKF_AD_VLAN_TAG_PRESENT, 20],
]);
const SKB_PROTOCOL = 16;

const ins = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({ code, dst, src, off, imm: imm | 0 });
const slot = (k: number): number => -4 * BPF_MEMWORDS + 4 * k;
const ja = (): Insn => ins(BPF_JMP | BPF_JA);

/** The eBPF program, or null when the classic one uses an ancillary load __sk_buff does not offer. */
export function cbpfToSocketFilter(prog: readonly CbpfInsn[]): Insn[] | null {
  // each classic instruction's eBPF, with jumps to classic indices (or -1: the shared "return 0") fixed up after
  type Item = { insn: Insn; target?: number };
  const parts: Item[][] = [];
  for (let i = 0; i < prog.length; i++) {
    const { code, jt, jf, k } = prog[i]!;
    const out: Item[] = [];
    const e = (insn: Insn, target?: number): void => { out.push(target === undefined ? { insn } : { insn, target }); };
    const cls = code & 7;
    switch (cls) {
      case BPF_LD: case BPF_LDX: {
        const mode = code & 0xe0, size = code & 0x18, dst = cls === BPF_LD ? A : X;
        if (mode === BPF_IMM) e(ins(BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, k));
        else if (mode === BPF_MEM) e(ins(BPF_LDX | BPF_MEM | BPF_W, dst, FP, slot(k)));
        else if (mode === BPF_LEN) e(ins(BPF_LDX | BPF_MEM | BPF_W, dst, CTX, 0)); // __sk_buff.len
        else if (mode === BPF_MSH) {
          // LD_ABS clobbers r0 (A): X = 4 * (pkt[k] & 0xf) computed in r0 with A saved around it
          e(ins(BPF_ALU64 | BPF_MOV | BPF_X, SAVE, A));
          e(ins(BPF_LD | BPF_ABS | BPF_B, 0, 0, 0, k));
          e(ins(BPF_ALU | BPF_AND | BPF_K, A, 0, 0, 0xf));
          e(ins(BPF_ALU | BPF_LSH | BPF_K, A, 0, 0, 2));
          e(ins(BPF_ALU | BPF_MOV | BPF_X, X, A));
          e(ins(BPF_ALU64 | BPF_MOV | BPF_X, A, SAVE));
        } else if (mode === BPF_ABS && k >= SKF_AD_BASE) {
          const field = ANCILLARY.get(k - SKF_AD_BASE);
          if (field === undefined) return null;
          e(ins(BPF_LDX | BPF_MEM | BPF_W, A, CTX, field));
          if (field === SKB_PROTOCOL) e(ins(BPF_ALU | BPF_END | BPF_TO_BE, A, 0, 0, 16)); // be16 → host order
        } else if (mode === BPF_ABS) e(ins(BPF_LD | BPF_ABS | size, 0, 0, 0, k));
        else if (mode === BPF_IND) e(ins(BPF_LD | BPF_IND | size, 0, X, 0, k));
        else return null;
        break;
      }
      case BPF_ST: case BPF_STX:
        e(ins(BPF_STX | BPF_MEM | BPF_W, FP, cls === BPF_ST ? A : X, slot(k)));
        break;
      case BPF_ALU: {
        const op = code & 0xf0;
        if (op === BPF_NEG) { e(ins(BPF_ALU | BPF_NEG, A)); break; }
        if ((code & BPF_X) !== 0) {
          if (op === BPF_DIV || op === BPF_MOD) e(ins(BPF_JMP32 | BPF_JEQ | BPF_K, X, 0, 0, 0), -1);
          e(ins(BPF_ALU | op | BPF_X, A, X));
        } else e(ins(BPF_ALU | op | BPF_K, A, 0, 0, k));
        break;
      }
      case BPF_JMP: {
        const op = code & 0xf0;
        if (op === BPF_JA) { if (k !== 0) e(ja(), i + 1 + k); break; }
        const t = i + 1 + jt, f = i + 1 + jf;
        if (t === f) { if (t !== i + 1) e(ja(), t); break; }
        // JMP32 compares the 32-bit A with k as classic does (a 64-bit compare would sign-extend k)
        e((code & BPF_X) !== 0 ? ins(BPF_JMP32 | op | BPF_X, A, X) : ins(BPF_JMP32 | op | BPF_K, A, 0, 0, k), t);
        if (f !== i + 1) e(ja(), f);
        break;
      }
      case BPF_RET: {
        const rval = code & 0x18;
        if (rval === BPF_K) e(ins(BPF_ALU | BPF_MOV | BPF_K, R0, 0, 0, k));
        else if (rval === BPF_X) e(ins(BPF_ALU | BPF_MOV | BPF_X, R0, X));
        // BPF_A: A is r0 already
        e(ins(BPF_JMP | BPF_EXIT));
        break;
      }
      case BPF_MISC:
        if ((code & 0xf8) === BPF_TAX) e(ins(BPF_ALU | BPF_MOV | BPF_X, X, A));
        else e(ins(BPF_ALU | BPF_MOV | BPF_X, A, X));
        break;
    }
    parts.push(out);
  }
  const usesMem = prog.some((p) => (p.code & 7) <= BPF_LDX && (p.code & 0xe0) === BPF_MEM);
  const prologue: Insn[] = [ins(BPF_ALU64 | BPF_MOV | BPF_X, CTX, R1), ins(BPF_ALU | BPF_MOV | BPF_K, A),
    ins(BPF_ALU | BPF_MOV | BPF_K, X)];
  // the verifier wants M[] written before it is read on every path: all sixteen words start at 0
  if (usesMem) for (let k = 0; k < BPF_MEMWORDS; k++) prologue.push(ins(BPF_ST | BPF_MEM | BPF_W, FP, 0, slot(k), 0));
  const addr: number[] = [];
  let at = prologue.length;
  for (const p of parts) { addr.push(at); at += p.length; }
  const ret0 = at;
  addr.push(ret0); // a jump past the last instruction (cannot happen in a checked program)
  const out = [...prologue];
  for (const p of parts) {
    for (const item of p) {
      if (item.target === undefined) { out.push(item.insn); continue; }
      const dest = item.target < 0 ? ret0 : addr[item.target]!;
      out.push({ ...item.insn, off: dest - (out.length + 1) });
    }
  }
  // the shared "return 0" only when a division by X jumps to it (the verifier refuses unreachable code)
  if (parts.some((p) => p.some((item) => item.target === -1))) {
    out.push(ins(BPF_ALU | BPF_MOV | BPF_K, R0), ins(BPF_JMP | BPF_EXIT));
  }
  return out;
}
