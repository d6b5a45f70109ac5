// A clang-built object (src/object's BpfObject) into the kernel, the way libbpf's bpf_object__load does the parts
// bpfkit needs: create every map (inner-map templates for map-in-map, global data filled with its initial bytes,
// .rodata/.kconfig frozen), then load each program with the map references it carries as indexes (BPF_PSEUDO_MAP_IDX /
// MAP_IDX_VALUE) resolved by the kernel through fd_array. BTF is not loaded (maps and programs go without BTF ids and
// func/line info), so objects that need it — kfuncs, typed ksyms, spin locks in values — are refused with the reason.
import type { BpfObject, ProgramSpec, MapSpec as ObjectMapSpec } from "../object/index.ts";
import { BpfError } from "../errors.ts";
import { closeFd, mapCreate, mapFreeze, mapUpdateElem, progLoad } from "./bpf.ts";
import { KernelMap } from "./map-access.ts";
import { vmlinuxFuncBtfId } from "./loader.ts";

export interface LoadedObject {
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

function createObjectMap(m: ObjectMapSpec): number {
  let inner = 0;
  if (m.innerMap) inner = createObjectMap(m.innerMap);
  try {
    const fd = mapCreate({
      mapType: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, mapFlags: m.flags,
      name: m.name, innerMapFd: inner, numaNode: m.numaNode, mapExtra: BigInt(m.mapExtra),
    });
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

async function loadOne(obj: BpfObject, p: ProgramSpec, mapFds: readonly number[]): Promise<number> {
  const unsupported = p.relocs.find((r) => r.kind === "kfunc" || r.kind === "ksym");
  if (unsupported) throw new BpfError("UNSUPPORTED", `program '${p.name}' uses ${unsupported.kind} '${unsupported.extern}', which needs the object's BTF in the kernel (not loaded by bpfkit)`);
  let attachBtfId: number | undefined;
  if (BTF_ATTACH.has(p.attachType) && p.attachTo) attachBtfId = await vmlinuxFuncBtfId(p.attachTo);
  return progLoad({
    progType: p.progType, insns: p.insns, license: obj.license || "GPL", kernVersion: obj.kernVersion,
    name: p.name.slice(0, 15), expectedAttachType: p.attachType, progFlags: p.progFlags, attachBtfId,
    fdArray: mapFds,
  }).fd;
}

/** Creates the object's maps and loads its programs; a program the kernel refuses is reported in `skipped`. */
export async function loadObjectIntoKernel(obj: BpfObject): Promise<LoadedObject> {
  const maps = new Map<string, KernelMap>();
  const mapFds: number[] = [];
  const programs = new Map<string, number>();
  const skipped = new Map<string, string>();
  const close = () => {
    for (const fd of programs.values()) closeFd(fd);
    for (const m of maps.values()) m.close();
  };
  try {
    for (const m of obj.maps) {
      const fd = createObjectMap(m);
      mapFds.push(fd);
      maps.set(m.name, new KernelMap(fd, m.type, m.keySize, m.valueSize, m.maxEntries));
    }
    for (const p of obj.programs) {
      if (p.progType === 0) { skipped.set(p.name, `section '${p.section}' names no program type`); continue; }
      try {
        programs.set(p.name, await loadOne(obj, p, mapFds));
      } catch (e) {
        if (!(e instanceof BpfError)) throw e;
        skipped.set(p.name, e.message);
      }
    }
  } catch (e) {
    close();
    throw e;
  }
  return { maps, programs, skipped, close };
}
