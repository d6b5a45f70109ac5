// bpftrace 0.17's output: map printing (per-CPU values merged; plain and count/sum/min/max maps sorted by value,
// others by key; hist/lhist/avg/stats grouped by key and sorted by total; the blank-line rules of its text printer),
// `-f json` records, and decoding of the perf-buffer records the compiled programs emit (printf, print, clear, ...).
import type { Compiled, MapLayout, RecordLayout } from "./codegen.ts";
import { EV } from "./codegen.ts";
import { formatPrintf } from "./printf.ts";
import { formatIp6 } from "../decode/context.ts";
import { formatBpftraceHist } from "./hist-format.ts";
import { type TType, isTextual } from "./types.ts";
import { JOIN_ARGS, JOIN_ARGSIZE } from "./codegen.ts";

export type OutputMode = "text" | "json";

/** What only the backend knows: stack maps' frames, kernel and process symbols, user names, files (cat). */
export interface Resolver {
  /** the frames of stack `id` in the stack map of `limit` frames; undefined when the lookup fails */
  stackFrames?(limit: number, id: number): readonly bigint[] | undefined;
  ksym?(addr: bigint): { name: string; offset: bigint } | undefined;
  usym?(addr: bigint, pid: number): { name: string; offset: bigint; module: string } | undefined;
  username?(uid: number): string;
  cat?(path: string): string;
}

/** C++'s `<< (void*)addr`: 0x-prefixed hex, "0" for null */
const voidPtr = (a: bigint) => (a === 0n ? "0" : "0x" + a.toString(16));

function ksymText(r: Resolver | undefined, addr: bigint, offset: boolean): string {
  const s = r?.ksym?.(addr);
  return s ? s.name + (offset ? `+${s.offset}` : "") : voidPtr(addr);
}

function usymText(r: Resolver | undefined, addr: bigint, pid: number, offset: boolean, module: boolean): string {
  const s = r?.usym?.(addr, pid);
  if (s) return s.name + (offset ? `+${s.offset}` : "") + (module ? ` (${s.module})` : "");
  return voidPtr(addr) + (module ? " ([unknown])" : "");
}

/** bpftrace's get_stack: a newline, then one line per frame (`indent` spaces, or perf's tab + hex address) */
function stackText(t: Extract<TType, { k: "stack" }>, word: bigint, r: Resolver | undefined, indent: number): string {
  const id = Number(word & 0xffffffffn), pid = Number(word >> 32n);
  const frames = r?.stackFrames?.(t.limit, id);
  if (!frames) return "";
  let s = "\n";
  for (const a of frames) {
    if (a === 0n) break;
    const sym = t.user ? usymText(r, a, pid, true, t.mode === "perf") : ksymText(r, a, true);
    s += t.mode === "perf" ? `\t${a.toString(16)} ${sym}\n` : `${" ".repeat(indent)}${sym}\n`;
  }
  return s;
}

function inetText(b: Uint8Array, off: number): string {
  const af = Number(i64(b, off));
  const a = b.subarray(off + 8, off + 24);
  if (af === 2) return `${a[0]}.${a[1]}.${a[2]}.${a[3]}`;
  if (af !== 10) return "";
  return formatIp6(a, 0); // inet_ntop(AF_INET6), as tcpdump's printers also need it
}

/** hex_format_buffer: printable bytes as themselves, the rest as \xNN */
function bufText(b: Uint8Array, off: number, size: number): string {
  const n = Math.min(b[off] ?? 0, size - 1);
  let s = "";
  for (let i = 0; i < n; i++) {
    const c = b[off + 1 + i]!;
    s += c >= 32 && c <= 126 ? String.fromCharCode(c) : "\\x" + c.toString(16).padStart(2, "0");
  }
  return s;
}

const r8 = (n: number) => (n + 7) & ~7;

/** One map entry as a backend reads it: the key bytes and each CPU's value bytes (one element for plain maps). */
export interface RawEntry {
  readonly key: Uint8Array;
  readonly values: readonly Uint8Array[];
}

const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const u64 = (b: Uint8Array, off = 0) => dv(b).getBigUint64(off, true);
const i64 = (b: Uint8Array, off = 0) => dv(b).getBigInt64(off, true);

function cstr(b: Uint8Array, off: number, size: number): string {
  let end = off;
  while (end < off + size && end < b.length && b[end] !== 0) end++;
  return new TextDecoder("latin1").decode(b.subarray(off, end));
}

function jsonEscape(s: string): string {
  let o = "";
  for (const c of s) {
    if (c === '"') o += '\\"';
    else if (c === "\\") o += "\\\\";
    else if (c === "\n") o += "\\n";
    else if (c === "\r") o += "\\r";
    else if (c === "\t") o += "\\t";
    else if (c.charCodeAt(0) <= 0x1f) o += "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0");
    else o += c;
  }
  return o;
}

/** A value as bpftrace prints it; stacks are indented by `indent` (map keys 4, values and printf 8). */
export function valueText(t: TType, b: Uint8Array, off: number, r?: Resolver, indent = 8): string {
  switch (t.k) {
    case "str": return cstr(b, off, t.size);
    case "int": return t.signed ? String(i64(b, off)) : String(u64(b, off));
    case "ptr": return "0x" + u64(b, off).toString(16);
    case "stack": return stackText(t, u64(b, off), r, indent);
    case "ksym": return ksymText(r, u64(b, off), false);
    case "usym": return usymText(r, u64(b, off), Number(u64(b, off + 8)), false, false);
    case "inet": return inetText(b, off);
    case "username": return r?.username?.(Number(u64(b, off))) ?? String(u64(b, off));
    case "buf": return bufText(b, off, t.size);
    case "tuple": {
      const parts: string[] = [];
      let o = off;
      for (const e of t.elems) { parts.push(valueText(e, b, o, r, indent)); o += r8(typeSizeOf(e)); }
      return `(${parts.join(", ")})`;
    }
    default: return String(i64(b, off));
  }
}

/** a tuple under -f json: an array, strings quoted, no spaces */
function tupleJson(t: Extract<TType, { k: "tuple" }>, b: Uint8Array, off: number, r?: Resolver): string {
  const parts: string[] = [];
  let o = off;
  for (const e of t.elems) {
    if (e.k === "tuple") parts.push(tupleJson(e, b, o, r));
    else if (e.k === "int") parts.push(valueText(e, b, o, r));
    else parts.push(`"${jsonEscape(valueText(e, b, o, r))}"`);
    o += r8(typeSizeOf(e));
  }
  return `[${parts.join(",")}]`;
}

function typeSizeOf(t: TType): number {
  switch (t.k) {
    case "str": case "buf": return t.size;
    case "tuple": return t.elems.reduce((n, e) => n + r8(typeSizeOf(e)), 0);
    case "usym": return 16;
    case "inet": return 24;
    default: return 8;
  }
}

function keyParts(L: MapLayout, key: Uint8Array, r?: Resolver): string[] {
  return L.info.keys.map((t, i) => valueText(t, key, L.keyOffsets[i]!, r, 4));
}

function keyLabel(L: MapLayout, key: Uint8Array, mode: OutputMode, r?: Resolver): string {
  const parts = keyParts(L, key, r);
  if (mode === "json") return parts.length ? `"${jsonEscape(parts.join(","))}"` : "";
  return L.info.name + (parts.length ? `[${parts.join(", ")}]` : "");
}

function compareKeys(L: MapLayout, a: Uint8Array, b: Uint8Array): number {
  // bpftrace's sort_by_key: integers (as u64) and strings (strncmp) compared, first key first
  for (let i = 0; i < L.info.keys.length; i++) {
    const t = L.info.keys[i]!, off = L.keyOffsets[i]!;
    let c = 0;
    if (t.k === "int") { const x = u64(a, off), y = u64(b, off); c = x < y ? -1 : x > y ? 1 : 0; }
    else if (t.k === "str") { const x = cstr(a, off, t.size), y = cstr(b, off, t.size); c = x < y ? -1 : x > y ? 1 : 0; }
    if (c) return c;
  }
  return 0;
}

function bytesCompare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

interface Reduced { key: Uint8Array; n: bigint; text: string }

function reduce(L: MapLayout, e: RawEntry): bigint {
  const v = L.info.value;
  if (v.k !== "agg") return v.k === "int" && v.signed ? i64(e.values[0]!) : u64(e.values[0]!);
  if (v.fn === "min" || v.fn === "max") {
    let best: bigint | undefined;
    for (const b of e.values) {
      if (u64(b, 8) === 0n) continue;
      const x = v.signed ? i64(b) : u64(b);
      if (best === undefined || (v.fn === "min" ? x < best : x > best)) best = x;
    }
    return best ?? 0n;
  }
  let s = 0n;
  for (const b of e.values) s += u64(b);
  return v.signed ? BigInt.asIntN(64, s) : BigInt.asUintN(64, s);
}

/** The text or JSON bpftrace prints for one map (print(@m) and the exit dump). */
export function formatMap(L: MapLayout, entries: readonly RawEntry[], mode: OutputMode, top = 0, div = 0, res?: Resolver): string {
  const v = L.info.value;
  const d = BigInt(div || 1);
  if (v.k === "agg" && (v.fn === "hist" || v.fn === "lhist")) return formatHistMap(L, entries, mode, top, d, res);
  if (v.k === "agg" && (v.fn === "avg" || v.fn === "stats")) return formatStatsMap(L, entries, mode, top, d, res);
  let rows: Reduced[];
  if (isTextual(v) || v.k === "ptr") {
    rows = entries.map((e) => ({ key: e.key, n: 0n, text: valueText(v, e.values[0]!, 0, res, 8) }));
    rows.sort((a, b) => compareKeys(L, a.key, b.key));
  } else {
    rows = entries.map((e) => { const n = reduce(L, e); return { key: e.key, n, text: String(n / d) }; });
    rows.sort((a, b) => (a.n < b.n ? -1 : a.n > b.n ? 1 : 0));
  }
  if (top && rows.length > top) rows = rows.slice(rows.length - top);
  if (mode === "json") {
    if (rows.length === 0) return "";
    const val = (r: Reduced) => (v.k === "tuple" ? tupleJson(v, entries.find((e) => e.key === r.key)!.values[0]!, 0, res)
      : isTextual(v) ? `"${jsonEscape(r.text)}"` : r.text);
    const body = rows.map((r) => { const k = keyLabel(L, r.key, mode, res); return k ? `${k}: ${val(r)}` : val(r); }).join(", ");
    return `{"type": "map", "data": {"${jsonEscape(L.info.name)}": ${L.info.keys.length ? `{${body}}` : body}}}\n`;
  }
  return rows.map((r) => `${keyLabel(L, r.key, mode, res)}: ${r.text}`).join("\n") + "\n";
}

function groupBuckets(L: MapLayout, entries: readonly RawEntry[], nb: number): { key: Uint8Array; buckets: bigint[]; total: bigint }[] {
  const groups = new Map<string, { key: Uint8Array; buckets: bigint[]; total: bigint }>();
  const prefix = L.keySize - 8;
  for (const e of entries) {
    const k = e.key.subarray(0, prefix);
    const id = Array.from(k).join(",");
    let g = groups.get(id);
    if (!g) { g = { key: k, buckets: new Array<bigint>(nb).fill(0n), total: 0n }; groups.set(id, g); }
    const b = Number(u64(e.key, prefix));
    let s = 0n;
    for (const x of e.values) s += u64(x);
    if (b < nb) g.buckets[b] = s;
    g.total += s;
  }
  const out = [...groups.values()].sort((a, b) => bytesCompare(a.key, b.key));
  out.sort((a, b) => (a.total < b.total ? -1 : a.total > b.total ? 1 : 0));
  return out;
}

function lhistLabel(n: number): string {
  if (n === 0) return "0";
  if (n % 1048576 === 0) return `${n / 1048576}M`;
  if (n % 1024 === 0) return `${n / 1024}K`;
  return String(n);
}

function lhistText(buckets: readonly bigint[], min: number, max: number, step: number): string {
  const nb = Math.floor((max - min) / step);
  let maxIdx = -1, top = 0n, start = -1, end = 0;
  buckets.forEach((c, i) => { if (c !== 0n) maxIdx = i; if (c > top) top = c; });
  if (maxIdx < 0) return "";
  for (let i = 0; i <= nb + 1; i++) if ((buckets[i] ?? 0n) > 0n) { if (start < 0) start = i; end = i; }
  if (start < 0) start = 0;
  let s = "";
  for (let i = start; i <= end; i++) {
    const c = buckets[i] ?? 0n;
    const bar = Math.trunc(Math.fround(Math.fround(Math.fround(Number(c)) / Math.fround(Number(BigInt.asIntN(32, top)))) * 52));
    let label: string;
    if (i === 0) label = `(..., ${lhistLabel(min)})`;
    else if (i === nb + 1) label = `[${lhistLabel(max)}, ...)`;
    else label = `[${lhistLabel((i - 1) * step + min)}, ${lhistLabel(i * step + min)})`;
    s += label.padEnd(16) + String(c).padStart(8) + " |" + "@".repeat(Math.max(0, bar)).padEnd(52) + "|\n";
  }
  return s;
}

function histJson(buckets: readonly bigint[], d: bigint): string {
  let min = -1, max = -1;
  buckets.forEach((c, i) => { if (c > 0n) { if (min < 0) min = i; max = i; } });
  if (max < 0) return "[]";
  const parts: string[] = [];
  for (let i = min; i <= max; i++) {
    let r: string;
    if (i === 0) r = `"max": -1, `;
    else if (i === 1) r = `"min": 0, "max": 0, `;
    else if (i === 2) r = `"min": 1, "max": 1, `;
    else r = `"min": ${1n << BigInt(i - 2)}, "max": ${(1n << BigInt(i - 1)) - 1n}, `;
    parts.push(`{${r}"count": ${(buckets[i] ?? 0n) / d}}`);
  }
  return `[${parts.join(", ")}]`;
}

function lhistJson(buckets: readonly bigint[], min: number, max: number, step: number): string {
  const nb = Math.floor((max - min) / step);
  let maxIdx = -1, start = -1, end = 0;
  buckets.forEach((c, i) => { if (c !== 0n) maxIdx = i; });
  if (maxIdx < 0) return "[]";
  for (let i = 0; i <= nb + 1; i++) if ((buckets[i] ?? 0n) > 0n) { if (start < 0) start = i; end = i; }
  if (start < 0) start = 0;
  const parts: string[] = [];
  for (let i = start; i <= end; i++) {
    let r: string;
    if (i === 0) r = `"max": ${min - 1}, `;
    else if (i === nb + 1) r = `"min": ${max}, `;
    else r = `"min": ${(i - 1) * step + min}, "max": ${i * step + min - 1}, `;
    parts.push(`{${r}"count": ${buckets[i] ?? 0n}}`);
  }
  return `[${parts.join(", ")}]`;
}

function formatHistMap(L: MapLayout, entries: readonly RawEntry[], mode: OutputMode, top: number, d: bigint, res?: Resolver): string {
  const v = L.info.value as { fn: string };
  const lh = L.info.lhist;
  const nb = v.fn === "hist" ? 65 : 1002;
  let groups = groupBuckets(L, entries, nb);
  if (top && groups.length > top) groups = groups.slice(groups.length - top);
  if (mode === "json") {
    if (groups.length === 0) return "";
    const body = groups.map((g) => {
      const val = v.fn === "hist" ? histJson(g.buckets, d) : lhistJson(g.buckets, lh!.min, lh!.max, lh!.step);
      const k = keyLabel(L, g.key, mode, res);
      return k ? `${k}: ${val}` : val;
    }).join(", ");
    return `{"type": "hist", "data": {"${jsonEscape(L.info.name)}": ${L.info.keys.length ? `{${body}}` : body}}}\n`;
  }
  return groups.map((g) => {
    const text = v.fn === "hist" ? formatBpftraceHist(d === 1n ? g.buckets : g.buckets.map((x) => x / d)) : lhistText(g.buckets, lh!.min, lh!.max, lh!.step);
    return `${keyLabel(L, g.key, mode, res)}: \n${text}`;
  }).join("\n") + "\n";
}

function formatStatsMap(L: MapLayout, entries: readonly RawEntry[], mode: OutputMode, top: number, d: bigint, res?: Resolver): string {
  const stats = (L.info.value as { fn: string }).fn === "stats";
  let rows = entries.map((e) => {
    let count = 0n, total = 0n;
    for (const b of e.values) { count += i64(b, 0); total += i64(b, 8); }
    count = BigInt.asIntN(64, count);
    total = BigInt.asIntN(64, total);
    return { key: e.key, count, total, avg: count !== 0n ? total / count : 0n };
  });
  rows.sort((a, b) => bytesCompare(a.key, b.key));
  rows.sort((a, b) => (a.avg < b.avg ? -1 : a.avg > b.avg ? 1 : 0));
  if (!stats && top && rows.length > top) rows = rows.slice(rows.length - top);
  if (mode === "json") {
    if (rows.length === 0) return "";
    const body = rows.map((r) => {
      const val = stats ? `{"count": ${r.count}, "average": ${r.avg}, "total": ${r.total}}` : String(r.avg / d);
      const k = keyLabel(L, r.key, mode, res);
      return k ? `${k}: ${val}` : val;
    }).join(", ");
    return `{"type": "stats", "data": {"${jsonEscape(L.info.name)}": ${L.info.keys.length ? `{${body}}` : body}}}\n`;
  }
  return rows.map((r) => `${keyLabel(L, r.key, mode, res)}: ${stats ? `count ${r.count}, average ${r.avg}, total ${r.total}` : String(r.avg / d)}`).join("\n") + "\n\n";
}

/** The values of a record's arguments, decoded from a perf-buffer sample. */
function recordArgs(r: RecordLayout, b: Uint8Array, res?: Resolver): (bigint | string)[] {
  return r.args.map((a) => (isTextual(a.type) ? valueText(a.type, b, a.off, res, 8)
    : a.type.k === "int" && a.type.signed ? i64(b, a.off) : u64(b, a.off)));
}

export type TraceEvent =
  | { kind: "text"; text: string }
  | { kind: "exit" }
  | { kind: "print"; map: number; top: number; div: number }
  | { kind: "clear" | "zero"; map: number }
  | { kind: "time"; format: string }
  | { kind: "system"; command: string };

/** Decodes one perf-buffer sample of a compiled script. */
export function decodeRecord(c: Compiled, b: Uint8Array, mode: OutputMode, res?: Resolver): TraceEvent | undefined {
  if (b.length < 8) return undefined;
  const id = Number(u64(b) & 0xffffffffn);
  if (id === EV.exit) return { kind: "exit" };
  if (id === EV.print) return { kind: "print", map: Number(u64(b, 8)), top: Number(u64(b, 16)), div: Number(u64(b, 24)) };
  if (id === EV.clear || id === EV.zero) return { kind: id === EV.clear ? "clear" : "zero", map: Number(u64(b, 8)) };
  if (id === EV.time) return { kind: "time", format: c.times[Number(u64(b, 8))] ?? "" };
  if (id === EV.printValue) {
    const t = c.printValues[Number(u64(b, 8))];
    if (!t) return undefined;
    const text = valueText(t, b, 16, res, 8);
    if (mode === "json") return { kind: "text", text: `{"type": "value", "data": ${t.k === "str" ? `"${jsonEscape(text)}"` : text}}\n` };
    return { kind: "text", text: text + "\n" };
  }
  if (id >= EV.systemBase && id < EV.systemBase + 0x10000) {
    const r = c.systems[id - EV.systemBase];
    return r ? { kind: "system", command: formatPrintf(r.pieces, recordArgs(r, b, res)) } : undefined;
  }
  if (id >= EV.catBase && id < EV.catBase + 0x10000) {
    const r = c.cats[id - EV.catBase];
    if (!r) return undefined;
    const text = res?.cat?.(formatPrintf(r.pieces, recordArgs(r, b, res))) ?? "";
    return { kind: "text", text: mode === "json" ? `{"type": "cat", "data": "${jsonEscape(text)}"}\n` : text };
  }
  if (id >= EV.joinBase && id < EV.joinBase + 0x10000) {
    const delim = c.joins[id - EV.joinBase] ?? " ";
    const parts: string[] = [];
    for (let i = 0; i < JOIN_ARGS; i++) {
      const off = 8 + i * JOIN_ARGSIZE;
      if (off >= b.length || b[off] === 0) break;
      parts.push(cstr(b, off, JOIN_ARGSIZE));
    }
    const text = parts.join(delim);
    return { kind: "text", text: mode === "json" ? `{"type": "join", "data": "${jsonEscape(text)}"}\n` : text + "\n" };
  }
  const r = c.printfs[id];
  if (!r) return undefined;
  const text = formatPrintf(r.pieces, recordArgs(r, b, res));
  return { kind: "text", text: mode === "json" ? `{"type": "printf", "data": "${jsonEscape(text)}"}\n` : text };
}

export function attachedMessage(n: number, mode: OutputMode): string {
  if (mode === "json") return `{"type": "attached_probes", "data": {"probes": ${n}}}\n`;
  return n === 1 ? `Attaching ${n} probe...\n` : `Attaching ${n} probes...\n`;
}

/** The maps in the order bpftrace's exit dump prints them (by name). */
export function printableMaps(c: Compiled): MapLayout[] {
  return [...c.maps].sort((a, b) => (a.info.name < b.info.name ? -1 : a.info.name > b.info.name ? 1 : 0));
}
