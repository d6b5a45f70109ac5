// ELF64 reader for BPF objects (EM_BPF), both byte orders: header, section headers, names, symbols and relocations.
// Mirrors what libelf gives libbpf, with every inconsistency reported as a BpfError naming the offset and the section.
import { BpfError } from "../errors.ts";
import { ByteReader, cstring } from "../btf/bytes.ts";

export const EM_BPF = 247;

export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_LLVM_ADDRSIG = 0x6fff4c03;

export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;

export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;
export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;
export const SHN_UNDEF = 0;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const STV_DEFAULT = 0;
export const STV_HIDDEN = 2;

// BPF relocation types (llvm/BinaryFormat/ELFRelocs/BPF.def).
export const R_BPF_NONE = 0;
export const R_BPF_64_64 = 1;
export const R_BPF_64_ABS64 = 2;
export const R_BPF_64_ABS32 = 3;
export const R_BPF_64_NODYLD32 = 4;
export const R_BPF_64_32 = 10;

export interface ElfSection {
  readonly index: number;
  readonly name: string;
  readonly type: number;
  readonly flags: number;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly addralign: number;
  readonly entsize: number;
  /** File bytes of the section (empty for SHT_NOBITS). */
  readonly data: Uint8Array;
}

export interface ElfSymbol {
  readonly index: number;
  readonly name: string;
  readonly value: number;
  readonly size: number;
  readonly bind: number;
  readonly type: number;
  readonly visibility: number;
  readonly shndx: number;
}

export interface ElfRelocation {
  readonly offset: number;
  readonly symbol: number;
  readonly type: number;
  readonly addend: number;
}

export interface ElfFile {
  readonly bytes: Uint8Array;
  readonly littleEndian: boolean;
  readonly machine: number;
  readonly sections: readonly ElfSection[];
  readonly symbols: readonly ElfSymbol[];
  /** The symbol table section index, or 0 when there is none. */
  readonly symtabIndex: number;
  sectionByName(name: string): ElfSection | undefined;
  /** Relocations of the SHT_REL/SHT_RELA section `rel`. */
  relocations(rel: ElfSection): ElfRelocation[];
  /** A reader over one section, errors naming file offsets and the section. */
  reader(sec: ElfSection): ByteReader;
}

const fail = (msg: string, offset: number, section?: string): never => {
  throw new BpfError("FORMAT", `ELF: ${msg} (offset 0x${offset.toString(16)}${section ? `, section '${section}'` : ""})`, {
    offset,
    section,
  });
};

/** Parse an ELF64 file. Checks class, machine (EM_BPF unless `anyMachine`), header sizes and that every section and table lies inside the file. */
export function parseElf(bytes: Uint8Array, opts: { anyMachine?: boolean } = {}): ElfFile {
  if (bytes.length < 64) fail(`file is ${bytes.length} bytes, shorter than the 64-byte ELF64 header`, 0);
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) fail("not an ELF file (bad magic)", 0);
  if (bytes[4] !== 2) fail(`ELF class ${bytes[4]} is not ELFCLASS64`, 4);
  if (bytes[5] !== 1 && bytes[5] !== 2) fail(`ELF data encoding ${bytes[5]} is neither little nor big endian`, 5);
  const le = bytes[5] === 1;
  const r = new ByteReader(bytes, le, "ELF");
  const machine = r.u16(18);
  if (!opts.anyMachine && machine !== EM_BPF) fail(`e_machine ${machine} is not EM_BPF (247)`, 18);
  const shoff = r.u64(40, "e_shoff");
  const shentsize = r.u16(58);
  let shnum = r.u16(60);
  let shstrndx = r.u16(62);
  if (shoff === 0) fail("no section header table (e_shoff is 0)", 40);
  if (shentsize !== 64) fail(`e_shentsize ${shentsize} is not 64`, 58);
  if (shoff + 64 > bytes.length) fail(`section header table at 0x${shoff.toString(16)} lies past the end of the file (${bytes.length} bytes)`, 40);
  // Extended numbering (ELF gABI): counts too big for 16 bits live in section 0.
  if (shnum === 0) shnum = r.u32(shoff + 32) >>> 0;
  if (shstrndx === 0xffff) shstrndx = r.u32(shoff + 40);
  if (shoff + shnum * 64 > bytes.length) {
    fail(`section header table (${shnum} entries at 0x${shoff.toString(16)}) extends past the end of the file (${bytes.length} bytes)`, 60);
  }
  if (shstrndx >= shnum) fail(`e_shstrndx ${shstrndx} is not a section (e_shnum ${shnum})`, 62);

  interface RawSec { name: number; type: number; flags: number; offset: number; size: number; link: number; info: number; addralign: number; entsize: number; hdr: number }
  const raw: RawSec[] = [];
  for (let i = 0; i < shnum; i++) {
    const h = shoff + i * 64;
    raw.push({
      name: r.u32(h),
      type: r.u32(h + 4),
      flags: r.u64halves(h + 8)[0],
      offset: r.u64(h + 24, "sh_offset"),
      size: r.u64(h + 32, "sh_size"),
      link: r.u32(h + 40),
      info: r.u32(h + 44),
      addralign: r.u64halves(h + 48)[0],
      entsize: r.u64halves(h + 56)[0],
      hdr: h,
    });
  }
  const strs = raw[shstrndx]!;
  const inFile = (s: RawSec) => s.type === SHT_NOBITS || s.type === SHT_NULL || s.offset + s.size <= bytes.length;
  if (!inFile(strs)) fail(`section name table (section ${shstrndx}) extends past the end of the file`, strs.hdr + 24);
  const strData = bytes.subarray(strs.offset, strs.offset + strs.size);
  const sections: ElfSection[] = raw.map((s, index) => {
    const name = index === 0 ? "" : cstring(strData, s.name);
    if (name === undefined) fail(`section ${index} has a name offset ${s.name} outside the section name table (${strData.length} bytes)`, s.hdr);
    if (!inFile(s)) {
      fail(`section ${index} '${name}' (${s.size} bytes at 0x${s.offset.toString(16)}) extends past the end of the file (${bytes.length} bytes)`, s.hdr + 24, name);
    }
    const data = s.type === SHT_NOBITS || s.type === SHT_NULL ? new Uint8Array(0) : bytes.subarray(s.offset, s.offset + s.size);
    return { index, name: name!, type: s.type, flags: s.flags, offset: s.offset, size: s.size, link: s.link, info: s.info, addralign: s.addralign, entsize: s.entsize, data };
  });

  const symtab = sections.find((s) => s.type === SHT_SYMTAB);
  const symbols: ElfSymbol[] = [];
  if (symtab) {
    if (symtab.size % 24 !== 0) fail(`symbol table size ${symtab.size} is not a multiple of 24`, symtab.offset, symtab.name);
    const strtab = sections[symtab.link];
    if (!strtab || strtab.type !== SHT_STRTAB) fail(`symbol table links to section ${symtab.link}, which is not a string table`, symtab.offset, symtab.name);
    const sr = new ByteReader(symtab.data, le, `section '${symtab.name}'`, symtab.offset);
    for (let i = 0, o = 0; o < symtab.size; i++, o += 24) {
      const nameOff = sr.u32(o);
      const name = nameOff === 0 ? "" : cstring(strtab!.data, nameOff);
      if (name === undefined) fail(`symbol ${i} has a name offset ${nameOff} outside '${strtab!.name}'`, symtab.offset + o, symtab.name);
      const info = sr.u8(o + 4);
      const shndx = sr.u16(o + 6);
      if (shndx !== SHN_UNDEF && shndx < 0xff00 && shndx >= sections.length) {
        fail(`symbol ${i} '${name}' refers to section ${shndx}, but there are only ${sections.length}`, symtab.offset + o + 6, symtab.name);
      }
      const [vlo, vhi] = sr.u64halves(o + 8);
      const [slo, shi] = sr.u64halves(o + 16);
      symbols.push({
        index: i,
        name: name!,
        value: vhi * 0x1_0000_0000 + vlo,
        size: shi * 0x1_0000_0000 + slo,
        bind: info >> 4,
        type: info & 0xf,
        visibility: sr.u8(o + 5) & 3,
        shndx,
      });
    }
  }

  const byName = new Map<string, ElfSection>();
  for (const s of sections) if (s.index !== 0 && !byName.has(s.name)) byName.set(s.name, s);

  return {
    bytes,
    littleEndian: le,
    machine,
    sections,
    symbols,
    symtabIndex: symtab?.index ?? 0,
    sectionByName: (name) => byName.get(name),
    reader: (sec) => new ByteReader(sec.data, le, `section '${sec.name}'`, sec.offset),
    relocations(rel) {
      const rela = rel.type === SHT_RELA;
      const ent = rela ? 24 : 16;
      if (rel.size % ent !== 0) fail(`relocation section size ${rel.size} is not a multiple of ${ent}`, rel.offset, rel.name);
      const rr = new ByteReader(rel.data, le, `section '${rel.name}'`, rel.offset);
      const out: ElfRelocation[] = [];
      for (let o = 0; o < rel.size; o += ent) {
        const offset = rr.u64(o, "r_offset");
        const [type, symbol] = rr.u64halves(o + 8);
        if (symbol >= symbols.length) {
          fail(`relocation ${o / ent} refers to symbol ${symbol}, but the symbol table has ${symbols.length}`, rel.offset + o + 8, rel.name);
        }
        const addend = rela ? rr.u64halves(o + 16)[0] | 0 : 0;
        out.push({ offset, symbol, type, addend });
      }
      return out;
    },
  };
}
