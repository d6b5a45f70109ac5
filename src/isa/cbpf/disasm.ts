// Classic instructions back to bpf_asm source (the inverse of ./asm.ts): jump targets become labels `lN`,
// ancillary loads their names (`ld proto`), so `assembleCbpf(disassembleCbpf(p))` gives p back for every program
// bpf_asm can express (k = 0 in register forms, jt = jf = 0 outside conditional jumps).

import { BpfError } from "../../errors.ts";
import type { CbpfInsn } from "./insn.ts";
import { ancillaryOf } from "./insn.ts";
import { CBPF_EXTENSIONS } from "./asm.ts";

const ALU_NAMES: Readonly<Record<number, string>> = {
  0x00: "add", 0x10: "sub", 0x20: "mul", 0x30: "div", 0x40: "or", 0x50: "and", 0x60: "lsh", 0x70: "rsh", 0x90: "mod",
  0xa0: "xor",
};
const JMP_NAMES: Readonly<Record<number, string>> = { 0x10: "jeq", 0x20: "jgt", 0x30: "jge", 0x40: "jset" };
const SIZE_SUFFIX: Readonly<Record<number, string>> = { 0x00: "", 0x08: "h", 0x10: "b" };
const EXTENSION_NAME = new Map<number, string>();
for (const [name, off] of CBPF_EXTENSIONS) if (!EXTENSION_NAME.has(off)) EXTENSION_NAME.set(off, name);

/** bpf_asm source for a classic program; throws for instructions bpf_asm has no syntax for. */
export function disassembleCbpf(insns: readonly CbpfInsn[]): string {
  const targets = new Set<number>();
  insns.forEach(({ code, jt, jf, k }, pc) => {
    if (code === 0x05) targets.add(pc + 1 + (k >>> 0));
    else if ((code & 7) === 5) { targets.add(pc + 1 + jt); targets.add(pc + 1 + jf); }
  });
  const label = (pc: number): string => {
    if (pc >= insns.length) throw new BpfError("EINVAL", `a jump goes to ${pc}, past the last instruction`, { pc });
    return `l${pc}`;
  };
  return insns.map((insn, pc) => {
    const text = one(insn, pc, label);
    return targets.has(pc) ? `l${pc}: ${text}\n` : `${text}\n`;
  }).join("");
}

function one({ code, jt, jf, k: rawK }: CbpfInsn, pc: number, label: (pc: number) => string): string {
  const k = rawK >>> 0;
  const hex = `#0x${k.toString(16)}`;
  const cls = code & 7;
  const size = SIZE_SUFFIX[code & 0x18];
  switch (cls) {
    case 0x00: // LD
    case 0x01: { // LDX
      const x = cls === 1 ? "x" : "";
      const mode = code & 0xe0;
      if (mode === 0x00 && (code & 0x18) === 0) return `ld${x} ${hex}`;
      if (mode === 0x60 && (code & 0x18) === 0) return `ld${x} M[${k}]`;
      if (mode === 0x80 && (code & 0x18) === 0) return `ld${x} #len`;
      if (cls === 0 && mode === 0x20 && size !== undefined) {
        const ext = ancillaryOf(k);
        if (ext >= 0 && EXTENSION_NAME.has(ext)) return `ld${size} ${EXTENSION_NAME.get(ext)}`;
        return `ld${size} [${k}]`;
      }
      if (cls === 0 && mode === 0x40 && size !== undefined) return `ld${size} [x + ${k}]`;
      if (code === 0xb1) return `ldx 4*([${k}]&0xf)`;
      break;
    }
    case 0x02: if (code === 0x02) return `st M[${k}]`; break;
    case 0x03: if (code === 0x03) return `stx M[${k}]`; break;
    case 0x04: { // ALU
      if (code === 0x84) return "neg";
      const name = ALU_NAMES[code & 0xf0];
      if (name) return code & 8 ? `${name} x` : `${name} ${hex}`;
      break;
    }
    case 0x05: { // JMP
      if (code === 0x05) return `ja ${label(pc + 1 + k)}`;
      const name = JMP_NAMES[code & 0xf0];
      if (name) return `${name} ${code & 8 ? "x" : hex}, ${label(pc + 1 + jt)}, ${label(pc + 1 + jf)}`;
      break;
    }
    case 0x06: // RET
      if (code === 0x06) return `ret ${hex}`;
      if (code === 0x16) return "ret a";
      if (code === 0x0e) return "ret x";
      break;
    case 0x07: // MISC
      if (code === 0x07) return "tax";
      if (code === 0x87) return "txa";
      break;
  }
  throw new BpfError("EINVAL", `classic instruction ${pc}: opcode 0x${code.toString(16)} has no bpf_asm syntax`, { pc });
}
