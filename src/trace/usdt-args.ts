// argN of a usdt probe on Linux: the note's argument spec read from the probe's pt_regs (r6) — a register, a
// constant, or memory at base + index * scale + disp read with bpf_probe_read_user into a stack slot — then cut to
// the spec's size and sign- or zero-extended to 64 bits, as bpftrace reads USDT arguments. The value ends in r0.
import { insn, type Insn } from "../isa/ebpf/insn.ts";
import type { UsdtArg } from "../object/usdt.ts";
import { PT_REGS } from "../runtime/attach/uprobe.ts";

const PROBE_READ_USER = 112;
const reg = (name: string): number => PT_REGS[name as keyof typeof PT_REGS];

/** Instructions leaving the argument in r0; `slot` is an 8-byte stack slot (offset from r10) the code may use. */
export function usdtArgInsns(a: UsdtArg, slot: number): Insn[] {
  const out: Insn[] = [];
  if (a.kind === "imm") {
    const v = BigInt.asUintN(64, a.value);
    out.push(insn(0x18, 0, 0, 0, Number(v & 0xffffffffn) | 0), insn(0, 0, 0, 0, Number(v >> 32n) | 0));
  } else if (a.kind === "reg") {
    out.push(insn(0x79, 0, 6, reg(a.reg)));
  } else {
    out.push(insn(0x79, 3, 6, reg(a.reg)));
    if (a.index !== undefined) {
      out.push(insn(0x79, 1, 6, reg(a.index)));
      const shift = Math.log2(a.scale ?? 1);
      if (shift) out.push(insn(0x67, 1, 0, 0, shift));
      out.push(insn(0x0f, 3, 1));
    }
    if (a.disp) out.push(insn(0x07, 3, 0, 0, a.disp));
    out.push(insn(0x7a, 10, 0, slot, 0), insn(0xbf, 1, 10), insn(0x07, 1, 0, 0, slot), insn(0xb7, 2, 0, 0, a.size), insn(0x85, 0, 0, 0, PROBE_READ_USER));
    out.push(insn(0x79, 0, 10, slot));
  }
  if (a.size < 8) {
    const bits = 64 - a.size * 8;
    out.push(insn(0x67, 0, 0, 0, bits), insn(a.signed ? 0xc7 : 0x77, 0, 0, 0, bits));
  }
  return out;
}
