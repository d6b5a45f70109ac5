// The 8-byte wire form of `struct bpf_insn`, in either byte order.
// Little-endian: byte 1 = src<<4 | dst. Big-endian hosts lay the dst_reg:4/src_reg:4 bitfield the other way round,
// so byte 1 = dst<<4 | src there (the kernel's and llvm's bpfeb agree), and off/imm are big-endian.

import { BpfError } from "../../errors.ts";
import type { Insn } from "./insn.ts";

export interface ByteOrderOptions {
  readonly bigEndian?: boolean;
}

export const INSN_SIZE = 8;

/** Splits raw program bytes into instruction slots. Throws BpfError("DECODE") when the length is not a multiple of 8. */
export function decodeProgram(bytes: Uint8Array, opts: ByteOrderOptions = {}): Insn[] {
  if (bytes.length % INSN_SIZE !== 0) {
    throw new BpfError("DECODE", `program length ${bytes.length} is not a multiple of ${INSN_SIZE} bytes`,
      { offset: bytes.length - (bytes.length % INSN_SIZE) });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = !opts.bigEndian;
  const out: Insn[] = new Array(bytes.length / INSN_SIZE);
  for (let i = 0, p = 0; p < bytes.length; i++, p += INSN_SIZE) {
    const regs = bytes[p + 1]!;
    out[i] = {
      code: bytes[p]!,
      dst: le ? regs & 0x0f : regs >> 4,
      src: le ? regs >> 4 : regs & 0x0f,
      off: view.getInt16(p + 2, le),
      imm: view.getInt32(p + 4, le),
    };
  }
  return out;
}

/** Decodes the slot at byte offset `p` (no allocation beyond the result). */
export function decodeInsn(bytes: Uint8Array, p = 0, opts: ByteOrderOptions = {}): Insn {
  return decodeProgram(bytes.subarray(p, p + INSN_SIZE), opts)[0]!;
}

/** Serialises slots; fields are masked to their widths (code 8 bits, registers 4, off 16, imm 32). */
export function encodeProgram(insns: readonly Insn[], opts: ByteOrderOptions = {}): Uint8Array {
  const bytes = new Uint8Array(insns.length * INSN_SIZE);
  const view = new DataView(bytes.buffer);
  const le = !opts.bigEndian;
  for (let i = 0; i < insns.length; i++) {
    const x = insns[i]!;
    const p = i * INSN_SIZE;
    bytes[p] = x.code & 0xff;
    bytes[p + 1] = le ? ((x.src & 0xf) << 4) | (x.dst & 0xf) : ((x.dst & 0xf) << 4) | (x.src & 0xf);
    view.setInt16(p + 2, (x.off << 16) >> 16, le);
    view.setInt32(p + 4, x.imm | 0, le);
  }
  return bytes;
}

/** Lower-case hex of the 8 bytes of one slot, separated by `sep` (bpftool `opcodes` and objdump style). */
export function insnHexBytes(x: Insn, sep = " ", opts: ByteOrderOptions = {}): string {
  const b = encodeProgram([x], opts);
  let s = "";
  for (let i = 0; i < b.length; i++) s += (i ? sep : "") + b[i]!.toString(16).padStart(2, "0");
  return s;
}
