// `bpfkit feature list_builtins GROUP`: the names bpftool 7.1 (libbpf 1.1) knows for program, map, attach and link
// types and helpers, from src/uapi's tables cut where libbpf 1.1's end. `feature probe` is not built yet.
import { parseToolArgs } from "../kernel/tool-args.ts";
import { JsonWriter } from "../kernel/json-writer.ts";
import { isPrefix } from "../kernel/listing.ts";
import { ATTACH_TYPE_NAMES, HELPER_NAMES, LINK_TYPE_NAMES, MAP_TYPE_NAMES, PROG_TYPE_NAMES } from "../uapi/index.ts";
import { OBJECT_USAGE, renderUsage } from "./bpftool-usage.ts";
import { BIN } from "./bpftool.ts";

/** Each group as libbpf 1.1 names it: prog types to syscall, maps to user_ringbuf, attach types to lsm_cgroup, link
 * types to struct_ops, helpers (with bpf_) to user_ringbuf_drain (Linux 6.1's uapi). */
const GROUPS: readonly (readonly [string, () => readonly string[]])[] = [
  ["prog_types", () => PROG_TYPE_NAMES.slice(0, 32)],
  ["map_types", () => MAP_TYPE_NAMES.slice(0, 32)],
  ["attach_types", () => ATTACH_TYPE_NAMES.slice(0, 44)],
  ["link_types", () => LINK_TYPE_NAMES.slice(0, 10)],
  ["helpers", () => HELPER_NAMES.slice(0, 210).map((n) => `bpf_${n}`)],
];

export default async function feature(args: string[]): Promise<number> {
  const a = parseToolArgs(args);
  const [verb, ...rest] = a.words;
  const fail = (msg: string): number => {
    if (a.json) process.stdout.write(new JsonWriter(a.pretty).startObject().name("error").raw(`"${msg}"`).endObject().finish());
    else process.stderr.write(`Error: ${msg}\n`);
    return 255;
  };
  if (verb === "list_builtins") {
    if (rest.length < 1) {
      // bpftool's usage(): the object's help (null under -j), exit 255
      if (a.json) process.stdout.write("null\n");
      else process.stderr.write(renderUsage(OBJECT_USAGE.feature!, BIN, "feature"));
      return 255;
    }
    const group = GROUPS.find(([g]) => isPrefix(rest[0], g));
    if (group === undefined) return fail(`expected 'prog_types', 'map_types', 'attach_types', 'link_types' or 'helpers', got: ${rest[0]}`);
    const names = group[1]();
    if (a.json) {
      const j = new JsonWriter(a.pretty).startArray();
      for (const n of names) j.string(n);
      process.stdout.write(j.endArray().finish());
    } else process.stdout.write(names.map((n) => `${n}\n`).join(""));
    return 0;
  }
  return fail(`'feature ${verb}' is not supported by bpfkit yet`);
}
