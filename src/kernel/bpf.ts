// The bpf() syscall, typed: one function per command, each filling `union bpf_attr` at the offsets of
// include/uapi/linux/bpf.h (Linux 6.18). Pointers inside the attr are addresses of the caller's typed arrays.
// Failures throw a KernelError: code = errno name, message = command + errno (+ the verifier/BTF log when there is one).
import { addressOf, closeFd, KernelError, rawBpf } from "./libc.ts";
import { encodeInsns } from "../runtime/backend.ts";
import type {
  BatchResult, LinkCreateAttr, MapCreateAttr, ObjectKind, ProgLoadAttr, ProgLoadResult, TestRunAttr, TestRunResult,
} from "../runtime/backend.ts";

export { encodeInsns };
export type {
  BatchResult, LinkCreateAttr, MapCreateAttr, ObjectKind, ProgLoadAttr, ProgLoadResult, TestRunAttr, TestRunResult,
};

/** enum bpf_cmd */
export const BPF_CMD = {
  MAP_CREATE: 0, MAP_LOOKUP_ELEM: 1, MAP_UPDATE_ELEM: 2, MAP_DELETE_ELEM: 3, MAP_GET_NEXT_KEY: 4, PROG_LOAD: 5,
  OBJ_PIN: 6, OBJ_GET: 7, PROG_ATTACH: 8, PROG_DETACH: 9, PROG_TEST_RUN: 10, PROG_GET_NEXT_ID: 11, MAP_GET_NEXT_ID: 12,
  PROG_GET_FD_BY_ID: 13, MAP_GET_FD_BY_ID: 14, OBJ_GET_INFO_BY_FD: 15, PROG_QUERY: 16, RAW_TRACEPOINT_OPEN: 17,
  BTF_LOAD: 18, BTF_GET_FD_BY_ID: 19, TASK_FD_QUERY: 20, MAP_LOOKUP_AND_DELETE_ELEM: 21, MAP_FREEZE: 22,
  BTF_GET_NEXT_ID: 23, MAP_LOOKUP_BATCH: 24, MAP_LOOKUP_AND_DELETE_BATCH: 25, MAP_UPDATE_BATCH: 26,
  MAP_DELETE_BATCH: 27, LINK_CREATE: 28, LINK_UPDATE: 29, LINK_GET_FD_BY_ID: 30, LINK_GET_NEXT_ID: 31,
  ENABLE_STATS: 32, ITER_CREATE: 33, LINK_DETACH: 34, PROG_BIND_MAP: 35,
} as const;

const CMD_NAMES: string[] = [];
for (const [k, v] of Object.entries(BPF_CMD)) CMD_NAMES[v] = `BPF_${k}`;

/** Map update flags (BPF_ANY, BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK). */
export const BPF_ANY = 0, BPF_NOEXIST = 1, BPF_EXIST = 2, BPF_F_LOCK = 4;

/** A little-endian writer over a zeroed attr; the kernel rejects non-zero bytes past the fields it knows (E2BIG). */
class Attr {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }
  u32(off: number, v: number): this { this.view.setUint32(off, v >>> 0, true); return this; }
  u64(off: number, v: bigint | number): this { this.view.setBigUint64(off, BigInt(v), true); return this; }
  ptr(off: number, bytes: Uint8Array | null | undefined): this { return this.u64(off, addressOf(bytes)); }
  str(off: number, s: string, max: number): this {
    const b = new TextEncoder().encode(s);
    this.bytes.set(b.subarray(0, max - 1), off);
    return this;
  }
  getU32(off: number): number { return this.view.getUint32(off, true); }
}

/** Calls bpf(cmd) and throws on failure; `keep` pins buffers referenced by address until the call returns. */
function call(cmd: number, attr: Attr, keep: unknown[] = [], log?: () => string): number {
  const r = rawBpf(cmd, attr.bytes);
  void keep;
  if (r < 0) throw new KernelError(-r, CMD_NAMES[cmd] ?? `bpf cmd ${cmd}`, "", log ? log() : "");
  return r;
}

/** A C string as NUL-terminated bytes. */
export function cString(s: string): Uint8Array {
  const b = new TextEncoder().encode(s);
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
}

// ---- maps ----

/** BPF_MAP_CREATE → a new map fd. */
export function mapCreate(a: MapCreateAttr): number {
  const attr = new Attr(80)
    .u32(0, a.mapType).u32(4, a.keySize).u32(8, a.valueSize).u32(12, a.maxEntries).u32(16, a.mapFlags ?? 0)
    .u32(20, a.innerMapFd ?? 0).u32(24, a.numaNode ?? 0).str(28, a.name ?? "", 16).u32(44, a.ifindex ?? 0)
    .u32(48, a.btfFd ?? 0).u32(52, a.btfKeyTypeId ?? 0).u32(56, a.btfValueTypeId ?? 0)
    .u32(60, a.btfVmlinuxValueTypeId ?? 0).u64(64, a.mapExtra ?? 0n);
  return call(BPF_CMD.MAP_CREATE, attr);
}

function elemAttr(fd: number, key: Uint8Array | null, value: Uint8Array | null, flags: number | bigint): Attr {
  return new Attr(32).u32(0, fd).ptr(8, key).ptr(16, value).u64(24, flags);
}

/** BPF_MAP_LOOKUP_ELEM: fills `value` (value_size bytes, or value_size × possible CPUs for per-CPU maps). */
export function mapLookupElem(fd: number, key: Uint8Array | null, value: Uint8Array, flags = 0): void {
  call(BPF_CMD.MAP_LOOKUP_ELEM, elemAttr(fd, key, value, flags), [key, value]);
}

/** BPF_MAP_UPDATE_ELEM with BPF_ANY / BPF_NOEXIST / BPF_EXIST (| BPF_F_LOCK). */
export function mapUpdateElem(fd: number, key: Uint8Array | null, value: Uint8Array, flags = BPF_ANY): void {
  call(BPF_CMD.MAP_UPDATE_ELEM, elemAttr(fd, key, value, flags), [key, value]);
}

/** BPF_MAP_DELETE_ELEM. */
export function mapDeleteElem(fd: number, key: Uint8Array | null): void {
  call(BPF_CMD.MAP_DELETE_ELEM, elemAttr(fd, key, null, 0), [key]);
}

/** BPF_MAP_LOOKUP_AND_DELETE_ELEM (also pop for queue/stack maps, key = null). */
export function mapLookupAndDeleteElem(fd: number, key: Uint8Array | null, value: Uint8Array, flags = 0): void {
  call(BPF_CMD.MAP_LOOKUP_AND_DELETE_ELEM, elemAttr(fd, key, value, flags), [key, value]);
}

/** BPF_MAP_GET_NEXT_KEY: writes the key following `key` (the first key when `key` is null); false at the end (ENOENT). */
export function mapGetNextKey(fd: number, key: Uint8Array | null, nextKey: Uint8Array): boolean {
  const attr = elemAttr(fd, key, nextKey, 0);
  const r = rawBpf(BPF_CMD.MAP_GET_NEXT_KEY, attr.bytes);
  if (r >= 0) return true;
  if (-r === 2) return false;
  throw new KernelError(-r, "BPF_MAP_GET_NEXT_KEY");
}

/** BPF_MAP_FREEZE. */
export function mapFreeze(fd: number): void {
  call(BPF_CMD.MAP_FREEZE, new Attr(8).u32(0, fd));
}

function batch(cmd: number, fd: number, inBatch: Uint8Array | null, outBatch: Uint8Array | null, keys: Uint8Array,
  values: Uint8Array | null, count: number, elemFlags: number): BatchResult {
  const attr = new Attr(56).ptr(0, inBatch).ptr(8, outBatch).ptr(16, keys).ptr(24, values).u32(32, count).u32(36, fd)
    .u64(40, elemFlags);
  const r = rawBpf(cmd, attr.bytes);
  const done = r < 0 && -r === 2;
  if (r < 0 && !done) throw new KernelError(-r, CMD_NAMES[cmd]!);
  return { count: attr.getU32(32), done };
}

/** BPF_MAP_LOOKUP_BATCH: `inBatch` null to start; the kernel writes the resume token into `outBatch`. */
export function mapLookupBatch(fd: number, inBatch: Uint8Array | null, outBatch: Uint8Array, keys: Uint8Array,
  values: Uint8Array, count: number, elemFlags = 0): BatchResult {
  return batch(BPF_CMD.MAP_LOOKUP_BATCH, fd, inBatch, outBatch, keys, values, count, elemFlags);
}

/** BPF_MAP_LOOKUP_AND_DELETE_BATCH. */
export function mapLookupAndDeleteBatch(fd: number, inBatch: Uint8Array | null, outBatch: Uint8Array, keys: Uint8Array,
  values: Uint8Array, count: number, elemFlags = 0): BatchResult {
  return batch(BPF_CMD.MAP_LOOKUP_AND_DELETE_BATCH, fd, inBatch, outBatch, keys, values, count, elemFlags);
}

/** BPF_MAP_UPDATE_BATCH. */
export function mapUpdateBatch(fd: number, keys: Uint8Array, values: Uint8Array, count: number, elemFlags = 0): BatchResult {
  return batch(BPF_CMD.MAP_UPDATE_BATCH, fd, null, null, keys, values, count, elemFlags);
}

/** BPF_MAP_DELETE_BATCH. */
export function mapDeleteBatch(fd: number, keys: Uint8Array, count: number, elemFlags = 0): BatchResult {
  return batch(BPF_CMD.MAP_DELETE_BATCH, fd, null, null, keys, null, count, elemFlags);
}

// ---- programs ----

function decodeLog(buf: Uint8Array): string {
  const end = buf.indexOf(0);
  return new TextDecoder().decode(end < 0 ? buf : buf.subarray(0, end));
}

/** BPF_PROG_LOAD. A failing load at log level 0 is retried at level 1 so the error always carries the verifier log. */
export function progLoad(a: ProgLoadAttr): ProgLoadResult {
  const insnBytes = a.insns instanceof Uint8Array ? a.insns : encodeInsns(a.insns);
  const license = cString(a.license ?? "GPL");
  const fdArray = a.fdArray ? new Uint8Array(new Int32Array(a.fdArray).buffer) : null;
  const attempt = (logLevel: number) => {
    const logBuf = logLevel > 0 ? new Uint8Array(a.logSize ?? 16 * 1024 * 1024) : null;
    const attr = new Attr(152)
      .u32(0, a.progType).u32(4, insnBytes.length / 8).ptr(8, insnBytes).ptr(16, license)
      .u32(24, logLevel).u32(28, logBuf ? logBuf.length : 0).ptr(32, logBuf)
      .u32(40, a.kernVersion ?? 0).u32(44, a.progFlags ?? 0).str(48, a.name ?? "", 16).u32(64, a.ifindex ?? 0)
      .u32(68, a.expectedAttachType ?? 0).u32(72, a.progBtfFd ?? 0)
      .u32(108, a.attachBtfId ?? 0).u32(112, a.attachProgFd ?? a.attachBtfObjFd ?? 0).ptr(120, fdArray);
    if (a.funcInfo) attr.u32(76, a.funcInfo.recSize).ptr(80, a.funcInfo.bytes).u32(88, a.funcInfo.count);
    if (a.lineInfo) attr.u32(92, a.lineInfo.recSize).ptr(96, a.lineInfo.bytes).u32(104, a.lineInfo.count);
    const r = rawBpf(BPF_CMD.PROG_LOAD, attr.bytes);
    return { r, log: logBuf ? decodeLog(logBuf) : "" };
  };
  const level = a.logLevel ?? 0;
  let { r, log } = attempt(level);
  if (r < 0 && level === 0) {
    const retry = attempt(1);
    if (retry.r >= 0) closeFd(retry.r);
    else ({ r, log } = retry);
  }
  if (r < 0) throw new KernelError(-r, "BPF_PROG_LOAD", "", log);
  return { fd: r, log };
}

/** BPF_PROG_TEST_RUN. */
export function progTestRun(progFd: number, a: TestRunAttr = {}): TestRunResult {
  const dataOut = a.dataIn || a.dataOutSize ? new Uint8Array(a.dataOutSize ?? (a.dataIn?.length ?? 0) + 256) : null;
  // ctxOutSize 0: no ctx_out at all (syscall programs refuse one; the kernel writes their context back into ctx_in)
  const ctxOut = a.ctxOutSize ? new Uint8Array(a.ctxOutSize) : a.ctxIn && a.ctxOutSize !== 0 ? new Uint8Array(a.ctxIn.length) : null;
  const attr = new Attr(80)
    .u32(0, progFd).u32(8, a.dataIn?.length ?? 0).u32(12, dataOut?.length ?? 0).ptr(16, a.dataIn).ptr(24, dataOut)
    .u32(32, a.repeat ?? 0).u32(40, a.ctxIn?.length ?? 0).u32(44, ctxOut?.length ?? 0).ptr(48, a.ctxIn).ptr(56, ctxOut)
    .u32(64, a.flags ?? 0).u32(68, a.cpu ?? 0).u32(72, a.batchSize ?? 0);
  call(BPF_CMD.PROG_TEST_RUN, attr, [a.dataIn, dataOut, a.ctxIn, ctxOut]);
  return {
    retval: attr.getU32(4),
    dataOut: dataOut ? dataOut.slice(0, attr.getU32(12)) : new Uint8Array(0),
    ctxOut: ctxOut ? ctxOut.slice(0, attr.getU32(44)) : new Uint8Array(0),
    duration: attr.getU32(36),
  };
}

/** BPF_PROG_ATTACH (cgroup, sockmap, flow dissector, ...). */
export function progAttach(targetFd: number, progFd: number, attachType: number, flags = 0, replaceFd = 0): void {
  call(BPF_CMD.PROG_ATTACH, new Attr(24).u32(0, targetFd).u32(4, progFd).u32(8, attachType).u32(12, flags).u32(16, replaceFd));
}

/** BPF_PROG_DETACH. */
export function progDetach(targetFd: number, progFd: number, attachType: number): void {
  call(BPF_CMD.PROG_DETACH, new Attr(24).u32(0, targetFd).u32(4, progFd).u32(8, attachType));
}

/** BPF_PROG_QUERY: up to 1024 attached programs with their attach flags. */
export function progQuery(targetFd: number, attachType: number, queryFlags: number): { attachFlags: number; progIds: number[]; progAttachFlags: number[] } {
  const ids = new Uint8Array(4096), flags = new Uint8Array(4096);
  // the kernel refuses per-program attach flags for an effective query (BPF_F_QUERY_EFFECTIVE)
  const attr = new Attr(64).u32(0, targetFd).u32(4, attachType).u32(8, queryFlags).ptr(16, ids).u32(24, 1024).ptr(32, queryFlags & 1 ? null : flags);
  call(BPF_CMD.PROG_QUERY, attr, [ids, flags]);
  const n = attr.getU32(24);
  const iv = new DataView(ids.buffer), fv = new DataView(flags.buffer);
  const progIds: number[] = [], progAttachFlags: number[] = [];
  for (let i = 0; i < n; i++) { progIds.push(iv.getUint32(i * 4, true)); progAttachFlags.push(fv.getUint32(i * 4, true)); }
  return { attachFlags: attr.getU32(12), progIds, progAttachFlags };
}

/** BPF_PROG_BIND_MAP: keeps a map alive as long as the program (bpftool's metadata maps use it). */
export function progBindMap(progFd: number, mapFd: number): void {
  call(BPF_CMD.PROG_BIND_MAP, new Attr(12).u32(0, progFd).u32(4, mapFd));
}

// ---- objects: pins, ids, fds, info ----

/** BPF_OBJ_PIN at a bpffs path. */
export function objPin(fd: number, path: string): void {
  const p = cString(path);
  call(BPF_CMD.OBJ_PIN, new Attr(24).ptr(0, p).u32(8, fd), [p]);
}

/** BPF_OBJ_GET of a bpffs path → fd. */
export function objGet(path: string, fileFlags = 0): number {
  const p = cString(path);
  return call(BPF_CMD.OBJ_GET, new Attr(24).ptr(0, p).u32(12, fileFlags), [p]);
}


const NEXT_ID_CMD: Record<ObjectKind, number> = {
  prog: BPF_CMD.PROG_GET_NEXT_ID, map: BPF_CMD.MAP_GET_NEXT_ID, btf: BPF_CMD.BTF_GET_NEXT_ID, link: BPF_CMD.LINK_GET_NEXT_ID,
};
const FD_BY_ID_CMD: Record<ObjectKind, number> = {
  prog: BPF_CMD.PROG_GET_FD_BY_ID, map: BPF_CMD.MAP_GET_FD_BY_ID, btf: BPF_CMD.BTF_GET_FD_BY_ID, link: BPF_CMD.LINK_GET_FD_BY_ID,
};

/** *_GET_NEXT_ID: the next id after `startId`, or undefined at the end (ENOENT). */
export function getNextId(kind: ObjectKind, startId: number): number | undefined {
  const attr = new Attr(12).u32(0, startId);
  const r = rawBpf(NEXT_ID_CMD[kind], attr.bytes);
  if (r < 0) {
    if (-r === 2) return undefined;
    throw new KernelError(-r, CMD_NAMES[NEXT_ID_CMD[kind]]!);
  }
  return attr.getU32(4);
}

/** Every id of a kind, ascending. */
export function allIds(kind: ObjectKind): number[] {
  const ids: number[] = [];
  for (let id = getNextId(kind, 0); id !== undefined; id = getNextId(kind, id)) ids.push(id);
  return ids;
}

/** *_GET_FD_BY_ID → fd. */
export function getFdById(kind: ObjectKind, id: number, openFlags = 0): number {
  return call(FD_BY_ID_CMD[kind], new Attr(12).u32(0, id).u32(8, openFlags));
}

/** BPF_OBJ_GET_INFO_BY_FD into `info` (pointer fields inside it must already point at caller buffers); returns info_len. */
export function objGetInfoByFd(fd: number, info: Uint8Array): number {
  const attr = new Attr(16).u32(0, fd).u32(4, info.length).ptr(8, info);
  call(BPF_CMD.OBJ_GET_INFO_BY_FD, attr, [info]);
  return attr.getU32(4);
}

/** BPF_BTF_LOAD of raw BTF bytes → fd; the BTF log travels in the error. */
export function btfLoad(btf: Uint8Array, logLevel = 0): number {
  const attempt = (level: number) => {
    const log = level ? new Uint8Array(1 << 20) : null;
    const attr = new Attr(40).ptr(0, btf).ptr(8, log).u32(16, btf.length).u32(20, log ? log.length : 0).u32(24, level);
    const r = rawBpf(BPF_CMD.BTF_LOAD, attr.bytes);
    return { r, log: log ? decodeLog(log) : "" };
  };
  let res = attempt(logLevel);
  if (res.r < 0 && logLevel === 0) {
    const retry = attempt(1);
    if (retry.r >= 0) closeFd(retry.r);
    else res = retry;
  }
  if (res.r < 0) throw new KernelError(-res.r, "BPF_BTF_LOAD", "", res.log);
  return res.r;
}

// ---- attachment ----

/** BPF_RAW_TRACEPOINT_OPEN: name = tracepoint for raw_tracepoint programs, null for tracing (fentry/fexit/...) programs. */
export function rawTracepointOpen(progFd: number, name: string | null): number {
  const n = name === null ? null : cString(name);
  return call(BPF_CMD.RAW_TRACEPOINT_OPEN, new Attr(24).ptr(0, n).u32(8, progFd), [n]);
}

/** BPF_LINK_CREATE → link fd (the link detaches when its last fd closes). */
export function linkCreate(a: LinkCreateAttr): number {
  const attr = new Attr(64).u32(0, a.progFd).u32(4, a.target).u32(8, a.attachType).u32(12, a.flags ?? 0);
  if (a.targetBtfId !== undefined) attr.u32(16, a.targetBtfId).u64(24, a.cookie ?? 0n);
  else if (a.cookie !== undefined) attr.u64(16, a.cookie);
  // iterators: union bpf_iter_link_info { struct { __u32 map_fd; } map; … } by pointer and length
  const info = a.iterMapFd !== undefined ? new Uint8Array(8) : null;
  if (info) { new DataView(info.buffer).setUint32(0, a.iterMapFd!, true); attr.ptr(16, info).u32(24, 8); }
  return call(BPF_CMD.LINK_CREATE, attr, [info]);
}

/** BPF_LINK_DETACH: detach without closing the fd. */
export function linkDetach(linkFd: number): void {
  call(BPF_CMD.LINK_DETACH, new Attr(4).u32(0, linkFd));
}

export interface TaskFdQueryResult {
  readonly progId: number;
  /** BPF_FD_TYPE_RAW_TRACEPOINT 0, TRACEPOINT 1, KPROBE 2, KRETPROBE 3, UPROBE 4, URETPROBE 5 */
  readonly fdType: number;
  /** tracepoint name, kprobe function or uprobe file name */
  readonly name: string;
  readonly probeOffset: bigint;
  readonly probeAddr: bigint;
}

/** BPF_TASK_FD_QUERY: what BPF program (if any) the fd `fd` of process `pid` attaches; undefined on any error. */
export function taskFdQuery(pid: number, fd: number): TaskFdQueryResult | undefined {
  const buf = new Uint8Array(4096);
  const attr = new Attr(48).u32(0, pid).u32(4, fd).u32(12, buf.length).ptr(16, buf);
  if (rawBpf(BPF_CMD.TASK_FD_QUERY, attr.bytes) < 0) return undefined;
  return {
    progId: attr.getU32(24), fdType: attr.getU32(28), name: decodeLog(buf),
    probeOffset: attr.view.getBigUint64(32, true), probeAddr: attr.view.getBigUint64(40, true),
  };
}

/** BPF_ENABLE_STATS (type 0 = BPF_STATS_RUN_TIME) → an fd; statistics stay on while it is open. */
export function enableStats(type = 0): number {
  return call(BPF_CMD.ENABLE_STATS, new Attr(4).u32(0, type));
}

export { closeFd };
