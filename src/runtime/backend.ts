// The Backend: the bpf() surface both bpfkit backends offer — the VM (System, src/runtime/system.ts) and Linux
// (src/kernel's LinuxBackend) — as typed methods over file descriptors, with the kernel's attr and info shapes.
// Object loading (object.ts), bpftool's listings and the CLI are written once against this interface.
import { BpfError, type BpfErrorCode } from "../errors.ts";
import type { Insn } from "../isa/ebpf/insn.ts";
import { encodeProgram } from "../isa/ebpf/encode.ts";
import type { Btf } from "../btf/parse.ts";
import type { KernelSymbolTable } from "./ksyms.ts";
import { ERRNO, errnoName } from "../uapi/index.ts";

export type ObjectKind = "prog" | "map" | "btf" | "link";

/** A failed bpf() command: errno (positive), the command, and the verifier or BTF log when there is one. */
export class SyscallError extends BpfError {
  readonly errno: number;
  readonly command: string;
  readonly log: string;
  constructor(errno: number, command: string, detail = "", log = "") {
    const name = errnoName(errno) ?? `errno ${errno}`;
    super(name as BpfErrorCode, `${command}: ${name}${detail ? ` (${detail})` : ""}${log ? `\n${log}` : ""}`);
    this.errno = errno;
    this.command = command;
    this.log = log;
  }
}

/** The errno of a bpf() failure from either backend (KernelError, SyscallError, or a map's BpfError named by errno). */
export function errnoOf(e: unknown): number | undefined {
  const n = (e as { errno?: unknown }).errno;
  if (typeof n === "number") return n;
  const code = (e as { code?: unknown }).code;
  return typeof code === "string" && code in ERRNO ? ERRNO[code as keyof typeof ERRNO] : undefined;
}

// ---- attrs (union bpf_attr per command) ----

export interface MapCreateAttr {
  readonly mapType: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly mapFlags?: number;
  readonly innerMapFd?: number;
  readonly numaNode?: number;
  readonly name?: string;
  readonly ifindex?: number;
  readonly btfFd?: number;
  readonly btfKeyTypeId?: number;
  readonly btfValueTypeId?: number;
  readonly btfVmlinuxValueTypeId?: number;
  readonly mapExtra?: bigint;
}

export interface ProgLoadAttr {
  readonly progType: number;
  readonly insns: readonly Insn[] | Uint8Array;
  readonly license?: string;
  /** 0: no log unless the load fails (then retried with 1); 1, 2 (| 4 stats) as the kernel defines */
  readonly logLevel?: number;
  readonly logSize?: number;
  readonly kernVersion?: number;
  readonly progFlags?: number;
  readonly name?: string;
  readonly ifindex?: number;
  readonly expectedAttachType?: number;
  readonly progBtfFd?: number;
  readonly funcInfo?: { readonly recSize: number; readonly bytes: Uint8Array; readonly count: number };
  readonly lineInfo?: { readonly recSize: number; readonly bytes: Uint8Array; readonly count: number };
  readonly attachBtfId?: number;
  readonly attachBtfObjFd?: number;
  readonly attachProgFd?: number;
  readonly fdArray?: readonly number[];
}

export interface ProgLoadResult {
  readonly fd: number;
  /** the verifier log (empty at log level 0) */
  readonly log: string;
}

export interface TestRunAttr {
  readonly dataIn?: Uint8Array;
  /** capacity for data out; defaults to dataIn's length + 256 when there is data */
  readonly dataOutSize?: number;
  readonly ctxIn?: Uint8Array;
  /** capacity for ctx out (default: ctxIn's length); 0: none, as BPF_PROG_TYPE_SYSCALL requires */
  readonly ctxOutSize?: number;
  readonly repeat?: number;
  readonly flags?: number;
  readonly cpu?: number;
  readonly batchSize?: number;
}

export interface TestRunResult {
  readonly retval: number;
  readonly dataOut: Uint8Array;
  readonly ctxOut: Uint8Array;
  /** average ns per run as the kernel reports it */
  readonly duration: number;
}

export interface BatchResult {
  /** elements processed (attr.batch.count as written back by the kernel) */
  readonly count: number;
  /** true when the kernel reported ENOENT: the whole map has been walked */
  readonly done: boolean;
}

export interface LinkCreateAttr {
  readonly progFd: number;
  /** target fd, or ifindex for XDP/tcx */
  readonly target: number;
  readonly attachType: number;
  readonly flags?: number;
  /** perf_event links: the bpf_cookie; tracing links: unused */
  readonly cookie?: bigint;
  /** tracing links (fentry/fexit to a BPF program): target_btf_id */
  readonly targetBtfId?: number;
  /** iterator links over one map (iter/bpf_map_elem …): the map's fd, passed as bpf_iter_link_info */
  readonly iterMapFd?: number;
}

export interface ProgQueryResult {
  readonly attachFlags: number;
  readonly progIds: readonly number[];
  /** per-program attach flags, when the kernel reports them (0 where it does not) */
  readonly progAttachFlags: readonly number[];
}

// ---- info (BPF_OBJ_GET_INFO_BY_FD, decoded) ----

export interface ProgInfo {
  readonly type: number;
  readonly id: number;
  readonly tag: string;
  readonly jitedProgLen: number;
  readonly xlatedProgLen: number;
  /** ns since boot (CLOCK_BOOTTIME) */
  readonly loadTime: bigint;
  readonly createdByUid: number;
  readonly mapIds: readonly number[];
  readonly name: string;
  readonly ifindex: number;
  readonly gplCompatible: boolean;
  readonly netnsDev: bigint;
  readonly netnsIno: bigint;
  readonly btfId: number;
  readonly funcInfoRecSize: number;
  readonly nrFuncInfo: number;
  readonly nrLineInfo: number;
  readonly lineInfoRecSize: number;
  readonly runTimeNs: bigint;
  readonly runCnt: bigint;
  readonly recursionMisses: bigint;
  readonly verifiedInsns: number;
  readonly attachBtfObjId: number;
  readonly attachBtfId: number;
}

export interface ProgInfoExtras {
  /** the translated (post-verifier) instructions, 8 bytes each */
  readonly xlated?: Uint8Array;
  readonly jited?: Uint8Array;
  /** raw struct bpf_func_info records */
  readonly funcInfo?: Uint8Array;
  /** raw struct bpf_line_info records */
  readonly lineInfo?: Uint8Array;
  /** jited_ksyms: addresses of each (sub)function image */
  readonly jitedKsyms?: readonly bigint[];
}

export interface ProgInfoWanted {
  readonly xlated?: boolean;
  readonly jited?: boolean;
  readonly funcInfo?: boolean;
  readonly lineInfo?: boolean;
  readonly ksyms?: boolean;
}

export interface MapInfo {
  readonly type: number;
  readonly id: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly mapFlags: number;
  readonly name: string;
  readonly ifindex: number;
  readonly btfVmlinuxValueTypeId: number;
  readonly netnsDev: bigint;
  readonly netnsIno: bigint;
  readonly btfId: number;
  readonly btfKeyTypeId: number;
  readonly btfValueTypeId: number;
  readonly mapExtra: bigint;
}

export interface BtfInfo {
  readonly id: number;
  readonly btfSize: number;
  readonly name: string;
  readonly kernelBtf: boolean;
}

export interface LinkInfo {
  readonly type: number;
  readonly id: number;
  readonly progId: number;
  /** raw_tracepoint links: the tracepoint name; iter links: the target name */
  readonly tpName?: string;
  /** tracing / cgroup / netns links: attach type; xdp: ifindex in `ifindex` */
  readonly attachType?: number;
  readonly targetObjId?: number;
  readonly targetBtfId?: number;
  readonly cgroupId?: bigint;
  readonly netnsIno?: number;
  readonly ifindex?: number;
  /** the raw union, for link types not decoded here */
  readonly raw: Uint8Array;
}

// ---- attach targets ----

/**
 * Where a program attaches, by libbpf's section conventions. The VM fires these from its own event sources
 * (src/runtime/attach/); Linux attaches through perf events, links and sockets.
 */
export type AttachTarget =
  | { readonly kind: "tracepoint"; readonly category: string; readonly name: string }
  | { readonly kind: "raw_tracepoint"; readonly name: string }
  /** cpu-clock sampling at freqHz on `cpus` (default all); `period`: every N events instead; `event`: another counter */
  | {
    readonly kind: "perf_event"; readonly freqHz: number; readonly cpus?: readonly number[]; readonly period?: number;
    /** perf_event_attr type (0 hardware, 1 software) and config; `name` as bpftrace names it ("cs", "cache-misses") */
    readonly event?: { readonly type: number; readonly config: number; readonly name: string };
  }
  /** Linux: an ELF file and symbol (or offset); VM: `symbol` names a JavaScript function registered with uprobes */
  | { readonly kind: "uprobe"; readonly path: string; readonly symbol: string | number; readonly retprobe?: boolean; readonly pid?: number }
  /** a USDT probe (provider "" matches any): Linux: every note of `path` that matches, as uprobes with its semaphore; VM:
   * fired by name (e.g. diagnostics_channel channels as usdt:node:CHANNEL) */
  | { readonly kind: "usdt"; readonly path: string; readonly provider: string; readonly name: string; readonly pid?: number }
  | { readonly kind: "xdp"; readonly ifindex: number; readonly flags?: number }
  | { readonly kind: "tcx"; readonly ifindex: number; readonly direction: "ingress" | "egress" }
  /** Linux: a socket fd (SO_ATTACH_BPF); VM: a packet source id */
  | { readonly kind: "socket_filter"; readonly socket: number }
  /** an iterator program (SEC("iter/…")) as a link that reading its pin runs; mapFd for per-map iterators */
  | { readonly kind: "iter"; readonly mapFd?: number };

/** An attached program; close() detaches it. `linkId` when the attachment is a BPF link. */
export interface Attachment {
  readonly kind: string;
  readonly linkId?: number;
  /** the link's fd while the attachment is open (to pin it, as `iter pin` does) */
  readonly linkFd?: number;
  close(): void;
}

// ---- the interface ----

/** The bpf() commands as typed methods; every method throws SyscallError/KernelError (with errno) on failure. */
export interface Backend {
  readonly kind: "vm" | "linux";
  /** Possible CPUs: per-CPU map values come as this many slots of round_up(value_size, 8) bytes. */
  possibleCpus(): number;
  /** The BTF CO-RE relocations resolve against (vmlinux), when the backend has one. */
  kernelBtf(): Btf | undefined;
  /** Values for `__kconfig` externs (LINUX_KERNEL_VERSION, CONFIG_*), as libbpf reads them from the kernel. */
  kconfig(): Readonly<Record<string, number | bigint | boolean | string>> | undefined;
  /** The kernel's symbols (/proc/kallsyms) when the backend models them itself; Linux's are read from procfs. */
  kernelSymbols?(): KernelSymbolTable;

  mapCreate(a: MapCreateAttr): number;
  mapLookupElem(fd: number, key: Uint8Array | null, value: Uint8Array, flags?: number): void;
  mapUpdateElem(fd: number, key: Uint8Array | null, value: Uint8Array, flags?: number): void;
  mapDeleteElem(fd: number, key: Uint8Array | null): void;
  mapLookupAndDeleteElem(fd: number, key: Uint8Array | null, value: Uint8Array, flags?: number): void;
  /** false at the end (ENOENT) */
  mapGetNextKey(fd: number, key: Uint8Array | null, nextKey: Uint8Array): boolean;
  mapFreeze(fd: number): void;
  mapLookupBatch(fd: number, inBatch: Uint8Array | null, outBatch: Uint8Array, keys: Uint8Array, values: Uint8Array, count: number, elemFlags?: number): BatchResult;
  mapLookupAndDeleteBatch(fd: number, inBatch: Uint8Array | null, outBatch: Uint8Array, keys: Uint8Array, values: Uint8Array, count: number, elemFlags?: number): BatchResult;
  mapUpdateBatch(fd: number, keys: Uint8Array, values: Uint8Array, count: number, elemFlags?: number): BatchResult;
  mapDeleteBatch(fd: number, keys: Uint8Array, count: number, elemFlags?: number): BatchResult;

  btfLoad(btf: Uint8Array): number;
  progLoad(a: ProgLoadAttr): ProgLoadResult;
  progTestRun(fd: number, a?: TestRunAttr): TestRunResult;
  /** BPF_PROG_BIND_MAP: the map lives as long as the program and is listed in its map ids (after the maps it uses). */
  progBindMap(progFd: number, mapFd: number): void;

  objPin(fd: number, path: string): void;
  objGet(path: string): number;
  getNextId(kind: ObjectKind, startId: number): number | undefined;
  getFdById(kind: ObjectKind, id: number): number;
  progInfo(fd: number): ProgInfo;
  progInfoExtras(fd: number, want: ProgInfoWanted): ProgInfoExtras;
  /** `reuse`: the same info buffer passed again, as bpftool's map listing does (see src/kernel/info.ts). */
  mapInfo(fd: number, reuse?: Uint8Array): MapInfo;
  btfInfo(fd: number, withData?: boolean): BtfInfo & { data?: Uint8Array };
  linkInfo(fd: number): LinkInfo;
  /** A /proc/self/fdinfo field bpftool reads (memlock, frozen, owner_prog_type, owner_jited), or undefined. */
  fdinfo(fd: number, key: string): string | undefined;
  /** Every bpffs pin of an object of `kind` as [id, path], in the order bpftool -f walks them. */
  pins(kind: "prog" | "map" | "link"): readonly (readonly [number, string])[];

  linkDetach(fd: number): void;
  /** BPF_PROG_ATTACH / BPF_PROG_DETACH to a target fd (a cgroup directory, a sockmap; 0 for the netns' flow
   * dissector). Optional: a backend without these attach points leaves them out (bpftool then reports the failure). */
  progAttach?(targetFd: number, progFd: number, attachType: number, flags?: number): void;
  progDetach?(targetFd: number, progFd: number, attachType: number): void;
  /** BPF_PROG_QUERY: the attached programs' ids and the attach flags. */
  progQuery?(targetFd: number, attachType: number, queryFlags: number): ProgQueryResult;
  /** rtnetlink (NETLINK_ROUTE): one request (src/netlink builds it), its reply messages up to NLMSG_DONE or the
   * NLMSG_ERROR ack. `bpftool net` lists devices, tc filters and attaches XDP through it on either backend. */
  rtnetlink?(request: Uint8Array): Uint8Array[];
  /** Attach a loaded program (by fd) to an event; the attachment holds its own reference to the program. */
  attach(progFd: number, target: AttachTarget): Attachment;
  close(fd: number): void;
}

/** Every id of a kind, ascending. */
export function allIds(b: Backend, kind: ObjectKind): number[] {
  const ids: number[] = [];
  for (let id = b.getNextId(kind, 0); id !== undefined; id = b.getNextId(kind, id)) ids.push(id);
  return ids;
}

/** Instructions as the kernel reads them: 8 bytes each, dst in the low nibble of byte 1 (the ISA's encoder). */
export function encodeInsns(insns: readonly Insn[]): Uint8Array {
  return encodeProgram(insns);
}
