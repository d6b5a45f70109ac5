import assert from "node:assert/strict";
import { test } from "node:test";
import { BpfError } from "../errors.ts";
import { AddressSpace } from "../vm/memory.ts";
import { createMap } from "./create.ts";
import type { ArrayOfMapsMap, ProgArrayMap } from "./fd-array.ts";
import type { BpfMap } from "./map.ts";
import type { MapSpec } from "./spec.ts";
import { BPF_F_INNER_MAP, readU32, u32Bytes } from "./types.ts";

const u32 = u32Bytes;
const code = (f: () => unknown): string => {
  try { f(); return "ok"; } catch (e) { if (e instanceof BpfError) return e.code; throw e; }
};

test("prog_array: tail-call targets, user-space errors as Linux", () => {
  const progs = new Map<number, unknown>([[10, { id: 77, name: "target" }]]);
  const m = createMap(new AddressSpace(), { type: 3, keySize: 4, valueSize: 4, maxEntries: 4 }, { resolveFd: (fd) => progs.get(fd) }) as ProgArrayMap;
  assert.equal(m.getProgram(0), undefined);
  assert.equal(code(() => m.lookup(u32(0))), "ENOENT");
  assert.equal(code(() => m.lookup(u32(9))), "ENOENT");
  assert.equal(code(() => m.update(u32(0), u32(999))), "EBADF");
  assert.equal(code(() => m.update(u32(0), u32(10), 1)), "EINVAL");
  assert.equal(code(() => m.update(u32(9), u32(10))), "E2BIG");
  assert.equal(code(() => m.delete(u32(0))), "ENOENT");
  assert.equal(code(() => m.delete(u32(9))), "E2BIG");
  m.update(u32(1), u32(10));
  assert.equal((m.getProgram(1) as { name: string }).name, "target");
  assert.equal(readU32(m.lookup(u32(1))), 77, "user space sees the program id");
  assert.equal(m.getProgram(4), undefined, "out of range: the tail call falls through");
  const other = { id: 5 };
  m.setProgram(2, other);
  assert.equal(m.getProgram(2), other);
  m.delete(u32(1));
  assert.equal(m.getProgram(1), undefined);
  assert.deepEqual(m.getNextKey(null), u32(0));
});

test("array_of_maps: inner maps must match the template; a program lookup yields the inner map pointer", () => {
  const space = new AddressSpace();
  const tmpl: MapSpec = { type: 2, keySize: 4, valueSize: 4, maxEntries: 4 };
  const outer = createMap(space, { type: 12, keySize: 4, valueSize: 4, maxEntries: 2, innerMap: tmpl }) as ArrayOfMapsMap;
  const a4 = createMap(space, tmpl);
  const a5 = createMap(space, { ...tmpl, maxEntries: 5 });
  const h = createMap(space, { type: 1, keySize: 4, valueSize: 4, maxEntries: 4 });
  const a4f = createMap(space, { ...tmpl, flags: 1024 });
  // Checked against Linux 6.18: max_entries, type and flags must all match for arrays.
  assert.equal(code(() => outer.update(u32(0), u32(a5.id))), "EINVAL");
  assert.equal(code(() => outer.update(u32(0), u32(h.id))), "EINVAL");
  assert.equal(code(() => outer.update(u32(0), u32(a4f.id))), "EINVAL");
  assert.equal(code(() => outer.update(u32(0), u32(9999))), "EBADF");
  assert.equal(code(() => outer.update(u32(1), u32(a4.id), 2)), "EINVAL", "fd arrays take only BPF_ANY");
  outer.update(u32(0), u32(a4.id));
  assert.equal(readU32(outer.lookup(u32(0))), a4.id);
  assert.equal(code(() => outer.lookup(u32(1))), "ENOENT");
  const key = space.alloc(8, { kind: "stack" });
  assert.equal(outer.lookupElem(key.start), a4.address);
  space.dv.setUint32(key.start, 1, true);
  assert.equal(outer.lookupElem(key.start), 0);
  const b = outer.lookupBatch(null, 4);
  // Linux 6.18 skips empty slots (their lookups fail with ENOENT) and ends with ENOENT.
  assert.deepEqual([b.count, b.done], [1, true]);
  assert.deepEqual(b.keys.map((k) => readU32(k)), [0]);
  assert.equal(code(() => outer.deleteBatch([u32(0)])), "ENOTSUPP");
  // With BPF_F_INNER_MAP on the template, arrays of any size fit.
  const outer2 = createMap(space, { type: 12, keySize: 4, valueSize: 4, maxEntries: 2, innerMap: { ...tmpl, flags: BPF_F_INNER_MAP } });
  const a9 = createMap(space, { ...tmpl, maxEntries: 9, flags: BPF_F_INNER_MAP });
  assert.equal(code(() => outer2.update(u32(0), u32(a9.id))), "ok");
});

test("hash_of_maps: hash semantics, inner hash maps may differ in max_entries", () => {
  const space = new AddressSpace();
  const tmpl: MapSpec = { type: 1, keySize: 4, valueSize: 4, maxEntries: 4 };
  const outer = createMap(space, { type: 13, keySize: 4, valueSize: 4, maxEntries: 2, innerMap: tmpl });
  const h9: BpfMap = createMap(space, { ...tmpl, maxEntries: 9 });
  assert.equal(code(() => outer.update(u32(5), u32(h9.id), 2)), "ENOENT");
  assert.equal(code(() => outer.delete(u32(5))), "ENOENT");
  outer.update(u32(5), u32(h9.id));
  assert.equal(readU32(outer.lookup(u32(5))), h9.id);
  const key = space.alloc(8, { kind: "stack" });
  space.dv.setUint32(key.start, 5, true);
  assert.equal(outer.lookupElem(key.start, 0), h9.address);
  assert.equal(code(() => outer.lookupAndDelete(u32(5))), "ENOTSUPP");
  const b = outer.lookupBatch(null, 4);
  assert.deepEqual([b.count, b.done, readU32(b.values[0]!)], [1, true, h9.id], "batches report inner map ids");
  assert.equal(outer.lookupAndDeleteBatch(null, 4).count, 1, "lookup-and-delete batch works where the single op does not");
});
