// `bpftool map dump {id N | name N | pinned P}` as bpftool 7.1 prints it: entries in get_next_key order as hex bytes
// (16 per line, an extra space after 8), per-CPU values per possible CPU, lookup errors as `<no entry>`, then
// "Found N elements"; with -j/-p the hex as "0x.." strings. Maps with BTF print through bpftool's BTF dumper (JSON
// even in plain mode); bpfkit covers the common BTF shapes (see btf-value-dump.ts) and says so when it cannot.
import { strerror } from "./libc.ts";
import { newMapInfoBuffer, type MapInfo } from "./info.ts";
import { errnoOf } from "../runtime/backend.ts";
import { Printer, selectFds, bpftoolMapType, type OutputMode, type ToolOutput } from "./listing.ts";
import { JsonWriter } from "./json-writer.ts";
import { loadMapBtf, dumpBtfEntry, type MapBtf } from "./btf-value-dump.ts";

const PER_CPU = new Set([5, 6, 10, 21]);
const MAP_OF_MAPS = new Set([12, 13]);
const PROG_ARRAY = 3, REUSEPORT_SOCKARRAY = 20;

/** bpftool's fprint_hex: "%02x" joined by `sep`, two spaces after every 8th byte, a newline after every 16th. */
export function fprintHex(bytes: Uint8Array, sep = " "): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) {
    let pfx = "";
    if (i === 0) { /* first byte */ } else if (i % 16 === 0) s += "\n";
    else if (i % 8 === 0) s += "  ";
    else pfx = sep;
    s += (i ? pfx : "") + bytes[i]!.toString(16).padStart(2, "0");
  }
  return s;
}

function hexJson(j: JsonWriter, bytes: Uint8Array): void {
  j.startArray();
  for (const b of bytes) j.raw(`"0x${b.toString(16).padStart(2, "0")}"`);
  j.endArray();
}

export function entryPlain(info: MapInfo, key: Uint8Array, value: Uint8Array, cpus: number): string {
  if (!PER_CPU.has(info.type)) {
    const breakNames = info.keySize > 16 || info.valueSize > 16;
    const singleLine = info.keySize + info.valueSize <= 24 && !breakNames;
    let s = "";
    if (info.keySize) s += `key:${breakNames ? "\n" : " "}${fprintHex(key)}${singleLine ? "  " : "\n"}`;
    if (info.valueSize) s += `value:${breakNames ? "\n" : " "}${fprintHex(value)}`;
    return s + "\n";
  }
  const step = (info.valueSize + 7) & ~7;
  let s = "";
  if (info.keySize) s += `key:\n${fprintHex(key)}\n`;
  if (info.valueSize) {
    for (let c = 0; c < cpus; c++) {
      s += `value (CPU ${String(c).padStart(2, "0")}):${info.valueSize > 16 ? "\n" : " "}${fprintHex(value.subarray(c * step, c * step + info.valueSize))}\n`;
    }
  }
  return s;
}

export function entryJson(j: JsonWriter, info: MapInfo, key: Uint8Array, value: Uint8Array, cpus: number, btf: MapBtf | undefined): void {
  j.startObject();
  j.name("key");
  hexJson(j, key);
  if (!PER_CPU.has(info.type)) {
    j.name("value");
    hexJson(j, value);
  } else {
    const step = (info.valueSize + 7) & ~7;
    j.name("values").startArray();
    for (let c = 0; c < cpus; c++) {
      j.startObject().field("cpu", c).name("value");
      hexJson(j, value.subarray(c * step, c * step + info.valueSize));
      j.endObject();
    }
    j.endArray();
  }
  if (btf) {
    j.name("formatted");
    dumpBtfEntry(j, btf, info, key, value, cpus, false);
  }
  j.endObject();
}

function errorEntry(out: Printer, info: MapInfo, key: Uint8Array, errno: number): void {
  // prog arrays and map-in-map arrays: a missing value is simply an empty slot
  if ((MAP_OF_MAPS.has(info.type) || info.type === PROG_ARRAY) && errno === 2) return;
  const j = out.json;
  if (j) {
    j.startObject().name("key");
    hexJson(j, key);
    j.name("value").startObject().field("error", strerror(errno)).endObject().endObject();
    return;
  }
  const msg = errno === 2 ? "<no entry>" : errno === 28 && info.type === REUSEPORT_SOCKARRAY ? "<cannot read>" : strerror(errno);
  const breakNames = info.keySize > 16 || msg.length > 16;
  const singleLine = info.keySize + msg.length <= 24 && !breakNames;
  out.print(`key:${breakNames ? "\n" : " "}${fprintHex(key)}${singleLine ? "  " : "\n"}value:${breakNames ? "\n" : " "}${msg}\n`);
}

function dumpOne(out: Printer, w: JsonWriter | undefined, fd: number, info: MapInfo, showHeader: boolean): number {
  const b = out.b;
  const cpus = b.possibleCpus();
  const key = new Uint8Array(info.keySize);
  const value = new Uint8Array(PER_CPU.has(info.type) ? ((info.valueSize + 7) & ~7) * cpus : info.valueSize);
  const btf = w ? loadMapBtf(b, info) : undefined;
  if (w) {
    if (showHeader) {
      w.startObject().field("id", info.id);
      const t = bpftoolMapType(info.type);
      if (t !== undefined) w.field("type", t); else w.field("type", info.type);
      if (info.name) w.field("name", info.name);
      w.name("elements");
    }
    w.startArray();
  } else if (showHeader) {
    const t = bpftoolMapType(info.type);
    out.print(`${info.id}: ${t !== undefined ? t : `type ${info.type}`}  ${info.name ? `name ${info.name}  ` : ""}flags 0x${info.mapFlags.toString(16)}\n`);
  }
  if (info.type === REUSEPORT_SOCKARRAY && info.valueSize !== 8) {
    out.err += `Warning: cannot read values from ${bpftoolMapType(info.type)} map with value_size != 8\n`;
  }
  let n = 0;
  let prev: Uint8Array | null = null;
  let err = 0;
  for (;;) {
    // bpftool stops at the first get_next_key error; anything but ENOENT becomes its exit status (ringbuf: ENOTSUPP)
    let more: boolean;
    try {
      more = b.mapGetNextKey(fd, prev, key);
    } catch (e) {
      const n = errnoOf(e);
      if (n === undefined) throw e;
      err = n;
      break;
    }
    if (!more) break;
    try {
      b.mapLookupElem(fd, key, value);
      if (w && out.json) entryJson(w, info, key, value, cpus, btf);
      else if (w && btf) dumpBtfEntry(w, btf, info, key, value, cpus, true);
      else out.print(entryPlain(info, key, value, cpus));
      n++;
    } catch (e) {
      const n = errnoOf(e);
      if (n === undefined) throw e;
      errorEntry(out, info, key, n);
    }
    prev = key.slice();
  }
  if (w) {
    w.endArray();
    if (showHeader) w.endObject();
  } else out.print(`Found ${n} element${n !== 1 ? "s" : ""}\n`);
  return err;
}

/** `bpftool map dump {id N | name N | pinned P}` */
export function mapDump(mode: OutputMode, args: readonly string[]): ToolOutput {
  const out = new Printer(mode);
  const b = out.b;
  if (args.length !== 2) {
    return out.usage();
  }
  const fds = selectFds(out, "map", args);
  if (fds === undefined) return out.result();
  if (fds.length === 0) return out.result(255);
  const reuse = newMapInfoBuffer();
  const infos = fds.map((fd) => b.mapInfo(fd, reuse));
  // plain output switches to the BTF writer (pretty JSON) when every map has BTF
  const plainBtf = !mode.json && infos.every((i) => i.btfId !== 0);
  const btfWriter = plainBtf ? new JsonWriter(true) : undefined;
  const w = out.json ?? btfWriter;
  let err = 0;
  try {
    if (w && fds.length > 1) w.startArray();
    for (let i = 0; i < fds.length && !err; i++) {
      err = dumpOne(out, w, fds[i]!, infos[i]!, fds.length > 1);
      if (!w && i !== fds.length - 1) out.print("\n");
    }
    if (w && fds.length > 1) w.endArray();
  } finally {
    fds.forEach((fd) => b.close(fd));
  }
  if (btfWriter) out.print(btfWriter.finish());
  return out.result((256 - err) & 0xff);
}
