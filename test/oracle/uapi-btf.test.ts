// src/uapi's tables against this machine: every enum value against the kernel's BTF (bpftool btf dump ... format c),
// and the program/map type names against the names bpftool itself prints (`bpftool feature probe`, in enum order).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import {
  ATTACH_TYPE_NAMES, HELPER_NAMES, LINK_TYPE_NAMES, MAP_TYPE_NAMES, PROG_TYPE_NAMES,
} from "../../src/uapi/index.ts";

const VMLINUX = "/sys/kernel/btf/vmlinux";

function run(args: string[]): string | undefined {
  const r = spawnSync("bpftool", args, { encoding: "utf8", maxBuffer: 256 << 20 });
  return r.status === 0 ? r.stdout : undefined;
}

let header: string | undefined | null = null;
function vmlinuxHeader(): string | undefined {
  if (header === null) header = existsSync(VMLINUX) ? run(["btf", "dump", "file", VMLINUX, "format", "c"]) : undefined;
  return header;
}

/** The enumerators of `enum name` in the BTF dump, as [NAME, value], without the __MAX_* sentinel. */
function btfEnum(c: string, name: string): [string, number][] {
  const start = c.indexOf(`\nenum ${name} {\n`);
  assert.ok(start >= 0, `enum ${name} in the BTF dump`);
  const body = c.slice(start, c.indexOf("\n};", start));
  return [...body.matchAll(/^\t(\w+) = (\d+),$/gm)].filter((m) => !m[1]!.startsWith("__")).map((m) => [m[1]!, Number(m[2])]);
}

function skipWithoutBtf(t: { skip(msg: string): void }): string | undefined {
  const c = vmlinuxHeader();
  if (c === undefined) {
    const why = `needs bpftool and ${VMLINUX}`;
    console.log(`SKIP uapi tables vs BTF: ${why}`);
    t.skip(why);
  }
  return c;
}

/** Checks that table[value] is the enumerator's name without `prefix`, lower-cased, for every enumerator. */
function checkEnum(c: string, name: string, prefix: string, table: readonly string[], keepCase = false): void {
  const e = btfEnum(c, name);
  const expected: string[] = [];
  for (const [n, v] of e) {
    const bare = n.slice(prefix.length);
    if (expected[v] === undefined) expected[v] = keepCase ? bare : bare.toLowerCase();
  }
  assert.deepEqual([...table], expected, `enum ${name}`);
}

test("program, map, attach and link type tables equal the kernel's BTF enums", (t) => {
  const c = skipWithoutBtf(t);
  if (c === undefined) return;
  checkEnum(c, "bpf_prog_type", "BPF_PROG_TYPE_", PROG_TYPE_NAMES);
  // BPF_MAP_TYPE_CGROUP_STORAGE_DEPRECATED shares 19 with CGROUP_STORAGE; bpftool prints the latter
  const maps = btfEnum(c, "bpf_map_type").filter(([n]) => !n.endsWith("_DEPRECATED"));
  assert.deepEqual([...MAP_TYPE_NAMES], maps.map(([n]) => n.slice("BPF_MAP_TYPE_".length).toLowerCase()));
  assert.deepEqual(maps.map(([, v]) => v), maps.map((_, i) => i));
  checkEnum(c, "bpf_attach_type", "BPF_", ATTACH_TYPE_NAMES);
  checkEnum(c, "bpf_link_type", "BPF_LINK_TYPE_", LINK_TYPE_NAMES);
});

test("helper table equals the kernel's enum bpf_func_id", (t) => {
  const c = skipWithoutBtf(t);
  if (c === undefined) return;
  checkEnum(c, "bpf_func_id", "BPF_FUNC_", HELPER_NAMES, true);
});

test("program and map type names are the ones bpftool prints", (t) => {
  const out = run(["feature", "probe", "kernel", "unprivileged"]);
  if (out === undefined) {
    console.log("SKIP uapi names vs bpftool: bpftool feature probe unavailable");
    t.skip("bpftool feature probe unavailable");
    return;
  }
  // bpftool probes every type it knows, in enum order from 1
  const progs = [...out.matchAll(/^eBPF program_type (\w+) is/gm)].map((m) => m[1]);
  const maps = [...out.matchAll(/^eBPF map_type (\w+) is/gm)].map((m) => m[1]);
  assert.ok(progs.length > 20 && maps.length > 20);
  assert.deepEqual(progs, PROG_TYPE_NAMES.slice(1, 1 + progs.length));
  assert.deepEqual(maps, MAP_TYPE_NAMES.slice(1, 1 + maps.length));
});
