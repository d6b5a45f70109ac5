// ELF BPF objects opened the libbpf way: ELF64 reading (both byte orders), SEC() conventions, maps, global data,
// externs, relocations and sub-program linking, into a BpfObject any backend can load. Pure: imports isa, btf and uapi only.
export { loadObject, objectName } from "./load.ts";
export type { BpfObject, ProgramSpec, MapSpec, FuncInfo, LineInfo, ExternRef, InsnReloc, LoadObjectOptions } from "./types.ts";
export { parseElf, EM_BPF } from "./elf.ts";
export type { ElfFile, ElfSection, ElfSymbol, ElfRelocation } from "./elf.ts";
export { findSectionDef, SECTION_DEFS, PROG_TYPES, ATTACH_TYPES } from "./section-defs.ts";
export type { SectionDef } from "./section-defs.ts";
export { btfFromFileBytes, isRawBtf } from "./btf-file.ts";
export { internalMapName } from "./maps.ts";
export { C as SkeletonCodecs } from "./skeleton-codecs.ts";
export type { Codec, SkeletonMap, SkeletonProgram, RunOutput } from "./skeleton-codecs.ts";
export { xlatedPlain, xlatedDot, xlatedCfg } from "./xlated.ts";
export type { XlatedOptions, CfgFunc, CfgBlock } from "./xlated.ts";
export { generateLoader, LoaderGenError } from "./loader-gen.ts";
export type { LoaderProgram, LoaderOptions } from "./loader-gen.ts";
