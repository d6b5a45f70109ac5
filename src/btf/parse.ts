// Parse raw BTF (a .BTF section or /sys/kernel/btf/*) into a Btf: header, string section and type section checked the
// way libbpf's btf_new() checks them, either byte order (libbpf byte-swaps non-native BTF; so do we, transparently).
import { BpfError } from "../errors.ts";
import { ByteReader, cstring } from "./bytes.ts";
import * as Kinds from "./kinds.ts";
import { VOID_TYPE } from "./types.ts";
import type { BtfEnumValue, BtfMember, BtfParam, BtfType, BtfVarSecinfo } from "./types.ts";

// module-local copy: tsx compiles imported bindings to getters, too slow for per-type loops over vmlinux
const K = { ...Kinds };

const NONE: readonly never[] = Object.freeze([]);
const BTF_MAX_STR_OFFSET = 0x7fffffff;

export interface BtfHeader {
  readonly version: number;
  readonly flags: number;
  readonly hdrLen: number;
  readonly typeOff: number;
  readonly typeLen: number;
  readonly strOff: number;
  readonly strLen: number;
}

export class Btf {
  readonly header: BtfHeader;
  readonly littleEndian: boolean;
  readonly base: Btf | undefined;
  /** First type id held here: 1, or base.typeCount for split BTF. */
  readonly startId: number;
  /** First string offset held here: 0, or base's string length for split BTF. */
  readonly startStrOff: number;
  private readonly own: BtfType[];
  private strs: Uint8Array;
  private readonly strCache = new Map<number, string>();
  private ptrSz = 0;

  constructor(header: BtfHeader, littleEndian: boolean, types: BtfType[], strs: Uint8Array, base?: Btf) {
    this.header = header;
    this.littleEndian = littleEndian;
    this.own = types;
    this.strs = strs;
    this.base = base;
    this.startId = base ? base.typeCount : 1;
    this.startStrOff = base ? base.startStrOff + base.strs.length : 0;
  }

  /** btf__type_cnt: one past the last type id. */
  get typeCount(): number {
    return this.startId + this.own.length;
  }

  /** This BTF's own string section bytes (for re-encoding). */
  get stringBytes(): Uint8Array {
    return this.strs;
  }

  /** Types held by this BTF itself (not its base), in id order. */
  get ownTypes(): readonly BtfType[] {
    return this.own;
  }

  type(id: number): BtfType {
    if (id === 0) return VOID_TYPE;
    if (id < this.startId && this.base) return this.base.type(id);
    const t = this.own[id - this.startId];
    if (t === undefined) throw new BpfError("EINVAL", `BTF: type id ${id} out of range (have ${this.typeCount - 1})`);
    return t;
  }

  /** Replace one of this BTF's own types (the loader's DATASEC fix-ups, as libbpf's btf_fixup_datasec edits in place). */
  replaceType(t: BtfType): void {
    if (t.id < this.startId || t.id >= this.typeCount) throw new BpfError("EINVAL", `BTF: cannot replace type ${t.id}`);
    this.own[t.id - this.startId] = t;
  }

  hasType(id: number): boolean {
    return id >= 0 && id < this.typeCount;
  }

  /**
   * libbpf's btf__add_str on a modifiable BTF: the offset of an existing string that starts at a string boundary,
   * else the string appended to this BTF's own section.
   */
  addString(str: string): number {
    const enc = new TextEncoder().encode(str);
    for (let o = 0; o < this.strs.length;) {
      let e = o;
      while (e < this.strs.length && this.strs[e] !== 0) e++;
      if (e - o === enc.length && enc.every((b, i) => this.strs[o + i] === b)) return this.startStrOff + o;
      o = e + 1;
    }
    const at = this.strs.length;
    const next = new Uint8Array(at + enc.length + 1);
    next.set(this.strs);
    next.set(enc, at);
    this.strs = next;
    return this.startStrOff + at;
  }

  /** libbpf's btf__add_*: a new type at the end; returns its id. */
  addType(t: Omit<BtfType, "id">): number {
    const id = this.typeCount;
    this.own.push({ ...t, id });
    return id;
  }

  /** btf__name_by_offset: undefined when the offset is outside the string section(s). */
  str(off: number): string | undefined {
    if (off < this.startStrOff) return this.base?.str(off);
    let s = this.strCache.get(off);
    if (s === undefined) {
      s = cstring(this.strs, off - this.startStrOff);
      if (s === undefined) return undefined;
      this.strCache.set(off, s);
    }
    return s;
  }

  /** A type's name, "" when anonymous or invalid. */
  name(t: BtfType | number): string {
    const ty = typeof t === "number" ? this.type(t) : t;
    return ty.nameOff === 0 ? "" : this.str(ty.nameOff) ?? "";
  }

  /** First type with this name (and kind, if given); 0 when none. */
  findByName(name: string, kind?: number): number {
    for (let id = 1; id < this.typeCount; id++) {
      const t = this.type(id);
      if ((kind === undefined || t.kind === kind) && this.name(t) === name) return id;
    }
    return 0;
  }

  /** Pointer size: set from the ELF class, else guessed from a `long` INT like libbpf's determine_ptr_size (8 if none). */
  get pointerSize(): number {
    if (this.ptrSz === 0) this.ptrSz = this.base?.pointerSize ?? guessPointerSize(this);
    return this.ptrSz;
  }
  set pointerSize(n: number) {
    this.ptrSz = n;
  }

  /** btf__pointer_size semantics: 0 when no `long` type tells. */
  get declaredPointerSize(): number {
    return this.ptrSz !== 0 ? this.ptrSz : guessPointerSizeOrZero(this);
  }
}

const LONG_ALIASES = new Set([
  "long", "long int", "int long", "unsigned long", "long unsigned", "unsigned long int", "unsigned int long",
  "long unsigned int", "long int unsigned", "int unsigned long", "int long unsigned",
]);

function guessPointerSizeOrZero(btf: Btf): number {
  for (let id = 1; id < btf.typeCount; id++) {
    const t = btf.type(id);
    if (t.kind !== K.BTF_KIND_INT || (t.sizeOrType !== 4 && t.sizeOrType !== 8)) continue;
    const n = t.nameOff === 0 ? "" : btf.str(t.nameOff);
    if (n !== undefined && LONG_ALIASES.has(n)) return t.sizeOrType;
  }
  return 0;
}

function guessPointerSize(btf: Btf): number {
  return guessPointerSizeOrZero(btf) || 8;
}

/** Size in bytes of a type record of this kind and vlen; -1 for an unknown kind. */
export function btfTypeRecordSize(kind: number, vlen: number): number {
  switch (kind) {
    case K.BTF_KIND_FWD: case K.BTF_KIND_CONST: case K.BTF_KIND_VOLATILE: case K.BTF_KIND_RESTRICT:
    case K.BTF_KIND_PTR: case K.BTF_KIND_TYPEDEF: case K.BTF_KIND_FUNC: case K.BTF_KIND_FLOAT: case K.BTF_KIND_TYPE_TAG:
      return 12;
    case K.BTF_KIND_INT: case K.BTF_KIND_VAR: case K.BTF_KIND_DECL_TAG:
      return 16;
    case K.BTF_KIND_ENUM: case K.BTF_KIND_FUNC_PROTO:
      return 12 + 8 * vlen;
    case K.BTF_KIND_ENUM64: case K.BTF_KIND_STRUCT: case K.BTF_KIND_UNION: case K.BTF_KIND_DATASEC:
      return 12 + 12 * vlen;
    case K.BTF_KIND_ARRAY:
      return 24;
    default:
      return -1;
  }
}

/**
 * Parse raw BTF bytes. `what` names the source in errors (e.g. "section '.BTF'"), `fileOffset` is where the bytes sit
 * in their file so errors name absolute offsets. `base` makes it split BTF (module BTF over vmlinux).
 */
export function parseBtf(bytes: Uint8Array, opts: { base?: Btf; what?: string; fileOffset?: number } = {}): Btf {
  const what = opts.what ?? "BTF";
  if (bytes.length < 24) {
    throw new BpfError("FORMAT", `${what}: BTF header not found: ${bytes.length} bytes, need 24 (offset 0x${(opts.fileOffset ?? 0).toString(16)})`, {
      offset: opts.fileOffset ?? 0,
      section: sectionName(what),
    });
  }
  const magicLE = bytes[0]! | (bytes[1]! << 8);
  let le: boolean;
  if (magicLE === K.BTF_MAGIC) le = true;
  else if (magicLE === 0x9feb) le = false;
  else {
    throw new BpfError("FORMAT", `${what}: invalid BTF magic 0x${magicLE.toString(16)} (offset 0x${(opts.fileOffset ?? 0).toString(16)})`, {
      offset: opts.fileOffset ?? 0,
      section: sectionName(what),
    });
  }
  const r = new ByteReader(bytes, le, what, opts.fileOffset ?? 0);
  const hdrLen = r.u32(4);
  const header: BtfHeader = {
    version: r.u8(2), flags: r.u8(3), hdrLen,
    typeOff: r.u32(8), typeLen: r.u32(12), strOff: r.u32(16), strLen: r.u32(20),
  };
  if (header.version !== 1) r.fail(2, `unsupported BTF version ${header.version}`);
  if (!le && hdrLen !== 24) r.fail(4, `can't load BTF with non-native endianness due to unsupported header length ${hdrLen}`);
  if (hdrLen < 24 || hdrLen > bytes.length) r.fail(4, `BTF header len ${hdrLen} larger than data size ${bytes.length}`);
  // kernel btf_parse_hdr: bytes of a longer (newer) header that we don't know must be zero
  for (let i = 24; i < hdrLen; i++) if (bytes[i] !== 0) r.fail(i, "unsupported BTF header: non-zero bytes past the known header");
  const metaLeft = bytes.length - hdrLen;
  if (metaLeft < header.strOff + header.strLen) r.fail(16, `invalid BTF total size ${bytes.length}: strings at ${header.strOff} + ${header.strLen} past the end`);
  if (header.typeOff + header.typeLen > header.strOff) {
    r.fail(8, `invalid BTF data sections layout: type data at ${header.typeOff} + ${header.typeLen}, strings data at ${header.strOff} + ${header.strLen}`);
  }
  if (header.typeOff % 4) r.fail(8, "BTF type section is not aligned to 4 bytes");

  const strStart = hdrLen + header.strOff;
  const strs = bytes.subarray(strStart, strStart + header.strLen);
  if (!(opts.base && header.strLen === 0)) {
    if (header.strLen === 0 || header.strLen - 1 > BTF_MAX_STR_OFFSET || strs[strs.length - 1] !== 0) {
      r.fail(strStart, "invalid BTF string section: empty or not NUL-terminated");
    }
    if (!opts.base && strs[0] !== 0) r.fail(strStart, "invalid BTF string section: does not start with an empty string");
  }

  const types: BtfType[] = [];
  const startId = opts.base ? opts.base.typeCount : 1;
  const start = hdrLen + header.typeOff;
  const end = start + header.typeLen;
  let o = start;
  while (o + 12 <= end) {
    const id = startId + types.length;
    const nameOff = r.u32(o);
    const info = r.u32(o + 4);
    const sizeOrType = r.u32(o + 8);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const kflag = (info >>> 31) === 1;
    const size = btfTypeRecordSize(kind, vlen);
    if (size < 0) r.fail(o + 4, `BTF type [${id}] has unsupported kind ${kind}`);
    if (o + size > end) r.fail(o, `BTF type [${id}] is malformed: its ${size}-byte record runs past the type section`);
    const p = o + 12;
    let intEncoding = 0, intOffset = 0, intBits = 0, arrayType = 0, arrayIndexType = 0, arrayNelems = 0, linkage = 0, componentIdx = 0;
    let members: readonly BtfMember[] = NONE;
    let enumValues: readonly BtfEnumValue[] = NONE;
    let params: readonly BtfParam[] = NONE;
    let secinfos: readonly BtfVarSecinfo[] = NONE;
    switch (kind) {
      case K.BTF_KIND_INT: {
        const v = r.u32(p);
        intEncoding = (v >>> 24) & 0x0f;
        intOffset = (v >>> 16) & 0xff;
        intBits = v & 0xff;
        break;
      }
      case K.BTF_KIND_ARRAY:
        arrayType = r.u32(p);
        arrayIndexType = r.u32(p + 4);
        arrayNelems = r.u32(p + 8);
        break;
      case K.BTF_KIND_STRUCT:
      case K.BTF_KIND_UNION: {
        const ms: BtfMember[] = new Array(vlen);
        for (let i = 0, q = p; i < vlen; i++, q += 12) {
          const off = r.u32(q + 8);
          ms[i] = kflag
            ? { nameOff: r.u32(q), type: r.u32(q + 4), bitOffset: off & 0xffffff, bitfieldSize: off >>> 24 }
            : { nameOff: r.u32(q), type: r.u32(q + 4), bitOffset: off, bitfieldSize: 0 };
        }
        members = ms;
        break;
      }
      case K.BTF_KIND_ENUM: {
        const vs: BtfEnumValue[] = new Array(vlen);
        for (let i = 0, q = p; i < vlen; i++, q += 8) vs[i] = { nameOff: r.u32(q), lo: r.u32(q + 4), hi: 0 };
        enumValues = vs;
        break;
      }
      case K.BTF_KIND_ENUM64: {
        const vs: BtfEnumValue[] = new Array(vlen);
        for (let i = 0, q = p; i < vlen; i++, q += 12) vs[i] = { nameOff: r.u32(q), lo: r.u32(q + 4), hi: r.u32(q + 8) };
        enumValues = vs;
        break;
      }
      case K.BTF_KIND_FUNC_PROTO: {
        const ps: BtfParam[] = new Array(vlen);
        for (let i = 0, q = p; i < vlen; i++, q += 8) ps[i] = { nameOff: r.u32(q), type: r.u32(q + 4) };
        params = ps;
        break;
      }
      case K.BTF_KIND_VAR:
        linkage = r.u32(p);
        break;
      case K.BTF_KIND_DATASEC: {
        const vs: BtfVarSecinfo[] = new Array(vlen);
        for (let i = 0, q = p; i < vlen; i++, q += 12) vs[i] = { type: r.u32(q), offset: r.u32(q + 4), size: r.u32(q + 8) };
        secinfos = vs;
        break;
      }
      case K.BTF_KIND_DECL_TAG:
        componentIdx = r.i32(p);
        break;
    }
    types.push({
      id, kind, nameOff, kflag, vlen, sizeOrType, intEncoding, intOffset, intBits, arrayType, arrayIndexType,
      arrayNelems, members, enumValues, params, secinfos, linkage, componentIdx,
    });
    o += size;
  }
  if (o !== end) r.fail(o, "BTF types data is malformed: trailing bytes after the last type");
  return new Btf(header, le, types, strs, opts.base);
}

function sectionName(what: string): string | undefined {
  const m = /section '([^']*)'/.exec(what);
  return m ? m[1] : undefined;
}
