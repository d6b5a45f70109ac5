// `bpfkit feature probe [kernel|dev NAME] [full] [unprivileged] [macros [prefix P]]`: bpftool 7.1's probe of the
// kernel (or with --vm, or where bpf() cannot be called, of bpfkit's VM), src/kernel/feature-report.ts printing what
// src/kernel/feature-probe.ts finds. `feature list_builtins GROUP`: the names bpftool 7.1 (libbpf 1.1) knows for
// program, map, attach and link types and helpers, from src/uapi's tables cut where libbpf 1.1's end.
import { parseToolArgs } from "../kernel/tool-args.ts";
import { featureProbe, LIBBPF_1_1 } from "../kernel/feature-report.ts";
import { JsonWriter } from "../kernel/json-writer.ts";
import { isPrefix } from "../kernel/listing.ts";
import { ATTACH_TYPE_NAMES, HELPER_NAMES, LINK_TYPE_NAMES, MAP_TYPE_NAMES, PROG_TYPE_NAMES } from "../uapi/index.ts";
import { OBJECT_USAGE, renderUsage } from "./bpftool-usage.ts";
import { BIN } from "./bpftool.ts";

/** Each group as libbpf 1.1 names it: prog types to syscall, maps to user_ringbuf, attach types to lsm_cgroup, link
 * types to struct_ops, helpers (with bpf_) to user_ringbuf_drain (Linux 6.1's uapi). */
const GROUPS: readonly (readonly [string, () => readonly string[]])[] = [
  ["prog_types", () => PROG_TYPE_NAMES.slice(0, LIBBPF_1_1.progTypes)],
  ["map_types", () => MAP_TYPE_NAMES.slice(0, LIBBPF_1_1.mapTypes)],
  ["attach_types", () => ATTACH_TYPE_NAMES.slice(0, LIBBPF_1_1.attachTypes)],
  ["link_types", () => LINK_TYPE_NAMES.slice(0, LIBBPF_1_1.linkTypes)],
  ["helpers", () => HELPER_NAMES.slice(0, LIBBPF_1_1.helpers).map((n) => `bpf_${n}`)],
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
  if (verb === "probe") return probe(a.words.slice(1), a.json, a.pretty, a.vm, fail);
  return fail(`'feature ${verb}' is not supported by bpfkit yet`);
}

/** bpftool's do_probe: its arguments in its order of checks, then the probe on the kernel or the VM. */
async function probe(args: string[], json: boolean, pretty: boolean, vm: boolean, fail: (msg: string) => number): Promise<number> {
  let component: "unspec" | "kernel" | "dev" = "unspec";
  let ifindex = 0, full = false, unprivileged = false;
  let prefix: string | undefined;
  const { deviceIndex, openProber } = await import("../kernel/feature-probe.ts");
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!;
    const needs = (): string | undefined => (i + 1 < args.length ? args[++i] : undefined);
    if (isPrefix(w, "kernel")) {
      if (component !== "unspec") return fail("component to probe already specified");
      component = "kernel";
    } else if (isPrefix(w, "dev")) {
      if (component !== "unspec" || ifindex) return fail("component to probe already specified");
      const name = needs();
      if (name === undefined) return fail(`'${w}' needs at least 1 arguments, 0 found`);
      component = "dev";
      // the VM has no network devices
      const idx = vm ? undefined : deviceIndex(name);
      if (idx === undefined) return fail(`unrecognized netdevice '${name}': No such device`);
      ifindex = idx;
    } else if (isPrefix(w, "full")) full = true;
    else if (isPrefix(w, "macros") && prefix === undefined) prefix = "";
    else if (isPrefix(w, "prefix")) {
      if (prefix === undefined) return fail("'prefix' argument can only be use after 'macros'");
      if (prefix !== "") return fail("'prefix' already defined");
      const p = needs();
      if (p === undefined) return fail(`'${w}' needs at least 1 arguments, 0 found`);
      prefix = p;
    } else if (isPrefix(w, "unprivileged")) unprivileged = true;
    else return fail(`expected no more arguments, 'kernel', 'dev', 'macros' or 'prefix', got: '${w}'?`);
  }
  const p = await openProber(vm, unprivileged);
  if ("error" in p) return fail(p.error);
  if (p.notice !== undefined) process.stderr.write(p.notice);
  const r = featureProbe(p.prober, { component, ifindex, full, macroPrefix: prefix, json, pretty });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  return 0;
}
