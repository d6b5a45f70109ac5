// Kernel enum values from a number or a name, for the loader (the tables themselves are src/uapi's: enum
// bpf_prog_type, bpf_map_type, bpf_attach_type, bpf_link_type with the names bpftool prints). Index = enum value.
import { BpfError } from "../errors.ts";
import { ATTACH_TYPE_NAMES, MAP_TYPE_NAMES, PROG_TYPE_NAMES } from "../uapi/index.ts";

export { ATTACH_TYPE_NAMES, BPF_MAP_TYPE, BPF_PROG_TYPE, LINK_TYPE_NAMES, MAP_TYPE_NAMES, PROG_TYPE_NAMES } from "../uapi/index.ts";

function lookup(table: readonly string[], what: string, v: number | string): number {
  if (typeof v === "number") return v;
  const s = v.toLowerCase().replace(/^bpf_(prog|map|link)_type_/, "").replace(/^bpf_/, "");
  const i = table.indexOf(s);
  if (i < 0) throw new BpfError("EINVAL", `unknown ${what} '${v}'`);
  return i;
}

/** A program type from its number, bpftool name ("xdp") or uapi name ("BPF_PROG_TYPE_XDP"). */
export const progTypeId = (v: number | string): number => lookup(PROG_TYPE_NAMES, "program type", v);
/** A map type from its number, bpftool name ("hash") or uapi name ("BPF_MAP_TYPE_HASH"). */
export const mapTypeId = (v: number | string): number => lookup(MAP_TYPE_NAMES, "map type", v);
/** An attach type from its number or name ("trace_fentry", "BPF_TRACE_FENTRY"). */
export const attachTypeId = (v: number | string): number => lookup(ATTACH_TYPE_NAMES, "attach type", v);
