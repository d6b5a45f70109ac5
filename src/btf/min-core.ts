// `bpftool gen min_core_btf INPUT OUTPUT OBJECT...`: the part of a kernel's BTF that the objects' CO-RE relocations
// use, as bpftool's BTFGen builds it. Each relocation is resolved against INPUT (libbpf's candidates and first
// matching target spec, src/btf/core.ts); the target types it names are marked — for field relocations the root and,
// per access step, the struct member and its type; for type relocations the type and what it refers to (through
// pointers); for type-match relocations whole structs down to pointers; for enum values the enum — and a new BTF is
// built from the marked types in INPUT's order, structs keeping only marked members, unmarked references becoming 0.
import { BpfError } from "../errors.ts";
import * as K from "./kinds.ts";
import { coreTargetSpec, BPF_CORE_TYPE_ID_LOCAL, BPF_CORE_TYPE_ID_TARGET, BPF_CORE_TYPE_EXISTS, BPF_CORE_TYPE_SIZE,
  BPF_CORE_TYPE_MATCHES, BPF_CORE_ENUMVAL_EXISTS, BPF_CORE_ENUMVAL_VALUE } from "./core.ts";
import type { BtfExt } from "./ext.ts";
import type { Btf } from "./parse.ts";

const MAX_DEPTH = 1024;

class Marks {
  readonly types = new Set<number>();
  readonly members = new Map<number, Set<number>>();
  constructor(private readonly btf: Btf) {}

  member(id: number, idx: number): void {
    let s = this.members.get(id);
    if (!s) this.members.set(id, (s = new Set()));
    s.add(idx);
  }

  /** btfgen_mark_type. */
  type(id: number, followPtrs: boolean, depth = 0): void {
    if (id === 0) return;
    if (depth > MAX_DEPTH) throw new BpfError("ELOOP", `min_core_btf: type [${id}] is nested too deeply or in a cycle`);
    const t = this.btf.type(id);
    this.types.add(id);
    switch (t.kind) {
      case 0: case K.BTF_KIND_INT: case K.BTF_KIND_FLOAT: case K.BTF_KIND_ENUM: case K.BTF_KIND_ENUM64:
      case K.BTF_KIND_STRUCT: case K.BTF_KIND_UNION:
        return;
      case K.BTF_KIND_PTR:
        if (followPtrs) this.type(t.sizeOrType, followPtrs, depth + 1);
        return;
      case K.BTF_KIND_CONST: case K.BTF_KIND_RESTRICT: case K.BTF_KIND_VOLATILE: case K.BTF_KIND_TYPEDEF:
        this.type(t.sizeOrType, followPtrs, depth + 1);
        return;
      case K.BTF_KIND_ARRAY:
        this.type(t.arrayType, followPtrs, depth + 1);
        this.type(t.arrayIndexType, followPtrs, depth + 1);
        return;
      case K.BTF_KIND_FUNC_PROTO:
        this.type(t.sizeOrType, followPtrs, depth + 1);
        for (const p of t.params) this.type(p.type, followPtrs, depth + 1);
        return;
      default:
        throw new BpfError("EINVAL", `unsupported kind: ${K.BTF_KIND_NAMES[t.kind] ?? t.kind} (${id})`);
    }
  }

  /** btfgen_mark_type_match. */
  typeMatch(id: number, behindPtr: boolean, depth = 0): void {
    if (id === 0) return;
    if (depth > MAX_DEPTH) throw new BpfError("ELOOP", `min_core_btf: type [${id}] is nested too deeply or in a cycle`);
    const t = this.btf.type(id);
    this.types.add(id);
    switch (t.kind) {
      case 0: case K.BTF_KIND_INT: case K.BTF_KIND_FLOAT: case K.BTF_KIND_ENUM: case K.BTF_KIND_ENUM64:
        return;
      case K.BTF_KIND_STRUCT: case K.BTF_KIND_UNION:
        if (behindPtr) return;
        t.members.forEach((m, i) => {
          this.member(id, i);
          this.typeMatch(m.type, false, depth + 1);
        });
        return;
      case K.BTF_KIND_CONST: case K.BTF_KIND_FWD: case K.BTF_KIND_RESTRICT: case K.BTF_KIND_TYPEDEF: case K.BTF_KIND_VOLATILE:
        this.typeMatch(t.sizeOrType, behindPtr, depth + 1);
        return;
      case K.BTF_KIND_PTR:
        this.typeMatch(t.sizeOrType, true, depth + 1);
        return;
      case K.BTF_KIND_ARRAY:
        this.typeMatch(t.arrayType, false, depth + 1);
        this.typeMatch(t.arrayIndexType, false, depth + 1);
        return;
      case K.BTF_KIND_FUNC_PROTO:
        this.typeMatch(t.sizeOrType, false, depth + 1);
        for (const p of t.params) this.typeMatch(p.type, false, depth + 1);
        return;
      default:
        throw new BpfError("EINVAL", `unsupported kind: ${K.BTF_KIND_NAMES[t.kind] ?? t.kind} (${id})`);
    }
  }

  /** btfgen_record_field_relo. */
  field(rootId: number, raw: readonly number[]): void {
    const btf = this.btf;
    let id = rootId;
    this.type(id, false);
    for (let i = 1; i < raw.length; i++) {
      let t = btf.type(id);
      for (let g = 0; (K.isModifier(t.kind) || t.kind === K.BTF_KIND_TYPEDEF) && g < MAX_DEPTH; g++) {
        id = t.sizeOrType;
        t = btf.type(id);
      }
      if (t.kind === K.BTF_KIND_STRUCT || t.kind === K.BTF_KIND_UNION) {
        const idx = raw[i]!;
        const m = t.members[idx];
        if (!m) throw new BpfError("EINVAL", `min_core_btf: member #${idx} of type [${id}] out of range`);
        this.member(id, idx);
        id = m.type;
        this.type(id, false);
      } else if (t.kind === K.BTF_KIND_ARRAY) {
        id = t.arrayType;
      } else {
        throw new BpfError("EINVAL", `unsupported kind: ${K.BTF_KIND_NAMES[t.kind] ?? t.kind} (${t.sizeOrType})`);
      }
    }
  }
}

/** An object's CO-RE relocations as min_core_btf reads them: its BTF and .BTF.ext. */
export interface CoreObject {
  readonly name: string;
  readonly btf: Btf;
  readonly ext: BtfExt | undefined;
}

/** The minimized BTF (raw bytes, as btf__raw_data writes them) of `src` for the objects' relocations. */
export function minCoreBtf(src: Btf, objects: readonly CoreObject[]): Uint8Array {
  const marks = new Marks(src);
  for (const o of objects) {
    if (!o.ext) throw new BpfError("EINVAL", `failed to parse BPF object '${o.name}': section .BTF.ext not found`);
    for (const sec of o.ext.coreRelos) {
      for (const rec of sec.records) {
        if (rec.kind === BPF_CORE_TYPE_ID_LOCAL) continue;
        const spec = coreTargetSpec(o.btf, rec, src) ?? { rootTypeId: 0, raw: [] };
        switch (rec.kind) {
          case BPF_CORE_TYPE_ID_TARGET: case BPF_CORE_TYPE_EXISTS: case BPF_CORE_TYPE_SIZE:
            marks.type(spec.rootTypeId, true);
            break;
          case BPF_CORE_TYPE_MATCHES:
            marks.typeMatch(spec.rootTypeId, false);
            break;
          case BPF_CORE_ENUMVAL_EXISTS: case BPF_CORE_ENUMVAL_VALUE:
            marks.type(spec.rootTypeId, false);
            break;
          default:
            if (rec.kind > BPF_CORE_TYPE_MATCHES) throw new BpfError("EINVAL", `unknown CO-RE relocation kind ${rec.kind}`);
            marks.field(spec.rootTypeId, spec.raw);
        }
      }
    }
  }
  return buildBtf(src, marks);
}

/** btfgen_get_btf: the marked types in order, into a fresh BTF (strings in insertion order). */
function buildBtf(src: Btf, marks: Marks): Uint8Array {
  const strs = new Map<string, number>([["", 0]]);
  const strParts: string[] = [""];
  let strLen = 1;
  const str = (off: number): number => {
    const s = src.str(off) ?? "";
    let o = strs.get(s);
    if (o === undefined) {
      o = strLen;
      strs.set(s, o);
      strParts.push(s);
      strLen += s.length + 1;
    }
    return o;
  };
  const ids = new Map<number, number>();
  type Rec = { words: number[]; refs: number[] }; // refs: word indexes holding type ids
  const recs: Rec[] = [];
  for (let id = 1; id < src.typeCount; id++) {
    if (!marks.types.has(id)) continue;
    const t = src.type(id);
    const w: number[] = [];
    const refs: number[] = [];
    if (t.kind === K.BTF_KIND_STRUCT || t.kind === K.BTF_KIND_UNION) {
      w.push(str(t.nameOff), 0, t.sizeOrType);
      const keep = marks.members.get(id);
      let vlen = 0, kflag = false;
      t.members.forEach((m, i) => {
        if (!keep?.has(i)) return;
        const bitfield = m.bitfieldSize !== 0 || m.bitOffset % 8 !== 0;
        if (bitfield) kflag = true;
        w.push(str(m.nameOff), m.type, (m.bitfieldSize << 24 | m.bitOffset) >>> 0);
        refs.push(w.length - 2);
        vlen++;
      });
      w[1] = ((kflag ? 0x80000000 : 0) | (t.kind << 24) | vlen) >>> 0;
      // without kflag the offsets are plain bit offsets (no bitfield sizes in the top byte)
      if (!kflag) for (let k = 5; k < w.length; k += 3) w[k] = w[k]! & 0xffffff;
    } else {
      w.push(str(t.nameOff), ((t.kflag ? 0x80000000 : 0) | (t.kind << 24) | t.vlen) >>> 0, t.sizeOrType);
      if (K.isRefKind(t.kind)) refs.push(2);
      switch (t.kind) {
        case K.BTF_KIND_INT: w.push(((t.intEncoding << 24) | (t.intOffset << 16) | t.intBits) >>> 0); break;
        case K.BTF_KIND_ARRAY: w.push(t.arrayType, t.arrayIndexType, t.arrayNelems); refs.push(3, 4); break;
        case K.BTF_KIND_ENUM: for (const v of t.enumValues) w.push(str(v.nameOff), v.lo >>> 0); break;
        case K.BTF_KIND_ENUM64: for (const v of t.enumValues) w.push(str(v.nameOff), v.lo >>> 0, v.hi >>> 0); break;
        case K.BTF_KIND_FUNC_PROTO: for (const p of t.params) { w.push(str(p.nameOff), p.type); refs.push(w.length - 1); } break;
      }
    }
    recs.push({ words: w, refs });
    ids.set(id, recs.length);
  }
  const words: number[] = [];
  for (const r of recs) {
    for (const k of r.refs) r.words[k] = ids.get(r.words[k]!) ?? 0;
    words.push(...r.words);
  }
  const out = new Uint8Array(24 + words.length * 4 + strLen);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, K.BTF_MAGIC, true);
  out[2] = 1;
  dv.setUint32(4, 24, true);
  dv.setUint32(12, words.length * 4, true);
  dv.setUint32(16, words.length * 4, true);
  dv.setUint32(20, strLen, true);
  words.forEach((x, i) => dv.setUint32(24 + i * 4, x >>> 0, true));
  let o = 24 + words.length * 4;
  for (const s of strParts) {
    for (let i = 0; i < s.length; i++) out[o++] = s.charCodeAt(i) & 0xff;
    out[o++] = 0;
  }
  return out;
}
