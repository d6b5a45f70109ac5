// The `metadata:` section of `bpftool prog show`: constants a program carries in its .rodata as bpf_metadata_* variables
// (bpftool gen and libbpf users set them), printed through the map's BTF like bpftool 7.1's show_prog_metadata.
import type { MapInfo } from "./info.ts";
import { dumpBtfValue } from "./btf-value-dump.ts";
import { JsonWriter } from "./json-writer.ts";
import type { Printer } from "./listing.ts";
import { btfFromFileBytes } from "../object/btf-file.ts";
import type { Btf } from "../btf/parse.ts";

const METADATA_PREFIX = "bpf_metadata_";

/**
 * bpftool's show_prog_metadata: the first of the program's maps that looks like a .rodata section (array, 4-byte key,
 * one entry, BTF value, name containing ".rodata"); its DATASEC variables named bpf_metadata_* are printed by value.
 */
export function progMetadata(out: Printer, fd: number, mapIds: readonly number[]): string {
  if (!mapIds.length) return "";
  const b = out.b;
  let value: Uint8Array | undefined, info: MapInfo | undefined;
  for (const id of mapIds) {
    let mfd: number;
    try { mfd = b.getFdById("map", id); } catch { return ""; }
    try {
      const mi = b.mapInfo(mfd);
      if (mi.type !== 2 || mi.keySize !== 4 || mi.maxEntries !== 1 || !mi.btfValueTypeId || !mi.name.includes(".rodata")) continue;
      const v = new Uint8Array(mi.valueSize);
      try { b.mapLookupElem(mfd, new Uint8Array(4), v); } catch { return ""; }
      value = v;
      info = mi;
      break;
    } finally {
      b.close(mfd);
    }
  }
  if (!value || !info) return "";
  let btf: Btf;
  try {
    const bfd = b.getFdById("btf", info.btfId);
    try { btf = btfFromFileBytes(b.btfInfo(bfd, true).data ?? new Uint8Array(0)); } finally { b.close(bfd); }
  } catch {
    return "";
  }
  const sec = btf.type(info.btfValueTypeId);
  if (sec.kind !== 15) return "";
  const j = out.json;
  let s = "";
  let header = false;
  for (const vsi of sec.secinfos) {
    const v = btf.type(vsi.type);
    const name = btf.name(v);
    if (!name.startsWith(METADATA_PREFIX)) continue;
    if (j) {
      if (!header) j.name("metadata").startObject();
      j.name(name.slice(METADATA_PREFIX.length));
      dumpBtfValue(j, btf, v.sizeOrType, value, vsi.offset, false);
    } else {
      if (!header) s += "\tmetadata:";
      s += `\n\t\t${name.slice(METADATA_PREFIX.length)} = `;
      const w = new JsonWriter(false);
      dumpBtfValue(w, btf, v.sizeOrType, value, vsi.offset, true);
      s += w.finish().slice(0, -1);
    }
    header = true;
  }
  if (j && header) j.endObject();
  return header && !j ? s + "\n" : "";
}
