// The eBPF instruction as the kernel stores it: one 8-byte slot, `struct bpf_insn`.
// A 64-bit immediate load (lddw) occupies two slots; the second has code 0 and carries the high 32 bits in imm.
// Keeping slot-level instructions (not cilium's merged lddw) makes pc numbering identical to the kernel, bpftool and llvm.

/** One `struct bpf_insn` slot. `off` is signed 16-bit, `imm` signed 32-bit, registers 0..15 as encoded. */
export interface Insn {
  readonly code: number;
  readonly dst: number;
  readonly src: number;
  readonly off: number;
  readonly imm: number;
}

export const insn = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({ code, dst, src, off, imm });
