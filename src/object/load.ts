// loadObject: an ELF BPF object opened the way libbpf's bpf_object__open does it — sections collected, programs
// found by FUNC symbols, maps declared (.maps, legacy maps, global data, .kconfig), externs classified by BTF,
// relocations recorded, CO-RE applied when a target BTF is given, sub-programs appended and calls fixed up.
import { BpfError } from "../errors.ts";
import * as K from "../btf/kinds.ts";
import { alignOf, resolveSize, skipModsAndTypedefs } from "../btf/layout.ts";
import { coreTypesCompatible } from "../btf/core.ts";
import { parseBtf } from "../btf/parse.ts";
import { VOID_TYPE } from "../btf/types.ts";
import type { Btf } from "../btf/parse.ts";
import { parseBtfExt } from "../btf/ext.ts";
import { validateBtf } from "../btf/validate.ts";
import type { BtfExt } from "../btf/ext.ts";
import { decodeInsns } from "./decode.ts";
import * as E from "./elf.ts";
import type { ElfFile, ElfSection, ElfSymbol } from "./elf.ts";
import { btfDefinedMaps, dataMap, legacyMaps, internalMapName, BPF_MAP_TYPE_ARRAY, BPF_F_RDONLY_PROG, BPF_F_MMAPABLE } from "./maps.ts";
import type { MapDecl } from "./maps.ts";
import { attachTarget, attachTypeId, findSectionDef, progTypeId, SEC_SLEEPABLE, SEC_XDP_FRAGS } from "./section-defs.ts";
import { linkPrograms } from "./link.ts";
import type { ProgBody, RelocDesc } from "./link.ts";
import type { BpfObject, ExternRef, LoadObjectOptions, MapSpec } from "./types.ts";

const BPF_F_SLEEPABLE = 1 << 4;
const BPF_F_XDP_HAS_FRAGS = 1 << 5;

/** libbpf's object name: the file's basename up to its first '.'. */
export function objectName(fileName: string | undefined): string {
  if (!fileName) return "object";
  const base = fileName.slice(fileName.lastIndexOf("/") + 1);
  const dot = base.indexOf(".");
  return dot < 0 ? base : base.slice(0, dot);
}

/** libbpf 1.x's warning for a legacy `maps` section (bpf_object__elf_collect), returned as -EOPNOTSUPP. */
export const LEGACY_MAPS = "elf: legacy map definitions in 'maps' section are not supported by libbpf v1.0+";

const fmt = (msg: string, section?: string, offset?: number): BpfError => new BpfError("FORMAT", msg, { section, offset });

export function loadObject(bytes: Uint8Array, opts: LoadObjectOptions = {}): BpfObject {
  const elf = E.parseElf(bytes);
  const name = opts.objectName ?? objectName(opts.fileName);
  const warnings: string[] = [];
  // libbpf 1.x opens only objects in the host's byte order (bpf_object__check_endianness; bpfkit's host model is
  // little-endian, as x86-64 and arm64 Linux are), before it looks at any section
  if (!elf.littleEndian) throw new BpfError("FORMAT", `elf: endianness mismatch in ${opts.fileName ?? "object"}.`);
  if (!elf.symtabIndex) throw new BpfError("ENOENT", `elf: couldn't find symbol table in ${opts.fileName ?? "object"}, stripped object file?`);
  if (elf.sections.filter((s) => s.type === E.SHT_SYMTAB).length > 1) throw fmt(`elf: multiple symbol tables in ${opts.fileName ?? "object"}`);

  // BTF first: maps and externs need it. libbpf only fails on bad BTF when the object needs BTF.
  let btf: Btf | undefined;
  let btfExt: BtfExt | undefined;
  const btfSec = elf.sectionByName(".BTF");
  const needsBtf = !!elf.sectionByName(".maps") || elf.symbols.some((s) => s.shndx === E.SHN_UNDEF && s.name !== "" && s.bind !== E.STB_LOCAL);
  if (btfSec) {
    if (btfSec.type !== E.SHT_PROGBITS) throw fmt(`elf: section '.BTF' has type ${btfSec.type}, not PROGBITS`, ".BTF", btfSec.offset);
    try {
      btf = parseBtf(btfSec.data, { what: "section '.BTF'", fileOffset: btfSec.offset });
      btf.pointerSize = 8;
    } catch (e) {
      if (needsBtf) throw e;
      warnings.push(`Error loading ELF section .BTF: ${(e as Error).message}; ignored`);
    }
    const extSec = elf.sectionByName(".BTF.ext");
    if (btf && extSec) {
      if (extSec.type !== E.SHT_PROGBITS) throw fmt(`elf: section '.BTF.ext' has type ${extSec.type}, not PROGBITS`, ".BTF.ext", extSec.offset);
      btfExt = parseBtfExt(extSec.data, btf, { fileOffset: extSec.offset });
    }
  }

  if (btf) {
    addDummyKsymVar(btf);
    fixupDatasecs(elf, btf, warnings);
    for (const p of validateBtf(btf)) warnings.push(`BTF: ${p.message}`);
  }

  let license = "";
  let kernVersion = 0;
  let textIndex = 0;
  const progs: ProgBody[] = [];
  const mapDecls: MapDecl[] = [];
  const dataSecs: { sec: ElfSection; origin: "data" | "rodata" | "bss" }[] = [];
  const relSecs: ElfSection[] = [];
  let btfMapsSec: ElfSection | undefined;
  let legacyMapsSec: ElfSection | undefined;
  let stOpsSec: ElfSection | undefined;
  const strtab = elf.sections[elf.sections[elf.symtabIndex]!.link];
  if (!strtab || strtab.type !== E.SHT_STRTAB) throw fmt(`elf: symbol strings section missing or invalid in ${opts.fileName ?? "object"}`);

  for (const sec of elf.sections) {
    if (sec.index === 0 || ignoredSection(sec)) continue;
    const n = sec.name;
    if (n === "license") {
      license = cstr(sec.data);
    } else if (n === "version") {
      if (sec.size !== 4) throw new BpfError("EINVAL", `invalid kver section in ${opts.fileName ?? "object"}: ${sec.size} bytes, need 4`, { section: "version", offset: sec.offset });
      kernVersion = elf.reader(sec).u32(0);
    } else if (n === "maps") {
      // libbpf 1.x refuses the section where its section walk meets it (after license/version, before later programs)
      if (!opts.allowLegacyMaps) throw new BpfError("EOPNOTSUPP", LEGACY_MAPS, { section: "maps", offset: sec.offset });
      legacyMapsSec = sec;
    } else if (n === ".maps") {
      btfMapsSec = sec;
    } else if (n === ".BTF" || n === ".BTF.ext" || sec.type === E.SHT_SYMTAB) {
      // handled above
    } else if (sec.type === E.SHT_PROGBITS && sec.size > 0) {
      if (sec.flags & E.SHF_EXECINSTR) {
        if (n === ".text") textIndex = sec.index;
        addPrograms(elf, sec, progs, opts);
      } else if (n === ".data" || n.startsWith(".data.")) dataSecs.push({ sec, origin: "data" });
      else if (n === ".rodata" || n.startsWith(".rodata.")) dataSecs.push({ sec, origin: "rodata" });
      else if (n === ".struct_ops") stOpsSec = sec;
    } else if (sec.type === E.SHT_REL) {
      if (sec.entsize !== 16) throw fmt(`elf: relocation section '${n}' has sh_entsize ${sec.entsize}, expected 16`, n, sec.offset);
      if (sec.info >= elf.sections.length) throw fmt(`elf: relocation section '${n}' applies to section ${sec.info}, which does not exist`, n, sec.offset);
      const target = elf.sections[sec.info]!;
      if ((target.flags & E.SHF_EXECINSTR) || n === ".rel.maps" || n === ".rel.struct_ops") relSecs.push(sec);
    } else if (sec.type === E.SHT_NOBITS && (n === ".bss" || n.startsWith(".bss."))) {
      dataSecs.push({ sec, origin: "bss" });
    }
  }
  progs.sort((a, b) => a.secIndex - b.secIndex || a.secInsnOff - b.secInsnOff);
  for (const p of progs) p.isSubprog = p.secIndex === textIndex && progs.length > 1;
  // libbpf (bpf_object__sanitize_and_load_btf): a hidden global sub-program's FUNC is made static for the kernel, so
  // the verifier checks it in its callers' context
  if (btf) {
    for (const p of progs) {
      if (!p.isSubprog || !p.hidden) continue;
      for (const t of btf.ownTypes) {
        if (t.kind !== K.BTF_KIND_FUNC || t.vlen !== 1 || btf.name(t) !== p.name) continue;
        btf.replaceType({ ...t, vlen: 0 });
        break;
      }
    }
  }

  // maps, in libbpf's order: legacy, BTF-defined, global data (by section index), .kconfig
  if (legacyMapsSec) {
    warnings.push("elf: legacy map definitions in 'maps' section are not supported by libbpf v1.0+; loaded as libbpf 0.x did");
    mapDecls.push(...legacyMaps(elf, legacyMapsSec));
  }
  if (btfMapsSec) mapDecls.push(...btfDefinedMaps(btf, btfMapsSec));
  for (const { sec, origin } of dataSecs.sort((a, b) => a.sec.index - b.sec.index)) {
    if (sec.size === 0) continue;
    mapDecls.push(dataMap(name, sec, origin, btf));
  }
  let externs = collectExterns(elf, btf);
  if (btf && opts.targetBtf) externs = resolveKsyms(btf, externs, opts.targetBtf, opts.coreLog);
  if (btf) layoutKconfigDatasec(btf, externs);
  if (btf) fixupExternVars(btf, externs);
  let kconfigMapIndex = -1;
  const kcfg = externs.filter((x) => x.kind === "kconfig");
  if (kcfg.length) {
    const last = kcfg[kcfg.length - 1]!;
    const size = last.offset + last.size;
    kconfigMapIndex = mapDecls.length;
    const spec: MapSpec = {
      name: internalMapName(name, ".kconfig"), type: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: size, maxEntries: 1,
      flags: BPF_F_RDONLY_PROG | BPF_F_MMAPABLE, numaNode: 0, mapExtra: 0n, pinning: 0, btfKeyTypeId: 0,
      btfValueTypeId: btf?.findByName(".kconfig", K.BTF_KIND_DATASEC) ?? 0, section: ".kconfig", origin: "kconfig",
      realName: ".kconfig", initialValue: new Uint8Array(size),
    };
    if (opts.kconfig) fillKconfig(spec.initialValue!, kcfg, opts.kconfig);
    mapDecls.push({ spec, secIndex: -1, secOffset: 0, declSize: size, valuesOffset: -1 });
  }

  if (stOpsSec) mapDecls.push(...structOpsMaps(btf, stOpsSec));

  // relocations
  for (const rel of relSecs) {
    if (rel.name === ".rel.maps" || rel.name === ".rel.struct_ops") continue;
    recordProgRelocs(elf, rel, progs, mapDecls, externs, textIndex);
  }
  const mapRel = relSecs.find((s) => s.name === ".rel.maps");
  if (mapRel && btfMapsSec) initSlots(elf, mapRel, mapDecls, progs);
  const stOpsRel = relSecs.find((s) => s.name === ".rel.struct_ops");
  if (stOpsRel && stOpsSec) structOpsPrograms(elf, btf!, stOpsRel, mapDecls, progs);

  const programs = linkPrograms({ elf, btf, btfExt, progs, maps: mapDecls, externs, kconfigMapIndex, targetBtf: opts.targetBtf, warnings, coreLog: opts.coreLog });
  for (const p of programs) {
    const def = findSectionDef(p.section);
    if (!def) warnings.push(`prog '${p.name}': unrecognized ELF section name '${p.section}'`);
  }
  return {
    name, programs, functionCount: progs.length, maps: mapDecls.map((m) => m.spec), btf, license, kernVersion, externs, littleEndian: elf.littleEndian, warnings,
  };
}

/** libbpf's ignore_elf_section: string tables, LLVM addrsig, an empty .text, DWARF and relocations of DWARF/BTF. */
function ignoredSection(sec: ElfSection): boolean {
  if (sec.type === E.SHT_STRTAB || sec.type === E.SHT_LLVM_ADDRSIG) return true;
  if (sec.type === E.SHT_PROGBITS && sec.size === 0 && sec.name === ".text") return true;
  const n = sec.name;
  if (n.startsWith(".debug_")) return true;
  if (n.startsWith(".rel")) {
    const t = n.slice(4);
    if (t.startsWith(".debug_") || t === ".BTF" || t === ".BTF.ext") return true;
  }
  return false;
}

function cstr(b: Uint8Array): string {
  let e = 0;
  while (e < b.length && b[e] !== 0) e++;
  return String.fromCharCode(...b.subarray(0, Math.min(e, 127)));
}

function addPrograms(elf: ElfFile, sec: ElfSection, progs: ProgBody[], opts: LoadObjectOptions): void {
  const r = elf.reader(sec);
  for (const sym of elf.symbols) {
    if (sym.shndx !== sec.index || sym.type !== E.STT_FUNC) continue;
    if (sym.value + sym.size > sec.size) {
      throw fmt(`sec '${sec.name}': program '${sym.name}' at offset ${sym.value} (${sym.size} bytes) crosses section boundary (${sec.size} bytes)`, sec.name, sec.offset + sym.value);
    }
    if (sym.value % 8 || sym.size % 8) {
      throw fmt(`sec '${sec.name}': program '${sym.name}' at offset ${sym.value} with size ${sym.size} is not made of 8-byte instructions`, sec.name, sec.offset + sym.value);
    }
    if (sec.name !== ".text" && sym.bind === E.STB_LOCAL && !opts.allowStaticPrograms) {
      throw new BpfError("ENOTSUPP", `sec '${sec.name}': program '${sym.name}' is static and not supported`, { section: sec.name, offset: sec.offset + sym.value });
    }
    const def = findSectionDef(sec.name);
    const flags = def ? (def.flags & SEC_SLEEPABLE ? BPF_F_SLEEPABLE : 0) | (def.flags & SEC_XDP_FRAGS ? BPF_F_XDP_HAS_FRAGS : 0) : 0;
    progs.push({
      name: sym.name,
      secName: sec.name,
      secIndex: sec.index,
      secInsnOff: sym.value / 8,
      insns: decodeInsns(r, sym.value, sym.size / 8),
      relocs: [],
      isSubprog: false,
      progType: def ? progTypeId(def.progType) : 0,
      attachType: def && def.attachType ? attachTypeId(def.attachType) : 0,
      attachTo: def ? attachTarget(def, sec.name) : "",
      progFlags: flags,
      hidden: sym.bind !== E.STB_LOCAL && (sym.visibility === 1 || sym.visibility === 2),
      coreRelos: 0,
      coreRecords: [],
    });
  }
}

function collectExterns(elf: ElfFile, btf: Btf | undefined): ExternRef[] {
  const out: (ExternRef & { symIndex: number; align: number })[] = [];
  for (const s of elf.symbols) {
    if (s.shndx !== E.SHN_UNDEF || s.name === "" || s.type === E.STT_SECTION) continue;
    if (s.bind !== E.STB_GLOBAL && s.bind !== E.STB_WEAK) continue;
    // libbpf's find_extern_btf_id: -ESRCH without BTF, -ENOENT when no VAR/FUNC has the name, -EINVAL when the
    // first one that does is not declared extern (linkage 2, in a VAR's record or a FUNC's vlen)
    if (!btf) throw new BpfError("ESRCH", `failed to find BTF for extern '${s.name}': -3`);
    let id = 0;
    for (const t of btf.ownTypes) {
      if ((t.kind === K.BTF_KIND_VAR || t.kind === K.BTF_KIND_FUNC) && btf.name(t) === s.name) {
        if ((t.kind === K.BTF_KIND_VAR ? t.linkage : t.vlen) !== 2) throw new BpfError("EINVAL", `failed to find BTF for extern '${s.name}': -22`);
        id = t.id;
        break;
      }
    }
    if (!id) throw new BpfError("ENOENT", `failed to find BTF for extern '${s.name}': -2`);
    const t = btf.type(id);
    let secName = "";
    for (const ds of btf.ownTypes) {
      if (ds.kind === K.BTF_KIND_DATASEC && ds.secinfos.some((v) => v.type === id)) {
        secName = btf.name(ds);
        break;
      }
    }
    const isFunc = t.kind === K.BTF_KIND_FUNC;
    if (secName === ".kconfig") {
      const size = resolveSize(btf, t.sizeOrType);
      if (size <= 0) throw new BpfError("EINVAL", `failed to resolve size of extern (kcfg) '${s.name}': ${size}`);
      out.push({ name: s.name, kind: "kconfig", offset: 0, size, weak: s.bind === E.STB_WEAK, btfId: id, isFunc, kernelBtfId: 0, symIndex: s.index, align: alignOf(btf, t.sizeOrType) || 1 });
    } else if (secName === ".ksyms" || isFunc) {
      const typeless = !isFunc && skipModsAndTypedefs(btf, t.sizeOrType) === 0;
      out.push({ name: s.name, kind: "ksym", offset: 0, size: 0, weak: s.bind === E.STB_WEAK, btfId: id, isFunc, kernelBtfId: 0, symIndex: s.index, align: 0, typeless });
    } else {
      throw new BpfError("ENOTSUPP", `unrecognized extern section '${secName}' for extern '${s.name}'`);
    }
  }
  // libbpf's cmp_externs: kconfig first, by descending alignment, ascending size, then name
  out.sort((a, b) => (a.kind !== b.kind ? (a.kind === "kconfig" ? -1 : 1) : a.kind === "kconfig" && a.align !== b.align ? b.align - a.align : a.kind === "kconfig" && a.size !== b.size ? a.size - b.size : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let off = 0;
  return out.map((x) => {
    if (x.kind !== "kconfig") return x;
    const o = Math.ceil(off / x.align) * x.align;
    off = o + x.size;
    return { ...x, offset: o };
  });
}

function symName(elf: ElfFile, sym: ElfSymbol): string {
  if (sym.type === E.STT_SECTION && sym.name === "") return elf.sections[sym.shndx]?.name ?? "<?";
  return sym.name;
}

function recordProgRelocs(elf: ElfFile, rel: ElfSection, progs: ProgBody[], maps: MapDecl[], externs: readonly ExternRef[], textIndex: number): void {
  const target = elf.sections[rel.info]!;
  for (const [i, r] of elf.relocations(rel).entries()) {
    const sym = elf.symbols[r.symbol]!;
    if (r.offset % 8 || r.offset >= target.size) throw fmt(`sec '${rel.name}': invalid offset 0x${r.offset.toString(16)} for relo #${i}`, rel.name, rel.offset + i * 16);
    const secInsn = r.offset / 8;
    const prog = progs.find((p) => p.secIndex === target.index && secInsn >= p.secInsnOff && secInsn < p.secInsnOff + p.insns.length);
    if (!prog) continue; // libbpf: probably an overridden weak function; skipped
    const insnIdx = secInsn - prog.secInsnOff;
    const insn = prog.insns[insnIdx]!;
    const name = symName(elf, sym);
    const isCall = insn.code === 0x85;
    const isLdimm64 = insn.code === 0x18;
    const where = { section: target.name, offset: target.offset + r.offset };
    const relocErr = (msg: string) => new BpfError("EINVAL", `prog '${prog.name}': ${msg}`, where);
    if (!isCall && !isLdimm64) throw relocErr(`invalid relo against '${name}' for insns[${insnIdx}].code 0x${insn.code.toString(16)}`);
    if (isLdimm64 && insnIdx + 1 >= prog.insns.length) throw relocErr(`relo against '${name}' at insns[${insnIdx}]: ldimm64 is missing its second half`);
    let desc: RelocDesc;
    if (sym.shndx === E.SHN_UNDEF && sym.name !== "" && sym.type !== E.STT_SECTION) {
      const ext = externs.find((x) => x.name === sym.name);
      if (!ext) throw relocErr(`extern relo failed to find extern for '${name}' (${r.symbol})`);
      desc = { type: isCall ? "extern_func" : "extern_var", insnIdx, symOff: 0, mapIndex: -1, extern: ext };
    } else if (isCall) {
      if (insn.src !== 1) throw relocErr("incorrect bpf_call opcode");
      if (!sym.shndx || sym.shndx !== textIndex) throw relocErr(`bad call relo against '${name}' in section '${elf.sections[sym.shndx]?.name ?? ""}'`);
      if (sym.value % 8) throw relocErr(`bad call relo against '${name}' at offset ${sym.value}`);
      desc = { type: "call", insnIdx, symOff: sym.value, mapIndex: -1 };
    } else if (!sym.shndx || sym.shndx >= 0xff00) {
      throw relocErr(`invalid relo against '${name}' in special section 0x${sym.shndx.toString(16)}; forgot to initialize global var?..`);
    } else if (sym.shndx === textIndex && ((sym.bind === E.STB_LOCAL && sym.type === E.STT_SECTION) || (sym.bind === E.STB_GLOBAL && sym.type === E.STT_FUNC))) {
      if (sym.value % 8 || insn.imm % 8) throw relocErr(`bad subprog addr relo against '${name}' at offset ${sym.value}+${insn.imm}`);
      desc = { type: "subprog_addr", insnIdx, symOff: sym.value, mapIndex: -1 };
    } else {
      const secName = elf.sections[sym.shndx]!.name;
      const isData = maps.some((m) => m.secIndex === sym.shndx && (m.spec.origin === "data" || m.spec.origin === "rodata" || m.spec.origin === "bss"));
      if (!isData) {
        if (secName !== ".maps" && secName !== "maps") throw relocErr(`bad map relo against '${name}' in section '${secName}'`);
        const mi = maps.findIndex((m) => m.secIndex === sym.shndx && m.secOffset === sym.value);
        if (mi < 0) throw relocErr(`map relo failed to find map for section '${secName}', off ${sym.value}`);
        desc = { type: "ld64", insnIdx, symOff: 0, mapIndex: mi };
      } else {
        const mi = maps.findIndex((m) => m.secIndex === sym.shndx);
        desc = { type: "data", insnIdx, symOff: sym.value, mapIndex: mi };
      }
    }
    prog.relocs.push(desc);
  }
}

/** `.values = { [i] = &map_or_prog }` in a map-in-map or prog array: relocations in `.rel.maps` name the slots. */
function initSlots(elf: ElfFile, rel: ElfSection, maps: MapDecl[], progs: ProgBody[]): void {
  const slots = new Map<number, (string | undefined)[]>();
  for (const [i, r] of elf.relocations(rel).entries()) {
    const sym = elf.symbols[r.symbol]!;
    const mi = maps.findIndex((m) => m.spec.origin === "btf" && r.offset >= m.secOffset && r.offset < m.secOffset + m.declSize);
    const where = { section: ".rel.maps", offset: rel.offset + i * 16 };
    if (mi < 0) throw new BpfError("EINVAL", `.maps relo #${i}: failed to find map definition at offset ${r.offset}`, where);
    const m = maps[mi]!;
    if (m.valuesOffset < 0 || r.offset < m.secOffset + m.valuesOffset) {
      throw new BpfError("EINVAL", `.maps relo #${i}: '${sym.name}' is not a relocation of map '${m.spec.name}' 'values' slots`, where);
    }
    const slot = (r.offset - m.secOffset - m.valuesOffset) / 8;
    if (!Number.isInteger(slot)) throw new BpfError("EINVAL", `.maps relo #${i}: unaligned slot offset in map '${m.spec.name}'`, where);
    let target: string | undefined;
    if (m.spec.type === 3) {
      if (sym.type !== E.STT_FUNC || !progs.some((p) => p.name === sym.name && !p.isSubprog)) {
        throw new BpfError("EINVAL", `.maps relo #${i}: '${sym.name}' is not a BPF program for prog array '${m.spec.name}'`, where);
      }
      target = sym.name;
    } else {
      const t = maps.find((x) => x.secIndex === sym.shndx && x.secOffset === sym.value);
      if (!t) throw new BpfError("EINVAL", `.maps relo #${i}: '${sym.name}' is not a map for map-in-map '${m.spec.name}'`, where);
      target = t.spec.name;
    }
    const arr = slots.get(mi) ?? [];
    arr[slot] = target;
    slots.set(mi, arr);
  }
  for (const [mi, arr] of slots) maps[mi]!.spec = { ...maps[mi]!.spec, initSlots: Array.from(arr) };
}

/**
 * libbpf's btf_fixup_datasec: older clang leaves DATASEC sizes and variable offsets 0; fill them from the ELF section
 * sizes and symbol values. Global variables with hidden visibility become static (libbpf then treats them as private).
 * Variables are ordered by offset. Extern sections (.kconfig, .ksyms) are only ordered.
 */
function fixupDatasecs(elf: ElfFile, btf: Btf, warnings: string[]): void {
  const byOffset = (a: { offset: number }, b: { offset: number }) => a.offset - b.offset;
  for (const t of btf.ownTypes) {
    if (t.kind !== K.BTF_KIND_DATASEC) continue;
    const name = btf.name(t);
    let size = t.sizeOrType;
    const fixupOffsets = size === 0 && name !== ".kconfig" && name !== ".ksyms";
    if (fixupOffsets) {
      const sec = elf.sectionByName(name);
      // libbpf's btf_finalize_data fails the open here ("Error finalizing .BTF: -2")
      if (!sec || sec.size === 0) throw new BpfError("ENOENT", `sec '${name}': failed to determine size from ELF: Error finalizing .BTF`, { section: ".BTF" });
      size = sec.size;
    }
    const secinfos = t.secinfos.map((vi) => {
      if (name === ".kconfig" || name === ".ksyms") return vi;
      const v = btf.hasType(vi.type) ? btf.type(vi.type) : undefined;
      if (!v || v.kind !== K.BTF_KIND_VAR) throw new BpfError("EINVAL", `sec '${name}': unexpected non-VAR type [${vi.type}] in DATASEC`, { section: ".BTF" });
      if (v.linkage === K.BTF_VAR_STATIC || v.linkage === K.BTF_VAR_GLOBAL_EXTERN) return vi;
      const vname = btf.name(v);
      const sym = elf.symbols.find((s) => s.name === vname && s.type === E.STT_OBJECT && s.bind !== E.STB_LOCAL);
      if (!sym) throw new BpfError("ENOENT", `sec '${name}': failed to find ELF symbol for VAR '${vname}'`, { section: name });
      // STV_INTERNAL (1) / STV_HIDDEN (2): libbpf marks the variable static
      if (sym.visibility === 1 || sym.visibility === 2) btf.replaceType({ ...v, linkage: K.BTF_VAR_STATIC });
      return fixupOffsets ? { ...vi, offset: sym.value } : vi;
    });
    secinfos.sort(byOffset);
    btf.replaceType({ ...t, sizeOrType: size, secinfos });
  }
}

/** libbpf lays out the .kconfig DATASEC from the extern offsets it computed (clang leaves them 0). */
function layoutKconfigDatasec(btf: Btf, externs: readonly ExternRef[]): void {
  const id = btf.findByName(".kconfig", K.BTF_KIND_DATASEC);
  if (!id) return;
  const t = btf.type(id);
  const kcfg = externs.filter((x) => x.kind === "kconfig");
  const secinfos = t.secinfos.map((vi) => {
    const x = kcfg.find((e) => e.btfId === vi.type);
    return x ? { ...vi, offset: x.offset, size: x.size } : vi;
  });
  const last = kcfg[kcfg.length - 1];
  btf.replaceType({ ...t, sizeOrType: last ? last.offset + last.size : t.sizeOrType, secinfos: secinfos.sort((a, b) => a.offset - b.offset) });
}

/**
 * libbpf's bpf_object__collect_externs leaves the extern VARs of .kconfig and .ksyms "allocated" (linkage 1), and
 * lays .ksyms out as one 4-byte int per variable, in DATASEC order.
 */
function fixupExternVars(btf: Btf, externs: readonly ExternRef[]): void {
  const kcfg = btf.findByName(".kconfig", K.BTF_KIND_DATASEC);
  if (kcfg) {
    for (const vi of btf.type(kcfg).secinfos) {
      const v = btf.type(vi.type);
      if (v.kind === K.BTF_KIND_VAR && externs.some((x) => x.btfId === v.id)) btf.replaceType({ ...v, linkage: K.BTF_VAR_GLOBAL_ALLOCATED });
    }
  }
  const ksyms = btf.findByName(".ksyms", K.BTF_KIND_DATASEC);
  if (!ksyms) return;
  const sec = btf.type(ksyms);
  const intId = int32Id(btf);
  const dummyId = btf.findByName("dummy_ksym", K.BTF_KIND_VAR);
  const dummyName = dummyId ? btf.type(dummyId).nameOff : 0;
  const secinfos = sec.secinfos.map((vi, i) => {
    const v = btf.type(vi.type);
    if (v.kind === K.BTF_KIND_FUNC) {
      // a kfunc: its unnamed parameters borrow the dummy's name, its DATASEC slot the dummy variable
      const proto = btf.type(v.sizeOrType);
      if (proto.kind === K.BTF_KIND_FUNC_PROTO) {
        btf.replaceType({ ...proto, params: proto.params.map((p) => (p.type && !p.nameOff ? { ...p, nameOff: dummyName } : p)) });
      }
      btf.replaceType({ ...v, vlen: K.BTF_FUNC_GLOBAL });
      return { ...vi, type: dummyId, offset: i * 4, size: 4 };
    }
    btf.replaceType({ ...v, linkage: K.BTF_VAR_GLOBAL_ALLOCATED, sizeOrType: intId });
    return { ...vi, offset: i * 4, size: 4 };
  });
  btf.replaceType({ ...sec, sizeOrType: secinfos.length * 4, secinfos });
}

/** libbpf's find_int_btf_id: the first 32-bit INT (0 when none). */
function int32Id(btf: Btf): number {
  for (let id = 1; id < btf.typeCount; id++) {
    const t = btf.type(id);
    if (t.kind === K.BTF_KIND_INT && t.intBits === 32) return id;
  }
  return 0;
}

/** libbpf's add_dummy_ksym_var: when .ksyms declares kfuncs, a `dummy_ksym` int VAR is appended to the BTF. */
function addDummyKsymVar(btf: Btf): void {
  const ksyms = btf.findByName(".ksyms", K.BTF_KIND_DATASEC);
  if (!ksyms || !btf.type(ksyms).secinfos.some((vi) => btf.hasType(vi.type) && btf.type(vi.type).kind === K.BTF_KIND_FUNC)) return;
  const nameOff = btf.addString("dummy_ksym");
  btf.addType({ ...VOID_TYPE, kind: K.BTF_KIND_VAR, nameOff, sizeOrType: int32Id(btf), linkage: K.BTF_VAR_GLOBAL_ALLOCATED });
}

/** Write the given .kconfig values at their externs' offsets (little-endian), as libbpf's bpf_object__init_kconfig_map. */
function fillKconfig(buf: Uint8Array, externs: readonly ExternRef[], values: Readonly<Record<string, number | bigint | boolean | string>>): void {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (const x of externs) {
    const v = values[x.name];
    if (v === undefined) continue;
    if (typeof v === "string" && !/^[ynm]$/.test(v)) {
      // char array: the string, NUL-terminated if it fits (libbpf: "too long" otherwise)
      const bytes = new TextEncoder().encode(v);
      if (bytes.length >= x.size) throw new BpfError("EINVAL", `extern (kcfg) '${x.name}': value '${v}' is too long for char[${x.size}]`);
      buf.set(bytes, x.offset);
      continue;
    }
    // libbpf's tristate: n = 0, y = 1, m = 2
    const n = typeof v === "string" ? BigInt("nym".indexOf(v)) : typeof v === "boolean" ? (v ? 1n : 0n) : BigInt(v);
    for (let i = 0; i < x.size && i < 8; i++) dv.setUint8(x.offset + i, Number((BigInt.asUintN(64, n) >> BigInt(8 * i)) & 0xffn));
  }
}

/**
 * libbpf's bpf_object__resolve_ksyms_btf_id against the target (vmlinux) BTF: a typed ksym variable or a kfunc takes
 * the id of the VAR/FUNC of the same name whose type is compatible; a weak one that is missing stays 0. Typeless ksyms
 * (`extern const void x __ksym`) need /proc/kallsyms and are left to the loader.
 */
function resolveKsyms(btf: Btf, externs: ExternRef[], target: Btf, log: string[] | undefined): ExternRef[] {
  return externs.map((x) => {
    if (x.kind !== "ksym") return x;
    const t = btf.type(x.btfId);
    const localType = skipModsAndTypedefs(btf, t.sizeOrType);
    if (!x.isFunc && localType === 0) return x;
    const id = target.findByName(x.name, x.isFunc ? K.BTF_KIND_FUNC : K.BTF_KIND_VAR);
    const what = x.isFunc ? "func ksym" : "var ksym";
    if (id === 0) {
      if (x.weak) {
        log?.push(`extern '${x.name}' (weak): not resolved, defaulting to zero`);
        return x;
      }
      throw new BpfError("ENOENT", `extern (${what}) '${x.name}': not found in kernel${x.isFunc ? " or module BTFs" : " BTF"}`);
    }
    const kt = target.type(id);
    const targetType = skipModsAndTypedefs(target, kt.sizeOrType);
    if (!coreTypesCompatible(btf, localType, target, targetType)) {
      throw new BpfError("EINVAL", x.isFunc
        ? `extern (func ksym) '${x.name}': func_proto [${localType}] incompatible with kernel [${targetType}]`
        : `extern (var ksym) '${x.name}': incompatible types, expected [${localType}] ${K.BTF_KIND_NAMES[btf.type(localType).kind]?.toLowerCase()} ${btf.name(localType)}, but kernel has [${targetType}] ${K.BTF_KIND_NAMES[target.type(targetType).kind]?.toLowerCase()} ${target.name(targetType)}`);
    }
    log?.push(x.isFunc ? `extern (func ksym) '${x.name}': resolved to kernel [${id}]` : `extern (var ksym) '${x.name}': resolved to [${id}] var ${x.name}`);
    return { ...x, kernelBtfId: id };
  });
}

/** libbpf's bpf_object__init_struct_ops_maps: one BPF_MAP_TYPE_STRUCT_OPS map per variable of `.struct_ops`. */
function structOpsMaps(btf: Btf | undefined, sec: ElfSection): MapDecl[] {
  const where = { section: ".struct_ops", offset: sec.offset };
  if (!btf) throw new BpfError("EINVAL", "struct_ops init: the object has no BTF to describe .struct_ops", where);
  const ds = btf.findByName(".struct_ops", K.BTF_KIND_DATASEC);
  if (!ds) throw new BpfError("EINVAL", "struct_ops init: DATASEC .struct_ops not found", where);
  return btf.type(ds).secinfos.map((vi) => {
    const v = btf.type(vi.type);
    const name = btf.name(v);
    const t = btf.type(skipModsAndTypedefs(btf, v.sizeOrType));
    const tname = btf.name(t);
    if (!tname) throw new BpfError("ENOTSUPP", "struct_ops init: anonymous type is not supported", where);
    if (t.kind !== K.BTF_KIND_STRUCT) throw new BpfError("EINVAL", `struct_ops init: ${tname} is not a struct`, where);
    if (vi.offset + t.sizeOrType > sec.size) throw new BpfError("EINVAL", `struct_ops init: var ${name} is beyond the end of DATASEC .struct_ops`, where);
    const spec: MapSpec = {
      name, type: 26, keySize: 4, valueSize: t.sizeOrType, maxEntries: 1, flags: 0, numaNode: 0, mapExtra: 0n, pinning: 0,
      btfKeyTypeId: 0, btfValueTypeId: 0, section: ".struct_ops", origin: "struct_ops", realName: name,
      initialValue: new Uint8Array(sec.data.subarray(vi.offset, vi.offset + t.sizeOrType)),
      structOps: { typeName: tname, programs: t.members.map(() => undefined) },
    };
    return { spec, secIndex: sec.index, secOffset: vi.offset, declSize: t.sizeOrType, valuesOffset: -1 };
  });
}

/** `.rel.struct_ops`: which struct_ops program each function-pointer member names (bpf_object__collect_st_ops_relos). */
function structOpsPrograms(elf: ElfFile, btf: Btf, rel: ElfSection, maps: MapDecl[], progs: ProgBody[]): void {
  for (const [i, r] of elf.relocations(rel).entries()) {
    const sym = elf.symbols[r.symbol]!;
    const where = { section: ".rel.struct_ops", offset: rel.offset + i * 16 };
    const m = maps.find((d) => d.spec.origin === "struct_ops" && r.offset >= d.secOffset && r.offset < d.secOffset + d.declSize);
    if (!m) throw new BpfError("EINVAL", `struct_ops reloc: cannot find map at rel->r_offset ${r.offset}`, where);
    const t = btf.type(skipModsAndTypedefs(btf, btf.type(btf.findByName(m.spec.name, K.BTF_KIND_VAR)).sizeOrType));
    const moff = r.offset - m.secOffset;
    const idx = t.members.findIndex((x) => x.bitOffset === moff * 8);
    if (idx < 0) throw new BpfError("EINVAL", `struct_ops reloc ${m.spec.name}: cannot find member at moff ${moff}`, where);
    const mname = btf.str(t.members[idx]!.nameOff) ?? "";
    const mt = btf.type(skipModsAndTypedefs(btf, t.members[idx]!.type));
    if (mt.kind !== K.BTF_KIND_PTR || btf.type(skipModsAndTypedefs(btf, mt.sizeOrType)).kind !== K.BTF_KIND_FUNC_PROTO) {
      throw new BpfError("EINVAL", `struct_ops reloc ${m.spec.name}: member ${mname} is not a func ptr`, where);
    }
    const prog = progs.find((p) => p.secIndex === sym.shndx && p.secInsnOff * 8 === sym.value && !p.isSubprog);
    if (!prog) throw new BpfError("EINVAL", `struct_ops reloc ${m.spec.name}: cannot find prog at shdr_idx ${sym.shndx} to relocate func ptr ${mname}`, where);
    if (prog.progType !== 27) throw new BpfError("EINVAL", `struct_ops reloc ${m.spec.name}: prog ${prog.name} is not struct_ops BPF program`, where);
    const programs = [...m.spec.structOps!.programs];
    programs[idx] = prog.name;
    m.spec = { ...m.spec, structOps: { typeName: m.spec.structOps!.typeName, programs } };
  }
}

/** What libbpf 1.1's open reports with pr_info while collecting sections: the sections it skips, in section order. */
export function openInfoLines(elf: ElfFile): string[] {
  const out: string[] = [];
  const known = new Set(["license", "version", "maps", ".maps", ".BTF", ".BTF.ext"]);
  for (const sec of elf.sections) {
    if (sec.index === 0 || ignoredSection(sec)) continue;
    const n = sec.name;
    if (known.has(n) || sec.type === E.SHT_SYMTAB) continue;
    if (sec.type === E.SHT_PROGBITS && sec.size > 0) {
      if (sec.flags & E.SHF_EXECINSTR) continue;
      if (n === ".data" || n.startsWith(".data.") || n === ".rodata" || n.startsWith(".rodata.") || n === ".struct_ops") continue;
      out.push(`elf: skipping unrecognized data section(${sec.index}) ${n}`);
    } else if (sec.type === E.SHT_REL) {
      const t = elf.sections[sec.info];
      if (t && (t.flags & E.SHF_EXECINSTR)) continue;
      if (n === ".rel.struct_ops" || n === ".rel.maps") continue;
      out.push(`elf: skipping relo section(${sec.index}) ${n} for section(${sec.info}) ${t?.name ?? "<?>"}`);
    } else if (sec.type === E.SHT_NOBITS && (n === ".bss" || n.startsWith(".bss."))) {
      continue;
    } else {
      out.push(`elf: skipping section(${sec.index}) ${n} (size ${sec.size})`);
    }
  }
  return out;
}
