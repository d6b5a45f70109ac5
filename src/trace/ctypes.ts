// C types for casts, `->` and sizeof: the integer type names bpftrace accepts, `struct X` from C definitions in the
// script (laid out with C's natural alignment) or from the kernel's BTF, and their members resolved on demand
// (kernel structs point at each other, so a record's fields are looked up by name, never expanded eagerly).
import type { Btf } from "../btf/index.ts";
import * as K from "../btf/kinds.ts";
import { resolveSize, skipModsAndTypedefs } from "../btf/layout.ts";
import type { CStruct } from "./ast.ts";
import { type RecordField, type TType, intT, str, INT64 } from "./types.ts";

export const INT_NAMES: Record<string, TType> = {
  int8: intT(8, true), uint8: intT(8, false), int16: intT(16, true), uint16: intT(16, false), int32: intT(32, true),
  uint32: intT(32, false), int64: intT(64, true), uint64: intT(64, false),
};

/** C spellings of integer types in struct definitions: [size, signed] */
const C_INTS: Record<string, [number, boolean]> = {
  char: [1, true], "signed char": [1, true], "unsigned char": [1, false], short: [2, true], "short int": [2, true],
  "unsigned short": [2, false], "unsigned short int": [2, false], int: [4, true], signed: [4, true], "signed int": [4, true],
  unsigned: [4, false], "unsigned int": [4, false], long: [8, true], "long int": [8, true], "unsigned long": [8, false],
  "unsigned long int": [8, false], "long long": [8, true], "long long int": [8, true], "unsigned long long": [8, false],
  "unsigned long long int": [8, false], _Bool: [1, false], bool: [1, false],
  int8_t: [1, true], uint8_t: [1, false], int16_t: [2, true], uint16_t: [2, false], int32_t: [4, true], uint32_t: [4, false],
  int64_t: [8, true], uint64_t: [8, false], u8: [1, false], u16: [2, false], u32: [4, false], u64: [8, false], s8: [1, true],
  s16: [2, true], s32: [4, true], s64: [8, true], __u8: [1, false], __u16: [2, false], __u32: [4, false], __u64: [8, false],
  __s8: [1, true], __s16: [2, true], __s32: [4, true], __s64: [8, true], size_t: [8, false], pid_t: [4, true],
};

const bitsOf = (n: number) => (n === 1 ? 8 : n === 2 ? 16 : n === 4 ? 32 : 64) as 8 | 16 | 32 | 64;
type Rec = Extract<TType, { k: "record" }>;

interface Layout { readonly size: number; readonly align: number; readonly fields: RecordField[] }

export class CTypes {
  private readonly script = new Map<string, CStruct>();
  private readonly records = new Map<string, Rec>();
  private readonly layouts = new Map<string, Layout>();
  private btfCache: Btf | null | undefined;

  constructor(structs: readonly CStruct[], private readonly loadBtf?: () => Btf | undefined) {
    for (const s of structs) this.script.set(`struct ${s.name}`, s);
  }

  private btf(): Btf | undefined {
    if (this.btfCache === undefined) this.btfCache = this.loadBtf?.() ?? null;
    return this.btfCache ?? undefined;
  }

  /** `struct X` (or `union X`) as a record type, undefined when neither the script nor BTF defines it */
  record(name: string): Rec | undefined {
    const hit = this.records.get(name);
    if (hit) return hit;
    let size: number | undefined;
    const s = this.script.get(name);
    if (s) size = this.layout(name)?.size;
    else {
      const btf = this.btf();
      const m = /^(struct|union) (\w+)$/.exec(name);
      if (btf && m) {
        const id = btf.findByName(m[2]!, m[1] === "struct" ? K.BTF_KIND_STRUCT : K.BTF_KIND_UNION);
        if (id > 0) size = btf.type(id).sizeOrType;
      }
    }
    if (size === undefined) return undefined;
    const r: Rec = { k: "record", name, size, fields: [] };
    this.records.set(name, r);
    return r;
  }

  field(rec: Rec, name: string): RecordField | undefined {
    return this.layout(rec.name)?.fields.find((f) => f.name === name);
  }

  private layout(name: string): Layout | undefined {
    const hit = this.layouts.get(name);
    if (hit) return hit;
    const s = this.script.get(name);
    let l: Layout | undefined;
    if (s) l = this.scriptLayout(s);
    else {
      const btf = this.btf();
      const m = /^(struct|union) (\w+)$/.exec(name);
      if (!btf || !m) return undefined;
      const id = btf.findByName(m[2]!, m[1] === "struct" ? K.BTF_KIND_STRUCT : K.BTF_KIND_UNION);
      if (id <= 0) return undefined;
      l = this.btfLayout(btf, id);
    }
    this.layouts.set(name, l);
    return l;
  }

  private scriptLayout(s: CStruct): Layout {
    const fields: RecordField[] = [];
    let off = 0, align = 1;
    for (const f of s.fields) {
      const t = f.type;
      let size: number, al: number, type: TType;
      if (f.ptr > 0) { size = 8; al = 8; type = { k: "ptr", to: this.pointee(t, f.ptr - 1) }; }
      else if (C_INTS[t]) { size = C_INTS[t]![0]; al = size; type = intT(bitsOf(size), C_INTS[t]![1]); }
      else {
        const r = this.record(t);
        const l = r ? this.layout(t) : undefined;
        size = l?.size ?? 8; al = l?.align ?? 8; type = r ?? INT64;
      }
      if (f.count !== undefined && C_INTS[t]?.[0] === 1 && f.ptr === 0) type = str(f.count);
      off = (off + al - 1) & ~(al - 1);
      fields.push({ name: f.name, offset: off, type, size, count: f.count });
      off += size * (f.count ?? 1);
      align = Math.max(align, al);
    }
    return { size: (off + align - 1) & ~(align - 1), align, fields };
  }

  /** the type a pointer of `depth` further stars points to */
  private pointee(base: string, depth: number): TType {
    if (depth > 0) return { k: "ptr", to: this.pointee(base, depth - 1) };
    if (C_INTS[base]) return intT(bitsOf(C_INTS[base]![0]), C_INTS[base]![1]);
    if (INT_NAMES[base]) return INT_NAMES[base]!;
    return this.record(base) ?? INT64;
  }

  /** the TType of a cast's target: `uint32`, `struct x`, with `ptr` stars */
  castTarget(name: string, ptr: number): TType | undefined {
    if (ptr === 0) return INT_NAMES[name];
    if (!INT_NAMES[name] && !C_INTS[name] && !this.record(name)) return undefined;
    return { k: "ptr", to: this.pointee(name, ptr - 1) };
  }

  sizeOf(name: string): number | undefined {
    const t = INT_NAMES[name];
    if (t && t.k === "int") return t.bits / 8;
    if (C_INTS[name]) return C_INTS[name]![0];
    return this.record(name)?.size;
  }

  private btfLayout(btf: Btf, id: number): Layout {
    const t = btf.type(id);
    const fields: RecordField[] = [];
    const add = (members: typeof t.members, base: number) => {
      for (const m of members) {
        const mid = skipModsAndTypedefs(btf, m.type);
        const mt = mid ? btf.type(mid) : undefined;
        const name = btf.str(m.nameOff) ?? "";
        const offset = base + Math.floor(m.bitOffset / 8);
        if (!name && mt && (mt.kind === K.BTF_KIND_STRUCT || mt.kind === K.BTF_KIND_UNION)) { add(mt.members, offset); continue; }
        if (m.bitfieldSize) continue;
        const { type, size, count } = this.btfType(btf, m.type);
        fields.push({ name, offset, type, size, count });
      }
    };
    add(t.members, 0);
    return { size: t.sizeOrType, align: 8, fields };
  }

  private btfType(btf: Btf, id0: number): { type: TType; size: number; count?: number } {
    const id = skipModsAndTypedefs(btf, id0);
    if (id === 0) return { type: INT64, size: 8 };
    const t = btf.type(id);
    switch (t.kind) {
      case K.BTF_KIND_INT: case K.BTF_KIND_ENUM: case K.BTF_KIND_ENUM64: {
        const size = t.sizeOrType;
        const signed = t.kind === K.BTF_KIND_INT ? (t.intEncoding & 1) !== 0 : t.kind === K.BTF_KIND_ENUM ? t.kflag : t.kflag;
        return { type: intT(bitsOf(size), signed), size };
      }
      case K.BTF_KIND_PTR: {
        const to = skipModsAndTypedefs(btf, t.sizeOrType);
        const tt = to ? btf.type(to) : undefined;
        let pointee: TType = INT64;
        if (tt && (tt.kind === K.BTF_KIND_STRUCT || tt.kind === K.BTF_KIND_UNION) && btf.name(tt)) {
          pointee = this.record(`${tt.kind === K.BTF_KIND_STRUCT ? "struct" : "union"} ${btf.name(tt)}`) ?? INT64;
        } else if (tt && tt.kind === K.BTF_KIND_INT) pointee = intT(bitsOf(tt.sizeOrType), (tt.intEncoding & 1) !== 0);
        return { type: { k: "ptr", to: pointee }, size: 8 };
      }
      case K.BTF_KIND_STRUCT: case K.BTF_KIND_UNION: {
        const name = btf.name(t);
        const r = name ? this.record(`${t.kind === K.BTF_KIND_STRUCT ? "struct" : "union"} ${name}`) : undefined;
        return { type: r ?? INT64, size: t.sizeOrType };
      }
      case K.BTF_KIND_ARRAY: {
        const el = skipModsAndTypedefs(btf, t.arrayType);
        const et = el ? btf.type(el) : undefined;
        const esz = resolveSize(btf, t.arrayType);
        if (et && et.kind === K.BTF_KIND_INT && esz === 1) return { type: str(t.arrayNelems), size: t.arrayNelems };
        return { ...this.btfType(btf, t.arrayType), count: t.arrayNelems };
      }
      default: {
        const size = resolveSize(btf, id);
        return { type: INT64, size: size > 0 ? size : 8 };
      }
    }
  }
}
