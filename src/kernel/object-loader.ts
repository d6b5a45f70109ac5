// A clang-built object (src/object's BpfObject) into the kernel, the way libbpf's bpf_object__load does the parts
// bpfkit needs: create every map (inner-map templates for map-in-map, global data filled with its initial bytes,
// .rodata/.kconfig frozen), then load each program with the map references it carries as indexes (BPF_PSEUDO_MAP_IDX /
// MAP_IDX_VALUE) resolved by the kernel through fd_array. The object's BTF (after src/object's DATASEC fix-ups) goes
// to the kernel too, so maps get their key/value types and programs their func_info and line_info; like libbpf, a map
// the kernel refuses with BTF is retried without it. kfuncs and typed ksyms are refused with the reason.
import type { BpfObject, ProgramSpec, MapSpec as ObjectMapSpec } from "../object/index.ts";
import { BpfError } from "../errors.ts";
import { btfLoad, closeFd, mapCreate, mapFreeze, mapUpdateElem, progLoad, type MapCreateAttr } from "./bpf.ts";
import { KernelError } from "./libc.ts";
import { encodeBtf } from "../btf/encode.ts";
import { KernelMap } from "./map-access.ts";
import { vmlinuxFuncBtfId } from "./loader.ts";

export interface LoadedObject {
  /** the object's BTF in the kernel (-1 when it has none or the kernel refused it) */
  readonly btfFd: number;
  readonly maps: ReadonlyMap<string, KernelMap>;
  /** program name → fd */
  readonly programs: ReadonlyMap<string, number>;
  /** programs not loaded, with the reason (unknown section type, kfuncs, the verifier's refusal) */
  readonly skipped: ReadonlyMap<string, string>;
  close(): void;
}

const DATA_ORIGINS = new Set(["data", "rodata", "bss", "kconfig"]);
// BPF_TRACE_FENTRY, FEXIT, MODIFY_RETURN, LSM_MAC, TRACE_ITER: attach targets named by BTF id
const BTF_ATTACH = new Set([24, 25, 26, 27]);

function createObjectMap(m: ObjectMapSpec, btfFd: number): number {
  let inner = 0;
  if (m.innerMap) inner = createObjectMap(m.innerMap, btfFd);
  try {
    const attr: MapCreateAttr = {
      mapType: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, mapFlags: m.flags,
      name: m.name, innerMapFd: inner, numaNode: m.numaNode, mapExtra: BigInt(m.mapExtra),
    };
    let fd: number;
    if (btfFd > 0 && m.btfValueTypeId) {
      try {
        fd = mapCreate({ ...attr, btfFd, btfKeyTypeId: m.btfKeyTypeId, btfValueTypeId: m.btfValueTypeId });
      } catch (e) {
        if (!(e instanceof KernelError)) throw e;
        fd = mapCreate(attr); // libbpf: "map 'x': failed to create map with BTF, retrying without"
      }
    } else fd = mapCreate(attr);
    if (DATA_ORIGINS.has(m.origin)) {
      if (m.initialValue) mapUpdateElem(fd, new Uint8Array(4), m.initialValue);
      // libbpf freezes read-only data so the verifier may treat it as constant
      if (m.origin === "rodata" || m.origin === "kconfig") mapFreeze(fd);
    }
    return fd;
  } finally {
    if (inner) closeFd(inner);
  }
}

function funcInfoBytes(p: ProgramSpec): Uint8Array {
  const b = new Uint8Array(p.funcInfo.length * 8);
  const v = new DataView(b.buffer);
  p.funcInfo.forEach((f, i) => { v.setUint32(i * 8, f.insnOff, true); v.setUint32(i * 8 + 4, f.typeId, true); });
  return b;
}

function lineInfoBytes(p: ProgramSpec): Uint8Array {
  const b = new Uint8Array(p.lineInfo.length * 16);
  const v = new DataView(b.buffer);
  p.lineInfo.forEach((l, i) => {
    v.setUint32(i * 16, l.insnOff, true);
    v.setUint32(i * 16 + 4, l.fileNameOff, true);
    v.setUint32(i * 16 + 8, l.lineOff, true);
    v.setUint32(i * 16 + 12, ((l.lineNum << 10) | (l.lineCol & 0x3ff)) >>> 0, true);
  });
  return b;
}

async function loadOne(obj: BpfObject, p: ProgramSpec, mapFds: readonly number[], btfFd: number): Promise<number> {
  const unsupported = p.relocs.find((r) => r.kind === "kfunc" || r.kind === "ksym");
  if (unsupported) throw new BpfError("UNSUPPORTED", `program '${p.name}' uses ${unsupported.kind} '${unsupported.extern}', which needs the object's BTF in the kernel (not loaded by bpfkit)`);
  let attachBtfId: number | undefined;
  if (BTF_ATTACH.has(p.attachType) && p.attachTo) attachBtfId = await vmlinuxFuncBtfId(p.attachTo);
  const base = {
    progType: p.progType, insns: p.insns, license: obj.license || "GPL", kernVersion: obj.kernVersion,
    name: p.name.slice(0, 15), expectedAttachType: p.attachType, progFlags: p.progFlags, attachBtfId,
    fdArray: mapFds,
  };
  if (btfFd <= 0 || !p.funcInfo.length) return progLoad(base).fd;
  return progLoad({
    ...base, progBtfFd: btfFd,
    funcInfo: { recSize: 8, bytes: funcInfoBytes(p), count: p.funcInfo.length },
    lineInfo: p.lineInfo.length ? { recSize: 16, bytes: lineInfoBytes(p), count: p.lineInfo.length } : undefined,
  }).fd;
}

/** Creates the object's maps and loads its programs; a program the kernel refuses is reported in `skipped`. */
export async function loadObjectIntoKernel(obj: BpfObject): Promise<LoadedObject> {
  const maps = new Map<string, KernelMap>();
  const mapFds: number[] = [];
  const programs = new Map<string, number>();
  const skipped = new Map<string, string>();
  let btfFd = -1;
  const close = () => {
    for (const fd of programs.values()) closeFd(fd);
    for (const m of maps.values()) m.close();
    if (btfFd > 0) closeFd(btfFd);
  };
  try {
    if (obj.btf) {
      try {
        btfFd = btfLoad(encodeBtf(obj.btf));
      } catch (e) {
        if (!(e instanceof KernelError)) throw e;
        btfFd = -1; // as libbpf: carry on without BTF when the kernel refuses it
      }
    }
    for (const m of obj.maps) {
      const fd = createObjectMap(m, btfFd);
      mapFds.push(fd);
      maps.set(m.name, new KernelMap(fd, m.type, m.keySize, m.valueSize, m.maxEntries));
    }
    for (const p of obj.programs) {
      if (p.progType === 0) { skipped.set(p.name, `section '${p.section}' names no program type`); continue; }
      try {
        programs.set(p.name, await loadOne(obj, p, mapFds, btfFd));
      } catch (e) {
        if (!(e instanceof BpfError)) throw e;
        skipped.set(p.name, e.message);
      }
    }
  } catch (e) {
    close();
    throw e;
  }
  return { btfFd, maps, programs, skipped, close };
}
