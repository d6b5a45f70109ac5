// BPF_OBJ_GET_INFO_BY_FD decoded: struct bpf_prog_info, bpf_map_info, bpf_btf_info, bpf_link_info at the offsets of
// Linux 6.18's uapi (checked against /sys/kernel/btf/vmlinux), plus the /proc/self/fdinfo fields bpftool reads
// (memlock, frozen, owner_prog_type). Variable parts (map ids, xlated insns, line info, names) are fetched by a second
// call with buffers sized from the first, as bpftool does.
import { readFileSync } from "node:fs";
import { addressOf } from "./libc.ts";
import { objGetInfoByFd } from "./bpf.ts";
import type { BtfInfo, LinkInfo, MapInfo, ProgInfo, ProgInfoExtras } from "../runtime/backend.ts";

export type { BtfInfo, LinkInfo, MapInfo, ProgInfo, ProgInfoExtras };

// MAP_INFO_SIZE is libbpf 1.1's struct bpf_map_info (up to map_extra), the size bpftool 7.1 passes.
const PROG_INFO_SIZE = 232, MAP_INFO_SIZE = 88, BTF_INFO_SIZE = 32, LINK_INFO_SIZE = 96;

function cstr(b: Uint8Array): string {
  const end = b.indexOf(0);
  return new TextDecoder().decode(end < 0 ? b : b.subarray(0, end));
}

function decodeProgInfo(b: Uint8Array): ProgInfo {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u32 = (o: number) => v.getUint32(o, true), u64 = (o: number) => v.getBigUint64(o, true);
  return {
    type: u32(0), id: u32(4), tag: [...b.subarray(8, 16)].map((x) => x.toString(16).padStart(2, "0")).join(""),
    jitedProgLen: u32(16), xlatedProgLen: u32(20), loadTime: u64(40), createdByUid: u32(48), mapIds: [],
    name: cstr(b.subarray(64, 80)), ifindex: u32(80), gplCompatible: (u32(84) & 1) === 1, netnsDev: u64(88),
    netnsIno: u64(96), btfId: u32(128), funcInfoRecSize: u32(132), nrFuncInfo: u32(144), nrLineInfo: u32(148),
    lineInfoRecSize: u32(172), runTimeNs: u64(192), runCnt: u64(200), recursionMisses: u64(208),
    verifiedInsns: u32(216), attachBtfObjId: u32(220), attachBtfId: u32(224),
  };
}

/** Program info with its map ids (second call sized by nr_map_ids). */
export function progInfo(fd: number): ProgInfo {
  const b = new Uint8Array(PROG_INFO_SIZE);
  objGetInfoByFd(fd, b);
  const first = decodeProgInfo(b);
  const nrMaps = new DataView(b.buffer).getUint32(52, true);
  if (nrMaps === 0) return first;
  const ids = new Uint32Array(nrMaps);
  const b2 = new Uint8Array(PROG_INFO_SIZE);
  const v2 = new DataView(b2.buffer);
  v2.setUint32(52, nrMaps, true);
  v2.setBigUint64(56, addressOf(new Uint8Array(ids.buffer)), true);
  objGetInfoByFd(fd, b2);
  void ids;
  const n = Math.min(nrMaps, v2.getUint32(52, true));
  return { ...first, mapIds: [...ids.subarray(0, n)] };
}

/** The variable-length parts of a program's info: xlated/jited images, func and line info, ksyms. */
export function progInfoExtras(fd: number, want: { xlated?: boolean; jited?: boolean; funcInfo?: boolean; lineInfo?: boolean; ksyms?: boolean }): ProgInfoExtras {
  const b = new Uint8Array(PROG_INFO_SIZE);
  objGetInfoByFd(fd, b);
  const v = new DataView(b.buffer);
  const xlatedLen = v.getUint32(20, true), jitedLen = v.getUint32(16, true);
  const nrFunc = v.getUint32(144, true), funcRec = v.getUint32(132, true);
  const nrLine = v.getUint32(148, true), lineRec = v.getUint32(172, true);
  const nrKsyms = v.getUint32(104, true);
  const xlated = want.xlated && xlatedLen ? new Uint8Array(xlatedLen) : undefined;
  const jited = want.jited && jitedLen ? new Uint8Array(jitedLen) : undefined;
  const funcInfo = want.funcInfo && nrFunc ? new Uint8Array(nrFunc * funcRec) : undefined;
  const lineInfo = want.lineInfo && nrLine ? new Uint8Array(nrLine * lineRec) : undefined;
  const ksyms = want.ksyms && nrKsyms ? new BigUint64Array(nrKsyms) : undefined;
  const q = new Uint8Array(PROG_INFO_SIZE);
  const w = new DataView(q.buffer);
  if (xlated) { w.setUint32(20, xlated.length, true); w.setBigUint64(32, addressOf(xlated), true); }
  if (jited) { w.setUint32(16, jited.length, true); w.setBigUint64(24, addressOf(jited), true); }
  if (funcInfo) { w.setUint32(144, nrFunc, true); w.setUint32(132, funcRec, true); w.setBigUint64(136, addressOf(funcInfo), true); }
  if (lineInfo) { w.setUint32(148, nrLine, true); w.setUint32(172, lineRec, true); w.setBigUint64(152, addressOf(lineInfo), true); }
  if (ksyms) { w.setUint32(104, nrKsyms, true); w.setBigUint64(112, addressOf(new Uint8Array(ksyms.buffer)), true); }
  objGetInfoByFd(fd, q);
  return { xlated, jited, funcInfo, lineInfo, jitedKsyms: ksyms ? [...ksyms] : undefined };
}

/**
 * Map info. `reuse` passes the same buffer again, as bpftool's map listing does: since Linux reads the caller's struct
 * before filling it (for the map hash request), fields it does not set for this map (btf_id of a map without BTF)
 * keep the previous map's values, and bpftool prints them.
 */
export function mapInfo(fd: number, reuse?: Uint8Array): MapInfo {
  const b = reuse ?? new Uint8Array(MAP_INFO_SIZE);
  objGetInfoByFd(fd, b);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u32 = (o: number) => v.getUint32(o, true), u64 = (o: number) => v.getBigUint64(o, true);
  return {
    type: u32(0), id: u32(4), keySize: u32(8), valueSize: u32(12), maxEntries: u32(16), mapFlags: u32(20),
    name: cstr(b.subarray(24, 40)), ifindex: u32(40), btfVmlinuxValueTypeId: u32(44), netnsDev: u64(48),
    netnsIno: u64(56), btfId: u32(64), btfKeyTypeId: u32(68), btfValueTypeId: u32(72), mapExtra: u64(80),
  };
}

/** BTF object info with its name; `withData` also fetches the raw BTF bytes. */
export function btfInfo(fd: number, withData = false): BtfInfo & { data?: Uint8Array } {
  const b = new Uint8Array(BTF_INFO_SIZE);
  objGetInfoByFd(fd, b);
  const v = new DataView(b.buffer);
  const size = v.getUint32(8, true);
  const name = new Uint8Array(64);
  const data = withData ? new Uint8Array(size) : undefined;
  const q = new Uint8Array(BTF_INFO_SIZE);
  const w = new DataView(q.buffer);
  w.setBigUint64(16, addressOf(name), true);
  w.setUint32(24, name.length, true);
  if (data) { w.setBigUint64(0, addressOf(data), true); w.setUint32(8, size, true); }
  objGetInfoByFd(fd, q);
  return { id: w.getUint32(12, true), btfSize: w.getUint32(8, true), name: cstr(name), kernelBtf: w.getUint32(28, true) !== 0, data };
}

const LINK_RAW_TRACEPOINT = 1, LINK_TRACING = 2, LINK_CGROUP = 3, LINK_ITER = 4, LINK_NETNS = 5, LINK_XDP = 6;

export function linkInfo(fd: number): LinkInfo {
  const b = new Uint8Array(LINK_INFO_SIZE);
  objGetInfoByFd(fd, b);
  let v = new DataView(b.buffer);
  const type = v.getUint32(0, true);
  let tpName: string | undefined;
  if (type === LINK_RAW_TRACEPOINT || type === LINK_ITER) {
    const name = new Uint8Array(256);
    const q = new Uint8Array(LINK_INFO_SIZE);
    const w = new DataView(q.buffer);
    w.setBigUint64(16, addressOf(name), true);
    w.setUint32(24, name.length, true);
    objGetInfoByFd(fd, q);
    tpName = cstr(name);
    v = w;
  }
  const base = { type, id: v.getUint32(4, true), progId: v.getUint32(8, true), raw: new Uint8Array(v.buffer.slice(16)) };
  switch (type) {
    case LINK_RAW_TRACEPOINT: case LINK_ITER: return { ...base, tpName };
    case LINK_TRACING:
      return { ...base, attachType: v.getUint32(16, true), targetObjId: v.getUint32(20, true), targetBtfId: v.getUint32(24, true) };
    case LINK_CGROUP: return { ...base, cgroupId: v.getBigUint64(16, true), attachType: v.getUint32(24, true) };
    case LINK_NETNS: return { ...base, netnsIno: v.getUint32(16, true), attachType: v.getUint32(20, true) };
    case LINK_XDP: return { ...base, ifindex: v.getUint32(16, true) };
    default: return base;
  }
}

/** A field of /proc/self/fdinfo/FD as bpftool's get_fdinfo finds it (first line containing the key), or undefined. */
export function fdinfo(fd: number, key: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/self/fdinfo/${fd}`, "utf8");
  } catch {
    return undefined;
  }
  for (const line of text.split("\n")) {
    if (!line.includes(key)) continue;
    const tab = line.indexOf("\t");
    return tab < 0 || tab === line.length - 1 ? undefined : line.slice(tab + 1);
  }
  return undefined;
}

/** A map info buffer to pass to mapInfo repeatedly (bpftool's `map show` reuses one across maps). */
export const newMapInfoBuffer = (): Uint8Array => new Uint8Array(MAP_INFO_SIZE);
