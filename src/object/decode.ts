// Instruction slots from section bytes in the object's byte order. In a big-endian object the register nibbles are
// swapped too (struct bpf_insn's dst_reg:4/src_reg:4 bitfields follow the byte order).
import type { Insn } from "../isa/ebpf/insn.ts";
import type { ByteReader } from "../btf/bytes.ts";

export function decodeInsns(r: ByteReader, offset: number, count: number): Insn[] {
  r.need(offset, count * 8, "instructions");
  const out: Insn[] = new Array(count);
  for (let i = 0, o = offset; i < count; i++, o += 8) {
    const regs = r.u8(o + 1);
    out[i] = {
      code: r.u8(o),
      dst: r.littleEndian ? regs & 0xf : regs >> 4,
      src: r.littleEndian ? regs >> 4 : regs & 0xf,
      off: r.i16(o + 2),
      imm: r.i32(o + 4),
    };
  }
  return out;
}
