// openObject: a clang-built object into a Backend (bpfkit's VM or Linux), the way libbpf's bpf_object__load does it —
// written once for both. Open the ELF (CO-RE against the backend's BTF), load the object's BTF, create every map
// (inner-map templates for map-in-map; a map the backend refuses with BTF is retried without, as libbpf does), fill
// global data and freeze .rodata/.kconfig, load every program with its func/line info and fd_array map references,
// fill the prog arrays and map-in-maps the object initialises, and attach programs by their SEC() names.
import { BpfError } from "../errors.ts";
import { encodeBtf } from "../btf/encode.ts";
import { loadObject } from "../object/index.ts";
import type { BpfObject, LoadObjectOptions, MapSpec as ObjectMapSpec, ProgramSpec } from "../object/index.ts";
import { errnoOf } from "./backend.ts";
import type { AttachTarget, Backend } from "./backend.ts";
import { BpfMap, Link, Program } from "./model.ts";

export interface OpenObjectOptions extends Omit<LoadObjectOptions, "targetBtf"> {
  /** Load only these programs (the rest are reported in `skipped`); default all. */
  readonly programs?: readonly string[];
  /** Verifier log level for every program load (0: a log only on failure). */
  readonly logLevel?: number;
}

/** An object loaded into a backend: its maps and programs by name, and the programs it could not load. */
export interface LoadedObject {
  readonly object: BpfObject;
  readonly backend: Backend;
  /** By the map's name in the source (`counts`, `.data`, `.rodata`), in object order. */
  readonly maps: ReadonlyMap<string, BpfMap>;
  /** By C function name, in object order. */
  readonly programs: ReadonlyMap<string, Program>;
  /** program name → why it was not loaded (unknown section, kfuncs, the verifier's refusal with its log) */
  readonly skipped: ReadonlyMap<string, string>;
  /** The object's BTF in the backend (-1 when none or refused). */
  readonly btfFd: number;
  /** Attach one program by its section (`SEC("tracepoint/sched/sched_switch")`), or to an explicit target. */
  attach(program: string, target?: AttachTarget): Link;
  /** Attach every loaded program whose section names its target; programs that need one (xdp, socket) are left. */
  attachAll(): Link[];
  close(): void;
}

const DATA_ORIGINS = new Set(["data", "rodata", "bss", "kconfig"]);
// BPF_TRACE_FENTRY, FEXIT, MODIFY_RETURN, LSM_MAC, TRACE_ITER: attach targets named by BTF id
const BTF_ATTACH = new Set([24, 25, 26, 27, 28]);
const BTF_KIND_FUNC = 12;
const PERF_EVENT_ARRAY = 4;
// map types libbpf creates without key/value BTF: perf_event_array, stack_trace, cgroup_array, map-in-maps, devmaps,
// sockmap, cpumap, xskmap, sockhash, queue, stack
const NO_BTF_TYPES = new Set([4, 7, 8, 12, 13, 14, 15, 16, 17, 18, 22, 23, 25]);

/** What a program's section names as its attach target, or undefined when the section needs one supplied. */
export function sectionTarget(p: Pick<ProgramSpec, "section">): AttachTarget | undefined {
  const [kind, ...rest] = p.section.split("/");
  switch (kind) {
    case "tracepoint": case "tp":
      return rest.length === 2 ? { kind: "tracepoint", category: rest[0]!, name: rest[1]! } : undefined;
    case "raw_tracepoint": case "raw_tp":
      return rest.length === 1 ? { kind: "raw_tracepoint", name: rest[0]! } : undefined;
    case "uprobe": case "uretprobe": {
      // uprobe/PATH:FUNC (libbpf's auto-attach form)
      const spec = rest.join("/");
      const colon = spec.lastIndexOf(":");
      if (colon < 0) return undefined;
      return { kind: "uprobe", path: spec.slice(0, colon), symbol: spec.slice(colon + 1), retprobe: kind === "uretprobe" };
    }
    default: return undefined;
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

function createObjectMap(b: Backend, m: ObjectMapSpec, btfFd: number): number {
  const inner = m.innerMap ? createObjectMap(b, m.innerMap, btfFd) : 0;
  try {
    // libbpf: a perf event array defaults to int keys and values and one slot per possible CPU
    const perfArray = m.type === PERF_EVENT_ARRAY;
    const attr = {
      mapType: m.type, keySize: perfArray && !m.keySize ? 4 : m.keySize, valueSize: perfArray && !m.valueSize ? 4 : m.valueSize,
      maxEntries: perfArray && !m.maxEntries ? b.possibleCpus() : m.maxEntries, mapFlags: m.flags,
      name: m.name.slice(0, 15), innerMapFd: inner, numaNode: m.numaNode, mapExtra: BigInt(m.mapExtra),
    };
    let fd: number;
    if (btfFd > 0 && m.btfValueTypeId && !NO_BTF_TYPES.has(m.type)) {
      try {
        fd = b.mapCreate({ ...attr, btfFd, btfKeyTypeId: m.btfKeyTypeId, btfValueTypeId: m.btfValueTypeId });
      } catch (e) {
        if (errnoOf(e) === undefined) throw e;
        fd = b.mapCreate(attr); // libbpf: "map 'x': failed to create map with BTF, retrying without"
      }
    } else fd = b.mapCreate(attr);
    try {
      if (DATA_ORIGINS.has(m.origin)) {
        if (m.initialValue) b.mapUpdateElem(fd, new Uint8Array(4), m.initialValue);
        // libbpf freezes read-only data so the verifier may treat it as constant
        if (m.origin === "rodata" || m.origin === "kconfig") b.mapFreeze(fd);
      }
    } catch (e) {
      b.close(fd);
      throw e;
    }
    return fd;
  } finally {
    if (inner) b.close(inner);
  }
}

function loadProgram(b: Backend, obj: BpfObject, p: ProgramSpec, mapFds: readonly number[], btfFd: number, logLevel: number): number {
  // kfunc calls carry vmlinux BTF ids (insn.off 0: no fd_array needed); typed ksym variables still need a kernel
  const unsupported = p.relocs.find((r) => r.kind === "ksym");
  if (unsupported) throw new BpfError("UNSUPPORTED", `program '${p.name}' uses ${unsupported.kind} '${unsupported.extern}', which needs the object's BTF in the kernel (not loaded by bpfkit)`);
  let attachBtfId: number | undefined;
  if (BTF_ATTACH.has(p.attachType) && p.attachTo) {
    // libbpf's find_attach_btf_id: iterators are the kernel's bpf_iter_NAME functions, LSM hooks bpf_lsm_NAME
    const name = (p.attachType === 28 ? "bpf_iter_" : p.attachType === 27 ? "bpf_lsm_" : "") + p.attachTo;
    const id = b.kernelBtf()?.findByName(name, BTF_KIND_FUNC);
    if (!id || id < 0) throw new BpfError("ENOENT", `no function '${name}' in the kernel's BTF`);
    attachBtfId = id;
  }
  // libbpf hands the kernel map fds in lddw (BPF_PSEUDO_MAP_FD / MAP_VALUE), and the program tag hashes that form
  const insns = p.insns.map((x) => (x.code === 0x18 && (x.src === 5 || x.src === 6) ? { ...x, src: x.src - 4, imm: mapFds[x.imm] ?? -1 } : x));
  const base = {
    progType: p.progType, insns, license: obj.license || "GPL", kernVersion: obj.kernVersion,
    name: p.name.slice(0, 15), expectedAttachType: p.attachType, progFlags: p.progFlags, attachBtfId, logLevel,
  };
  if (btfFd <= 0 || !p.funcInfo.length) return b.progLoad(base).fd;
  return b.progLoad({
    ...base, progBtfFd: btfFd,
    funcInfo: { recSize: 8, bytes: funcInfoBytes(p), count: p.funcInfo.length },
    lineInfo: p.lineInfo.length ? { recSize: 16, bytes: lineInfoBytes(p), count: p.lineInfo.length } : undefined,
  }).fd;
}

const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);

/** Opens an object (ELF bytes or an already parsed BpfObject) into `backend`. */
export function openObject(backend: Backend, input: Uint8Array | BpfObject, opts: OpenObjectOptions = {}): LoadedObject {
  const obj = input instanceof Uint8Array
    ? loadObject(input, { ...opts, targetBtf: backend.kernelBtf(), kconfig: opts.kconfig ?? backend.kconfig() })
    : input;
  const maps = new Map<string, BpfMap>();
  const mapFds: number[] = [];
  const programs = new Map<string, Program>();
  const skipped = new Map<string, string>();
  const links: Link[] = [];
  let btfFd = -1;
  const close = (): void => {
    for (const l of links) l.close();
    for (const p of programs.values()) p.close();
    for (const m of maps.values()) m.close();
    if (btfFd > 0) backend.close(btfFd);
    btfFd = -1;
  };
  try {
    if (obj.btf) {
      try {
        btfFd = backend.btfLoad(encodeBtf(obj.btf));
      } catch (e) {
        if (errnoOf(e) === undefined) throw e;
        btfFd = -1; // as libbpf: carry on without BTF when the backend refuses it
      }
    }
    for (const m of obj.maps) {
      const fd = createObjectMap(backend, m, btfFd);
      mapFds.push(fd);
      maps.set(m.realName, new BpfMap(backend, fd, m.type, m.keySize, m.valueSize, m.maxEntries, m.name));
    }
    for (const p of obj.programs) {
      if (opts.programs && !opts.programs.includes(p.name)) { skipped.set(p.name, "not selected"); continue; }
      if (p.progType === 0) { skipped.set(p.name, `section '${p.section}' names no program type`); continue; }
      try {
        const fd = loadProgram(backend, obj, p, mapFds, btfFd, opts.logLevel ?? 0);
        // libbpf binds the object's read-only data maps to every program it loads (their bpf_metadata_* values
        // stay reachable from the program: bpftool lists them), whether the program reads them or not
        // (a refusal is only a warning there)
        obj.maps.forEach((m, i) => {
          if (m.origin !== "rodata") return;
          try { backend.progBindMap(fd, mapFds[i]!); } catch (e) { if (!(e instanceof BpfError)) throw e; }
        });
        programs.set(p.name, new Program(backend, fd, p.name, p.progType, p.section));
      } catch (e) {
        if (!(e instanceof BpfError)) throw e;
        skipped.set(p.name, e.message);
      }
    }
    // `.values = { [i] = &prog }` / `{ [i] = &inner_map }`: libbpf fills these slots after loading
    obj.maps.forEach((spec, idx) => {
      spec.initSlots?.forEach((name, slot) => {
        if (name === undefined) return;
        const target = spec.type === 3 ? programs.get(name)?.fd : maps.get(name)?.fd ?? mapFds[obj.maps.findIndex((m) => m.name === name || m.realName === name)];
        if (target !== undefined) backend.mapUpdateElem(mapFds[idx]!, u32(slot), u32(target));
      });
    });
  } catch (e) {
    close();
    throw e;
  }
  const attach = (name: string, target?: AttachTarget): Link => {
    const p = programs.get(name);
    if (p === undefined) throw new BpfError("ENOENT", skipped.has(name) ? `program '${name}' was not loaded: ${skipped.get(name)}` : `no program named '${name}'`);
    const t = target ?? sectionTarget(p);
    if (t === undefined) throw new BpfError("EINVAL", `program '${name}' (SEC("${p.section}")) needs an explicit attach target`);
    const link = p.attach(t);
    links.push(link);
    return link;
  };
  return {
    object: obj, backend, maps, programs, skipped, get btfFd() { return btfFd; },
    attach,
    attachAll: () => [...programs.values()].filter((p) => sectionTarget(p) !== undefined).map((p) => attach(p.name)),
    close,
  };
}

/** A refused load in one line (as `bpfkit run` reports it): the command and errno, then the verifier's error line. */
export function refusalLine(message: string): string {
  const lines = message.split("\n").filter((l) => l && !/^(\d+: |; |processed |verification time|stack depth)/.test(l));
  return lines.length > 1 ? `${lines[0]}: ${lines[lines.length - 1]}` : lines[0] ?? message;
}

/**
 * bpftool's `prog load OBJ PATH` (the first program pinned at PATH) and `prog loadall OBJ DIR` (every program pinned
 * as DIR/NAME): the object is loaded, pinned, and its handles closed as bpftool's exit closes them — what is not pinned
 * (or held by a pinned program, as its maps are) goes away.
 */
export function loadAndPin(backend: Backend, bytes: Uint8Array, fileName: string, op: "load" | "loadall", path: string): void {
  const obj = openObject(backend, bytes, { fileName });
  try {
    const progs = [...obj.programs.values()];
    // libbpf's bpf_object__load fails the whole object when the kernel refuses any of its programs (a program bpfkit
    // cannot verify yet, "bpfkit: ... not supported", is no verdict and leaves the others loaded)
    const refused = [...obj.skipped.values()].some((r) => r.startsWith("BPF_PROG_LOAD") && !/^bpfkit: /m.test(r));
    if (progs.length === 0 || refused || (op === "load" && !obj.programs.has(obj.object.programs[0]?.name ?? ""))) {
      const why = [...obj.skipped].map(([n, r]) => `${n}: ${r}`).join("\n");
      throw new BpfError("EINVAL", `failed to load object file${why ? `\n${why}` : ""}`);
    }
    if (op === "load") progs[0]!.pin(path);
    else for (const p of progs) p.pin(`${path}/${p.name}`);
  } finally {
    obj.close();
  }
}
