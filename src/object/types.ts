// What loadObject returns: the programs and maps of a clang-built object, laid out as libbpf would hand them to the
// kernel (sub-programs appended, calls fixed up, func/line info in instruction units), with map references left as
// indexes into `maps` so any backend (bpfkit's VM, the kernel loader) can bind them to its own map objects.
import type { Btf } from "../btf/parse.ts";
import type { Insn } from "../isa/ebpf/insn.ts";

/**
 * A map as declared by the object. Compatible with the maps engineer's MapSpec {type, keySize, valueSize, maxEntries,
 * flags, name, innerMap}; the extra fields carry what libbpf knows about where it came from.
 */
export interface MapSpec {
  /** The name the kernel will see (libbpf's: `.data` maps are named `<obj>.data` truncated to 15 chars). */
  readonly name: string;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly innerMap?: MapSpec;
  readonly numaNode: number;
  /** map_extra (u64; BLOOM_FILTER: the number of hash functions). */
  readonly mapExtra: bigint;
  /** 0 = LIBBPF_PIN_NONE, 1 = LIBBPF_PIN_BY_NAME. */
  readonly pinning: number;
  /** BTF ids of the key and value types (0 when not given by BTF). */
  readonly btfKeyTypeId: number;
  readonly btfValueTypeId: number;
  /** The ELF section the map comes from: ".maps", "maps", ".data", ".rodata", ".bss", ".kconfig", ".rodata.foo"… */
  readonly section: string;
  /** How it was declared. */
  readonly origin: "btf" | "legacy" | "data" | "rodata" | "bss" | "kconfig" | "struct_ops";
  /** The variable or section name in the source (`.data` for data maps, the C variable for declared maps). */
  readonly realName: string;
  /** Initial contents of a global-data map (valueSize bytes); undefined for the others. */
  readonly initialValue?: Uint8Array;
  /** Initial slots of a map-in-map or prog array (`.values = { [1] = &x }`): map or program names by index. */
  readonly initSlots?: readonly (string | undefined)[];
  /**
   * A struct_ops map (a variable in `.struct_ops`): the struct's name (the kernel type is `bpf_struct_ops_<name>`,
   * whose size a loader takes from vmlinux) and, per struct member, the struct_ops program its function pointer names.
   */
  readonly structOps?: { readonly typeName: string; readonly programs: readonly (string | undefined)[] };
}

export interface FuncInfo {
  /** Instruction index within the program (after sub-programs were appended). */
  readonly insnOff: number;
  readonly typeId: number;
}

export interface LineInfo {
  readonly insnOff: number;
  readonly fileName: string;
  readonly line: string;
  readonly lineNum: number;
  readonly lineCol: number;
  /** Raw string offsets into the object's BTF, as the kernel receives them. */
  readonly fileNameOff: number;
  readonly lineOff: number;
}

/** An extern the program references (`extern int LINUX_KERNEL_VERSION __kconfig;`, `extern ... __ksym;`). */
export interface ExternRef {
  readonly name: string;
  readonly kind: "kconfig" | "ksym";
  /** kconfig: byte offset inside the `.kconfig` map; ksym: 0. */
  readonly offset: number;
  readonly size: number;
  readonly weak: boolean;
  /** BTF id of the VAR or FUNC in the object's BTF. */
  readonly btfId: number;
  readonly isFunc: boolean;
  /** ksym: the VAR/FUNC id in the target (vmlinux) BTF once resolved against LoadObjectOptions.targetBtf; 0 if not. */
  readonly kernelBtfId: number;
  /** ksym: declared without a type (`extern const void x __ksym`), found through kallsyms rather than BTF. */
  readonly typeless?: boolean;
}

/** Where a relocated instruction's reference points (for loaders that need to patch it). */
export interface InsnReloc {
  readonly insnIdx: number;
  readonly kind: "map" | "map_value" | "kconfig" | "ksym" | "kfunc" | "subprog_addr" | "call";
  /** Map index into BpfObject.maps for map/map_value/kconfig. */
  readonly mapIndex?: number;
  /** Extern name for ksym/kfunc. */
  readonly extern?: string;
}

export interface ProgramSpec {
  /** The C function name. */
  readonly name: string;
  readonly section: string;
  /** enum bpf_prog_type (0 when the section name is unrecognized, as libbpf leaves it). */
  readonly progType: number;
  /** enum bpf_attach_type (0 when none). */
  readonly attachType: number;
  /** What the section names to attach to: "do_unlinkat" for kprobe/do_unlinkat, "" when nothing. */
  readonly attachTo: string;
  /** Sleepable (SEC("….s")), XDP frags etc: the BPF_F_* prog_flags libbpf passes. */
  readonly progFlags: number;
  /**
   * Relocated instructions, one per `struct bpf_insn` slot. lddw of a map: src_reg = BPF_PSEUDO_MAP_IDX (5), imm =
   * index into `maps`; lddw of global data: src_reg = BPF_PSEUDO_MAP_IDX_VALUE (6), imm = map index, second slot's imm =
   * offset in the value. Loaders replace those by BPF_PSEUDO_MAP_FD/VALUE and fds (or pass fd_array).
   * kfunc calls and typed ksyms are left for the loader (see `relocs`).
   */
  readonly insns: readonly Insn[];
  readonly funcInfo: readonly FuncInfo[];
  readonly lineInfo: readonly LineInfo[];
  readonly relocs: readonly InsnReloc[];
  /** Byte offset and instruction count of the program's own code in its section. */
  readonly sectionOffset: number;
  /** Number of CO-RE relocations applied. */
  readonly coreRelos: number;
  /** The CO-RE records of the program and its sub-programs, by final instruction (what a kernel-side CO-RE load gets). */
  readonly coreRecords?: readonly CoreRecord[];
}

/** One CO-RE relocation as the kernel takes it (struct bpf_core_relo), at an instruction of the linked program. */
export interface CoreRecord {
  readonly insnIdx: number;
  readonly typeId: number;
  readonly accessStrOff: number;
  readonly kind: number;
}

export interface BpfObject {
  /** Object name as libbpf derives it (file basename up to the first '.'). */
  readonly name: string;
  readonly programs: readonly ProgramSpec[];
  /** libbpf's nr_programs: every function of the object's code sections, sub-programs included. */
  readonly functionCount?: number;
  readonly maps: readonly MapSpec[];
  readonly btf: Btf | undefined;
  readonly license: string;
  readonly kernVersion: number;
  readonly externs: readonly ExternRef[];
  readonly littleEndian: boolean;
  /** Non-fatal notes (what libbpf would pr_warn/pr_info and carry on). */
  readonly warnings: readonly string[];
}

export interface LoadObjectOptions {
  /** File name used for the object name and in error messages. */
  readonly fileName?: string;
  /** libbpf's open option object_name: the object's name as given (internal map names derive from it). */
  readonly objectName?: string;
  /**
   * Target BTF for CO-RE relocations (vmlinux, or the object's own BTF). Without it the compiled-in values — those
   * of the object's local BTF — are kept, and ProgramSpec.coreRelos still counts the records.
   */
  readonly targetBtf?: Btf;
  /**
   * Values for `.kconfig` externs, as libbpf fills them from the running kernel: LINUX_KERNEL_VERSION as
   * KERNEL_VERSION(a,b,c), LINUX_HAS_BPF_COOKIE, CONFIG_* (numbers, booleans, "y"/"n"/"m" for tristates, strings for
   * char arrays). Externs left out stay 0 (a weak extern's meaning of "unknown").
   */
  readonly kconfig?: Readonly<Record<string, number | bigint | boolean | string>>;
  /** Receives one line per CO-RE patch, in libbpf's debug wording. */
  readonly coreLog?: string[];
  /** Accept static programs in non-.text sections (libbpf 1.x refuses: "program 'x' is static and not supported"). */
  readonly allowStaticPrograms?: boolean;
  /** Accept a legacy `maps` section of struct bpf_map_def, as libbpf 0.x did (libbpf 1.x refuses: LEGACY_MAPS). */
  readonly allowLegacyMaps?: boolean;
}
