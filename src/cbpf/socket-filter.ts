// A classic socket filter as an eBPF socket_filter program the verifier accepts (unlike the kernel's internal
// conversion in convert.ts, which uses registers and skb offsets only the kernel may): A in r0, X in r7, the skb in
// r6 for the legacy LD_ABS/LD_IND packet loads (which end the program returning 0 past the packet, as classic loads
// do), M[] on the stack, ancillary loads as __sk_buff fields. Division by a zero X returns 0 as classic does.

import type { Insn } from "../isa/ebpf/insn.ts";
import type { CbpfInsn } from "../isa/cbpf/insn.ts";

const LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03, ALU = 0x04, JMP = 0x05, RET = 0x06, MISC = 0x07;
const JMP32 = 0x06, ALU64 = 0x07, EBPF_JMP = 0x05;
const ABS = 0x20, IND = 0x40, MEM = 0x60, LEN = 0x80, MSH = 0xa0, IMM = 0x00;
const MOV = 0xb0, END = 0xd0, EXIT = 0x90, X = 0x08;
const R0 = 0, R1 = 1, A = 0, XR = 7, CTX = 6, SAVE = 8, FP = 10;
const SKF_AD_OFF = 0xfffff000;

/** SKF_AD_* offset → the __sk_buff field (byte offset) holding it; protocol needs a byte swap. */
const ANCILLARY: ReadonlyMap<number, number> = new Map([
  [0, 16], [4, 4], [8, 40], [20, 8], [24, 12], [32, 68], [44, 24], [48, 20],
]);

const ins = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({ code, dst, src, off, imm: imm | 0 });
const slot = (k: number): number => -64 + 4 * k;

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
      case LD: case LDX: {
        const mode = code & 0xe0, size = code & 0x18, dst = cls === LD ? A : XR;
        if (mode === IMM) e(ins(ALU | MOV, dst, 0, 0, k));
        else if (mode === MEM) e(ins(LDX | MEM | 0x00, dst, FP, slot(k)));
        else if (mode === LEN) e(ins(LDX | MEM | 0x00, dst, CTX, 0));
        else if (mode === MSH) {
          e(ins(ALU64 | MOV | X, SAVE, A));
          e(ins(LD | ABS | 0x10, 0, 0, 0, k));
          e(ins(ALU | 0x50, A, 0, 0, 0xf));
          e(ins(ALU | 0x60, A, 0, 0, 2));
          e(ins(ALU | MOV | X, XR, A));
          e(ins(ALU64 | MOV | X, A, SAVE));
        } else if (mode === ABS && k >= SKF_AD_OFF) {
          const field = ANCILLARY.get(k - SKF_AD_OFF);
          if (field === undefined) return null;
          e(ins(LDX | MEM | 0x00, A, CTX, field));
          if (field === 16) e(ins(ALU | END | X, A, 0, 0, 16)); // be16 → host order
        } else if (mode === ABS) e(ins(LD | ABS | size, 0, 0, 0, k));
        else if (mode === IND) e(ins(LD | IND | size, 0, XR, 0, k));
        else return null;
        break;
      }
      case ST: case STX:
        e(ins(STX | MEM | 0x00, FP, cls === ST ? A : XR, slot(k)));
        break;
      case ALU: {
        const op = code & 0xf0;
        if (op === 0x80) { e(ins(ALU | 0x80, A)); break; }
        if ((code & X) !== 0) {
          if (op === 0x30 || op === 0x90) e(ins(JMP32 | 0x10, XR, 0, 0, 0), -1);
          e(ins(ALU | op | X, A, XR));
        } else e(ins(ALU | op, A, 0, 0, k));
        break;
      }
      case JMP: {
        const op = code & 0xf0;
        if (op === 0x00) { if (k !== 0) e(ins(EBPF_JMP, 0), i + 1 + k); break; }
        const t = i + 1 + jt, f = i + 1 + jf;
        if (t === f) { if (t !== i + 1) e(ins(EBPF_JMP, 0), t); break; }
        e((code & X) !== 0 ? ins(JMP32 | op | X, A, XR) : ins(JMP32 | op, A, 0, 0, k), t);
        if (f !== i + 1) e(ins(EBPF_JMP, 0), f);
        break;
      }
      case RET: {
        const rval = code & 0x18;
        if (rval === 0x00) e(ins(ALU | MOV, R0, 0, 0, k));
        else if (rval === 0x08) e(ins(ALU | MOV | X, R0, XR));
        e(ins(EBPF_JMP | EXIT));
        break;
      }
      case MISC:
        if ((code & 0xf8) === 0x00) e(ins(ALU | MOV | X, XR, A));
        else e(ins(ALU | MOV | X, A, XR));
        break;
    }
    parts.push(out);
  }
  const usesMem = prog.some((p) => (p.code & 7) < 2 && (p.code & 0xe0) === MEM);
  const prologue: Insn[] = [ins(ALU64 | MOV | X, CTX, R1), ins(ALU | MOV, A), ins(ALU | MOV, XR)];
  // the verifier wants M[] written before it is read on every path: all sixteen words start at 0
  if (usesMem) for (let k = 0; k < 16; k++) prologue.push(ins(ST | MEM | 0x00, FP, 0, slot(k), 0));
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
  if (parts.some((p) => p.some((item) => item.target === -1))) out.push(ins(ALU | MOV, R0), ins(EBPF_JMP | EXIT));
  return out;
}
