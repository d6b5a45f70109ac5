// Encode a Btf back to raw little-endian BTF (header, types, strings), e.g. after the loader's DATASEC fix-ups, for
// BPF_BTF_LOAD. Unmodified BTF of a little-endian object encodes to its original bytes.
import * as Kinds from "./kinds.ts";
import type { Btf } from "./parse.ts";
import { btfTypeRecordSize } from "./parse.ts";

// module-local copy: tsx compiles imported bindings to getters
const K = { ...Kinds };

export function encodeBtf(btf: Btf): Uint8Array {
  const types = btf.ownTypes;
  let typeLen = 0;
  for (const t of types) typeLen += btfTypeRecordSize(t.kind, t.vlen);
  const strs = btf.stringBytes;
  const out = new Uint8Array(24 + typeLen + strs.length);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, K.BTF_MAGIC, true);
  out[2] = 1;
  out[3] = btf.header.flags;
  dv.setUint32(4, 24, true);
  dv.setUint32(8, 0, true);
  dv.setUint32(12, typeLen, true);
  dv.setUint32(16, typeLen, true);
  dv.setUint32(20, strs.length, true);
  let o = 24;
  const u32 = (v: number) => {
    dv.setUint32(o, v >>> 0, true);
    o += 4;
  };
  for (const t of types) {
    u32(t.nameOff);
    u32(((t.kflag ? 0x80000000 : 0) | (t.kind << 24) | t.vlen) >>> 0);
    u32(t.sizeOrType);
    switch (t.kind) {
      case K.BTF_KIND_INT: u32((t.intEncoding << 24) | (t.intOffset << 16) | t.intBits); break;
      case K.BTF_KIND_ARRAY: u32(t.arrayType); u32(t.arrayIndexType); u32(t.arrayNelems); break;
      case K.BTF_KIND_STRUCT: case K.BTF_KIND_UNION:
        for (const m of t.members) { u32(m.nameOff); u32(m.type); u32(t.kflag ? (m.bitfieldSize << 24) | m.bitOffset : m.bitOffset); }
        break;
      case K.BTF_KIND_ENUM: for (const v of t.enumValues) { u32(v.nameOff); u32(v.lo); } break;
      case K.BTF_KIND_ENUM64: for (const v of t.enumValues) { u32(v.nameOff); u32(v.lo); u32(v.hi); } break;
      case K.BTF_KIND_FUNC_PROTO: for (const p of t.params) { u32(p.nameOff); u32(p.type); } break;
      case K.BTF_KIND_VAR: u32(t.linkage); break;
      case K.BTF_KIND_DATASEC: for (const v of t.secinfos) { u32(v.type); u32(v.offset); u32(v.size); } break;
      case K.BTF_KIND_DECL_TAG: u32(t.componentIdx); break;
    }
  }
  out.set(strs, o);
  return out;
}
