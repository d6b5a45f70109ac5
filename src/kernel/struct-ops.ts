// bpftool 7.1's `struct_ops show|dump [id ID | name NAME]` over either backend: the struct_ops maps (kernel structs of
// function pointers implemented by BPF programs, e.g. tcp_congestion_ops), their kernel struct's name, and bpftool's
// result rules (a search that names a map must find one; `dump` always writes a JSON array, pretty in text mode).
import { strerror } from "./libc.ts";
import { Printer, isPrefix, type OutputMode, type ToolOutput } from "./listing.ts";
import { errnoOf } from "./map-commands.ts";
import { allIds, type MapInfo } from "../runtime/backend.ts";
import { JsonWriter } from "./json-writer.ts";

const STRUCT_OPS = 26;
const VALUE_PREFIX = "bpf_struct_ops_";

/** What usage() means to the CLI: print the object's help and exit 255. */
export const USAGE = Symbol("usage");

/** The kernel struct a struct_ops map implements (its vmlinux value type's name without bpf_struct_ops_). */
function kernStructName(out: Printer, info: MapInfo): string {
  const btf = out.b.kernelBtf();
  if (btf === undefined) return "<btf_vmlinux_not_found>";
  const name = btf.name(info.btfVmlinuxValueTypeId);
  return name.startsWith(VALUE_PREFIX) ? name.slice(VALUE_PREFIX.length) : name;
}

export function structOpsCommand(mode: OutputMode, verb: "show" | "dump", words: readonly string[]): ToolOutput | typeof USAGE {
  if (words.length && words.length !== 2) return USAGE;
  const [type, term] = words;
  if (type !== undefined && !isPrefix(type, "id") && !isPrefix(type, "name")) return USAGE;
  const out = new Printer(mode);
  const b = out.b;
  // dump writes its JSON array even in text mode (pretty); show only under -j
  const w = verb === "dump" ? (out.json ?? new JsonWriter(true)) : out.json;
  let maps = 0, errs = 0;
  const each = (fd: number, info: MapInfo) => {
    maps++;
    if (verb === "dump") { out.error(`bpfkit does not dump struct_ops values yet (${info.name} id ${info.id})`); errs++; return; }
    const kname = kernStructName(out, info);
    if (w) w.startObject().field("id", info.id).field("name", info.name).field("kernel_struct_ops", kname).endObject();
    else out.print(`${info.id}: ${info.name.padEnd(15)} ${kname.padEnd(32)}\n`);
  };
  if (type !== undefined && isPrefix(type, "id")) {
    const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(term!);
    const id = m ? Number(/^0[xX]/.test(m[1]!) ? BigInt(m[1]!) : m[1]!.length > 1 && m[1]![0] === "0" ? BigInt("0o" + m[1]!.slice(1)) : BigInt(m[1]!)) : NaN;
    if (!m || !id || id > 0xffffffff) { out.error(`invalid id ${term}`); errs++; }
    else {
      let fd: number | undefined;
      try { fd = b.getFdById("map", id); } catch (e) { out.error(`can't get map by id (${id}): ${strerror(errnoOf(e))}`); errs++; }
      if (fd !== undefined) {
        const info = b.mapInfo(fd);
        if (info.type !== STRUCT_OPS) { out.error(`${info.name} id ${info.id} is not a struct_ops map`); errs++; }
        else {
          each(fd, info);
          if (!errs && !w && out.json) out.json.raw("null");
        }
        b.close(fd);
      }
    }
  } else {
    w?.startArray();
    for (const id of allIds(b, "map")) {
      let fd: number;
      try { fd = b.getFdById("map", id); } catch { continue; }
      const info = b.mapInfo(fd);
      if (info.type === STRUCT_OPS && (term === undefined || info.name === term)) each(fd, info);
      b.close(fd);
    }
    w?.endArray();
    if (!w && term !== undefined && !errs && !maps) out.error(`no struct_ops found for ${term}`);
  }
  const failed = errs > 0 || (!maps && term !== undefined);
  const r = out.result(failed ? 255 : 0);
  // text-mode dump: its own pretty writer, flushed at the end (a lone newline when it wrote nothing)
  if (w && !out.json) r.stdout += w.finish() || "\n";
  return r;
}
