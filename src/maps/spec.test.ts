import assert from "node:assert/strict";
import { test } from "node:test";
import { BpfError } from "../errors.ts";
import { AddressSpace } from "../vm/memory.ts";
import { createMap } from "./create.ts";
import { mapFromAddress, mapFromId } from "./registry.ts";
import type { MapSpec } from "./spec.ts";
import { MAP_TYPES, mapTypeId, mapTypeName } from "./types.ts";

const spec = (type: number, keySize: number, valueSize: number, maxEntries: number, flags = 0, more: Partial<MapSpec> = {}): MapSpec =>
  ({ type, keySize, valueSize, maxEntries, flags, ...more });

// Each row was checked against BPF_MAP_CREATE on Linux 6.18: "ok" or the errno it fails with.
const CASES: readonly [string, MapSpec, string][] = [
  ["hash key_size 0", spec(1, 0, 4, 4), "EINVAL"],
  ["hash value_size 0", spec(1, 4, 0, 4), "EINVAL"],
  ["hash max_entries 0", spec(1, 4, 4, 0), "EINVAL"],
  ["hash key_size 513", spec(1, 513, 4, 4), "ok"],
  ["hash BPF_F_PRESERVE_ELEMS", spec(1, 4, 4, 4, 1 << 11), "EINVAL"],
  ["hash BPF_F_NO_COMMON_LRU", spec(1, 4, 4, 4, 2), "EINVAL"],
  ["hash max_entries 2^31+1", spec(1, 4, 4, 2 ** 31 + 1), "E2BIG"],
  ["hash map_extra", spec(1, 4, 4, 4, 0, { mapExtra: 1n }), "EINVAL"],
  ["lru_hash BPF_F_NO_PREALLOC", spec(9, 4, 4, 4, 1), "ENOTSUPP"],
  ["array key_size 8", spec(2, 8, 4, 4), "EINVAL"],
  ["array BPF_F_MMAPABLE", spec(2, 4, 4, 4, 1024), "ok"],
  ["percpu_array BPF_F_MMAPABLE", spec(6, 4, 4, 4, 1024), "EINVAL"],
  ["array BPF_F_NO_PREALLOC", spec(2, 4, 4, 4, 1), "EINVAL"],
  ["percpu_array value 32769", spec(6, 4, 32769, 4), "E2BIG"],
  ["percpu_array value 32768", spec(6, 4, 32768, 4), "ok"],
  ["queue key_size 4", spec(22, 4, 4, 4), "EINVAL"],
  ["queue", spec(22, 0, 4, 4), "ok"],
  ["queue value above KMALLOC_MAX_SIZE", spec(22, 0, (4 << 20) + 1, 1), "E2BIG"],
  ["lpm_trie without BPF_F_NO_PREALLOC", spec(11, 8, 4, 4), "EINVAL"],
  ["lpm_trie", spec(11, 8, 4, 4, 1), "ok"],
  ["lpm_trie key_size 4", spec(11, 4, 4, 4, 1), "EINVAL"],
  ["lpm_trie key_size 261", spec(11, 261, 4, 4, 1), "EINVAL"],
  ["lpm_trie key_size 260", spec(11, 260, 4, 4, 1), "ok"],
  ["ringbuf 3 pages", spec(27, 0, 0, 4096 * 3), "EINVAL"],
  ["ringbuf 1 page", spec(27, 0, 0, 4096), "ok"],
  ["ringbuf key_size 4", spec(27, 4, 0, 4096), "EINVAL"],
  ["bloom_filter", spec(30, 0, 4, 100), "ok"],
  ["bloom_filter key_size 4", spec(30, 4, 4, 100), "EINVAL"],
  ["bloom_filter map_extra 16", spec(30, 0, 4, 100, 0, { mapExtra: 16n }), "EINVAL"],
  ["stack_trace value 4", spec(7, 4, 4, 4), "EINVAL"],
  ["stack_trace value 12", spec(7, 4, 12, 4), "EINVAL"],
  ["stack_trace", spec(7, 4, 16, 4), "ok"],
  ["stack_trace key_size 8", spec(7, 8, 16, 4), "EINVAL"],
  ["stack_trace 128 frames", spec(7, 4, 8 * 128, 4), "EINVAL"],
  ["stack_trace 127 frames", spec(7, 4, 8 * 127, 4), "ok"],
  ["stack_trace max_entries 0", spec(7, 4, 16, 0), "EINVAL"],
  ["prog_array value 8", spec(3, 4, 8, 4), "EINVAL"],
  ["prog_array", spec(3, 4, 4, 4), "ok"],
  ["perf_event_array", spec(4, 4, 4, 4), "ok"],
  ["perf_event_array value 8", spec(4, 4, 8, 4), "EINVAL"],
  ["array_of_maps without inner map", spec(12, 4, 4, 4), "EINVAL"],
  ["name with '-'", spec(1, 4, 4, 4, 0, { name: "a-b" }), "EINVAL"],
  ["BPF_F_RDONLY | BPF_F_WRONLY", spec(1, 4, 4, 4, 8 | 16), "EINVAL"],
  ["inner prog_array", spec(12, 4, 4, 2, 0, { innerMap: spec(3, 4, 4, 4) }), "ENOTSUPP"],
  ["inner perf_event_array", spec(12, 4, 4, 2, 0, { innerMap: spec(4, 4, 4, 4) }), "ok"],
  ["inner ringbuf", spec(12, 4, 4, 2, 0, { innerMap: spec(27, 0, 0, 4096) }), "ok"],
  ["inner array_of_maps", spec(13, 4, 4, 2, 0, { innerMap: spec(12, 4, 4, 2, 0, { innerMap: spec(2, 4, 4, 1) }) }), "EINVAL"],
];

test("BPF_MAP_CREATE checks answer as Linux 6.18 does", () => {
  const space = new AddressSpace();
  for (const [what, s, want] of CASES) {
    let got = "ok";
    try {
      createMap(space, s).free();
    } catch (e) {
      assert.ok(e instanceof BpfError, what);
      got = e.code;
    }
    assert.equal(got, want, what);
  }
});

test("map type table: ids and bpftool names", () => {
  assert.equal(MAP_TYPES.length, 34);
  assert.equal(mapTypeName(1), "hash");
  assert.equal(mapTypeName(6), "percpu_array");
  assert.equal(mapTypeName(9), "lru_hash");
  assert.equal(mapTypeName(27), "ringbuf");
  assert.equal(mapTypeName(3), "prog_array");
  assert.equal(mapTypeName(99), "99");
  assert.equal(mapTypeId("BPF_MAP_TYPE_LRU_PERCPU_HASH"), 10);
  assert.equal(mapTypeId("bloom_filter"), 30);
  assert.equal(MAP_TYPES[11]!.kernelName, "BPF_MAP_TYPE_LPM_TRIE");
});

test("a map's handle address resolves to it; ids count up; free unregisters", () => {
  const space = new AddressSpace();
  const a = createMap(space, spec(2, 4, 4, 1, 0, { name: "first" }));
  const b = createMap(space, spec(1, 4, 4, 1));
  assert.equal(mapFromAddress(space, a.address), a);
  assert.equal(mapFromId(space, b.id), b);
  assert.equal(b.id, a.id + 1);
  assert.equal(space.dv.getUint32(a.address, true), 2); // handle: type, id, key_size, value_size, max_entries, flags
  assert.equal(space.dv.getUint32(a.address + 4, true), a.id);
  assert.equal(space.check(a.address, 4, true), false, "handle is read-only");
  assert.deepEqual(a.info(), { id: a.id, type: 2, typeName: "array", name: "first", keySize: 4, valueSize: 4, maxEntries: 1, flags: 0, frozen: false });
  a.free();
  assert.equal(mapFromAddress(space, a.address), undefined);
  assert.equal(mapFromAddress(new AddressSpace(), b.address), undefined, "registry is per address space");
});

test("LRU per-CPU lists round max_entries up to a multiple of the CPU count", () => {
  const m = createMap(new AddressSpace(), spec(10, 4, 4, 3, 2), { nCpus: 4 });
  assert.equal(m.maxEntries, 4);
});

test("bad input is a BpfError, never a crash", () => {
  const space = new AddressSpace();
  const isErr = (f: () => unknown, code: string) => assert.throws(f, (e: unknown) => e instanceof BpfError && e.code === code);
  isErr(() => createMap(space, spec(1, 4, 4, 4), { nCpus: 0 }), "EINVAL");
  isErr(() => createMap(space, { type: "hash" as unknown as number, keySize: 4, valueSize: 4, maxEntries: 1 }), "EINVAL");
  isErr(() => createMap(space, spec(1, -4, 4, 4)), "EINVAL");
  isErr(() => createMap(space, spec(1, 4, 4.5, 4)), "EINVAL");
  isErr(() => createMap(space, spec(99, 4, 4, 4)), "EINVAL");
  isErr(() => createMap(space, spec(14, 4, 4, 4)), "UNSUPPORTED");
  const h = createMap(space, spec(1, 4, 4, 4));
  isErr(() => h.lookupBatch(null, -1), "EINVAL");
  isErr(() => h.update(new Uint8Array(4), new Uint8Array(3)), "EINVAL");
  const st = createMap(space, spec(7, 4, 16, 4)) as unknown as { getStackId(ips: number[], f: number): number };
  assert.equal(st.getStackId([1.5, 2], 0), -14);
});
