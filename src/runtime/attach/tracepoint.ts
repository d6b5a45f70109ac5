// tracepoint:CAT:NAME on the VM: the context a tracepoint program reads is the trace event record, laid out by the
// tracepoint's format file (common_type/flags/preempt_count/pid, then the fields at their offsets; __data_loc strings
// appended after the fixed part as the kernel stores them). Formats come from a FormatSource (tracefs on Linux, see
// src/node) or the bundled copy. Fired by your own calls or a replayed event stream.
import { BpfError } from "../../errors.ts";
import type { System } from "../system.ts";
import type { Region } from "../../vm/index.ts";
import { BUNDLED_FORMATS } from "./tracepoint-formats.ts";
import { fireHook } from "./hook.ts";

export interface TracepointField {
  readonly name: string;
  /** The C type as the format prints it ("pid_t", "char[16]" as `char` with `array` 16, "__data_loc char[]"). */
  readonly type: string;
  readonly offset: number;
  readonly size: number;
  readonly signed: boolean;
  /** Element count of a fixed array field (`char prev_comm[16]`). */
  readonly array?: number;
  /** A `__data_loc` field: u32 (length << 16 | offset) of data stored after the record. */
  readonly dataLoc: boolean;
}

export interface TracepointFormat {
  readonly id: number;
  readonly fields: readonly TracepointField[];
  /** Bytes of the fixed part of the record. */
  readonly size: number;
}

/** Reads the text of CAT/NAME's format file, or undefined when it has none. */
export type FormatSource = (category: string, name: string) => string | undefined;

/** The `format` file's ID and field lines. */
export function parseTracepointFormat(text: string): TracepointFormat {
  const id = Number(/^ID:\s*(\d+)/m.exec(text)?.[1] ?? NaN);
  const fields: TracepointField[] = [];
  for (const m of text.matchAll(/field:([^;]+);\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d);/g)) {
    const decl = m[1]!.trim();
    const dataLoc = decl.startsWith("__data_loc");
    const d = /^(.*?)\s*\b(\w+)\s*(?:\[(\d*)\])?$/.exec(decl.replace(/^__data_loc\s+/, ""));
    if (!d) continue;
    const array = d[3] ? Number(d[3]) : undefined;
    fields.push({
      name: d[2]!, type: dataLoc ? decl.replace(/\s+\w+$/, "") : d[1]!.trim(), offset: Number(m[2]), size: Number(m[3]),
      signed: m[4] === "1", ...(array !== undefined ? { array } : {}), dataLoc,
    });
  }
  if (!Number.isInteger(id) || fields.length === 0) throw new BpfError("FORMAT", "not a tracepoint format file (no ID or fields)");
  return { id, fields, size: Math.max(...fields.map((f) => f.offset + f.size)) };
}

const cache = new Map<string, TracepointFormat>();

/** CAT:NAME's format: from `source` when it has the file, else bpfkit's bundled copy. */
export function tracepointFormat(category: string, name: string, source?: FormatSource): TracepointFormat {
  const key = `${category}:${name}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const text = source?.(category, name) ?? BUNDLED_FORMATS[key];
  if (text === undefined) {
    throw new BpfError("ENOENT", `no format for tracepoint ${key} (no tracefs here, and it is not among the bundled ones: ${Object.keys(BUNDLED_FORMATS).join(", ")})`);
  }
  const f = parseTracepointFormat(text);
  cache.set(key, f);
  return f;
}

export type FieldValue = number | bigint | boolean | string | Uint8Array;

/** One event: the tracepoint, its field values by name, and where it happens. */
export interface TraceEvent {
  readonly category: string;
  readonly name: string;
  readonly values?: Readonly<Record<string, FieldValue>>;
  readonly cpu?: number;
  /** common_pid (default: the system's helper env pid) */
  readonly pid?: number;
}

const enc = new TextEncoder();

const fieldMaps = new WeakMap<TracepointFormat, Map<string, TracepointField>>();

function fieldMap(f: TracepointFormat): Map<string, TracepointField> {
  let m = fieldMaps.get(f);
  if (m === undefined) fieldMaps.set(f, (m = new Map(f.fields.map((x) => [x.name, x]))));
  return m;
}

function putNumber(dv: DataView, fld: TracepointField, v: number | bigint | boolean): void {
  if (typeof v !== "bigint") {
    const n = typeof v === "boolean" ? (v ? 1 : 0) : v;
    switch (fld.size) {
      case 1: dv.setUint8(fld.offset, n & 0xff); return;
      case 2: dv.setUint16(fld.offset, n & 0xffff, true); return;
      case 4: dv.setUint32(fld.offset, n >>> 0, true); return;
      case 8:
        if (Number.isSafeInteger(n)) {
          dv.setUint32(fld.offset, n >>> 0, true);
          dv.setUint32(fld.offset + 4, Math.floor(n / 0x100000000) >>> 0, true); // two's complement high word
          return;
        }
        dv.setBigUint64(fld.offset, BigInt.asUintN(64, BigInt(Math.trunc(n))), true);
        return;
    }
  } else if (fld.size <= 8) {
    const u = BigInt.asUintN(64, v);
    if (fld.size === 8) dv.setBigUint64(fld.offset, u, true);
    else putNumber(dv, fld, Number(u & 0xffffffffn));
    return;
  }
  throw new BpfError("EINVAL", `field ${fld.name} (${fld.size} bytes) takes bytes or a string`);
}

/** Writes the event record as the kernel lays it out for this format into `rec` (zeroed by the caller); its length. */
function writeRecord(f: TracepointFormat, values: Readonly<Record<string, FieldValue>>, pid: number, rec: Uint8Array): number {
  const dv = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
  const byName = fieldMap(f);
  putNumber(dv, byName.get("common_type")!, f.id);
  putNumber(dv, byName.get("common_pid")!, pid);
  let end = f.size;
  for (const k in values) {
    const fld = byName.get(k);
    if (fld === undefined) throw new BpfError("EINVAL", `tracepoint has no field '${k}' (fields: ${f.fields.map((x) => x.name).join(", ")})`);
    const v = values[k]!;
    if (fld.dataLoc) {
      const b = bytesOf(v, true);
      if (end + b.length > rec.length) throw new BpfError("E2BIG", `tracepoint record too large (${end + b.length} bytes)`);
      rec.set(b, end);
      dv.setUint32(fld.offset, ((b.length << 16) | end) >>> 0, true);
      end += b.length;
    } else if (typeof v === "string" || v instanceof Uint8Array) rec.set(bytesOf(v, false).subarray(0, fld.size), fld.offset);
    else putNumber(dv, fld, v);
  }
  return end;
}

/** The event record as the kernel lays it out for this format. */
export function encodeRecord(f: TracepointFormat, values: Readonly<Record<string, FieldValue>>, pid: number): Uint8Array {
  const rec = new Uint8Array(f.size + MAX_DATA_LOC);
  return rec.slice(0, writeRecord(f, values, pid, rec));
}

// room for __data_loc payloads after the fixed part (the kernel's per-event limit is a page)
const MAX_DATA_LOC = 4096;

function bytesOf(v: FieldValue, nul: boolean): Uint8Array {
  if (v instanceof Uint8Array) return v;
  const s = enc.encode(String(v));
  if (!nul) return s;
  const b = new Uint8Array(s.length + 1);
  b.set(s);
  return b;
}

const ctxRegions = new WeakMap<System, Map<TracepointFormat, Region>>();

/** One read-only context region per system and tracepoint, reused by every event (no allocation per event). */
function ctxRegion(sys: System, f: TracepointFormat, key: string): Region {
  let m = ctxRegions.get(sys);
  if (m === undefined) ctxRegions.set(sys, (m = new Map()));
  let r = m.get(f);
  if (r === undefined) m.set(f, (r = sys.space.alloc(f.size + MAX_DATA_LOC, { kind: "ctx", name: `tracepoint ${key}`, writable: false })));
  return r;
}

/** Fires CAT:NAME: every program attached there runs on the event's record. Returns how many ran. */
export function fireTracepoint(sys: System, ev: TraceEvent, source?: FormatSource): number {
  const progs = sys.attached(`tracepoint:${ev.category}:${ev.name}`);
  if (progs.length === 0) return 0;
  const f = tracepointFormat(ev.category, ev.name, source);
  const ctx = ctxRegion(sys, f, `${ev.category}:${ev.name}`);
  const rec = sys.space.u8.subarray(ctx.start, ctx.start + ctx.size);
  rec.fill(0);
  writeRecord(f, ev.values ?? {}, ev.pid ?? sys.env.pid, rec);
  const opts = { ctx: ctx.start, ctxRegion: ctx, cpu: ev.cpu ?? 0 };
  for (const p of progs) sys.run(p, opts);
  return progs.length;
}

/** Fires CAT:NAME with a record already laid out (a recorded or replayed raw event); returns how many programs ran. */
export function fireTracepointRecord(sys: System, category: string, name: string, record: Uint8Array, cpu = 0): number {
  return fireHook(sys, `tracepoint:${category}:${name}`, record, cpu);
}

/** Replays an event stream (a recorded trace, a generator): fires each event in order; returns programs run. */
export function replayTracepoints(sys: System, events: Iterable<TraceEvent>, source?: FormatSource): number {
  let n = 0;
  for (const ev of events) n += fireTracepoint(sys, ev, source);
  return n;
}
