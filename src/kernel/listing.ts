// `bpftool {prog,map,btf,link} show` for the running kernel, byte-identical to Debian's bpftool 7.1 (libbpf 1.1):
// the same fields in the same order, the same object selectors (id/tag/name/pinned), the same error texts and exit
// code (255), compact (-j) and pretty (-p) JSON from the same writer semantics. Not shown: `pids` (bpftool 7.1 on
// Debian is built without its pid iterator) and `metadata` of .rodata maps.
import { statfsSync } from "node:fs";
import { strerror, clockGettime, CLOCK_BOOTTIME, CLOCK_REALTIME } from "./libc.ts";
import { allIds, errnoOf as backendErrno, type Backend, type ObjectKind } from "../runtime/backend.ts";
import { linux } from "./backend.ts";
import { newMapInfoBuffer, type ProgInfo, type MapInfo, type LinkInfo } from "./info.ts";
import { btfTypeById, BTF_KIND_FUNC } from "./btf-names.ts";
import { progMetadata } from "./prog-metadata.ts";
import { PROG_TYPE_NAMES, MAP_TYPE_NAMES, LINK_TYPE_NAMES, ATTACH_TYPE_NAMES } from "./names.ts";
import { JsonWriter } from "./json-writer.ts";
import { BpftoolMultimap } from "./bpftool-hashmap.ts";
import { pinTable } from "./pins.ts";
import { ERRNO } from "../uapi/index.ts";

/** What a bpftool-style command printed and returned. */
export interface ToolOutput {
  stdout: string;
  stderr: string;
  code: number;
  /** bpftool's usage() ended the command: the CLI adds the object's help text (plain mode; JSON has printed `null`) */
  usage?: boolean;
}

export interface OutputMode {
  readonly json: boolean;
  readonly pretty: boolean;
  /** bpftool -f: list bpffs pins */
  readonly bpffs?: boolean;
  /** Whose objects to list: the running kernel (default) or a VM System. */
  readonly backend?: Backend;
}

// bpftool 7.1 links libbpf 1.1, whose name tables end here; later enum values print as numbers ("type 32").
const KNOWN = { prog: 31, map: 32, link: 9, attach: 43 };
const known = (table: readonly string[], last: number, v: number): string | undefined => (v <= last ? table[v] : undefined);
export const bpftoolProgType = (t: number) => known(PROG_TYPE_NAMES, KNOWN.prog, t);
export const bpftoolMapType = (t: number) => known(MAP_TYPE_NAMES, KNOWN.map, t);
export const bpftoolLinkType = (t: number) => known(LINK_TYPE_NAMES, KNOWN.link, t);
export const bpftoolAttachType = (t: number) => known(ATTACH_TYPE_NAMES, KNOWN.attach, t);

/** Collects stdout/stderr the way bpftool's p_err and json writer do. */
export class Printer {
  readonly json?: JsonWriter;
  text = "";
  err = "";
  failed = false;
  /** bpffs pins by object id when -f was given */
  pins?: BpftoolMultimap<string>;
  /** The backend whose objects are listed. */
  readonly b: Backend;
  constructor(readonly mode: OutputMode) {
    this.b = mode.backend ?? linux;
    if (mode.json) this.json = new JsonWriter(mode.pretty);
  }
  print(s: string): void { this.text += s; }
  /** bpftool's p_err: an {"error": ...} object in JSON mode, else "Error: ..." on stderr. */
  error(msg: string): void {
    this.failed = true;
    if (this.json) this.json.startObject().name("error").raw(`"${msg}"`).endObject();
    else this.err += `Error: ${msg}\n`;
  }
  result(code?: number): ToolOutput {
    const stdout = this.json ? this.json.finish() : this.text;
    return { stdout, stderr: this.err, code: code ?? (this.failed ? 255 : 0) };
  }
  /** bpftool's usage(): `null` under -j; the CLI adds the object's help in plain mode (withUsage); exit 255. */
  usage(): ToolOutput {
    this.json?.raw("null");
    return { ...this.result(255), usage: true };
  }
}

/** strtoul(s, &end, 0) with bpftool's "must consume everything" check, truncated to 32 bits like its unsigned int. */
export function parseId(s: string): number | undefined {
  const m = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (s === "") return 0;
  if (!m) return undefined;
  const body = m[2]!;
  let n = /^0[xX]/.test(body) ? BigInt(body) : body.length > 1 && body[0] === "0" ? BigInt("0o" + body.slice(1)) : BigInt(body);
  if (n > 0xffffffffffffffffn) n = 0xffffffffffffffffn;
  if (m[1] === "-") n = (1n << 64n) - n;
  return Number(n & 0xffffffffn);
}

/** bpftool's is_prefix: `arg` abbreviates `word`. */
export const isPrefix = (arg: string | undefined, word: string): boolean => arg !== undefined && word.startsWith(arg);

function errnoOf(e: unknown): number {
  const n = backendErrno(e);
  if (n === undefined) throw e;
  return n;
}

/** ns since boot → bpftool's print_boot_time (seconds since the epoch, rounded as its integer arithmetic does). */
export function bootNsToEpochSeconds(ns: bigint): bigint {
  const [rs, rn] = clockGettime(CLOCK_REALTIME);
  const [bs, bn] = clockGettime(CLOCK_BOOTTIME);
  return rs - bs + (rn - bn + ns) / 1000000000n;
}

/** strftime("%FT%T%z") in local time. */
export function formatLocalTime(epochSeconds: bigint): string {
  const d = new Date(Number(epochSeconds) * 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? "-" : "+";
  const tz = `${sign}${p(Math.floor(Math.abs(off) / 60))}${p(Math.abs(off) % 60)}`;
  return `${p(d.getFullYear(), 4)}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}${tz}`;
}

/** The program's name as bpftool prints it: BTF's FUNC name when the kernel's copy may be truncated (15 chars). */
export function progFullName(b: Backend, info: ProgInfo, fd: number): string {
  if (info.name.length < 15 || !info.btfId || info.nrFuncInfo === 0) return info.name;
  try {
    const { funcInfo } = b.progInfoExtras(fd, { funcInfo: true });
    if (!funcInfo || funcInfo.length < 8) return info.name;
    const typeId = new DataView(funcInfo.buffer).getUint32(4, true);
    const btfFd = b.getFdById("btf", info.btfId);
    try {
      const { data } = b.btfInfo(btfFd, true);
      const t = data ? btfTypeById(data, typeId) : undefined;
      return t && t.kind === BTF_KIND_FUNC ? t.name : info.name;
    } finally {
      b.close(btfFd);
    }
  } catch {
    return info.name;
  }
}

// ---- object selection (prog_parse_fds / map_parse_fds) ----

export function pinnedFd(out: Printer, path: string, kind?: ObjectKind): number | undefined {
  const b = out.b;
  let fd: number;
  try {
    fd = b.objGet(path);
  } catch (e) {
    // bpftool's open_obj_pinned: EACCES outside a bpffs names the directory (dirname() cut the path in place)
    const n = errnoOf(e);
    const dir = dirname(path);
    out.error(n === EACCES && !isBpffs(dir) ? `bpf obj get (${dir}): directory not in bpf file system (bpffs)` : `bpf obj get (${path}): ${strerror(n)}`);
    return undefined;
  }
  // bpftool's open_obj_pinned_any: the pin must hold an object of the expected kind
  const actual = kind === undefined ? kind : fdKind(b, fd);
  if (actual !== kind) {
    b.close(fd);
    out.error(`incorrect object type: ${actual ?? "unknown"}`);
    return undefined;
  }
  return fd;
}

const { EACCES } = ERRNO, BPF_FS_MAGIC = 0xcafe4a11;

/** glibc's dirname(3): "/etc/passwd" → "/etc", "/etc/" → "/", "x" → ".". */
function dirname(path: string): string {
  const p = path.replace(/\/+$/, "");
  if (p === "") return path === "" ? "." : "/";
  const i = p.lastIndexOf("/");
  if (i < 0) return ".";
  return p.slice(0, i).replace(/\/+$/, "") || "/";
}

/** bpftool's is_bpffs: statfs says BPF_FS_MAGIC. */
function isBpffs(path: string): boolean {
  try {
    return statfsSync(path).type === BPF_FS_MAGIC;
  } catch {
    return false;
  }
}

/** The kind of object a bpf fd holds, from its fdinfo (bpftool's get_fd_type). */
export function fdKind(b: Backend, fd: number): ObjectKind | undefined {
  if (b.fdinfo(fd, "map_type") !== undefined) return "map";
  if (b.fdinfo(fd, "link_type") !== undefined) return "link";
  if (b.fdinfo(fd, "prog_type") !== undefined) return "prog";
  return undefined;
}

/** Resolves `id N | tag T | name N | pinned P` to fds, printing bpftool's errors; undefined on error. */
export function selectFds(out: Printer, kind: "prog" | "map", args: readonly string[]): number[] | undefined {
  const b = out.b;
  const [sel, value] = args;
  if (isPrefix(sel, "id")) {
    const id = parseId(value!);
    if (id === undefined) { out.error(`can't parse ${value} as ID`); return undefined; }
    try {
      return [b.getFdById(kind, id)];
    } catch (e) {
      out.error(`${kind === "prog" ? "get by id" : "get map by id"} (${id}): ${strerror(errnoOf(e))}`);
      return undefined;
    }
  }
  if (kind === "prog" && isPrefix(sel, "tag")) {
    if (!/^[0-9a-fA-F]{16}/.test(value!)) { out.error("can't parse tag"); return undefined; }
    const tag = value!.slice(0, 16).toLowerCase();
    return scan(b, "prog", (fd) => b.progInfo(fd).tag === tag);
  }
  if (isPrefix(sel, "name")) {
    const max = kind === "prog" ? 127 : 15;
    if (new TextEncoder().encode(value!).length > max) { out.error("can't parse name"); return undefined; }
    return kind === "prog"
      ? scan(b, "prog", (fd) => progFullName(b, b.progInfo(fd), fd) === value)
      : scan(b, "map", (fd) => b.mapInfo(fd).name === value);
  }
  if (isPrefix(sel, "pinned")) {
    const fd = pinnedFd(out, value!, kind);
    return fd === undefined ? undefined : [fd];
  }
  out.error(kind === "prog"
    ? `expected 'id', 'tag', 'name' or 'pinned', got: '${sel}'?`
    : `expected 'id', 'name' or 'pinned', got: '${sel}'?`);
  return undefined;
}

function scan(b: Backend, kind: ObjectKind, match: (fd: number) => boolean): number[] {
  const fds: number[] = [];
  for (const id of allIds(b, kind)) {
    let fd: number;
    try { fd = b.getFdById(kind, id); } catch { continue; }
    if (match(fd)) fds.push(fd);
    else b.close(fd);
  }
  return fds;
}

/** The pins of an object: JSON "pinned" array or plain "\n\tpinned PATH" lines, printed only when any pin exists. */
function pinsJson(out: Printer, j: JsonWriter, id: number): void {
  const b = out.b;
  if (!out.pins || out.pins.empty) return;
  j.name("pinned").startArray();
  for (const p of out.pins.get(id)) j.string(p);
  j.endArray();
}
function pinsPlain(out: Printer, id: number): string {
  const b = out.b;
  if (!out.pins || out.pins.empty) return "";
  return out.pins.get(id).map((p) => `\n\tpinned ${p}`).join("");
}

/** Walks every object of a kind (skipping ones that vanish between GET_NEXT_ID and GET_FD_BY_ID, as bpftool does). */
function eachObject(b: Backend, kind: ObjectKind, fn: (fd: number) => void): void {
  for (const id of allIds(b, kind)) {
    let fd: number;
    try {
      fd = b.getFdById(kind, id);
    } catch (e) {
      if (errnoOf(e) === 2) continue;
      throw e;
    }
    try { fn(fd); } finally { b.close(fd); }
  }
}

/** `show` with the arguments after it: nothing (all objects) or one selector (may match several). */
function showCommand(mode: OutputMode, kind: "prog" | "map", args: readonly string[], show: (out: Printer, fd: number) => void): ToolOutput {
  const out = new Printer(mode);
  const b = out.b;
  if (mode.bpffs) out.pins = pinTable(out.b.pins(kind));
  if (args.length !== 0 && args.length !== 2) {
    out.error(`what is '${args[0]}'?`);
    return out.result();
  }
  if (args.length === 2) {
    const fds = selectFds(out, kind, args);
    if (fds === undefined) return out.result();
    if (fds.length === 0) return out.result(255);
    if (out.json && fds.length > 1) out.json.startArray();
    for (const fd of fds) { try { show(out, fd); } finally { b.close(fd); } }
    if (out.json && fds.length > 1) out.json.endArray();
    return out.result();
  }
  if (out.json) out.json.startArray();
  eachObject(b, kind, (fd) => show(out, fd));
  if (out.json) out.json.endArray();
  return out.result();
}

// ---- prog show ----

function showProg(out: Printer, fd: number): void {
  const b = out.b;
  const info = b.progInfo(fd);
  const memlock = b.fdinfo(fd, "memlock");
  const type = bpftoolProgType(info.type);
  const j = out.json;
  if (j) {
    j.startObject();
    progHeaderJson(b, j, info, fd);
    if (info.loadTime) j.name("loaded_at").raw(String(bootNsToEpochSeconds(info.loadTime))).field("uid", info.createdByUid);
    j.field("bytes_xlated", info.xlatedProgLen);
    if (info.jitedProgLen) j.field("jited", true).field("bytes_jited", info.jitedProgLen);
    else j.field("jited", false);
    if (memlock !== undefined) j.field("bytes_memlock", atoll(memlock));
    if (info.mapIds.length) j.uintArray("map_ids", info.mapIds);
    if (info.btfId) j.field("btf_id", info.btfId);
    pinsJson(out, j, info.id);
    progMetadata(out, fd, info.mapIds);
    j.endObject();
    return;
  }
  let s = `${info.id}: ${type !== undefined ? type : `type ${info.type}`}  `;
  if (info.name) s += `name ${progFullName(b, info, fd)}  `;
  s += `tag ${info.tag}${info.gplCompatible ? "  gpl" : ""}`;
  if (info.runTimeNs) s += ` run_time_ns ${info.runTimeNs} run_cnt ${info.runCnt}`;
  if (info.recursionMisses) s += ` recursion_misses ${info.recursionMisses}`;
  s += "\n";
  if (info.loadTime) s += `\tloaded_at ${formatLocalTime(bootNsToEpochSeconds(info.loadTime))}  uid ${info.createdByUid}\n`;
  s += `\txlated ${info.xlatedProgLen}B`;
  s += info.jitedProgLen ? `  jited ${info.jitedProgLen}B` : "  not jited";
  if (memlock !== undefined) s += `  memlock ${memlock}B`;
  if (info.mapIds.length) s += `  map_ids ${info.mapIds.join(",")}`;
  s += pinsPlain(out, info.id);
  if (info.btfId) s += `\n\tbtf_id ${info.btfId}`;
  out.print(s + "\n" + progMetadata(out, fd, info.mapIds));
}

/** bpftool's print_prog_header_json: id, type, name, tag, gpl_compatible, run stats. */
export function progHeaderJson(b: Backend, j: JsonWriter, info: ProgInfo, fd: number): void {
  const type = bpftoolProgType(info.type);
  j.field("id", info.id);
  if (type !== undefined) j.field("type", type); else j.field("type", info.type);
  if (info.name) j.field("name", progFullName(b, info, fd));
  j.field("tag", info.tag).field("gpl_compatible", info.gplCompatible);
  if (info.runTimeNs) j.field("run_time_ns", info.runTimeNs).field("run_cnt", info.runCnt);
  if (info.recursionMisses) j.field("recursion_misses", info.recursionMisses);
}

const atoll = (s: string): number => Number.parseInt(s, 10) || 0;

/** `bpftool prog show [id N | tag T | name N | pinned P]` */
export function progShow(mode: OutputMode, args: readonly string[]): ToolOutput {
  return showCommand(mode, "prog", args, showProg);
}

// ---- map show ----

function showMap(out: Printer, fd: number, reuse: Uint8Array): void {
  const b = out.b;
  const info: MapInfo = b.mapInfo(fd, reuse);
  const memlock = b.fdinfo(fd, "memlock");
  const frozen = atoll(b.fdinfo(fd, "frozen") ?? "0");
  const type = bpftoolMapType(info.type);
  const isProgArray = info.type === 3;
  const ownerType = isProgArray ? b.fdinfo(fd, "owner_prog_type") : undefined;
  const ownerJited = isProgArray ? b.fdinfo(fd, "owner_jited") : undefined;
  const j = out.json;
  if (j) {
    j.startObject().field("id", info.id);
    if (type !== undefined) j.field("type", type); else j.field("type", info.type);
    if (info.name) j.field("name", info.name);
    j.field("flags", info.mapFlags);
    j.field("bytes_key", info.keySize).field("bytes_value", info.valueSize).field("max_entries", info.maxEntries);
    if (memlock !== undefined) j.field("bytes_memlock", atoll(memlock));
    if (ownerType !== undefined) {
      const t = bpftoolProgType(atoll(ownerType) >>> 0);
      if (t !== undefined) j.field("owner_prog_type", t); else j.field("owner_prog_type", atoll(ownerType) >>> 0);
    }
    if (ownerJited !== undefined) j.field("owner_jited", atoll(ownerJited) !== 0);
    j.field("frozen", frozen);
    if (info.btfId) j.field("btf_id", info.btfId);
    pinsJson(out, j, info.id);
    j.endObject();
    return;
  }
  let s = `${info.id}: ${type !== undefined ? type : `type ${info.type}`}  `;
  if (info.name) s += `name ${info.name}  `;
  s += `flags 0x${info.mapFlags.toString(16)}\n`;
  s += `\tkey ${info.keySize}B  value ${info.valueSize}B  max_entries ${info.maxEntries}`;
  if (memlock !== undefined) s += `  memlock ${memlock}B`;
  if (ownerType !== undefined || ownerJited !== undefined) s += "\n\t";
  if (ownerType !== undefined) {
    const t = bpftoolProgType(atoll(ownerType) >>> 0);
    s += t !== undefined ? `owner_prog_type ${t}  ` : `owner_prog_type ${atoll(ownerType)}  `;
  }
  if (ownerJited !== undefined) s += `owner${atoll(ownerJited) ? "" : " not"} jited`;
  s += pinsPlain(out, info.id);
  if (info.btfId || frozen) s += "\n\t";
  if (info.btfId) s += `btf_id ${info.btfId}`;
  if (frozen) s += `${info.btfId ? "  " : ""}frozen`;
  out.print(s + "\n");
}

/** `bpftool map show [id N | name N | pinned P]` */
export function mapShow(mode: OutputMode, args: readonly string[]): ToolOutput {
  const reuse = newMapInfoBuffer();
  return showCommand(mode, "map", args, (out, fd) => showMap(out, fd, reuse));
}

// ---- btf show ----

/** btf id → ids of the programs and maps using it, in bpftool's iteration order. */
function btfUsers(b: Backend): { progs: BpftoolMultimap<number>; maps: BpftoolMultimap<number> } {
  const progs = new BpftoolMultimap<number>(), maps = new BpftoolMultimap<number>();
  eachObject(b, "prog", (fd) => { const i = b.progInfo(fd); if (i.btfId) progs.append(i.btfId, i.id); });
  eachObject(b, "map", (fd) => { const i = b.mapInfo(fd); if (i.btfId) maps.append(i.btfId, i.id); });
  return { progs, maps };
}

function showBtf(out: Printer, fd: number, users: ReturnType<typeof btfUsers>): void {
  const b = out.b;
  const info = b.btfInfo(fd);
  const progIds = users.progs.get(info.id), mapIds = users.maps.get(info.id);
  const j = out.json;
  if (j) {
    j.startObject().field("id", info.id).field("size", info.btfSize);
    j.uintArray("prog_ids", progIds).uintArray("map_ids", mapIds).field("kernel", info.kernelBtf);
    if (info.name) j.field("name", info.name);
    j.endObject();
    return;
  }
  let s = `${info.id}: `;
  if (info.kernelBtf) s += `name [${info.name}]  `;
  else if (info.name) s += `name ${info.name}  `;
  else s += "name <anon>  ";
  s += `size ${info.btfSize}B`;
  if (progIds.length) s += `  prog_ids ${progIds.join(",")}`;
  if (mapIds.length) s += `  map_ids ${mapIds.join(",")}`;
  out.print(s + "\n");
}

/** `bpftool btf show [id N]` */
export function btfShow(mode: OutputMode, args: readonly string[]): ToolOutput {
  const out = new Printer(mode);
  const b = out.b;
  let single: number | undefined;
  if (args.length === 2) {
    if (isPrefix(args[0], "id")) {
      const id = parseId(args[1]!);
      if (id === undefined) { out.error(`can't parse ${args[1]} as ID`); return out.result(); }
      try { single = b.getFdById("btf", id); } catch (e) {
        out.error(`can't get BTF object by id (${id}): ${strerror(errnoOf(e))}`);
        return out.result();
      }
    } else {
      out.error(`expected 'id', got: '${args[0]}'?`);
      return out.result();
    }
  } else if (args.length) {
    out.error(`what is '${args[0]}'?`);
    return out.result();
  }
  const users = btfUsers(out.b);
  if (single !== undefined) {
    try { showBtf(out, single, users); } finally { b.close(single); }
    return out.result();
  }
  if (out.json) out.json.startArray();
  eachObject(b, "btf", (fd) => showBtf(out, fd, users));
  if (out.json) out.json.endArray();
  return out.result();
}

// ---- link show ----

function attachTypeField(out: Printer, t: number): string {
  const b = out.b;
  const name = bpftoolAttachType(t);
  if (out.json) { if (name !== undefined) out.json.field("attach_type", name); else out.json.field("attach_type", t); return ""; }
  return name !== undefined ? `attach_type ${name}  ` : `attach_type ${t}  `;
}

function showLink(out: Printer, fd: number): void {
  const b = out.b;
  const info: LinkInfo = b.linkInfo(fd);
  const type = bpftoolLinkType(info.type);
  const j = out.json;
  const progType = (): number | string => {
    const pfd = b.getFdById("prog", info.progId);
    try { const t = b.progInfo(pfd).type; return bpftoolProgType(t) ?? t; } finally { b.close(pfd); }
  };
  if (j) {
    j.startObject().field("id", info.id);
    if (type !== undefined) j.field("type", type); else j.field("type", info.type);
    j.field("prog_id", info.progId);
    switch (info.type) {
      case 1: j.field("tp_name", info.tpName ?? ""); break;
      case 2: j.field("prog_type", progType()); attachTypeField(out, info.attachType!); break;
      case 3: j.field("cgroup_id", info.cgroupId!); attachTypeField(out, info.attachType!); break;
      case 5: j.field("netns_ino", info.netnsIno!); attachTypeField(out, info.attachType!); break;
      case 4: j.field("target_name", info.tpName ?? ""); break;
    }
    pinsJson(out, j, info.id);
    j.endObject();
    return;
  }
  let s = `${info.id}: ${type !== undefined ? type : `type ${info.type}`}  prog ${info.progId}  `;
  switch (info.type) {
    case 1: s += `\n\ttp '${info.tpName}'  `; break;
    case 2: {
      const t = progType();
      s += `\n\tprog_type ${t}  ` + attachTypeField(out, info.attachType!);
      break;
    }
    case 3: s += `\n\tcgroup_id ${info.cgroupId}  ` + attachTypeField(out, info.attachType!); break;
    case 4: s += `target_name ${info.tpName}  `; break;
    case 5: s += `\n\tnetns_ino ${info.netnsIno}  ` + attachTypeField(out, info.attachType!); break;
  }
  out.print(s + pinsPlain(out, info.id) + "\n");
}

/** `bpftool link show [id N | pinned P]` */
export function linkShow(mode: OutputMode, args: readonly string[]): ToolOutput {
  const out = new Printer(mode);
  const b = out.b;
  if (mode.bpffs) out.pins = pinTable(out.b.pins("link"));
  if (args.length === 2) {
    let fd: number | undefined;
    if (isPrefix(args[0], "id")) {
      const id = parseId(args[1]!);
      if (id === undefined) { out.error(`can't parse ${args[1]} as ID`); return out.result(); }
      try { fd = b.getFdById("link", id); } catch (e) {
        // bpftool 7.1 prints the id with %d and exits with the negative errno libbpf returned
        const errno = errnoOf(e);
        out.error(`failed to get link with ID ${id | 0}: ${strerror(errno)}`);
        return out.result((256 - errno) & 0xff);
      }
    } else if (isPrefix(args[0], "pinned")) {
      fd = pinnedFd(out, args[1]!, "link");
      if (fd === undefined) return out.result();
    } else {
      out.error(`expected 'id' or 'pinned', got: '${args[0]}'?`);
      return out.result();
    }
    try { showLink(out, fd); } finally { b.close(fd); }
    return out.result();
  }
  if (args.length) { out.error(`what is '${args[0]}'?`); return out.result(); }
  if (out.json) out.json.startArray();
  eachObject(b, "link", (fd) => showLink(out, fd));
  if (out.json) out.json.endArray();
  return out.result();
}
