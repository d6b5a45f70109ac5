// Just enough of BTF to name things in listings: the kind and name of a type id in raw kernel BTF bytes
// (struct btf_header + type section + string section, include/uapi/linux/btf.h). bpftool uses it for program names
// longer than the kernel's 15 characters (the name of the program's first func_info FUNC).

export const BTF_KIND_FUNC = 12;

// Bytes following the 12-byte struct btf_type, per kind: fixed part + per-vlen-item part.
const EXTRA: Record<number, [number, number]> = {
  1: [4, 0], 3: [12, 0], 4: [0, 12], 5: [0, 12], 6: [0, 8], 13: [0, 8], 14: [4, 0], 15: [0, 12], 17: [4, 0], 19: [0, 12],
};

export interface BtfTypeRef {
  readonly kind: number;
  readonly name: string;
}

/** Kind and name of type `id` (1-based) in a BTF blob with no base, or undefined when out of range or malformed. */
export function btfTypeById(data: Uint8Array, id: number): BtfTypeRef | undefined {
  if (data.length < 24 || id < 1) return undefined;
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (v.getUint16(0, true) !== 0xeb9f) return undefined;
  const hdrLen = v.getUint32(4, true);
  const typeOff = hdrLen + v.getUint32(8, true), typeLen = v.getUint32(12, true);
  const strOff = hdrLen + v.getUint32(16, true), strLen = v.getUint32(20, true);
  if (typeOff + typeLen > data.length || strOff + strLen > data.length) return undefined;
  let p = typeOff;
  for (let cur = 1; p + 12 <= typeOff + typeLen; cur++) {
    const nameOff = v.getUint32(p, true), info = v.getUint32(p + 4, true);
    const kind = (info >>> 24) & 0x1f, vlen = info & 0xffff;
    if (cur === id) {
      const start = strOff + nameOff;
      let end = start;
      while (end < strOff + strLen && data[end] !== 0) end++;
      return { kind, name: new TextDecoder().decode(data.subarray(start, end)) };
    }
    const [fixed, per] = EXTRA[kind] ?? [0, 0];
    p += 12 + fixed + per * vlen;
  }
  return undefined;
}
