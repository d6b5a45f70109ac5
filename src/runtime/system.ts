// System: bpfkit's own kernel. The bpf() commands as typed methods over a file-descriptor table, as Linux offers
// them: BPF_PROG_LOAD runs the verifier (src/verifier) and refuses with its log and errno; accepted programs get an
// id, the kernel's tag, load time, uid, map ids, BTF and func/line info. Maps, BTF objects and links get ids too;
// objects live while an fd, a bpffs pin, a program (for its maps) or a link holds them. Programs run through an
// Executor (default: the calling thread as CPU 0), so worker-thread CPUs can take over without changing System.
import { BpfError } from "../errors.ts";
import type { Insn } from "../isa/ebpf/insn.ts";
import { decodeProgram } from "../isa/ebpf/index.ts";
import type { Btf } from "../btf/parse.ts";
import { parseBtf } from "../btf/parse.ts";
import { verify, type VerifierMapSpec } from "../verifier/index.ts";
import { AddressSpace } from "../vm/index.ts";
import { createEngine, DEFAULT_ENGINE, type Engine } from "../jit/index.ts";
import type { LoadedProgram, RunOptions, RunResult } from "../vm/index.ts";
import { defaultHelpers, hostEnv } from "../helpers/index.ts";
import type { HelperEnv, HelperTable } from "../helpers/index.ts";
import { BpfMap as VmMap, createMap, isPerCpu, memlockOf, PerfEventArrayMap } from "../maps/index.ts";
import type { MapSpec } from "../maps/index.ts";
import { PROG_TYPE_NAMES } from "../uapi/index.ts";
import { licenseIsGplCompatible } from "../helpers/protos.ts";
import { testRun } from "./test-run.ts";
import { progTag } from "./tag.ts";
import { KernelSymbols } from "./ksyms.ts";
import { DEFAULT_DEVICES, VmNet, type DeviceSpec } from "./netdev.ts";
import { kernelImage, subprogForTag } from "../verifier/fixups.ts";
import {
  SyscallError, encodeInsns, errnoOf,
  type AttachTarget, type Attachment, type Backend, type BatchResult, type BtfInfo, type LinkInfo, type MapCreateAttr,
  type MapInfo, type ObjectKind, type ProgInfo, type ProgInfoExtras, type ProgInfoWanted, type ProgLoadAttr,
  type ProgLoadResult, type TestRunAttr, type TestRunResult,
} from "./backend.ts";

/** Runs programs: the calling thread by default; a worker-CPU pool implements the same interface. */
export interface Executor {
  readonly nCpus: number;
  run(prog: LoadedProgram, opts: RunOptions): RunResult;
}

export interface SystemOptions {
  /** Possible CPUs (per-CPU map slots, bpf_get_smp_processor_id bound); default 1. */
  readonly nCpus?: number;
  readonly env?: HelperEnv;
  readonly helpers?: HelperTable;
  /** "jit" (default: src/jit, eBPF compiled to WebAssembly) or "interp" (the interpreter, for stepping and debugging). */
  readonly engine?: "interp" | "jit";
  /**
   * Override the executor; default runs on the calling thread (CPU 0 unless RunOptions.cpu says otherwise). Worker
   * CPUs: `{ shared: true, executor: (_vm, space) => CpuPool.open(space, { nCpus }) }` (src/node).
   */
  readonly executor?: (vm: Engine, space: AddressSpace) => Executor;
  /** Back the system's address space with shared memory, so worker-thread CPUs can run its programs. */
  readonly shared?: boolean;
  /** created_by_uid of loaded programs (default 0). */
  readonly uid?: number;
  /** CLOCK_BOOTTIME in ns for load_time (default: the helper env's bootNs). */
  readonly bootNs?: () => bigint;
  /** The BTF CO-RE resolves against (vmlinux); undefined when none is known. */
  /** the kernel BTF CO-RE relocates against, or a function giving it on first use (parsing vmlinux costs ~1 s) */
  readonly kernelBtf?: Btf | (() => Btf | undefined);
  /** bpffs mount points objPin accepts (default ["/sys/fs/bpf"]). */
  readonly bpffs?: readonly string[];
  /** Values for `__kconfig` externs of objects opened into this system (default: none, externs read 0). */
  readonly kconfig?: Readonly<Record<string, number | bigint | boolean | string>>;
  /** Digest of program tags: "sha256" (Linux 6.18+, default) or "sha1" (older kernels). */
  readonly tagHash?: "sha256" | "sha1";
  /** The address space to live in (a shared one, for worker-thread CPUs); default a new private one. */
  readonly space?: AddressSpace;
  /** The network devices XDP programs attach to (by netlink or by link); default just `lo` (netdev.ts). */
  readonly devices?: readonly DeviceSpec[];
}

interface Obj {
  readonly kind: ObjectKind;
  readonly id: number;
  refs: number;
  destroy(): void;
}

export interface ProgObject extends Obj {
  readonly kind: "prog";
  readonly type: number;
  readonly name: string;
  readonly tag: string;
  readonly loaded: LoadedProgram;
  /** The image bpftool's `prog dump xlated` prints: the kernel's rewrites applied (src/verifier/fixups.ts), map ids. */
  readonly xlated: readonly Insn[];
  /** jited_ksyms: each (sub)function's image address in the system's kallsyms (bpf_prog_TAG_NAME) */
  readonly jitedKsyms: readonly bigint[];
  /** the kernel rewrites bpfkit does not model for this program (its xlated image keeps the loaded form there) */
  readonly unmodelled: readonly string[];
  /** prog->pages: the image's pages at its longest (loaded, or while being rewritten) */
  readonly pages: number;
  readonly maps: readonly MapObject[];
  readonly btf: BtfObject | undefined;
  readonly funcInfo: Uint8Array | undefined;
  readonly lineInfo: Uint8Array | undefined;
  readonly loadTime: bigint;
  readonly uid: number;
  readonly gpl: boolean;
  readonly verifiedInsns: number;
  readonly expectedAttachType: number;
  readonly attachBtfId: number;
  /** run_cnt, kept as a number on the event path (BigInt only when info is read) */
  runs: number;
  runTimeNs: bigint;
}

export interface MapObject extends Obj {
  readonly kind: "map";
  readonly map: VmMap;
  readonly btf: BtfObject | undefined;
  readonly btfKeyTypeId: number;
  readonly btfValueTypeId: number;
  readonly mapExtra: bigint;
  /** prog_array: the type of the first program that used it (fdinfo owner_prog_type) */
  ownerProgType?: number;
}

export interface BtfObject extends Obj {
  readonly kind: "btf";
  readonly bytes: Uint8Array;
  readonly btf: Btf;
}

export interface LinkObject extends Obj {
  readonly kind: "link";
  readonly type: number;
  readonly prog: ProgObject;
  readonly target: AttachTarget;
  readonly attachType: number;
  detached: boolean;
}

type AnyObj = ProgObject | MapObject | BtfObject | LinkObject;

const LDDW = 0x18;
const PSEUDO_MAP_FD = 1, PSEUDO_MAP_VALUE = 2, PSEUDO_MAP_IDX = 5, PSEUDO_MAP_IDX_VALUE = 6;
const MAP_REFS = new Set([PSEUDO_MAP_FD, PSEUDO_MAP_VALUE, PSEUDO_MAP_IDX, PSEUDO_MAP_IDX_VALUE]);
const EPERM = 1, ENOENT = 2, EBADF = 9, EEXIST = 17, EINVAL = 22, ENOSPC = 28, ENOTSUPP = 524;
const PROG_ARRAY = 3, BLOOM_FILTER = 30;

const fail = (errno: number, command: string, detail = "", log = ""): SyscallError => new SyscallError(errno, command, detail, log);

/** A name as the attr's 16-byte map_name/prog_name field carries it: at most 15 bytes (the caller's copy cuts it). */
const attrName = (name: string | undefined): string => {
  const b = new TextEncoder().encode(name ?? "");
  return b.length <= 15 ? name ?? "" : new TextDecoder().decode(b.subarray(0, 15));
};

/** Converts a map's BpfError (code = errno name) into the SyscallError a bpf() caller sees. */
function syscall<T>(command: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof SyscallError) throw e;
    const errno = errnoOf(e);
    if (errno === undefined) throw e;
    throw fail(errno, command, e instanceof Error ? e.message.replace(/: E[A-Z0-9]+$/, "") : "");
  }
}

/** Which hook an attach target fires from (tracepoint:sched:sched_switch, xdp:1, ...). */
export function hookOf(t: AttachTarget): string {
  switch (t.kind) {
    case "tracepoint": return `tracepoint:${t.category}:${t.name}`;
    case "raw_tracepoint": return `raw_tracepoint:${t.name}`;
    case "perf_event": return `perf_event:${t.event?.name === "cpu" ? "cpu-clock" : t.event?.name ?? "cpu-clock"}`;
    case "usdt": return `usdt:${t.path}:${t.provider}:${t.name}`;
    case "uprobe": return `${t.retprobe ? "uretprobe" : "uprobe"}:${t.symbol}`;
    case "xdp": return `xdp:${t.ifindex}`;
    case "tcx": return `tcx:${t.ifindex}:${t.direction}`;
    case "socket_filter": return `socket:${t.socket}`;
    case "iter": return `iter:${t.mapFd ?? 0}`;
  }
}

// enum bpf_link_type / bpf_attach_type for the targets above
const LINK_TYPE: Record<AttachTarget["kind"], number> = {
  tracepoint: 7, raw_tracepoint: 1, perf_event: 7, uprobe: 7, usdt: 7, xdp: 6, tcx: 11, socket_filter: 0, iter: 4,
};
const ATTACH_TYPE: Record<AttachTarget["kind"], number> = {
  tracepoint: 41, raw_tracepoint: 23, perf_event: 41, uprobe: 41, usdt: 41, xdp: 37, tcx: 46, socket_filter: 0, iter: 28,
};

const NO_PROGS: readonly ProgObject[] = [];

export class System implements Backend {
  readonly kind = "vm" as const;
  readonly space: AddressSpace;
  readonly vm: Engine;
  readonly env: HelperEnv;
  readonly executor: Executor;
  readonly nCpus: number;
  private readonly fds = new Map<number, AnyObj>();
  private readonly byId: Record<ObjectKind, Map<number, AnyObj>> = { prog: new Map(), map: new Map(), btf: new Map(), link: new Map() };
  private readonly nextId: Record<ObjectKind, number> = { prog: 1, map: 0, btf: 1, link: 1 };
  private readonly pinned = new Map<string, AnyObj>();
  /** programs by hook, in attach order; replaced (never mutated) on attach/detach, so events read them as they are */
  private readonly hooks = new Map<string, readonly ProgObject[]>();
  private readonly opts: SystemOptions;
  private nextFd = 3;
  private readonly tracePipe = new Set<(line: string) => void>();
  private readonly ksyms = new KernelSymbols();
  /** network devices and their XDP slots (rtnetlink on the VM) */
  readonly net: VmNet<ProgObject>;

  constructor(opts: SystemOptions = {}) {
    this.opts = opts;
    this.net = new VmNet<ProgObject>(opts.devices ?? DEFAULT_DEVICES, {
      progByFd: (fd) => { const o = this.fds.get(fd); return o === undefined ? EBADF : o.kind === "prog" ? o : EINVAL; },
      hold: (p) => { p.refs++; },
      release: (p) => this.unref(p),
      setHook: (ifindex, progs) => this.hooks.set(hookOf({ kind: "xdp", ifindex }), progs),
    });
    this.nCpus = opts.nCpus ?? 1;
    const base = opts.env ?? hostEnv();
    // bpf_trace_printk lines go to the env (as before) and to every trace_pipe reader
    this.env = { ...base, tracePrint: (line) => { base.tracePrint(line); for (const r of this.tracePipe) r(line); } };
    this.space = opts.space ?? new AddressSpace({ shared: opts.shared ?? false });
    this.vm = createEngine(opts.engine ?? DEFAULT_ENGINE, this.space, {
      helpers: opts.helpers ?? defaultHelpers, env: this.env,
      programOf: (e) => (e as { loaded?: LoadedProgram } | undefined)?.loaded,
    });
    this.executor = opts.executor?.(this.vm, this.space) ?? { nCpus: this.nCpus, run: (p, o) => this.vm.run(p, o) };
  }

  possibleCpus(): number { return this.nCpus; }
  private btfCache: Btf | undefined | null = null;
  kernelBtf(): Btf | undefined {
    const k = this.opts.kernelBtf;
    if (typeof k !== "function") return k;
    if (this.btfCache === null) this.btfCache = k();
    return this.btfCache;
  }
  kconfig() { return this.opts.kconfig; }
  kernelSymbols(): KernelSymbols { return this.ksyms; }

  // ---- fd table and object lifetime ----

  private install(obj: AnyObj): number {
    const fd = this.nextFd++;
    obj.refs++;
    this.fds.set(fd, obj);
    return fd;
  }

  private register<T extends AnyObj>(obj: T): T {
    this.byId[obj.kind].set(obj.id, obj);
    return obj;
  }

  private unref(obj: AnyObj): void {
    if (--obj.refs > 0) return;
    this.byId[obj.kind].delete(obj.id);
    obj.destroy();
  }

  private obj(fd: number, command: string): AnyObj {
    const o = this.fds.get(fd);
    if (o === undefined) throw fail(EBADF, command, `fd ${fd} is not open`);
    return o;
  }

  private mapObj(fd: number, command: string): MapObject {
    const o = this.obj(fd, command);
    if (o.kind !== "map") throw fail(EINVAL, command, `fd ${fd} is not a map`);
    return o;
  }

  private progObj(fd: number, command: string): ProgObject {
    const o = this.obj(fd, command);
    if (o.kind !== "prog") throw fail(EINVAL, command, `fd ${fd} is not a program`);
    return o;
  }

  /** The object behind an fd (for in-process users: attach modules, listings, tests). */
  object(fd: number): ProgObject | MapObject | BtfObject | LinkObject | undefined {
    return this.fds.get(fd);
  }

  /** The VM map behind a map fd (user-space fast path: no byte copies through the Backend interface). */
  vmMap(fd: number): VmMap {
    return this.mapObj(fd, "map").map;
  }

  close(fd: number): void {
    const o = this.fds.get(fd);
    if (o === undefined) throw fail(EBADF, "close", `fd ${fd} is not open`);
    this.fds.delete(fd);
    this.unref(o);
  }

  // ---- BTF ----

  btfLoad(bytes: Uint8Array): number {
    let btf: Btf;
    try {
      btf = parseBtf(bytes, { what: "BTF" });
    } catch (e) {
      throw fail(EINVAL, "BPF_BTF_LOAD", "", e instanceof Error ? e.message : String(e));
    }
    const obj: BtfObject = this.register({ kind: "btf", id: this.nextId.btf++, refs: 0, bytes: bytes.slice(), btf, destroy: () => {} });
    return this.install(obj);
  }

  private btfRef(fd: number | undefined, command: string): BtfObject | undefined {
    if (!fd) return undefined;
    const o = this.obj(fd, command);
    if (o.kind !== "btf") throw fail(EINVAL, command, `fd ${fd} is not BTF`);
    o.refs++;
    return o;
  }

  // ---- maps ----

  mapCreate(a: MapCreateAttr): number {
    return syscall("BPF_MAP_CREATE", () => {
      const inner = a.innerMapFd ? this.mapObj(a.innerMapFd, "BPF_MAP_CREATE").map.spec : undefined;
      const spec: MapSpec = {
        type: a.mapType, keySize: a.keySize, valueSize: a.valueSize, maxEntries: a.maxEntries, flags: a.mapFlags ?? 0,
        name: attrName(a.name), ...(inner ? { innerMap: inner } : {}), ...(a.numaNode ? { numaNode: a.numaNode } : {}),
        ...(a.mapExtra ? { mapExtra: a.mapExtra } : {}),
      };
      const map = createMap(this.space, spec, { nCpus: this.nCpus, resolveFd: (fd) => this.resolveFd(fd) });
      let btf: BtfObject | undefined;
      try {
        btf = a.btfValueTypeId ? this.btfRef(a.btfFd, "BPF_MAP_CREATE") : undefined;
      } catch (e) {
        map.free();
        throw e;
      }
      const obj: MapObject = this.register({
        kind: "map", id: map.id, refs: 0, map, btf, btfKeyTypeId: btf ? a.btfKeyTypeId ?? 0 : 0,
        btfValueTypeId: btf ? a.btfValueTypeId ?? 0 : 0, mapExtra: a.mapExtra ?? 0n,
        destroy: () => { map.free(); if (btf) this.unref(btf); },
      });
      return this.install(obj);
    });
  }

  /** What a u32 "fd" in a user-space update of an fd map designates (prog array, map-in-map, perf event array). */
  private resolveFd(fd: number): unknown {
    const o = this.fds.get(fd);
    if (o?.kind === "prog") return o;
    if (o?.kind === "map") return o.map;
    return undefined;
  }

  mapLookupElem(fd: number, key: Uint8Array | null, value: Uint8Array, flags = 0): void {
    const m = this.mapObj(fd, "BPF_MAP_LOOKUP_ELEM").map;
    const v = syscall("BPF_MAP_LOOKUP_ELEM", () => m.lookup(key, flags, m.type === BLOOM_FILTER ? value : undefined));
    if (v !== value) value.set(v.subarray(0, value.length));
  }

  mapUpdateElem(fd: number, key: Uint8Array | null, value: Uint8Array, flags = 0): void {
    const o = this.mapObj(fd, "BPF_MAP_UPDATE_ELEM");
    const m = o.map;
    if (m.type === PROG_ARRAY && value.length >= 4) {
      // as the kernel's bpf_prog_map_compatible: a program array holds programs of one type, the first one's
      const p = this.fds.get(new DataView(value.buffer, value.byteOffset).getUint32(0, true));
      if (p?.kind === "prog") {
        if (o.ownerProgType !== undefined && o.ownerProgType !== p.type) throw fail(EINVAL, "BPF_MAP_UPDATE_ELEM", "program type differs from the program array's");
        o.ownerProgType ??= p.type;
      }
    }
    syscall("BPF_MAP_UPDATE_ELEM", () => m.update(key, value.length > m.userValueSize ? value.subarray(0, m.userValueSize) : value, flags));
  }

  mapDeleteElem(fd: number, key: Uint8Array | null): void {
    const m = this.mapObj(fd, "BPF_MAP_DELETE_ELEM").map;
    syscall("BPF_MAP_DELETE_ELEM", () => m.delete(key));
  }

  mapLookupAndDeleteElem(fd: number, key: Uint8Array | null, value: Uint8Array, flags = 0): void {
    const m = this.mapObj(fd, "BPF_MAP_LOOKUP_AND_DELETE_ELEM").map;
    const v = syscall("BPF_MAP_LOOKUP_AND_DELETE_ELEM", () => m.lookupAndDelete(key, flags));
    value.set(v.subarray(0, value.length));
  }

  mapGetNextKey(fd: number, key: Uint8Array | null, nextKey: Uint8Array): boolean {
    const m = this.mapObj(fd, "BPF_MAP_GET_NEXT_KEY").map;
    const next = syscall("BPF_MAP_GET_NEXT_KEY", () => m.getNextKey(key));
    if (next === null) return false;
    nextKey.set(next);
    return true;
  }

  mapFreeze(fd: number): void {
    const m = this.mapObj(fd, "BPF_MAP_FREEZE").map;
    // kernel: a frozen map gives user space read permission only, so a second freeze fails the permission check
    // (EPERM) before the frozen check (EBUSY) is reached
    if (m.frozen) throw new SyscallError(1 /* EPERM */, "BPF_MAP_FREEZE");
    syscall("BPF_MAP_FREEZE", () => m.freeze());
  }

  private batchOut(cmd: string, m: VmMap, r: { keys: Uint8Array[]; values: Uint8Array[]; count: number; outBatch: Uint8Array | null; done: boolean },
    outBatch: Uint8Array, keys: Uint8Array, values: Uint8Array): BatchResult {
    r.keys.forEach((k, i) => keys.set(k, i * m.keySize));
    r.values.forEach((v, i) => values.set(v, i * m.userValueSize));
    if (r.outBatch) outBatch.set(r.outBatch.subarray(0, outBatch.length));
    void cmd;
    return { count: r.count, done: r.done };
  }

  mapLookupBatch(fd: number, inBatch: Uint8Array | null, outBatch: Uint8Array, keys: Uint8Array, values: Uint8Array, count: number, elemFlags = 0): BatchResult {
    const m = this.mapObj(fd, "BPF_MAP_LOOKUP_BATCH").map;
    return syscall("BPF_MAP_LOOKUP_BATCH", () => this.batchOut("BPF_MAP_LOOKUP_BATCH", m, m.lookupBatch(inBatch, count, { elemFlags }), outBatch, keys, values));
  }

  mapLookupAndDeleteBatch(fd: number, inBatch: Uint8Array | null, outBatch: Uint8Array, keys: Uint8Array, values: Uint8Array, count: number, elemFlags = 0): BatchResult {
    const m = this.mapObj(fd, "BPF_MAP_LOOKUP_AND_DELETE_BATCH").map;
    return syscall("BPF_MAP_LOOKUP_AND_DELETE_BATCH", () => this.batchOut("BPF_MAP_LOOKUP_AND_DELETE_BATCH", m, m.lookupAndDeleteBatch(inBatch, count, { elemFlags }), outBatch, keys, values));
  }

  mapUpdateBatch(fd: number, keys: Uint8Array, values: Uint8Array, count: number, elemFlags = 0): BatchResult {
    const m = this.mapObj(fd, "BPF_MAP_UPDATE_BATCH").map;
    const ks = Array.from({ length: count }, (_, i) => keys.subarray(i * m.keySize, (i + 1) * m.keySize));
    const vs = Array.from({ length: count }, (_, i) => values.subarray(i * m.userValueSize, (i + 1) * m.userValueSize));
    return syscall("BPF_MAP_UPDATE_BATCH", () => ({ count: m.updateBatch(ks, vs, { elemFlags }), done: false }));
  }

  mapDeleteBatch(fd: number, keys: Uint8Array, count: number, elemFlags = 0): BatchResult {
    const m = this.mapObj(fd, "BPF_MAP_DELETE_BATCH").map;
    const ks = Array.from({ length: count }, (_, i) => keys.subarray(i * m.keySize, (i + 1) * m.keySize));
    return syscall("BPF_MAP_DELETE_BATCH", () => ({ count: m.deleteBatch(ks, { elemFlags }), done: false }));
  }

  // ---- programs ----

  progLoad(a: ProgLoadAttr): ProgLoadResult {
    const cmd = "BPF_PROG_LOAD";
    const insns: readonly Insn[] = a.insns instanceof Uint8Array ? decodeProgram(a.insns) : a.insns;
    // map references: fds (MAP_FD/VALUE) or fd_array indexes (MAP_IDX/IDX_VALUE) → the maps this program uses
    const used: MapObject[] = [];
    const local = insns.map((x, pc) => {
      if (x.code !== LDDW || !MAP_REFS.has(x.src)) return x;
      const byIdx = x.src === PSEUDO_MAP_IDX || x.src === PSEUDO_MAP_IDX_VALUE;
      const fd = byIdx ? a.fdArray?.[x.imm] : x.imm;
      const o = fd === undefined ? undefined : this.fds.get(fd);
      if (o?.kind !== "map") {
        const msg = byIdx ? `fd_idx ${x.imm} is not pointing to valid bpf_map` : `fd ${x.imm} is not pointing to valid bpf_map`;
        throw fail(EBADF, cmd, "", `${msg}\n`);
      }
      let i = used.indexOf(o);
      if (i < 0) i = used.push(o) - 1;
      void pc;
      return { ...x, imm: i };
    });
    const logLevel = a.logLevel ?? 0;
    const typeName = PROG_TYPE_NAMES[a.progType] ?? "unspec";
    const result = verify(local, {
      progType: a.progType, maps: used.map((m) => this.verifierMap(m.map)), logLevel: Math.max(1, logLevel & 3) | (logLevel & 4),
      license: a.license ?? "", btfFuncInfo: (a.funcInfo?.count ?? 0) > 0, nrCpus: this.nCpus,
    });
    if (!result.accepted) throw fail(result.error?.errno ?? EINVAL, cmd, "", result.log);
    const btf = this.btfRef(a.progBtfFd, cmd);
    let loaded: LoadedProgram;
    try {
      loaded = this.vm.load(local, {
        type: typeName, name: a.name ?? "",
        // the verifier's proven accesses: the JIT runs them unchecked and inlines the hot map helpers
        facts: result.facts,
        resolve: {
          map: (_src, idx) => used[idx]!.map.address,
          mapValue: (_src, idx, off) => this.valueAddress(used[idx]!.map) + off,
        },
      });
    } catch (e) {
      if (btf) this.unref(btf);
      throw e;
    }
    for (const m of used) {
      m.refs++;
      if (m.map.type === PROG_ARRAY) m.ownerProgType ??= a.progType;
    }
    const image = this.rewrite(local, result.aux!, a, used, btf?.btf);
    const xlated = image.insns.map((x) => (x.code === LDDW && MAP_REFS.has(x.src)
      ? { ...x, src: x.src === PSEUDO_MAP_IDX ? PSEUDO_MAP_FD : x.src === PSEUDO_MAP_IDX_VALUE ? PSEUDO_MAP_VALUE : x.src, imm: used[x.imm]!.id }
      : x));
    const prog: ProgObject = this.register({
      kind: "prog", id: this.nextId.prog++, refs: 0, type: a.progType, name: attrName(a.name),
      tag: progTag(insns, this.opts.tagHash), loaded, xlated, maps: used, btf, jitedKsyms: image.ksyms, unmodelled: image.unmodelled,
      // bpf_prog_size: struct bpf_prog up to insns[] (96 bytes on Linux 6.18 x86-64, from its BTF) and the image
      pages: Math.ceil((96 + image.maxLength * 8) / 4096),
      funcInfo: btf ? image.funcInfo : undefined,
      lineInfo: btf ? image.lineInfo : undefined,
      loadTime: (this.opts.bootNs ?? this.env.bootNs)(), uid: this.opts.uid ?? 0, gpl: licenseIsGplCompatible(a.license ?? ""),
      verifiedInsns: result.processed, expectedAttachType: a.expectedAttachType ?? 0, attachBtfId: a.attachBtfId ?? 0,
      runs: 0, runTimeNs: 0n,
      destroy: () => {
        this.vm.unload(loaded);
        for (const k of image.ksyms) this.ksyms.removeProgram(k);
        for (const m of used) this.unref(m);
        if (btf) this.unref(btf);
      },
    });
    return { fd: this.install(prog), log: logLevel ? result.log : "" };
  }

  /**
   * The kernel's load-time rewrites of an accepted program (src/verifier/fixups.ts): its xlated image, func and line
   * info moved with the patches, and a kallsyms entry per (sub)function named as the JIT names them.
   */
  private rewrite(local: readonly Insn[], aux: NonNullable<ReturnType<typeof verify>["aux"]>, a: ProgLoadAttr, used: readonly MapObject[], btf: Btf | undefined) {
    const lineBytes = a.lineInfo?.bytes, funcBytes = a.funcInfo?.bytes;
    const lineRec = a.lineInfo?.recSize ?? 16, funcRec = a.funcInfo?.recSize ?? 8;
    const u32 = (b: Uint8Array, o: number): number => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(o, true);
    const lineOffs: number[] = [];
    if (lineBytes) for (let o = 0; o + lineRec <= lineBytes.length; o += lineRec) lineOffs.push(u32(lineBytes, o));
    const image = kernelImage(local, aux, {
      progType: a.progType, lineOffs,
      maps: used.map((m) => ({ type: m.map.type, keySize: m.map.keySize, valueSize: m.map.valueSize, maxEntries: m.map.maxEntries, flags: m.map.flags })),
      callImm: (name) => this.ksyms.callImm(name), varAddress: (name) => this.ksyms.address(name),
    });
    let lineInfo: Uint8Array | undefined;
    if (lineBytes) {
      const keep = lineOffs.map((_, i) => i).filter((i) => image.lineOffs[i]! >= 0);
      lineInfo = new Uint8Array(keep.length * lineRec);
      const v = new DataView(lineInfo.buffer);
      keep.forEach((i, k) => { lineInfo!.set(lineBytes.subarray(i * lineRec, (i + 1) * lineRec), k * lineRec); v.setUint32(k * lineRec, image.lineOffs[i]!, true); });
    }
    let funcInfo: Uint8Array | undefined;
    const funcTypes: number[] = [];
    if (funcBytes) {
      funcInfo = new Uint8Array(image.funcOrigin.length * funcRec);
      const v = new DataView(funcInfo.buffer);
      image.funcOrigin.forEach((orig, k) => {
        funcInfo!.set(funcBytes.subarray(orig * funcRec, (orig + 1) * funcRec), k * funcRec);
        v.setUint32(k * funcRec, image.funcStarts[k]!, true);
        funcTypes.push(u32(funcBytes, orig * funcRec + 4));
      });
    }
    // bpf_prog_ksym_set_name: bpf_prog_<tag of the function's image>_<BTF func name, else the program name>
    const ksyms = image.funcStarts.map((_, k) => {
      const tag = image.funcStarts.length === 1 ? progTag(local, this.opts.tagHash) : progTag(subprogForTag(image, k), this.opts.tagHash);
      const name = btf && funcTypes[k] ? btf.name(btf.type(funcTypes[k]!)) : k === 0 ? attrName(a.name) : "";
      return this.ksyms.addProgram(`bpf_prog_${tag}${name ? `_${name}` : ""}`);
    });
    return { insns: image.insns, lineInfo, funcInfo, ksyms, unmodelled: image.unmodelled, maxLength: image.maxLength };
  }

  /** A map as the verifier sees it: a frozen read-only single-element array also shows its bytes (bpf_map_is_rdonly). */
  private verifierMap(m: VmMap): VerifierMapSpec {
    if (m.type !== 2 || m.maxEntries !== 1 || !m.frozen || !(m.flags & 0x80 /* BPF_F_RDONLY_PROG */)) return m.spec;
    return { ...m.spec, frozenValue: m.lookup(new Uint8Array(4)).slice(0, m.valueSize) };
  }

  /** Address of element 0's value of a single-element array (global data), as BPF_PSEUDO_MAP_VALUE resolves. */
  private valueAddress(m: VmMap): number {
    const key = this.space.alloc(4, { kind: "scratch", name: "key 0" });
    try {
      const v = m.lookupElem(key.start, 0);
      if (v === 0) throw new BpfError("EINVAL", `map ${m.name} has no value to point into`);
      return v;
    } finally {
      this.space.release(key);
    }
  }

  /** BPF_PROG_BIND_MAP: as the kernel, a map the program already uses is left as it is; another is appended to its used maps. */
  progBindMap(progFd: number, mapFd: number): void {
    const p = this.progObj(progFd, "BPF_PROG_BIND_MAP");
    const m = this.mapObj(mapFd, "BPF_PROG_BIND_MAP");
    if (p.maps.includes(m)) return;
    m.refs++;
    (p.maps as MapObject[]).push(m); // the program's destroy() releases every map in this list
  }

  /** BPF_PROG_TEST_RUN on the executor's CPU 0 (test_run's context for the program type). */
  progTestRun(fd: number, a: TestRunAttr = {}): TestRunResult {
    const p = this.progObj(fd, "BPF_PROG_TEST_RUN");
    const type = PROG_TYPE_NAMES[p.type] ?? "raw";
    const r = syscall("BPF_PROG_TEST_RUN", () => testRun(this.vm, p.loaded, { type, data: a.dataIn ?? new Uint8Array(0), repeat: a.repeat ?? 1 }));
    const cap = a.dataOutSize ?? (a.dataIn ? a.dataIn.length + 256 : 0);
    // as the kernel's bpf_test_finish: packet data that does not fit the caller's buffer fails the command
    if (a.dataOutSize !== undefined && r.dataOut.length > a.dataOutSize) throw fail(ENOSPC, "BPF_PROG_TEST_RUN", `${r.dataOut.length} bytes of data out, room for ${a.dataOutSize}`);
    return { retval: Number(r.retval & 0xffffffffn), dataOut: r.dataOut.slice(0, cap), ctxOut: a.ctxOutSize ? r.ctxOut.slice(0, a.ctxOutSize) : new Uint8Array(0), duration: r.duration };
  }

  // ---- ids, pins, info ----

  getNextId(kind: ObjectKind, startId: number): number | undefined {
    let best: number | undefined;
    for (const id of this.byId[kind].keys()) if (id > startId && (best === undefined || id < best)) best = id;
    return best;
  }

  getFdById(kind: ObjectKind, id: number): number {
    const o = this.byId[kind].get(id);
    if (o === undefined) throw fail(ENOENT, `BPF_${kind.toUpperCase()}_GET_FD_BY_ID`);
    return this.install(o);
  }

  private bpffsOf(path: string): boolean {
    return (this.opts.bpffs ?? ["/sys/fs/bpf"]).some((m) => path.startsWith(m.endsWith("/") ? m : `${m}/`));
  }

  objPin(fd: number, path: string): void {
    const o = this.obj(fd, "BPF_OBJ_PIN");
    if (!this.bpffsOf(path)) throw fail(EPERM, "BPF_OBJ_PIN", `${path} is not on a bpf file system`);
    if (this.pinned.has(path)) throw fail(EEXIST, "BPF_OBJ_PIN", path);
    o.refs++;
    this.pinned.set(path, o);
  }

  objGet(path: string): number {
    const o = this.pinned.get(path);
    if (o === undefined) throw fail(ENOENT, "BPF_OBJ_GET", path);
    return this.install(o);
  }

  /** unlink(2) of a bpffs pin. */
  unpin(path: string): void {
    const o = this.pinned.get(path);
    if (o === undefined) throw fail(ENOENT, "unlink", path);
    this.pinned.delete(path);
    this.unref(o);
  }

  pins(kind: "prog" | "map" | "link"): readonly (readonly [number, string])[] {
    return [...this.pinned].filter(([, o]) => o.kind === kind).map(([p, o]) => [o.id, p] as const);
  }

  progInfo(fd: number): ProgInfo {
    const p = this.progObj(fd, "BPF_OBJ_GET_INFO_BY_FD");
    return {
      type: p.type, id: p.id, tag: p.tag, jitedProgLen: 0, xlatedProgLen: p.xlated.length * 8, loadTime: p.loadTime,
      createdByUid: p.uid, mapIds: p.maps.map((m) => m.id), name: p.name, ifindex: 0, gplCompatible: p.gpl,
      netnsDev: 0n, netnsIno: 0n, btfId: p.btf?.id ?? 0, funcInfoRecSize: 8, nrFuncInfo: (p.funcInfo?.length ?? 0) / 8,
      nrLineInfo: (p.lineInfo?.length ?? 0) / 16, lineInfoRecSize: 16, runTimeNs: p.runTimeNs, runCnt: BigInt(p.runs),
      recursionMisses: 0n, verifiedInsns: p.verifiedInsns, attachBtfObjId: 0, attachBtfId: p.attachBtfId,
    };
  }

  progInfoExtras(fd: number, want: ProgInfoWanted): ProgInfoExtras {
    const p = this.progObj(fd, "BPF_OBJ_GET_INFO_BY_FD");
    return {
      xlated: want.xlated ? encodeInsns(p.xlated) : undefined,
      jitedKsyms: want.ksyms ? p.jitedKsyms : undefined,
      funcInfo: want.funcInfo ? p.funcInfo?.slice() : undefined,
      lineInfo: want.lineInfo ? p.lineInfo?.slice() : undefined,
    };
  }

  mapInfo(fd: number, reuse?: Uint8Array): MapInfo {
    const o = this.mapObj(fd, "BPF_OBJ_GET_INFO_BY_FD");
    const m = o.map;
    // Linux leaves the BTF fields of a map without BTF as the caller's buffer had them (see src/kernel/info.ts)
    const rv = reuse ? new DataView(reuse.buffer, reuse.byteOffset, reuse.byteLength) : undefined;
    let btfId = o.btf?.id ?? 0, keyId = o.btfKeyTypeId, valueId = o.btfValueTypeId;
    if (rv && !o.btf) { btfId = rv.getUint32(64, true); keyId = rv.getUint32(68, true); valueId = rv.getUint32(72, true); }
    if (rv) { rv.setUint32(64, btfId, true); rv.setUint32(68, keyId, true); rv.setUint32(72, valueId, true); }
    return {
      type: m.type, id: m.id, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, mapFlags: m.flags,
      name: m.name, ifindex: 0, btfVmlinuxValueTypeId: 0, netnsDev: 0n, netnsIno: 0n, btfId, btfKeyTypeId: keyId,
      btfValueTypeId: valueId, mapExtra: o.mapExtra,
    };
  }

  btfInfo(fd: number, withData = false): BtfInfo & { data?: Uint8Array } {
    const o = this.obj(fd, "BPF_OBJ_GET_INFO_BY_FD");
    if (o.kind !== "btf") throw fail(EINVAL, "BPF_OBJ_GET_INFO_BY_FD", `fd ${fd} is not BTF`);
    return { id: o.id, btfSize: o.bytes.length, name: "", kernelBtf: false, ...(withData ? { data: o.bytes.slice() } : {}) };
  }

  linkInfo(fd: number): LinkInfo {
    const o = this.obj(fd, "BPF_OBJ_GET_INFO_BY_FD");
    if (o.kind !== "link") throw fail(EINVAL, "BPF_OBJ_GET_INFO_BY_FD", `fd ${fd} is not a link`);
    const t = o.target;
    return {
      type: o.type, id: o.id, progId: o.detached ? 0 : o.prog.id, raw: new Uint8Array(80),
      ...(t.kind === "raw_tracepoint" ? { tpName: t.name } : {}),
      ...(t.kind === "xdp" || t.kind === "tcx" ? { ifindex: t.ifindex } : {}),
      attachType: o.attachType,
    };
  }

  fdinfo(fd: number, key: string): string | undefined {
    const o = this.fds.get(fd);
    // the object's kind, as the kernel's fdinfo shows it by its first line (bpftool's get_fd_type reads the same)
    if (key === `${o?.kind}_type`) return "1";
    if (o?.kind === "map") {
      if (key === "memlock") return String(memlockOf(o.map));
      if (key === "frozen") return o.map.frozen ? "1" : "0";
      if (o.map.type === PROG_ARRAY && o.ownerProgType !== undefined) {
        if (key === "owner_prog_type") return String(o.ownerProgType);
        if (key === "owner_jited") return "0";
      }
    }
    if (o?.kind === "prog" && key === "memlock") {
      // prog->pages << PAGE_SHIFT: struct bpf_prog's header and the image at its longest, whole pages
      return String(o.pages * 4096);
    }
    return undefined;
  }

  // ---- links and events ----

  /** Attach by fd: a BPF link (id, listed by `link show`) holding the program until detached or closed. */
  attach(progFd: number, target: AttachTarget): Attachment {
    const prog = this.progObj(progFd, "BPF_LINK_CREATE");
    const hook = hookOf(target);
    // XDP on one of the VM's devices takes a mode's slot under the kernel's rules; other hooks just list the program
    let release: () => void;
    if (target.kind === "xdp" && this.net.devices.has(target.ifindex)) {
      const r = this.net.attachLink(target.ifindex, prog, target.flags ?? 0);
      if ("errno" in r) throw fail(r.errno, "BPF_LINK_CREATE", r.extack ?? "");
      release = r.release;
    } else {
      const progs = this.hooks.get(hook) ?? [];
      if (!progs.includes(prog)) this.hooks.set(hook, [...progs, prog]);
      release = () => this.hooks.set(hook, (this.hooks.get(hook) ?? []).filter((p) => p !== prog));
    }
    prog.refs++;
    const detach = (): void => {
      if (link.detached) return;
      link.detached = true;
      release();
      this.unref(prog);
    };
    const link: LinkObject = this.register({
      kind: "link", id: this.nextId.link++, refs: 0, type: LINK_TYPE[target.kind], prog, target,
      attachType: ATTACH_TYPE[target.kind], detached: false, destroy: detach,
    });
    const fd = this.install(link);
    let open = true;
    return { kind: target.kind, linkId: link.id, linkFd: fd, close: () => { if (open) { open = false; this.close(fd); } } };
  }

  linkDetach(fd: number): void {
    const o = this.obj(fd, "BPF_LINK_DETACH");
    if (o.kind !== "link") throw fail(EINVAL, "BPF_LINK_DETACH", `fd ${fd} is not a link`);
    o.destroy();
  }

  /** rtnetlink on the VM: a request (link/tc dumps, RTM_SETLINK with IFLA_XDP) answered from its devices. */
  rtnetlink(request: Uint8Array): Uint8Array[] {
    return this.net.rtnetlink(request);
  }

  /** The programs attached at a hook (see hookOf), in attach order. */
  attached(hook: string): readonly ProgObject[] {
    return this.hooks.get(hook) ?? NO_PROGS;
  }

  /** Runs one program on `cpu` through the executor, counting run_cnt as the kernel does with stats enabled. */
  run(prog: ProgObject, opts: RunOptions): RunResult {
    prog.runs++;
    return this.executor.run(prog.loaded, opts);
  }

  /** Reads bpf_trace_printk output as /sys/kernel/tracing/trace_pipe does; returns the unsubscribe function. */
  readTracePipe(reader: (line: string) => void): () => void {
    this.tracePipe.add(reader);
    return () => { this.tracePipe.delete(reader); };
  }

  /** The perf event array and ring buffer maps of the system (for user-space readers). */
  perfEventArrays(): PerfEventArrayMap[] {
    return [...this.byId.map.values()].map((o) => (o as MapObject).map).filter((m): m is PerfEventArrayMap => m instanceof PerfEventArrayMap);
  }

  /** Per-CPU maps keep nCpus slots: the value buffer a user-space lookup needs. */
  valueBufferSize(fd: number): number {
    const m = this.vmMap(fd);
    return isPerCpu(m.type) ? m.userValueSize : m.valueSize;
  }
}
