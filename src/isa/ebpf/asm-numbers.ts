// Integer literals for the assemblers: decimal or 0x hex, optional sign, checked against the field they go into.
// Out-of-range values are errors rather than silent truncation (cilium/ebpf and bpf_conformance refuse them too).

/** Parses `-12`, `+0x1f`, `42` to a bigint, or undefined when the text is not an integer literal. */
export function parseIntLiteral(text: string): bigint | undefined {
  const m = /^([+-]?)(0x[0-9a-f]+|[0-9]+)$/i.exec(text);
  if (!m) return undefined;
  const magnitude = BigInt(m[2]!);
  return m[1] === "-" ? -magnitude : magnitude;
}

/** A 32-bit immediate: accepts signed (-2^31..) and unsigned (..2^32-1) spellings, returns the signed int32 value. */
export function toImm32(v: bigint): number | undefined {
  if (v < -(1n << 31n) || v > 0xffffffffn) return undefined;
  return Number(BigInt.asIntN(32, v));
}

/** A 16-bit offset: -2^15..2^15-1, or up to 0xffff when spelled in hex (as bpf_conformance allows); signed int16 result. */
export function toOff16(v: bigint, hexSpelling = false): number | undefined {
  if (v < -(1n << 15n) || v > (hexSpelling ? 0xffffn : 0x7fffn)) return undefined;
  return Number(BigInt.asIntN(16, v));
}

/** A 64-bit immediate split into the two signed 32-bit imm fields of an lddw pair. */
export function toImm64Halves(v: bigint): { lo: number; hi: number } | undefined {
  if (v < -(1n << 63n) || v > 0xffffffffffffffffn) return undefined;
  const u = BigInt.asUintN(64, v);
  return { lo: Number(BigInt.asIntN(32, u)), hi: Number(BigInt.asIntN(32, u >> 32n)) };
}
