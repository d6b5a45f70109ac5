// Map keys and values shown through their BTF, as bpftool 7.1's btf_dumper does for `map dump`: integers in C
// printf form (bitfields and 128-bit as hex), chars as "c" or hex, bools, enums by name, NUL-terminated printable
// char arrays as strings, structs/unions as objects, pointers as %p (plain) or %lu (JSON). Kinds bpftool itself
// rejects print its placeholder text.
import { readFileSync } from "node:fs";
import type { MapInfo } from "./info.ts";
import type { Backend } from "../runtime/backend.ts";
import type { JsonWriter } from "./json-writer.ts";
import type { Btf } from "../btf/parse.ts";
import { btfFromFileBytes } from "../object/btf-file.ts";
import { resolveSize, skipModsAndTypedefs } from "../btf/layout.ts";
import * as K from "../btf/kinds.ts";

export interface MapBtf {
  readonly btf: Btf;
}

let vmlinux: Btf | undefined;

/** The BTF that describes a map's key/value (its own BTF object, or vmlinux for struct_ops values), if any. */
export function loadMapBtf(b: Backend, info: MapInfo): MapBtf | undefined {
  if (info.btfVmlinuxValueTypeId) {
    vmlinux ??= btfFromFileBytes(readFileSync("/sys/kernel/btf/vmlinux"));
    return { btf: vmlinux };
  }
  if (!info.btfValueTypeId) return undefined;
  const fd = b.getFdById("btf", info.btfId);
  try {
    const { data } = b.btfInfo(fd, true);
    return { btf: btfFromFileBytes(data ?? new Uint8Array(0)) };
  } finally {
    b.close(fd);
  }
}

const PER_CPU = new Set([5, 6, 10, 21]);

/** bpftool's do_dump_btf: {"key": ..., "value": ...} or per-CPU "values"; `plain` for the plain-mode BTF writer. */
export function dumpBtfEntry(j: JsonWriter, mb: MapBtf, info: MapInfo, key: Uint8Array, value: Uint8Array, cpus: number, plain: boolean): void {
  const d = { btf: mb.btf, j, plain };
  j.startObject();
  if (info.btfKeyTypeId) {
    j.name("key");
    dumpType(d, info.btfKeyTypeId, 0, key, 0);
  }
  const valueId = info.btfVmlinuxValueTypeId || info.btfValueTypeId;
  if (!PER_CPU.has(info.type)) {
    j.name("value");
    dumpType(d, valueId, 0, value, 0);
  } else {
    const step = (info.valueSize + 7) & ~7;
    j.name("values").startArray();
    for (let c = 0; c < cpus; c++) {
      j.startObject().field("cpu", c).name("value");
      dumpType(d, valueId, 0, value, c * step);
      j.endObject();
    }
    j.endArray();
  }
  j.endObject();
}

interface Dumper {
  readonly btf: Btf;
  readonly j: JsonWriter;
  readonly plain: boolean;
}

function readBits(data: Uint8Array, byteOff: number, bitOffset: number, nrBits: number): bigint {
  const bytes = Math.ceil((bitOffset + nrBits) / 8);
  let v = 0n;
  for (let i = bytes - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[byteOff + i] ?? 0);
  return (v >> BigInt(bitOffset)) & ((1n << BigInt(nrBits)) - 1n);
}

function hexNum(d: Dumper, v: bigint): void {
  d.j.raw(d.plain ? `0x${v.toString(16)}` : `"0x${v.toString(16)}"`);
}

function le(data: Uint8Array, off: number, size: number, signed: boolean): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[off + i] ?? 0);
  return signed ? BigInt.asIntN(size * 8, v) : v;
}

const isPrint = (c: number) => c >= 0x20 && c < 0x7f;

function dumpInt(d: Dumper, id: number, bitOffset: number, data: Uint8Array, off: number): void {
  const t = d.btf.type(id);
  const nrBits = t.intBits;
  if (bitOffset || t.intOffset || nrBits % 8) {
    const total = bitOffset + t.intOffset;
    hexNum(d, readBits(data, off + (total >> 3), total & 7, nrBits));
    return;
  }
  if (nrBits === 128) {
    hexNum(d, le(data, off, 16, false));
    return;
  }
  const enc = t.intEncoding;
  if (enc === 0 || enc === K.BTF_INT_SIGNED) {
    if (![8, 16, 32, 64].includes(nrBits)) {
      hexNum(d, readBits(data, off, 0, nrBits));
      return;
    }
    d.j.raw(String(le(data, off, nrBits / 8, enc === K.BTF_INT_SIGNED)));
  } else if (enc === K.BTF_INT_CHAR) {
    const c = data[off] ?? 0;
    if (isPrint(c)) d.j.raw(`"${String.fromCharCode(c)}"`);
    else d.j.raw(d.plain ? `0x${c.toString(16)}` : `"\\u00${c.toString(16).padStart(2, "0")}"`);
  } else if (enc === K.BTF_INT_BOOL) {
    d.j.bool((data[off] ?? 0) !== 0);
  }
}

function isStrArray(d: Dumper, elemId: number, nelems: number, data: Uint8Array, off: number): boolean {
  if (!nelems) return false;
  let e = d.btf.type(elemId);
  // modifiers are skipped, typedefs are not (a typedef to char is not a string for bpftool)
  while (K.isModifier(e.kind)) e = d.btf.type(e.sizeOrType);
  if (e.kind !== K.BTF_KIND_INT || e.sizeOrType !== 1) return false;
  if (e.intEncoding !== K.BTF_INT_CHAR && d.btf.name(e) !== "char") return false;
  for (let i = 0; i < nelems; i++) {
    const c = data[off + i] ?? 0;
    if (c === 0) return true;
    if (c <= 0x1f || c >= 0x7f) return false;
  }
  return false;
}

function dumpType(d: Dumper, id: number, bitOffset: number, data: Uint8Array, off: number): void {
  const t = d.btf.type(id);
  switch (t.kind) {
    case K.BTF_KIND_INT: return dumpInt(d, id, bitOffset, data, off);
    case K.BTF_KIND_STRUCT: case K.BTF_KIND_UNION: {
      d.j.startObject();
      for (const m of t.members) {
        d.j.name(d.btf.str(m.nameOff) ?? "");
        const at = off + (m.bitOffset >> 3);
        if (m.bitfieldSize) hexNum(d, readBits(data, at, m.bitOffset & 7, m.bitfieldSize));
        else dumpType(d, m.type, m.bitOffset & 7, data, at);
      }
      d.j.endObject();
      return;
    }
    case K.BTF_KIND_ARRAY: {
      if (isStrArray(d, t.arrayType, t.arrayNelems, data, off)) {
        let end = off;
        while (data[end] !== 0) end++;
        d.j.string(String.fromCharCode(...data.subarray(off, end)));
        return;
      }
      const size = resolveSize(d.btf, t.arrayType);
      d.j.startArray();
      for (let i = 0; i < t.arrayNelems; i++) dumpType(d, t.arrayType, 0, data, off + i * size);
      d.j.endArray();
      return;
    }
    case K.BTF_KIND_ENUM: case K.BTF_KIND_ENUM64: {
      const size = t.sizeOrType;
      const v = [1, 2, 4, 8].includes(size) ? le(data, off, size, true) : 0n;
      for (const e of t.enumValues) {
        const ev = t.kind === K.BTF_KIND_ENUM ? BigInt.asIntN(32, BigInt(e.lo)) : BigInt.asIntN(64, (BigInt(e.hi) << 32n) | BigInt(e.lo));
        if (ev === v) { d.j.string(d.btf.str(e.nameOff) ?? ""); return; }
      }
      d.j.raw(String(v));
      return;
    }
    case K.BTF_KIND_PTR: {
      const v = le(data, off, 8, false);
      d.j.raw(d.plain ? (v === 0n ? "(nil)" : `0x${v.toString(16)}`) : String(v));
      return;
    }
    case K.BTF_KIND_VAR:
      d.j.startObject().name(d.btf.name(t));
      dumpType(d, t.sizeOrType, bitOffset, data, off);
      d.j.endObject();
      return;
    case K.BTF_KIND_DATASEC:
      d.j.startObject().name(d.btf.name(t)).startArray();
      for (const v of t.secinfos) dumpType(d, v.type, 0, data, off + v.offset);
      d.j.endArray().endObject();
      return;
    case K.BTF_KIND_UNKN: d.j.raw("(unknown)"); return;
    case K.BTF_KIND_FWD: d.j.raw("(fwd-kind-invalid)"); return;
    case K.BTF_KIND_TYPEDEF: case K.BTF_KIND_VOLATILE: case K.BTF_KIND_CONST: case K.BTF_KIND_RESTRICT:
      return dumpType(d, skipModsAndTypedefs(d.btf, id), bitOffset, data, off);
    default: d.j.raw("(unsupported-kind"); return;
  }
}

/** One value of BTF type `typeId` at `data[off]`, as btf_dumper_type prints it (plain = bpftool's plain-text mode). */
export function dumpBtfValue(j: JsonWriter, btf: Btf, typeId: number, data: Uint8Array, off: number, plain: boolean): void {
  dumpType({ btf, j, plain }, typeId, 0, data, off);
}
