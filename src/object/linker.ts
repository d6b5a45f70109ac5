// The BPF static linker (`bpftool gen object OUT IN...`), as libbpf's bpf_linker does it: sections of the same name
// merged in input order (aligned, "license"/"version" deduplicated), symbols appended with globals resolved across
// objects (an extern takes its definition, weak yields to strong), relocations re-targeted to the merged sections and
// symbols (section-relative addends in instructions shifted), BTF appended with DATASECs rebuilt per merged section,
// then deduplicated (structurally equivalent types merged, strings rebuilt in visit order), and .BTF.ext records moved
// with their sections. DWARF, .llvm_addrsig and empty .text are dropped. Pure: bytes in, bytes out.
import { BpfError } from "../errors.ts";
import * as K from "../btf/kinds.ts";
import { resolveSize } from "../btf/layout.ts";
import { parseBtf } from "../btf/parse.ts";
import type { Btf } from "../btf/parse.ts";
import { parseBtfExt } from "../btf/ext.ts";
import type { BtfType } from "../btf/types.ts";
import * as E from "./elf.ts";
import type { ElfFile, ElfSection } from "./elf.ts";

export interface LinkerInput {
  readonly name: string;
  readonly bytes: Uint8Array;
}

// ------------------------------------------------------------------------------------------------ model

/** A BTF type with names as strings (the string table is rebuilt at the end). */
interface DType {
  kind: number;
  name: string;
  kflag: boolean;
  sizeOrType: number;
  intEncoding: number;
  intOffset: number;
  intBits: number;
  arrayType: number;
  arrayIndexType: number;
  arrayNelems: number;
  members: { name: string; type: number; bitOffset: number; bitfieldSize: number }[];
  enumValues: { name: string; lo: number; hi: number }[];
  params: { name: string; type: number }[];
  secinfos: { type: number; offset: number; size: number }[];
  linkage: number;
  componentIdx: number;
}

interface ExtRecs {
  func: { insnOff: number; typeId: number }[];
  line: { insnOff: number; fileName: string; line: string; lineNum: number; lineCol: number }[];
  core: { insnOff: number; typeId: number; access: string; kind: number }[];
}

interface DstSec {
  readonly id: number;
  readonly name: string;
  /** ELF section index in the output; 0 while ephemeral (an extern-only section such as .kconfig). */
  elfIdx: number;
  ephemeral: boolean;
  type: number;
  flags: number;
  align: number;
  entsize: number;
  link: number;
  info: number;
  size: number;
  data: number[] | undefined;
  secSymIdx: number;
  hasBtf: boolean;
  vars: { type: number; offset: number; size: number }[];
  ext: ExtRecs;
}

interface SrcSec {
  readonly name: string;
  readonly elf: ElfSection | undefined;
  readonly ephemeral: boolean;
  skipped: boolean;
  dstId: number;
  dstOff: number;
  secTypeId: number;
}

interface GlobSym {
  readonly name: string;
  symIdx: number;
  secId: number;
  btfId: number;
  underlying: number;
  isExtern: boolean;
  isWeak: boolean;
  varIdx: number;
}

interface Sym {
  name: number;
  info: number;
  other: number;
  shndx: number;
  value: number;
  size: number;
}

const BTF_VAR_STATIC = 0, BTF_VAR_GLOBAL_ALLOCATED = 1, BTF_FUNC_STATIC = 0, BTF_FUNC_GLOBAL = 1;
const STT_SECTION = 3;
/** The DATASEC name the linker keeps no section for (libbpf's BTF_EXTERN_SEC). */
const BTF_EXTERN_SEC = ".extern";
const refErr = (msg: string): BpfError => new BpfError("EINVAL", msg);

/** An insertion-ordered string set: offsets into one NUL-separated table, the empty string at 0. */
class StrSet {
  private readonly map = new Map<string, number>([["", 0]]);
  private size = 1;
  private readonly parts: string[] = [""];
  add(s: string): number {
    let off = this.map.get(s);
    if (off === undefined) {
      off = this.size;
      this.map.set(s, off);
      this.parts.push(s);
      this.size += latin1Length(s) + 1;
    }
    return off;
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const p of this.parts) {
      for (let i = 0; i < p.length; i++) out[o++] = p.charCodeAt(i) & 0xff;
      out[o++] = 0;
    }
    return out;
  }
}
const latin1Length = (s: string): number => s.length;

function toDType(btf: Btf, t: BtfType): DType {
  const s = (off: number) => btf.str(off) ?? "";
  return {
    kind: t.kind, name: s(t.nameOff), kflag: t.kflag, sizeOrType: t.sizeOrType, intEncoding: t.intEncoding,
    intOffset: t.intOffset, intBits: t.intBits, arrayType: t.arrayType, arrayIndexType: t.arrayIndexType,
    arrayNelems: t.arrayNelems,
    members: t.members.map((m) => ({ name: s(m.nameOff), type: m.type, bitOffset: m.bitOffset, bitfieldSize: m.bitfieldSize })),
    enumValues: t.enumValues.map((v) => ({ name: s(v.nameOff), lo: v.lo, hi: v.hi })),
    params: t.params.map((p) => ({ name: s(p.nameOff), type: p.type })),
    secinfos: t.secinfos.map((v) => ({ ...v })), linkage: t.kind === K.BTF_KIND_FUNC ? t.vlen : t.linkage, componentIdx: t.componentIdx,
  };
}

const hasTypeRef = (k: number): boolean =>
  k === K.BTF_KIND_PTR || k === K.BTF_KIND_TYPEDEF || k === K.BTF_KIND_VOLATILE || k === K.BTF_KIND_CONST ||
  k === K.BTF_KIND_RESTRICT || k === K.BTF_KIND_FUNC || k === K.BTF_KIND_FUNC_PROTO || k === K.BTF_KIND_VAR ||
  k === K.BTF_KIND_DECL_TAG || k === K.BTF_KIND_TYPE_TAG;

/** Every type id a type refers to, through a callback that may replace it. */
function visitTypeIds(t: DType, f: (id: number) => number): void {
  if (hasTypeRef(t.kind)) t.sizeOrType = f(t.sizeOrType);
  if (t.kind === K.BTF_KIND_ARRAY) {
    t.arrayType = f(t.arrayType);
    t.arrayIndexType = f(t.arrayIndexType);
  }
  for (const m of t.members) m.type = f(m.type);
  for (const p of t.params) p.type = f(p.type);
  for (const v of t.secinfos) v.type = f(v.type);
}

const isNonStatic = (t: DType): boolean =>
  (t.kind === K.BTF_KIND_VAR && t.linkage !== BTF_VAR_STATIC) || (t.kind === K.BTF_KIND_FUNC && t.linkage !== BTF_FUNC_STATIC);

// ------------------------------------------------------------------------------------------------ linker

class Linker {
  readonly secs: DstSec[] = [];
  readonly strtab = new StrSet();
  readonly syms: Sym[] = [{ name: 0, info: 0, other: 0, shndx: 0, value: 0, size: 0 }];
  readonly globs: GlobSym[] = [];
  readonly types: DType[] = [];
  /** The BTF string table in libbpf's insertion order (the linker's BTF starts deduplicated, so dedup keeps it). */
  readonly btfStrs = new StrSet();
  private nextElfIdx = 1;

  constructor() {
    this.newSec(".strtab", { type: E.SHT_STRTAB, flags: 0x20, align: 1, entsize: 0 });
    this.newSec(".symtab", { type: E.SHT_SYMTAB, flags: 0, align: 8, entsize: 24 });
    this.secs[1]!.link = 1;
  }

  private newSec(name: string, h: { type: number; flags: number; align: number; entsize: number } | undefined): DstSec {
    const sec: DstSec = {
      id: this.secs.length, name, elfIdx: 0, ephemeral: h === undefined, type: h?.type ?? 0, flags: h?.flags ?? 0,
      align: h?.align ?? 0, entsize: h?.entsize ?? 0, link: 0, info: 0, size: 0, data: h && h.type !== E.SHT_NOBITS ? [] : undefined,
      secSymIdx: 0, hasBtf: false, vars: [], ext: { func: [], line: [], core: [] },
    };
    if (h) {
      sec.elfIdx = this.nextElfIdx++;
      this.strtab.add(name);
    }
    this.secs.push(sec);
    return sec;
  }

  private initFrom(dst: DstSec, src: ElfSection): void {
    dst.ephemeral = false;
    dst.elfIdx = this.nextElfIdx++;
    this.strtab.add(dst.name);
    dst.type = src.type;
    dst.flags = src.flags;
    dst.align = src.addralign;
    dst.entsize = src.entsize;
    dst.data = src.type !== E.SHT_NOBITS ? [] : undefined;
  }

  private findSec(name: string): DstSec | undefined {
    return this.secs.find((s) => s.name === name);
  }

  private extend(dst: DstSec, src: SrcSec): void {
    if (src.ephemeral || !src.elf) return;
    if (dst.ephemeral) this.initFrom(dst, src.elf);
    let align = dst.align || 1;
    if (align < src.elf.addralign) align = src.elf.addralign;
    const at = Math.ceil(dst.size / align) * align;
    if (src.elf.type !== E.SHT_NOBITS) {
      const d = dst.data ?? (dst.data = []);
      while (d.length < at) d.push(0);
      for (let i = 0; i < src.elf.data.length; i++) d.push(src.elf.data[i]!);
    }
    dst.size = at + src.elf.size;
    dst.align = align;
    src.dstOff = at;
  }

  addObject(input: LinkerInput): void {
    const file = input.name;
    const elf = E.parseElf(input.bytes);
    if (!elf.littleEndian) throw new BpfError("EOPNOTSUPP", `unsupported endianness of ELF file ${file}`);
    if (elf.machine !== E.EM_BPF) throw new BpfError("EOPNOTSUPP", `unsupported kind of ELF file ${file}`);
    const srcs: SrcSec[] = [{ name: "", elf: undefined, ephemeral: false, skipped: true, dstId: 0, dstOff: 0, secTypeId: 0 }];
    let btf: Btf | undefined;
    let extBytes: ElfSection | undefined;
    let symtab: ElfSection | undefined;
    for (const sec of elf.sections) {
      if (sec.index === 0) continue;
      const src: SrcSec = { name: sec.name, elf: sec, ephemeral: false, skipped: false, dstId: 0, dstOff: 0, secTypeId: 0 };
      srcs.push(src);
      if (ignored(sec)) {
        src.skipped = true;
        continue;
      }
      switch (sec.type) {
        case E.SHT_SYMTAB:
          if (symtab) throw new BpfError("EOPNOTSUPP", `multiple SYMTAB sections found, not supported`);
          symtab = sec;
          break;
        case E.SHT_STRTAB:
          break;
        case E.SHT_PROGBITS:
          if (sec.name === ".BTF") {
            btf = parseBtf(sec.data, { what: `section '.BTF' of ${file}`, fileOffset: sec.offset });
            src.skipped = true;
          } else if (sec.name === ".BTF.ext") {
            extBytes = sec;
            src.skipped = true;
          }
          break;
        case E.SHT_NOBITS: case E.SHT_REL:
          break;
        default:
          throw new BpfError("EINVAL", `unrecognized section #${sec.index} (${sec.name}) in ${file}`);
      }
    }
    if (!symtab) throw new BpfError("EINVAL", `ELF is missing SYMTAB section in ${file}`);
    const ext = btf && extBytes ? parseBtfExt(extBytes.data, btf, { fileOffset: extBytes.offset }) : undefined;
    const srcByName = (n: string) => srcs.find((s) => s.name === n && !(s.elf && s.elf.type === E.SHT_REL));

    // linker_fixup_btf: DATASEC sizes from sections, global variable offsets from symbols; extern-only sections
    const dtypes: (DType | undefined)[] = [undefined];
    if (btf) {
      for (let id = 1; id < btf.typeCount; id++) dtypes.push(toDType(btf, btf.type(id)));
      for (let id = 1; id < btf.typeCount; id++) {
        const t = dtypes[id]!;
        if (t.kind !== K.BTF_KIND_DATASEC) continue;
        let src = srcByName(t.name);
        if (src) {
          if (src.elf) t.sizeOrType = src.elf.size;
        } else {
          if (t.name === BTF_EXTERN_SEC) continue;
          src = { name: t.name, elf: undefined, ephemeral: true, skipped: false, dstId: 0, dstOff: 0, secTypeId: 0 };
          srcs.push(src);
        }
        src.secTypeId = id;
        for (const vi of t.secinfos) {
          const v = dtypes[vi.type];
          if (!v || v.kind !== K.BTF_KIND_VAR || v.linkage !== BTF_VAR_GLOBAL_ALLOCATED) continue;
          const sym = elf.symbols.find((s) => s.shndx === src!.elf?.index && s.type === E.STT_OBJECT && s.name === v.name);
          if (!sym) throw new BpfError("ENOENT", `can't find symbol '${v.name}' for variable in section '${t.name}'`);
          vi.offset = sym.value;
        }
      }
    }

    // linker_append_sec_data
    for (const src of srcs) {
      if (src.skipped || !(src.ephemeral || src.elf!.type === E.SHT_PROGBITS || src.elf!.type === E.SHT_NOBITS)) continue;
      let dst = this.findSec(src.name);
      if (!dst) {
        dst = this.newSec(src.name, src.elf ? { type: src.elf.type, flags: src.elf.flags, align: src.elf.addralign, entsize: src.elf.entsize } : undefined);
        if (!src.elf) dst.ephemeral = true;
      } else {
        if (!dst.ephemeral && src.elf && (dst.type !== src.elf.type || dst.flags !== src.elf.flags || dst.entsize !== src.elf.entsize)) {
          throw new BpfError("EINVAL", `ELF sections ${src.name} are incompatible`);
        }
        if (src.name === "license" || src.name === "version") {
          const same = dst.size === src.elf!.size && dst.data!.every((b, i) => b === src.elf!.data[i]);
          if (!same) throw new BpfError("EINVAL", `non-identical contents of section '${src.name}' are not supported`);
          src.skipped = true;
          src.dstId = dst.id;
          continue;
        }
      }
      src.dstId = dst.id;
      this.extend(dst, src);
    }

    // linker_append_elf_syms
    const symMap: number[] = [];
    for (const sym of elf.symbols) {
      if (sym.index === 0) continue;
      symMap[sym.index] = this.addSym(elf, btf, dtypes, srcs, sym, file);
    }

    // linker_append_elf_relos
    for (const src of srcs) {
      if (src.skipped || src.ephemeral || src.elf!.type !== E.SHT_REL) continue;
      const linked = srcs[src.elf!.info];
      if (!linked || linked.skipped) continue;
      let dst = this.findSec(src.name);
      if (!dst) dst = this.newSec(src.name, { type: E.SHT_REL, flags: src.elf!.flags, align: src.elf!.addralign, entsize: src.elf!.entsize });
      dst.link = 2;
      const dstLinked = this.secs[linked.dstId]!;
      dst.info = dstLinked.elfIdx;
      src.dstId = dst.id;
      this.extend(dst, src);
      const rels = parseRels(elf, src.elf!);
      const base = src.dstOff;
      const d = dst.data!;
      const dv = new DataView(new ArrayBuffer(16));
      rels.forEach((r, j) => {
        const srcSym = elf.symbols[r.symbol];
        const dstSymIdx = symMap[r.symbol] ?? 0;
        const off = r.offset + linked.dstOff;
        dv.setBigUint64(0, BigInt(off), true);
        dv.setBigUint64(8, (BigInt(dstSymIdx) << 32n) | BigInt(r.type), true);
        for (let k = 0; k < 16; k++) d[base + j * 16 + k] = dv.getUint8(k);
        if (srcSym && srcSym.type === STT_SECTION) {
          const sec = srcs[srcSym.shndx]!;
          if (!(linked.elf!.flags & E.SHF_EXECINSTR)) throw new BpfError("EINVAL", "relocation against STT_SECTION in non-exec section is not supported!");
          const code = dstLinked.data!;
          const isCall = code[off] === 0x85;
          const imm = (code[off + 4]! | (code[off + 5]! << 8) | (code[off + 6]! << 16) | (code[off + 7]! << 24)) + (isCall ? sec.dstOff / 8 : sec.dstOff);
          code[off + 4] = imm & 0xff; code[off + 5] = (imm >>> 8) & 0xff; code[off + 6] = (imm >>> 16) & 0xff; code[off + 7] = (imm >>> 24) & 0xff;
        }
      });
    }

    if (btf) this.appendBtf(btf, dtypes, srcs, ext);
  }

  private addSym(elf: ElfFile, btf: Btf | undefined, dtypes: (DType | undefined)[], srcs: SrcSec[], sym: E.ElfSymbol, file: string): number {
    const isExtern = sym.shndx === E.SHN_UNDEF;
    let src: SrcSec | undefined;
    let dst: DstSec | undefined;
    if (isExtern) {
      if (!btf) throw new BpfError("ENOTSUPP", "externs without BTF info are not supported");
    } else if (sym.shndx < 0xff00) {
      src = srcs[sym.shndx];
      if (!src || src.skipped) return 0;
      dst = this.secs[src.dstId];
      if (sym.type === STT_SECTION && dst && dst.secSymIdx) return dst.secSymIdx;
    }
    if (sym.bind !== E.STB_LOCAL) {
      if (!btf) throw new BpfError("EINVAL", `failed to find BTF info for object '${file}'`);
      const found = findGlobSymBtf(dtypes, sym.name);
      if (!found) throw new BpfError("ENOENT", `failed to find BTF info for global/extern symbol '${sym.name}'`);
      if (isExtern && found.secId) {
        const secName = dtypes[found.secId]!.name;
        if (secName !== BTF_EXTERN_SEC) {
          const s = srcs.find((x) => x.name === secName);
          if (!s) throw new BpfError("ENOENT", `failed to find matching ELF sec '${secName}'`);
          dst = this.secs[s.dstId];
        }
      }
      const glob = this.globs.find((g) => g.name === sym.name);
      if (glob) {
        if (!isExtern && !glob.isExtern && !glob.isWeak && sym.bind !== E.STB_WEAK) {
          throw new BpfError("EINVAL", `conflicting non-weak symbol #${sym.index} (${sym.name}) definition in '${file}'`);
        }
        const d = this.syms[glob.symIdx]!;
        if (sym.bind === E.STB_GLOBAL) {
          d.info = (E.STB_GLOBAL << 4) | (d.info & 0xf);
          glob.isWeak = false;
        }
        if (sym.visibility > (d.other & 3)) d.other = (d.other & ~3) | sym.visibility;
        if (isExtern) return glob.symIdx;
        if (!glob.isExtern && sym.bind === E.STB_WEAK) return glob.symIdx;
        d.info = (d.info & 0xf0) | sym.type;
        d.shndx = dst!.elfIdx;
        d.value = src!.dstOff + sym.value;
        d.size = sym.size;
        glob.secId = dst!.id;
        glob.isExtern = false;
        // complete_extern_btf_info: the extern's BTF becomes a definition, with the definition's parameter names
        const gt = this.types[glob.btfId - 1];
        const st = dtypes[found.id];
        if (gt && st) {
          if (gt.kind === K.BTF_KIND_VAR) gt.linkage = BTF_VAR_GLOBAL_ALLOCATED;
          else {
            gt.linkage = BTF_FUNC_GLOBAL;
            const gp = this.types[gt.sizeOrType - 1], sp = dtypes[st.sizeOrType];
            if (gp && sp) gp.params.forEach((p, i) => { if (sp.params[i]?.name) p.name = sp.params[i]!.name, this.btfStrs.add(p.name); });
          }
        }
        glob.underlying = 0;
        return glob.symIdx;
      }
    }
    const nameOff = this.strtab.add(sym.name);
    const idx = this.syms.length;
    const info = (sym.bind << 4) | sym.type;
    this.syms.push({
      name: nameOff, info, other: sym.visibility, shndx: dst ? dst.elfIdx : sym.shndx,
      value: (src ? src.dstOff : 0) + sym.value, size: sym.size,
    });
    if (sym.type === STT_SECTION && dst) {
      dst.secSymIdx = idx;
      this.syms[idx]!.value = 0;
    }
    if (sym.bind !== E.STB_LOCAL) {
      this.globs.push({
        name: sym.name, symIdx: idx, secId: dst ? dst.id : 0, btfId: 0, underlying: 0, isExtern, isWeak: sym.bind === E.STB_WEAK, varIdx: -1,
      });
    }
    return idx;
  }

  private appendBtf(btf: Btf, dtypes: (DType | undefined)[], srcs: SrcSec[], ext: ReturnType<typeof parseBtfExt> | undefined): void {
    const start = this.types.length + 1;
    const map: number[] = [0];
    for (let id = 1; id < btf.typeCount; id++) {
      const t = dtypes[id]!;
      if (t.kind === K.BTF_KIND_DATASEC) continue;
      let glob: GlobSym | undefined;
      if (isNonStatic(t)) {
        glob = this.globs.find((g) => g.name === t.name);
        if (!glob) continue;
        if (glob.underlying === 0) glob.underlying = -t.sizeOrType;
        if (glob.btfId) {
          map[id] = glob.btfId;
          continue;
        }
      }
      this.types.push({ ...t, members: t.members.map((m) => ({ ...m })), enumValues: t.enumValues.map((v) => ({ ...v })),
        params: t.params.map((p) => ({ ...p })), secinfos: t.secinfos.map((v) => ({ ...v })) });
      const nid = this.types.length;
      encodeTypes([this.types[nid - 1]!], this.btfStrs, true);
      map[id] = nid;
      if (glob) {
        glob.btfId = nid;
        glob.underlying = -t.sizeOrType;
      }
    }
    const remap = (id: number): number => {
      if (id === 0) return 0;
      const n = map[id];
      if (!n) throw refErr(`failed to find new ID mapping for original BTF type ID ${id}`);
      return n;
    };
    for (let i = start; i <= this.types.length; i++) visitTypeIds(this.types[i - 1]!, remap);
    for (const g of this.globs) {
      if (g.underlying >= 0) continue;
      g.underlying = remap(-g.underlying);
      this.types[g.btfId - 1]!.sizeOrType = g.underlying;
    }
    const view = this.btfView();
    for (const src of srcs) {
      if (!src.secTypeId || src.skipped) continue;
      const dst = this.secs[src.dstId]!;
      dst.hasBtf = true;
      for (const sv of dtypes[src.secTypeId]!.secinfos) {
        const nid = map[sv.type] ?? 0;
        const t = this.types[nid - 1];
        let glob: GlobSym | undefined;
        if (t && isNonStatic(t)) {
          glob = this.globs.find((g) => g.name === t.name);
          if (glob && glob.secId !== dst.id) {
            throw new BpfError("EINVAL", `global '${t.name}': section mismatch ${glob.secId} vs ${dst.id}`);
          }
        }
        if (glob && glob.varIdx >= 0) {
          const sz = resolveSize(view, glob.underlying);
          if (sz < 0) throw new BpfError("EINVAL", `global '${t!.name}': failed to resolve size of underlying type: ${sz}`);
          dst.vars[glob.varIdx]!.size = sz;
          continue;
        }
        dst.vars.push({ type: nid, size: sv.size, offset: src.dstOff + sv.offset });
        if (glob) glob.varIdx = dst.vars.length - 1;
      }
    }
    if (!ext) return;
    const sec = (name: string) => {
      const s = srcs.find((x) => x.name === name && x.elf?.type !== E.SHT_REL);
      if (!s) throw new BpfError("EINVAL", `can't find section '${name}' referenced from .BTF.ext`);
      return s;
    };
    const str = (off: number) => btf.str(off) ?? "";
    for (const es of ext.funcInfo) {
      const s = sec(es.secName);
      for (const r of es.records) this.secs[s.dstId]!.ext.func.push({ insnOff: r.insnOff + s.dstOff, typeId: map[r.typeId] ?? 0 });
    }
    for (const es of ext.lineInfo) {
      const s = sec(es.secName);
      for (const r of es.records) {
        this.secs[s.dstId]!.ext.line.push({ insnOff: r.insnOff + s.dstOff, fileName: str(r.fileNameOff), line: str(r.lineOff), lineNum: r.lineNum, lineCol: r.lineCol });
        this.btfStrs.add(str(r.fileNameOff));
        this.btfStrs.add(str(r.lineOff));
      }
    }
    for (const es of ext.coreRelos) {
      const s = sec(es.secName);
      for (const r of es.records) {
        this.secs[s.dstId]!.ext.core.push({ insnOff: r.insnOff + s.dstOff, typeId: map[r.typeId] ?? 0, access: str(r.accessStrOff), kind: r.kind });
        this.btfStrs.add(str(r.accessStrOff));
      }
    }
  }

  /** A read-only Btf over the merged types (for size resolution). */
  private btfView(): Btf {
    const enc = encodeTypes(this.types, new StrSet());
    return parseBtf(enc);
  }

  finish(): Uint8Array {
    // finalize_btf: one DATASEC per merged section with variables, then dedup
    const sections: { name: string; type: number; flags: number; align: number; entsize: number; link: number; info: number; data: Uint8Array | undefined; size: number }[] = [];
    let btfBytes: Uint8Array | undefined, extBytes: Uint8Array | undefined;
    if (this.types.length) {
      for (const s of this.secs) {
        if (!s.hasBtf) continue;
        this.btfStrs.add(s.name);
        this.types.push({
          kind: K.BTF_KIND_DATASEC, name: s.name, kflag: false, sizeOrType: s.size, intEncoding: 0, intOffset: 0, intBits: 0,
          arrayType: 0, arrayIndexType: 0, arrayNelems: 0, members: [], enumValues: [], params: [],
          secinfos: s.vars.map((v) => ({ ...v })), linkage: 0, componentIdx: 0,
        });
      }
      const strs = this.btfStrs;
      encodeExt(this.secs, strs);
      const remap = dedup(this.types);
      const kept = this.types.filter((_, i) => remap[i + 1] === i + 1);
      const newId: number[] = [0];
      let n = 0;
      for (let i = 1; i <= this.types.length; i++) if (remap[i] === i) newId[i] = ++n;
      const final = (id: number) => (id === 0 ? 0 : newId[remap[id]!]!);
      for (const t of kept) visitTypeIds(t, final);
      for (const s of this.secs) for (const r of [...s.ext.func, ...s.ext.core]) r.typeId = final(r.typeId);
      extBytes = encodeExt(this.secs, strs);
      btfBytes = encodeTypes(kept, strs);
    }
    this.strtab.add(".BTF");
    if (extBytes) this.strtab.add(".BTF.ext");
    // sections in ELF index order
    const bySecIdx = this.secs.filter((s) => !s.ephemeral && s.elfIdx).sort((a, b) => a.elfIdx - b.elfIdx);
    for (const s of bySecIdx) {
      let data: Uint8Array | undefined;
      if (s.name === ".strtab" && s.id === 0) data = undefined;
      else if (s.id === 1) data = symtabBytes(this.syms);
      else data = s.data ? Uint8Array.from(s.data) : undefined;
      sections.push({ name: s.name, type: s.type, flags: s.flags, align: s.align, entsize: s.entsize, link: s.link, info: s.info, data, size: s.id === 1 ? data!.length : s.size });
    }
    if (btfBytes) sections.push({ name: ".BTF", type: E.SHT_PROGBITS, flags: 0, align: 8, entsize: 0, link: 0, info: 0, data: btfBytes, size: btfBytes.length });
    if (extBytes) sections.push({ name: ".BTF.ext", type: E.SHT_PROGBITS, flags: 0, align: 8, entsize: 0, link: 0, info: 0, data: extBytes, size: extBytes.length });
    const strtab = this.strtab.bytes();
    sections[0] = { ...sections[0]!, data: strtab, size: strtab.length };
    return writeElf(sections, (n) => this.strtab.add(n));
  }
}

function ignored(sec: ElfSection): boolean {
  if (sec.type === E.SHT_STRTAB || sec.type === E.SHT_LLVM_ADDRSIG) return true;
  if (sec.type === E.SHT_PROGBITS && sec.size === 0 && sec.name === ".text") return true;
  if (sec.name.startsWith(".debug_")) return true;
  if (sec.name.startsWith(".rel")) {
    const n = sec.name.slice(4);
    if (n.startsWith(".debug_") || n === ".BTF" || n === ".BTF.ext") return true;
  }
  return false;
}

function findGlobSymBtf(dtypes: (DType | undefined)[], name: string): { id: number; secId: number } | undefined {
  let found = 0;
  for (let id = 1; id < dtypes.length; id++) {
    const t = dtypes[id]!;
    if (isNonStatic(t)) {
      if (t.name === name) found = id;
      continue;
    }
    if (t.kind !== K.BTF_KIND_DATASEC) continue;
    for (const vi of t.secinfos) {
      const v = dtypes[vi.type];
      if (!v || v.name !== name) continue;
      if (v.kind === K.BTF_KIND_VAR && v.linkage === BTF_VAR_STATIC) continue;
      if (v.kind === K.BTF_KIND_FUNC && v.linkage === BTF_FUNC_STATIC) continue;
      if (found && found !== vi.type) throw new BpfError("EINVAL", `ambiguous BTF info for symbol '${name}': ${found} vs ${vi.type}`);
      return { id: vi.type, secId: id };
    }
  }
  return found ? { id: found, secId: 0 } : undefined;
}

function parseRels(elf: ElfFile, sec: ElfSection): { offset: number; symbol: number; type: number }[] {
  const out = [];
  const dv = new DataView(sec.data.buffer, sec.data.byteOffset, sec.data.byteLength);
  for (let o = 0; o + 16 <= sec.data.length; o += 16) {
    const off = Number(dv.getBigUint64(o, elf.littleEndian));
    const info = dv.getBigUint64(o + 8, elf.littleEndian);
    out.push({ offset: off, symbol: Number(info >> 32n), type: Number(info & 0xffffffffn) });
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ BTF dedup

/**
 * Structural deduplication: the coarsest partition of types in which equal types have the same kind, names, sizes
 * and layout and refer to equal types (partition refinement to a fixed point). Returns, per id, its class's first id.
 */
function dedup(types: readonly DType[]): number[] {
  const n = types.length;
  const local = (t: DType): string => JSON.stringify([
    t.kind, t.name, t.kflag, hasTypeRef(t.kind) ? 0 : t.sizeOrType, t.intEncoding, t.intOffset, t.intBits, t.arrayNelems,
    t.members.map((m) => [m.name, m.bitOffset, m.bitfieldSize]), t.enumValues.map((v) => [v.name, v.lo, v.hi]),
    t.params.map((p) => p.name), t.secinfos.map((v) => [v.offset, v.size]), t.linkage, t.componentIdx,
  ]);
  const refs = (t: DType): number[] => {
    const r: number[] = [];
    visitTypeIds({ ...t, members: t.members.map((m) => ({ ...m })), params: t.params.map((p) => ({ ...p })), secinfos: t.secinfos.map((v) => ({ ...v })) }, (id) => (r.push(id), id));
    return r;
  };
  const cls = new Int32Array(n + 1);
  const keys = new Map<string, number>();
  for (let i = 1; i <= n; i++) {
    const k = local(types[i - 1]!);
    let c = keys.get(k);
    if (c === undefined) keys.set(k, (c = keys.size + 1));
    cls[i] = c;
  }
  const allRefs = types.map(refs);
  let count = keys.size;
  for (;;) {
    const next = new Map<string, number>();
    const ncls = new Int32Array(n + 1);
    for (let i = 1; i <= n; i++) {
      const k = `${cls[i]}:${allRefs[i - 1]!.map((r) => (r === 0 ? 0 : cls[r])).join(",")}`;
      let c = next.get(k);
      if (c === undefined) next.set(k, (c = next.size + 1));
      ncls[i] = c;
    }
    cls.set(ncls);
    if (next.size === count) break;
    count = next.size;
  }
  const first = new Map<number, number>();
  const out: number[] = [0];
  for (let i = 1; i <= n; i++) {
    let f = first.get(cls[i]!);
    if (f === undefined) first.set(cls[i]!, (f = i));
    out[i] = f;
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ encoding

/** Raw BTF of the types; strings are added to `strs` in btf_dedup's visit order (names, then member/param/enum names). */
function encodeTypes(types: readonly DType[], strs: StrSet, onlyStrings = false): Uint8Array {
  const words: number[] = [];
  for (const t of types) {
    const nameOff = strs.add(t.name);
    const extraNames = [...t.members.map((m) => m.name), ...t.enumValues.map((v) => v.name), ...t.params.map((p) => p.name)].map((s) => strs.add(s));
    if (onlyStrings) continue;
    const vlen = t.kind === K.BTF_KIND_FUNC ? t.linkage : t.members.length + t.enumValues.length + t.params.length + t.secinfos.length;
    words.push(nameOff, ((t.kflag ? 0x80000000 : 0) | (t.kind << 24) | vlen) >>> 0, t.sizeOrType >>> 0);
    let e = 0;
    switch (t.kind) {
      case K.BTF_KIND_INT: words.push(((t.intEncoding << 24) | (t.intOffset << 16) | t.intBits) >>> 0); break;
      case K.BTF_KIND_ARRAY: words.push(t.arrayType, t.arrayIndexType, t.arrayNelems); break;
      case K.BTF_KIND_STRUCT: case K.BTF_KIND_UNION:
        for (const m of t.members) words.push(extraNames[e++]!, m.type, (t.kflag ? (m.bitfieldSize << 24) | m.bitOffset : m.bitOffset) >>> 0);
        break;
      case K.BTF_KIND_ENUM: for (const v of t.enumValues) words.push(extraNames[e++]!, v.lo >>> 0); break;
      case K.BTF_KIND_ENUM64: for (const v of t.enumValues) words.push(extraNames[e++]!, v.lo >>> 0, v.hi >>> 0); break;
      case K.BTF_KIND_FUNC_PROTO: for (const p of t.params) words.push(extraNames[e++]!, p.type); break;
      case K.BTF_KIND_VAR: words.push(t.linkage); break;
      case K.BTF_KIND_DATASEC: for (const v of t.secinfos) words.push(v.type, v.offset, v.size); break;
      case K.BTF_KIND_DECL_TAG: words.push(t.componentIdx >>> 0); break;
    }
  }
  if (onlyStrings) return new Uint8Array(0);
  const s = strs.bytes();
  const out = new Uint8Array(24 + words.length * 4 + s.length);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, K.BTF_MAGIC, true);
  out[2] = 1;
  dv.setUint32(4, 24, true);
  dv.setUint32(8, 0, true);
  dv.setUint32(12, words.length * 4, true);
  dv.setUint32(16, words.length * 4, true);
  dv.setUint32(20, s.length, true);
  words.forEach((w, i) => dv.setUint32(24 + i * 4, w >>> 0, true));
  out.set(s, 24 + words.length * 4);
  return out;
}

function encodeExt(secs: readonly DstSec[], strs: StrSet): Uint8Array | undefined {
  const has = (k: keyof ExtRecs) => secs.some((s) => s.ext[k].length);
  if (!has("func") && !has("line") && !has("core")) return undefined;
  const words: number[] = [];
  const part = (k: keyof ExtRecs, recSize: number, rec: (r: never) => number[]): number => {
    if (!has(k)) return 0;
    const start = words.length;
    words.push(recSize);
    for (const s of secs) {
      const recs = s.ext[k];
      if (!recs.length) continue;
      words.push(strs.add(s.name), recs.length);
      for (const r of recs) words.push(...rec(r as never));
    }
    return (words.length - start) * 4;
  };
  const funcLen = part("func", 8, (r: ExtRecs["func"][number]) => [r.insnOff, r.typeId]);
  const lineLen = part("line", 16, (r: ExtRecs["line"][number]) => [r.insnOff, strs.add(r.fileName), strs.add(r.line), ((r.lineNum << 10) | r.lineCol) >>> 0]);
  const coreLen = part("core", 16, (r: ExtRecs["core"][number]) => [r.insnOff, r.typeId, strs.add(r.access), r.kind]);
  const out = new Uint8Array(32 + words.length * 4);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, K.BTF_MAGIC, true);
  out[2] = 1;
  dv.setUint32(4, 32, true);
  dv.setUint32(8, 0, true);
  dv.setUint32(12, funcLen, true);
  dv.setUint32(16, funcLen, true);
  dv.setUint32(20, lineLen, true);
  dv.setUint32(24, funcLen + lineLen, true);
  dv.setUint32(28, coreLen, true);
  words.forEach((w, i) => dv.setUint32(32 + i * 4, w >>> 0, true));
  return out;
}

function symtabBytes(syms: readonly Sym[]): Uint8Array {
  const out = new Uint8Array(syms.length * 24);
  const dv = new DataView(out.buffer);
  syms.forEach((s, i) => {
    const o = i * 24;
    dv.setUint32(o, s.name, true);
    out[o + 4] = s.info;
    out[o + 5] = s.other;
    dv.setUint16(o + 6, s.shndx, true);
    dv.setBigUint64(o + 8, BigInt(s.value), true);
    dv.setBigUint64(o + 16, BigInt(s.size), true);
  });
  return out;
}

/** An ELF64 little-endian relocatable object, laid out as libelf does: sections in index order, headers last. */
function writeElf(sections: readonly { name: string; type: number; flags: number; align: number; entsize: number; link: number; info: number; data: Uint8Array | undefined; size: number }[],
  nameOf: (n: string) => number): Uint8Array {
  let off = 64;
  const offsets: number[] = [];
  for (const s of sections) {
    const a = Math.max(1, s.align);
    if (s.type === E.SHT_NOBITS) {
      off = Math.ceil(off / a) * a;
      offsets.push(off);
      continue;
    }
    off = Math.ceil(off / a) * a;
    offsets.push(off);
    off += s.data?.length ?? 0;
  }
  const shoff = Math.ceil(off / 8) * 8;
  const out = new Uint8Array(shoff + 64 * (sections.length + 1));
  const dv = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  dv.setUint16(16, 1, true);
  dv.setUint16(18, E.EM_BPF, true);
  dv.setUint32(20, 1, true);
  dv.setBigUint64(40, BigInt(shoff), true);
  dv.setUint16(52, 64, true);
  dv.setUint16(58, 64, true);
  dv.setUint16(60, sections.length + 1, true);
  dv.setUint16(62, 1, true);
  sections.forEach((s, i) => {
    if (s.data && s.type !== E.SHT_NOBITS) out.set(s.data, offsets[i]!);
    const h = shoff + 64 * (i + 1);
    dv.setUint32(h, nameOf(s.name), true);
    dv.setUint32(h + 4, s.type, true);
    dv.setBigUint64(h + 8, BigInt(s.flags), true);
    dv.setBigUint64(h + 24, BigInt(offsets[i]!), true);
    dv.setBigUint64(h + 32, BigInt(s.type === E.SHT_NOBITS ? s.size : s.data?.length ?? 0), true);
    dv.setUint32(h + 40, s.link, true);
    dv.setUint32(h + 44, s.info, true);
    dv.setBigUint64(h + 48, BigInt(s.align), true);
    dv.setBigUint64(h + 56, BigInt(s.entsize), true);
  });
  return out;
}

/** `bpftool gen object`: link the inputs, in order, into one relocatable BPF object. */
export function linkObjects(inputs: readonly LinkerInput[]): Uint8Array {
  const l = new Linker();
  for (const i of inputs) {
    try {
      l.addObject(i);
    } catch (e) {
      // the CLI names the input that failed, as bpftool does
      throw Object.assign(e as object, { linkInput: i.name });
    }
  }
  return l.finish();
}
