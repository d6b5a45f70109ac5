import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { BpfError } from "../errors.ts";
import { AddressSpace } from "../vm/memory.ts";
import type { BloomFilterMap } from "./bloom.ts";
import { createMap } from "./create.ts";
import { ERRNO, u32Bytes } from "./types.ts";

const code = (f: () => unknown): string => {
  try { f(); return "ok"; } catch (e) { if (e instanceof BpfError) return e.code; throw e; }
};

test("bloom_filter: no false negatives for inserted values (4-byte and odd-sized values)", () => {
  fc.assert(fc.property(fc.array(fc.uint8Array({ minLength: 6, maxLength: 6 }), { maxLength: 100 }), fc.integer({ min: 0, max: 15 }), (values, hashes) => {
    const m = createMap(new AddressSpace({ initialPages: 2 }), { type: 30, keySize: 0, valueSize: 6, maxEntries: 100, mapExtra: BigInt(hashes) });
    for (const v of values) m.update(null, v);
    for (const v of values) assert.equal(code(() => m.lookup(null, 0, v)), "ok");
  }), { numRuns: 50 });
  const space = new AddressSpace();
  const m = createMap(space, { type: 30, keySize: 0, valueSize: 4, maxEntries: 1000 }) as BloomFilterMap;
  assert.equal(m.nHashes, 5);
  assert.equal(m.nBits, 8192, "1000 × 5 × 7/5 bits, rounded up to a power of 2");
  const buf = space.alloc(8, { kind: "stack" });
  let falsePositives = 0;
  for (let i = 0; i < 500; i++) { space.dv.setUint32(buf.start, i, true); assert.equal(m.pushElem(buf.start, 0), 0); }
  for (let i = 0; i < 500; i++) { space.dv.setUint32(buf.start, i, true); assert.equal(m.peekElem(buf.start), 0); }
  for (let i = 1000; i < 2000; i++) { space.dv.setUint32(buf.start, i, true); if (m.peekElem(buf.start) === 0) falsePositives++; }
  assert.ok(falsePositives < 100, `false positive rate too high: ${falsePositives}/1000`);
});

test("bloom_filter: error codes as Linux returns them", () => {
  const space = new AddressSpace();
  const m = createMap(space, { type: 30, keySize: 0, valueSize: 4, maxEntries: 10 });
  assert.equal(code(() => m.lookup(null, 0, u32Bytes(5))), "ENOENT");
  m.update(null, u32Bytes(5));
  assert.equal(code(() => m.update(null, u32Bytes(5), 1)), "EINVAL");
  assert.equal(code(() => m.lookup(null, 0, u32Bytes(5))), "ok");
  assert.equal(code(() => m.delete(null)), "EOPNOTSUPP");
  assert.equal(code(() => m.getNextKey(null)), "EOPNOTSUPP");
  assert.equal(code(() => m.lookupAndDelete(null)), "ENOTSUPP");
  const buf = space.alloc(8, { kind: "stack" });
  assert.equal(m.pushElem(buf.start, 2), -ERRNO.EINVAL);
  assert.equal(m.popElem(buf.start), -ERRNO.EOPNOTSUPP);
});
