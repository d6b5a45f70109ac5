// Map keys and values of the running kernel's maps shown through their BTF, as bpftool 7.1's `map dump` does: the
// map's BTF fetched from the kernel, then the pure btf_dumper in src/btf/value-dump.ts.
import { readFileSync } from "node:fs";
import type { MapInfo } from "./info.ts";
import type { Backend } from "../runtime/backend.ts";
import type { JsonWriter } from "./json-writer.ts";
import type { Btf } from "../btf/parse.ts";
import { btfFromFileBytes } from "../object/btf-file.ts";
import { dumpBtfValue } from "../btf/value-dump.ts";

export { dumpBtfValue };

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
  j.startObject();
  if (info.btfKeyTypeId) {
    j.name("key");
    dumpBtfValue(j, mb.btf, info.btfKeyTypeId, key, 0, plain);
  }
  const valueId = info.btfVmlinuxValueTypeId || info.btfValueTypeId;
  if (!PER_CPU.has(info.type)) {
    j.name("value");
    dumpBtfValue(j, mb.btf, valueId, value, 0, plain);
  } else {
    const step = (info.valueSize + 7) & ~7;
    j.name("values").startArray();
    for (let c = 0; c < cpus; c++) {
      j.startObject().field("cpu", c).name("value");
      dumpBtfValue(j, mb.btf, valueId, value, c * step, plain);
      j.endObject();
    }
    j.endArray();
  }
  j.endObject();
}

