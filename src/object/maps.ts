// Maps declared by an object, the libbpf way: BTF-defined maps in `.maps` (parse_btf_map_def), legacy `struct
// bpf_map_def` in `maps`, and one array map per global-data section (.data*, .rodata*, .bss*, .kconfig).
import { BpfError } from "../errors.ts";
import * as K from "../btf/kinds.ts";
import { resolveSize, skipModsAndTypedefs } from "../btf/layout.ts";
import type { Btf } from "../btf/parse.ts";
import type { BtfType } from "../btf/types.ts";
import type { ElfFile, ElfSection } from "./elf.ts";
import { STT_OBJECT, STT_NOTYPE, STB_GLOBAL, STB_LOCAL, STT_SECTION } from "./elf.ts";
import type { MapSpec } from "./types.ts";
import { BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_HASH_OF_MAPS, BPF_MAP_TYPE_PROG_ARRAY } from "../uapi/index.ts";

export { BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_HASH_OF_MAPS, BPF_MAP_TYPE_PROG_ARRAY };
import { BPF_F_RDONLY_PROG, BPF_F_MMAPABLE } from "../uapi/index.ts";
export { BPF_F_RDONLY_PROG, BPF_F_MMAPABLE };
const BPF_OBJ_NAME_LEN = 16;

/** A map as found, before its index is final, with where it sits in its section. */
export interface MapDecl {
  spec: MapSpec;
  readonly secIndex: number;
  readonly secOffset: number;
  /** Byte size of the declaration in the section (BTF maps: the VAR's size). */
  readonly declSize: number;
  /** Byte offset of the `values` member in a BTF map definition (-1 when none). */
  readonly valuesOffset: number;
}

const mapErr = (msg: string, section: string): BpfError => new BpfError("EINVAL", msg, { section });

interface MapDef {
  type: number; keySize: number; valueSize: number; maxEntries: number; flags: number; numaNode: number; mapExtra: bigint;
  pinning: number; keyTypeId: number; valueTypeId: number; inner?: MapDef; valuesOffset: number;
}

const kindName = (t: BtfType): string => K.BTF_KIND_NAMES[t.kind]?.toLowerCase() ?? "unknown";

/** `int (*name)[N]` encodes N: a PTR to an ARRAY whose nelems is the value (libbpf get_map_field_int). */
function mapFieldInt(btf: Btf, mapName: string, attr: string, typeId: number): number {
  const t = btf.hasType(typeId) ? btf.type(typeId) : undefined;
  if (!t) throw mapErr(`map '${mapName}': attr '${attr}': type [${typeId}] not found.`, ".maps");
  if (t.kind !== K.BTF_KIND_PTR) throw mapErr(`map '${mapName}': attr '${attr}': expected PTR, got ${kindName(t)}.`, ".maps");
  const a = btf.hasType(t.sizeOrType) ? btf.type(t.sizeOrType) : undefined;
  if (!a) throw mapErr(`map '${mapName}': attr '${attr}': type [${t.sizeOrType}] not found.`, ".maps");
  if (a.kind !== K.BTF_KIND_ARRAY) throw mapErr(`map '${mapName}': attr '${attr}': expected ARRAY, got ${kindName(a)}.`, ".maps");
  return a.arrayNelems;
}

const isMapInMap = (type: number) => type === BPF_MAP_TYPE_ARRAY_OF_MAPS || type === BPF_MAP_TYPE_HASH_OF_MAPS;

function parseBtfMapDef(btf: Btf, mapName: string, def: BtfType, isInner: boolean): MapDef {
  const d: MapDef = { type: 0, keySize: 0, valueSize: 0, maxEntries: 0, flags: 0, numaNode: 0, mapExtra: 0n, pinning: 0, keyTypeId: 0, valueTypeId: 0, valuesOffset: -1 };
  const sized = (what: "key" | "value", typeId: number) => {
    const t = btf.hasType(typeId) ? btf.type(typeId) : undefined;
    if (!t) throw mapErr(`map '${mapName}': ${what} type [${typeId}] not found.`, ".maps");
    if (t.kind !== K.BTF_KIND_PTR) throw mapErr(`map '${mapName}': ${what} spec is not PTR: ${kindName(t)}.`, ".maps");
    const sz = resolveSize(btf, t.sizeOrType);
    if (sz < 0) throw mapErr(`map '${mapName}': can't determine ${what} size for type [${t.sizeOrType}]: ${sz}.`, ".maps");
    return { sz, id: t.sizeOrType };
  };
  const setSize = (what: "key" | "value", cur: number, sz: number) => {
    if (cur && cur !== sz) throw mapErr(`map '${mapName}': conflicting ${what} size ${cur} != ${sz}.`, ".maps");
    return sz;
  };
  def.members.forEach((m, i) => {
    const name = btf.str(m.nameOff);
    if (name === undefined) throw mapErr(`map '${mapName}': invalid field #${i}.`, ".maps");
    switch (name) {
      case "type": d.type = mapFieldInt(btf, mapName, name, m.type); break;
      case "max_entries": d.maxEntries = mapFieldInt(btf, mapName, name, m.type); break;
      case "map_flags": d.flags = mapFieldInt(btf, mapName, name, m.type); break;
      case "numa_node": d.numaNode = mapFieldInt(btf, mapName, name, m.type); break;
      case "map_extra": d.mapExtra = BigInt(mapFieldInt(btf, mapName, name, m.type)); break;
      case "key_size": d.keySize = setSize("key", d.keySize, mapFieldInt(btf, mapName, name, m.type)); break;
      case "value_size": d.valueSize = setSize("value", d.valueSize, mapFieldInt(btf, mapName, name, m.type)); break;
      case "key": { const k = sized("key", m.type); d.keySize = setSize("key", d.keySize, k.sz); d.keyTypeId = k.id; break; }
      case "value": { const v = sized("value", m.type); d.valueSize = setSize("value", d.valueSize, v.sz); d.valueTypeId = v.id; break; }
      case "pinning": {
        if (isInner) throw mapErr(`map '${mapName}': inner def can't be pinned.`, ".maps");
        const v = mapFieldInt(btf, mapName, name, m.type);
        if (v !== 0 && v !== 1) throw mapErr(`map '${mapName}': invalid pinning value ${v}.`, ".maps");
        d.pinning = v;
        break;
      }
      case "values": {
        const mim = isMapInMap(d.type);
        const progArray = d.type === BPF_MAP_TYPE_PROG_ARRAY;
        const desc = mim ? "map-in-map inner" : "prog-array value";
        if (isInner) throw new BpfError("ENOTSUPP", `map '${mapName}': multi-level inner maps not supported.`, { section: ".maps" });
        if (i !== def.members.length - 1) throw mapErr(`map '${mapName}': '${name}' member should be last.`, ".maps");
        if (!mim && !progArray) throw new BpfError("ENOTSUPP", `map '${mapName}': should be map-in-map or prog-array.`, { section: ".maps" });
        if (d.valueSize && d.valueSize !== 4) throw mapErr(`map '${mapName}': conflicting value size ${d.valueSize} != 4.`, ".maps");
        d.valueSize = 4;
        const a = btf.hasType(m.type) ? btf.type(m.type) : undefined;
        if (!a) throw mapErr(`map '${mapName}': ${desc} type [${m.type}] not found.`, ".maps");
        if (a.kind !== K.BTF_KIND_ARRAY || a.arrayNelems) throw mapErr(`map '${mapName}': ${desc} spec is not a zero-sized array.`, ".maps");
        const p = btf.type(skipModsAndTypedefs(btf, a.arrayType));
        if (p.kind !== K.BTF_KIND_PTR) throw mapErr(`map '${mapName}': ${desc} def is of unexpected kind ${kindName(p)}.`, ".maps");
        const target = btf.type(skipModsAndTypedefs(btf, p.sizeOrType));
        d.valuesOffset = m.bitOffset / 8;
        if (progArray) {
          if (target.kind !== K.BTF_KIND_FUNC_PROTO) throw mapErr(`map '${mapName}': prog-array value def is of unexpected kind ${kindName(target)}.`, ".maps");
          break;
        }
        if (target.kind !== K.BTF_KIND_STRUCT) throw mapErr(`map '${mapName}': map-in-map inner def is of unexpected kind ${kindName(target)}.`, ".maps");
        d.inner = parseBtfMapDef(btf, `${mapName}.inner`, target, true);
        break;
      }
      default:
        // libbpf in strict mode (the only mode since 1.0) refuses unknown fields
        throw new BpfError("ENOTSUPP", `map '${mapName}': unknown field '${name}'.`, { section: ".maps" });
    }
  });
  if (d.type === 0) throw mapErr(`map '${mapName}': map type isn't specified.`, ".maps");
  return d;
}

function specFromDef(name: string, d: MapDef, section: string, origin: MapSpec["origin"]): MapSpec {
  return {
    name, type: d.type, keySize: d.keySize, valueSize: d.valueSize, maxEntries: d.maxEntries, flags: d.flags,
    numaNode: d.numaNode, mapExtra: d.mapExtra, pinning: d.pinning, btfKeyTypeId: d.keyTypeId, btfValueTypeId: d.valueTypeId,
    section, origin, realName: name,
    innerMap: d.inner ? specFromDef(`${name}.inner`, d.inner, section, origin) : undefined,
  };
}

/** BTF-defined maps: every VAR of the `.maps` DATASEC, in DATASEC order (libbpf's order). */
export function btfDefinedMaps(btf: Btf | undefined, sec: ElfSection): MapDecl[] {
  if (!btf) throw new BpfError("EINVAL", `elf: '.maps' section found but no BTF to describe it`, { section: ".maps" });
  let datasec: BtfType | undefined;
  for (const t of btf.ownTypes) {
    if (t.kind === K.BTF_KIND_DATASEC && btf.name(t) === ".maps") {
      datasec = t;
      break;
    }
  }
  if (!datasec) throw new BpfError("EINVAL", `DATASEC '.maps' not found.`, { section: ".maps" });
  const out: MapDecl[] = [];
  for (const vi of datasec.secinfos) {
    const v = btf.hasType(vi.type) ? btf.type(vi.type) : undefined;
    const name = v ? btf.name(v) : "";
    if (!v || v.kind !== K.BTF_KIND_VAR) throw mapErr(`map '${name}': unexpected var kind ${v ? kindName(v) : "missing"}.`, ".maps");
    if (v.linkage !== K.BTF_VAR_STATIC && v.linkage !== K.BTF_VAR_GLOBAL_ALLOCATED) {
      throw mapErr(`map '${name}': unsupported map linkage ${v.linkage === K.BTF_VAR_GLOBAL_EXTERN ? "extern" : v.linkage}.`, ".maps");
    }
    const def = btf.type(skipModsAndTypedefs(btf, v.sizeOrType));
    if (def.kind !== K.BTF_KIND_STRUCT) throw mapErr(`map '${name}': unexpected def kind ${kindName(def)}.`, ".maps");
    if (def.sizeOrType > vi.size) throw mapErr(`map '${name}': invalid def size.`, ".maps");
    if (vi.offset + vi.size > sec.size) throw mapErr(`map '${name}': definition at ${vi.offset} + ${vi.size} lies outside section '.maps' (${sec.size} bytes).`, ".maps");
    const d = parseBtfMapDef(btf, name, def, false);
    out.push({ spec: specFromDef(name, d, ".maps", "btf"), secIndex: sec.index, secOffset: vi.offset, declSize: vi.size, valuesOffset: d.valuesOffset });
  }
  return out;
}

/** Legacy `struct bpf_map_def` maps (section `maps`): one per symbol, equal-sized entries (libbpf 0.x rules). */
export function legacyMaps(elf: ElfFile, sec: ElfSection): MapDecl[] {
  const syms = elf.symbols.filter((s) => s.shndx === sec.index && s.type !== STT_SECTION && s.name !== "" &&
    (s.type === STT_OBJECT || s.type === STT_NOTYPE) && (s.bind === STB_GLOBAL || s.bind === STB_LOCAL));
  if (syms.length === 0) return [];
  if (sec.size % syms.length !== 0) {
    throw new BpfError("EINVAL", `elf: unable to determine legacy map definition size in section 'maps': ${sec.size} bytes for ${syms.length} maps`, { section: "maps", offset: sec.offset });
  }
  const defSize = sec.size / syms.length;
  if (defSize < 20) throw new BpfError("EINVAL", `elf: legacy map definitions in section 'maps' are ${defSize} bytes, shorter than struct bpf_map_def (20)`, { section: "maps", offset: sec.offset });
  const r = elf.reader(sec);
  return syms
    .sort((a, b) => a.value - b.value)
    .map((s) => {
      if (s.value % defSize !== 0 || s.value + defSize > sec.size) {
        r.fail(s.value, `map '${s.name}' definition at ${s.value} is not on a ${defSize}-byte slot of the section`);
      }
      const o = s.value;
      const spec: MapSpec = {
        name: s.name, type: r.u32(o), keySize: r.u32(o + 4), valueSize: r.u32(o + 8), maxEntries: r.u32(o + 12), flags: r.u32(o + 16),
        numaNode: 0, mapExtra: 0n, pinning: 0, btfKeyTypeId: 0, btfValueTypeId: 0, section: "maps", origin: "legacy", realName: s.name,
      };
      return { spec, secIndex: sec.index, secOffset: s.value, declSize: defSize, valuesOffset: -1 };
    });
}

/** libbpf's internal_map_name: object-name prefix + section name, 15 characters at most, sanitised. */
export function internalMapName(objName: string, realName: string): string {
  let sfxLen = Math.max(7, realName.length);
  if (sfxLen >= BPF_OBJ_NAME_LEN) sfxLen = BPF_OBJ_NAME_LEN - 1;
  const pfxLen = realName.indexOf(".", 1) >= 0 ? 0 : Math.min(BPF_OBJ_NAME_LEN - sfxLen - 1, objName.length);
  const name = objName.slice(0, pfxLen) + realName.slice(0, sfxLen);
  return name.replace(/[^A-Za-z0-9_.]/g, "_");
}

/** The global-data map of one `.data*`/`.rodata*`/`.bss*` section. */
/** The kernel refuses array values above KMALLOC_MAX_SIZE (array_map_alloc_check); so does the loader, before allocating. */
const KMALLOC_MAX_SIZE = 4 << 20;

export function dataMap(objName: string, sec: ElfSection, origin: "data" | "rodata" | "bss", btf: Btf | undefined): MapDecl {
  if (sec.size > KMALLOC_MAX_SIZE) {
    throw new BpfError("E2BIG", `section '${sec.name}' is ${sec.size} bytes, more than a global data map's value may hold (KMALLOC_MAX_SIZE, ${KMALLOC_MAX_SIZE})`, { section: sec.name, offset: sec.offset });
  }
  const datasec = btf?.findByName(sec.name, K.BTF_KIND_DATASEC) ?? 0;
  const spec: MapSpec = {
    name: internalMapName(objName, sec.name), type: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: sec.size, maxEntries: 1,
    // libbpf: .rodata is frozen and read-only for programs; all global data is mmapable
    flags: (origin === "rodata" ? BPF_F_RDONLY_PROG : 0) | BPF_F_MMAPABLE,
    numaNode: 0, mapExtra: 0n, pinning: 0, btfKeyTypeId: 0, btfValueTypeId: datasec, section: sec.name, origin, realName: sec.name,
    initialValue: origin === "bss" ? new Uint8Array(sec.size) : new Uint8Array(sec.data),
  };
  return { spec, secIndex: sec.index, secOffset: 0, declSize: sec.size, valuesOffset: -1 };
}
