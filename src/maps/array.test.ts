import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { BpfError } from "../errors.ts";
import { AddressSpace } from "../vm/memory.ts";
import type { ArrayMap } from "./array.ts";
import { createMap } from "./create.ts";
import { BPF_ANY, BPF_EXIST, BPF_NOEXIST, ERRNO, readU32, u32Bytes } from "./types.ts";

const u32 = u32Bytes;
const code = (f: () => unknown): string => {
  try { f(); return "ok"; } catch (e) { if (e instanceof BpfError) return e.code; throw e; }
};

test("array: error codes and get_next_key as Linux returns them", () => {
  const m = createMap(new AddressSpace(), { type: 2, keySize: 4, valueSize: 4, maxEntries: 4 });
  const v = u32(5);
  assert.equal(code(() => m.delete(u32(0))), "EINVAL");
  assert.equal(code(() => m.update(u32(0), v, BPF_NOEXIST)), "EEXIST");
  assert.equal(code(() => m.update(u32(0), v, BPF_EXIST)), "ok");
  assert.equal(code(() => m.update(u32(4), v)), "E2BIG");
  assert.equal(code(() => m.update(u32(0), v, 8)), "EINVAL");
  assert.equal(code(() => m.update(u32(0), v, 4)), "EINVAL");
  assert.equal(code(() => m.lookup(u32(9))), "ENOENT");
  assert.equal(code(() => m.lookup(u32(0), 1)), "EINVAL");
  assert.equal(code(() => m.lookupAndDelete(u32(0))), "ENOTSUPP");
  assert.equal(m.getNextKey(u32(3)), null, "after the last index: ENOENT");
  assert.deepEqual(m.getNextKey(u32(7)), u32(0), "past the end restarts at 0");
  assert.deepEqual(m.getNextKey(null), u32(0));
  assert.deepEqual(m.getNextKey(u32(1)), u32(2));
  assert.deepEqual(m.lookup(u32(0)), v);
  assert.deepEqual(m.lookup(u32(1)), u32(0), "elements start zeroed");
});

test("array: batches are the generic ones (last key as token, ENOENT at the end, no delete batch)", () => {
  const m = createMap(new AddressSpace(), { type: 2, keySize: 4, valueSize: 4, maxEntries: 4 });
  for (let i = 0; i < 4; i++) m.update(u32(i), u32(i * 10));
  const b = m.lookupBatch(null, 3);
  assert.deepEqual([b.count, b.done, readU32(b.outBatch!)], [3, false, 2]);
  assert.deepEqual(b.values.map((v) => readU32(v)), [0, 10, 20]);
  const all = m.lookupBatch(null, 4);
  assert.deepEqual([all.count, all.done], [4, false], "exactly max_entries: no ENOENT yet (as Linux)");
  const rest = m.lookupBatch(b.outBatch, 4);
  assert.deepEqual([rest.count, rest.done], [1, true]);
  assert.deepEqual([m.lookupBatch(null, 0).count, m.lookupBatch(null, 0).done], [0, false]);
  assert.equal(code(() => m.deleteBatch([u32(0)])), "ENOTSUPP");
  assert.equal(code(() => m.lookupAndDeleteBatch(null, 4)), "ENOTSUPP");
  assert.equal(m.updateBatch([u32(1), u32(2)], [u32(7), u32(8)]), 2);
  assert.equal(readU32(m.lookup(u32(2))), 8);
  const err = (() => { try { m.updateBatch([u32(1), u32(9)], [u32(7), u32(8)]); } catch (e) { return e as BpfError & { count?: number }; } })();
  assert.equal(err?.code, "E2BIG");
  assert.equal(err?.count, 1, "count says how many went in before the failure");
});

test("array: program side indexes straight into one contiguous value region", () => {
  const space = new AddressSpace();
  const m = createMap(space, { type: 2, keySize: 4, valueSize: 12, maxEntries: 3 }) as ArrayMap;
  const buf = space.alloc(32, { kind: "stack" });
  space.dv.setUint32(buf.start, 2, true);
  const a = m.lookupElem(buf.start, 0);
  assert.equal(a, m.values.start + 2 * 16, "values are 8-byte aligned strides");
  space.dv.setUint32(buf.start, 3, true);
  assert.equal(m.lookupElem(buf.start, 0), 0);
  assert.equal(m.updateElem(buf.start, buf.start + 8, BPF_ANY, 0), -ERRNO.E2BIG);
  assert.equal(m.deleteElem(), -ERRNO.EINVAL);
  const seen: number[] = [];
  assert.equal(m.forEachElem((k) => { seen.push(space.dv.getUint32(k, true)); return 0; }), 3);
  assert.deepEqual(seen, [0, 1, 2]);
});

test("percpu_array: a program writes its CPU's copy; user space reads every CPU", () => {
  const space = new AddressSpace();
  const m = createMap(space, { type: 6, keySize: 4, valueSize: 4, maxEntries: 2 }, { nCpus: 4 });
  const buf = space.alloc(16, { kind: "stack" });
  space.dv.setUint32(buf.start, 1, true);
  space.dv.setUint32(buf.start + 8, 42, true);
  assert.equal(m.updateElem(buf.start, buf.start + 8, BPF_ANY, 3), 0);
  const v = m.lookup(u32(1));
  assert.equal(v.length, 32);
  assert.deepEqual([0, 1, 2, 3].map((c) => readU32(v, c * 8)), [0, 0, 0, 42]);
  const a = m.lookupElem(buf.start, 3);
  space.dv.setUint32(a, 43, true);
  assert.equal(readU32(m.lookup(u32(1)), 24), 43);
  assert.equal(code(() => m.update(u32(0), new Uint8Array(32), 4)), "EINVAL");
});

test("property: ARRAY behaves like a Map-based model under random operations", () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant("update" as const), key: fc.integer({ min: 0, max: 9 }), value: fc.integer({ min: 0, max: 0xffff }), flags: fc.constantFrom(0, 1, 2, 3) }),
    fc.record({ kind: fc.constant("lookup" as const), key: fc.integer({ min: 0, max: 9 }) }),
    fc.record({ kind: fc.constant("next" as const), key: fc.integer({ min: 0, max: 9 }) }),
  );
  fc.assert(fc.property(fc.array(op, { maxLength: 50 }), fc.integer({ min: 1, max: 8 }), (ops, max) => {
    const m = createMap(new AddressSpace({ initialPages: 2 }), { type: 2, keySize: 4, valueSize: 4, maxEntries: max });
    const model = new Map<number, number>();
    for (const o of ops) {
      if (o.kind === "update") {
        const want = o.flags > 2 ? "EINVAL" : o.key >= max ? "E2BIG" : o.flags === BPF_NOEXIST ? "EEXIST" : "ok";
        assert.equal(code(() => m.update(u32(o.key), u32(o.value), o.flags)), want);
        if (want === "ok") model.set(o.key, o.value);
      } else if (o.kind === "lookup") {
        if (o.key >= max) assert.equal(code(() => m.lookup(u32(o.key))), "ENOENT");
        else assert.equal(readU32(m.lookup(u32(o.key))), model.get(o.key) ?? 0);
      } else {
        const n = m.getNextKey(u32(o.key));
        const want = o.key >= max ? 0 : o.key === max - 1 ? null : o.key + 1;
        assert.equal(n === null ? null : readU32(n), want);
      }
    }
    m.free();
  }), { numRuns: 150 });
});

test("array with BPF_F_RDONLY_PROG (.rodata): values are read-only to programs, writable from user space", () => {
  const space = new AddressSpace();
  const m = createMap(space, { type: 2, keySize: 4, valueSize: 8, maxEntries: 1, flags: 128 | 1024 }) as ArrayMap;
  m.update(u32(0), new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
  assert.equal(space.check(m.valueAddress(0), 8, false), true);
  assert.equal(space.check(m.valueAddress(0), 8, true), false);
  assert.equal(space.u8[m.valueAddress(0) + 7], 8);
});
