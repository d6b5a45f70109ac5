import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { BpfError } from "../errors.ts";
import { AddressSpace } from "../vm/memory.ts";
import { createMap } from "./create.ts";
import type { HashMap } from "./hash.ts";
import type { BpfMap } from "./map.ts";
import { BPF_ANY, BPF_EXIST, BPF_F_NO_COMMON_LRU, BPF_F_ZERO_SEED, BPF_NOEXIST, ERRNO, readU32, u32Bytes } from "./types.ts";

const u32 = u32Bytes;
const code = (f: () => unknown): string => {
  try { f(); return "ok"; } catch (e) { if (e instanceof BpfError) return e.code; throw e; }
};
function keys(m: BpfMap): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let k = m.getNextKey(null); k !== null; k = m.getNextKey(k)) out.push(k);
  return out;
}

test("hash: error codes of update, delete, lookup_and_delete as Linux returns them", () => {
  const m = createMap(new AddressSpace(), { type: 1, keySize: 4, valueSize: 4, maxEntries: 2 });
  const v = u32(7);
  assert.equal(code(() => m.update(u32(0), v, BPF_EXIST)), "ENOENT");
  m.update(u32(0), v);
  m.update(u32(1), v);
  assert.equal(code(() => m.update(u32(2), v)), "E2BIG", "full");
  assert.equal(code(() => m.update(u32(2), v, BPF_EXIST)), "ENOENT");
  assert.equal(code(() => m.update(u32(1), u32(9))), "ok", "updating an existing key of a full map works");
  assert.deepEqual(m.lookup(u32(1)), u32(9));
  assert.equal(code(() => m.update(u32(1), v, BPF_NOEXIST)), "EEXIST");
  assert.equal(code(() => m.update(u32(1), v, 3)), "EINVAL");
  assert.equal(code(() => m.update(u32(1), v, 8)), "EINVAL");
  assert.equal(code(() => m.update(u32(1), v, 4)), "EINVAL", "BPF_F_LOCK without a spin lock");
  assert.equal(code(() => m.delete(u32(7))), "ENOENT");
  assert.deepEqual(keys(m).length, 2);
  assert.deepEqual(m.getNextKey(u32(7))?.length, 4, "a missing key restarts from the first");
  assert.deepEqual(m.lookupAndDelete(u32(0)), v);
  assert.equal(code(() => m.lookupAndDelete(u32(0))), "ENOENT");
  assert.equal(code(() => m.lookupAndDelete(u32(1), 1)), "EINVAL");
  assert.equal(code(() => m.lookup(u32(0))), "ENOENT");
  assert.equal(code(() => m.lookup(new Uint8Array(3))), "EINVAL", "wrong key length");
});

test("hash with BPF_F_ZERO_SEED iterates in the kernel's bucket order (jhash, newest first, update moves to head)", () => {
  const space = new AddressSpace();
  // Orders observed from Linux 6.18 for the same operations.
  const m4 = createMap(space, { type: 1, keySize: 4, valueSize: 4, maxEntries: 8, flags: BPF_F_ZERO_SEED });
  for (const k of [5, 1, 9, 3, 100, 7]) m4.update(u32(k), u32(k));
  m4.update(u32(1), u32(1));
  assert.deepEqual(keys(m4).map((k) => readU32(k)), [7, 1, 100, 9, 5, 3]);
  const m3 = createMap(space, { type: 1, keySize: 3, valueSize: 4, maxEntries: 16, flags: BPF_F_ZERO_SEED });
  for (let k = 0; k < 10; k++) m3.update(new Uint8Array([k, k * 7, 3]), u32(k));
  assert.deepEqual(keys(m3).map((k) => k[0]), [7, 9, 8, 3, 5, 1, 2, 4, 0, 6]);
  const m20 = createMap(space, { type: 1, keySize: 20, valueSize: 4, maxEntries: 16, flags: BPF_F_ZERO_SEED });
  for (let k = 0; k < 10; k++) { const key = new Uint8Array(20).fill(k); key[19] = 1; m20.update(key, u32(k)); }
  assert.deepEqual(keys(m20).map((k) => k[0]), [9, 6, 7, 1, 0, 8, 4, 2, 5, 3]);
  // BPF_MAP_LOOKUP_BATCH walks whole buckets: too small for the first bucket is ENOSPC; the token is a bucket index.
  assert.equal(code(() => m20.lookupBatch(null, 1)), "ENOSPC");
  const b3 = m20.lookupBatch(null, 3);
  assert.deepEqual([b3.count, b3.done, readU32(b3.outBatch!)], [3, false, 4]);
  assert.deepEqual(b3.keys.map((k) => k[0]), [9, 6, 7]);
  const all = m20.lookupBatch(null, 16);
  assert.deepEqual([all.count, all.done, readU32(all.outBatch!)], [10, true, 16]);
  const after = m20.lookupBatch(u32(16), 16);
  assert.deepEqual([after.count, after.done], [0, true]);
  assert.deepEqual(m20.lookupBatch(null, 0).count, 0);
  const rest = m20.lookupBatch(b3.outBatch, 16);
  assert.deepEqual(rest.keys.map((k) => k[0]), [1, 0, 8, 4, 2, 5, 3]);
  const del = m20.lookupAndDeleteBatch(null, 16);
  assert.equal(del.count, 10);
  assert.equal((m20 as HashMap).count, 0);
});

test("hash: program lookup returns the value address; update and delete return negative errno", () => {
  const space = new AddressSpace();
  const m = createMap(space, { type: 1, keySize: 8, valueSize: 16, maxEntries: 4 });
  const buf = space.alloc(64, { kind: "stack" });
  const key = buf.start, val = buf.start + 8;
  space.u8.set([1, 2, 3, 4, 5, 6, 7, 8], key);
  space.u8.fill(0xab, val, val + 16);
  assert.equal(m.lookupElem(key, 0), 0);
  assert.equal(m.updateElem(key, val, BPF_EXIST, 0), -ERRNO.ENOENT);
  assert.equal(m.updateElem(key, val, BPF_ANY, 0), 0);
  const addr = m.lookupElem(key, 0);
  assert.ok(addr !== 0 && space.check(addr, 16, true));
  assert.equal(space.u8[addr + 15], 0xab);
  space.u8[addr] = 0x11; // programs write through the pointer
  assert.equal(m.lookup(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))[0], 0x11);
  assert.equal(m.updateElem(key, val, BPF_NOEXIST, 0), -ERRNO.EEXIST);
  assert.equal(m.deleteElem(key, 0), 0);
  assert.equal(m.deleteElem(key, 0), -ERRNO.ENOENT);
  assert.throws(() => m.lookupElem(0x10, 0), /invalid read/);
  let seen = 0;
  for (let i = 0; i < 4; i++) { space.u8[key] = i; m.updateElem(key, val, BPF_ANY, 0); }
  assert.equal(m.forEachElem(() => (++seen === 2 ? 1 : 0)), 2, "for_each stops when the callback returns 1");
});

test("percpu_hash: per-CPU values, user space sees all CPUs rounded to 8 bytes", () => {
  const space = new AddressSpace();
  const m = createMap(space, { type: 5, keySize: 4, valueSize: 4, maxEntries: 4 }, { nCpus: 3 });
  assert.equal(m.userValueSize, 24);
  const all = new Uint8Array(24);
  all.set(u32(10), 0); all.set(u32(11), 8); all.set(u32(12), 16);
  m.update(u32(1), all);
  assert.deepEqual(m.lookup(u32(1)), all);
  const buf = space.alloc(16, { kind: "stack" });
  space.dv.setUint32(buf.start, 1, true);
  const a2 = m.lookupElem(buf.start, 2);
  assert.equal(space.dv.getUint32(a2, true), 12);
  assert.equal(m.lookupElem(buf.start, 3), 0, "no such CPU");
  // A program update writes only its CPU; a new element starts zeroed on the others.
  space.dv.setUint32(buf.start, 2, true);
  space.dv.setUint32(buf.start + 8, 99, true);
  assert.equal(m.updateElem(buf.start, buf.start + 8, BPF_ANY, 1), 0);
  const v = m.lookup(u32(2));
  assert.deepEqual([readU32(v, 0), readU32(v, 8), readU32(v, 16)], [0, 99, 0]);
  assert.equal(code(() => m.update(u32(2), new Uint8Array(4))), "EINVAL", "user value must cover every CPU");
});

test("lru_hash: a full map evicts unreferenced elements instead of failing; program lookups protect", () => {
  const space = new AddressSpace();
  const m = createMap(space, { type: 9, keySize: 4, valueSize: 4, maxEntries: 3 });
  for (const k of [1, 2, 3]) m.update(u32(k), u32(k));
  // A program lookup of 1 sets its reference bit; a user-space lookup of 2 does not (lookup_elem_sys).
  const buf = space.alloc(8, { kind: "stack" });
  space.dv.setUint32(buf.start, 1, true);
  assert.ok(m.lookupElem(buf.start, 0) !== 0);
  m.lookup(u32(2));
  m.update(u32(4), u32(4));
  assert.equal(code(() => m.lookup(u32(2))), "ENOENT", "2 was the oldest unreferenced element");
  m.update(u32(5), u32(5));
  assert.equal(code(() => m.lookup(u32(3))), "ENOENT");
  assert.deepEqual(keys(m).map((k) => readU32(k)).sort(), [1, 4, 5]);
  assert.equal(code(() => m.update(u32(9), u32(9), 4)), "EINVAL", "no BPF_F_LOCK on LRU");
  // The kernel takes the new element before looking the key up, so even a failing update may evict (here 4).
  assert.equal(code(() => m.update(u32(1), u32(9), BPF_NOEXIST)), "EEXIST");
  assert.deepEqual(keys(m).map((k) => readU32(k)).sort(), [1, 5]);
});

test("lru_hash evicts in batches as Linux 6.18 does (sequences checked against the kernel, one CPU)", () => {
  const run = (ops: string): number[] => {
    const m = createMap(new AddressSpace(), { type: 9, keySize: 4, valueSize: 8, maxEntries: 8 }, { nCpus: 2 });
    for (const k of ops.split(" ")) m.update(u32(Number(k)), new Uint8Array(8));
    return keys(m).map((k) => readU32(k)).sort((a, b) => a - b);
  };
  // 8 entries over 2 CPUs: a CPU refills its local free list 2 (= 8/2/2) nodes at a time, evicting 2 at once.
  assert.deepEqual(run("1 2 3 4 5 6 7 8 9 10 11"), [5, 6, 7, 8, 9, 10, 11]);
  // Updating an existing key sets the new element's reference bit: 1 and 2 survive.
  assert.deepEqual(run("1 2 3 1 4 5 6 7 8 9 10 2 11 12 13"), [1, 2, 9, 10, 11, 12, 13]);
});

test("lru_hash with BPF_F_NO_COMMON_LRU: each CPU evicts from its own list", () => {
  const space = new AddressSpace();
  const m = createMap(space, { type: 9, keySize: 4, valueSize: 4, maxEntries: 4, flags: BPF_F_NO_COMMON_LRU }, { nCpus: 2 });
  const buf = space.alloc(16, { kind: "stack" });
  const put = (k: number, cpu: number) => {
    space.dv.setUint32(buf.start, k, true);
    assert.equal(m.updateElem(buf.start, buf.start + 8, BPF_ANY, cpu), 0);
  };
  // CPU 0 owns 2 elements; out of free ones it evicts up to 4 (PERCPU_FREE_TARGET) of its own, never CPU 1's 3.
  put(1, 0); put(2, 0); put(3, 1); put(4, 0);
  assert.deepEqual(keys(m).map((k) => readU32(k)).sort(), [3, 4]);
});

test("lru_percpu_hash keeps per-CPU values and evicts when full", () => {
  const m = createMap(new AddressSpace(), { type: 10, keySize: 4, valueSize: 8, maxEntries: 2 }, { nCpus: 2 });
  const v = new Uint8Array(16).fill(3);
  m.update(u32(1), v); m.update(u32(2), v); m.update(u32(3), v);
  assert.equal(keys(m).length, 2);
  assert.deepEqual(m.lookup(u32(3)), v);
  assert.equal(code(() => m.update(u32(9), v, BPF_EXIST)), "ENOENT");
});

test("hash maps: BPF_F_RDONLY / BPF_F_WRONLY / freeze guard user-space access", () => {
  const space = new AddressSpace();
  const ro = createMap(space, { type: 1, keySize: 4, valueSize: 4, maxEntries: 2, flags: 8 });
  assert.equal(code(() => ro.update(u32(1), u32(1))), "EPERM");
  const wo = createMap(space, { type: 1, keySize: 4, valueSize: 4, maxEntries: 2, flags: 16 });
  wo.update(u32(1), u32(1));
  assert.equal(code(() => wo.lookup(u32(1))), "EPERM");
  assert.equal(code(() => wo.getNextKey(null)), "EPERM");
  const fz = createMap(space, { type: 1, keySize: 4, valueSize: 4, maxEntries: 2 });
  fz.freeze();
  assert.equal(code(() => fz.delete(u32(1))), "EPERM");
});

test("hash maps with a bpf_spin_lock take BPF_F_LOCK and never copy the lock word", () => {
  const m = createMap(new AddressSpace(), { type: 1, keySize: 4, valueSize: 8, maxEntries: 2, spinLockOffset: 0 });
  const v = new Uint8Array([1, 1, 1, 1, 2, 2, 2, 2]);
  m.update(u32(1), v);
  assert.deepEqual([...m.lookup(u32(1))], [0, 0, 0, 0, 2, 2, 2, 2]);
  m.update(u32(1), new Uint8Array([5, 5, 5, 5, 6, 6, 6, 6]), 4);
  assert.deepEqual([...m.lookup(u32(1), 4)], [0, 0, 0, 0, 6, 6, 6, 6]);
});

test("property: HASH behaves like a Map-based model under random operations", () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant("update" as const), key: fc.integer({ min: 0, max: 11 }), value: fc.integer({ min: 0, max: 0xffff }), flags: fc.constantFrom(0, 1, 2) }),
    fc.record({ kind: fc.constant("delete" as const), key: fc.integer({ min: 0, max: 11 }) }),
    fc.record({ kind: fc.constant("lookup" as const), key: fc.integer({ min: 0, max: 11 }) }),
  );
  fc.assert(fc.property(fc.array(op, { maxLength: 60 }), fc.integer({ min: 1, max: 8 }), (ops, max) => {
    const m = createMap(new AddressSpace({ initialPages: 2 }), { type: 1, keySize: 4, valueSize: 4, maxEntries: max });
    const model = new Map<number, number>();
    for (const o of ops) {
      const k = u32(o.key);
      if (o.kind === "update") {
        const has = model.has(o.key);
        const want = o.flags === BPF_NOEXIST && has ? "EEXIST" : o.flags === BPF_EXIST && !has ? "ENOENT"
          : !has && model.size >= max ? "E2BIG" : "ok";
        assert.equal(code(() => m.update(k, u32(o.value), o.flags)), want);
        if (want === "ok") model.set(o.key, o.value);
      } else if (o.kind === "delete") {
        assert.equal(code(() => m.delete(k)), model.delete(o.key) ? "ok" : "ENOENT");
      } else {
        const v = model.get(o.key);
        if (v === undefined) assert.equal(code(() => m.lookup(k)), "ENOENT");
        else assert.equal(readU32(m.lookup(k)), v);
      }
    }
    assert.deepEqual(keys(m).map((k) => readU32(k)).sort((a, b) => a - b), [...model.keys()].sort((a, b) => a - b));
    m.free();
  }), { numRuns: 150 });
});

test("hash: the table keeps working when the memory grows under it (views re-read after the grow)", () => {
  const space = new AddressSpace({ initialPages: 2 });
  const m = createMap(space, { type: 1, keySize: 4, valueSize: 64, maxEntries: 5000 });
  const buf = space.alloc(128, { kind: "stack" });
  const before = space.generation;
  for (let i = 0; i < 3000; i++) {
    if (i === 1500) space.alloc(4 << 20, { kind: "scratch" });
    space.dv.setUint32(buf.start, i, true);
    space.dv.setUint32(buf.start + 64, i * 3, true);
    assert.equal(m.updateElem(buf.start, buf.start + 64, BPF_ANY, 0), 0);
  }
  assert.ok(space.generation > before, "the memory grew");
  for (const i of [0, 1023, 1024, 2999]) assert.equal(readU32(m.lookup(u32(i))), i * 3);
});
