import assert from "node:assert/strict";
import { test } from "node:test";
import { BpfError } from "../errors.ts";
import { AddressSpace } from "../vm/memory.ts";
import { createMap } from "./create.ts";
import { BPF_EXIST, ERRNO, readU32, u32Bytes } from "./types.ts";

const code = (f: () => unknown): string => {
  try { f(); return "ok"; } catch (e) { if (e instanceof BpfError) return e.code; throw e; }
};

test("queue: FIFO, E2BIG when full, BPF_EXIST drops the oldest, errors as Linux", () => {
  const m = createMap(new AddressSpace(), { type: 22, keySize: 0, valueSize: 4, maxEntries: 2 });
  assert.equal(code(() => m.lookupAndDelete(null)), "ENOENT");
  assert.equal(code(() => m.lookup(null)), "ENOENT");
  m.update(null, u32Bytes(1));
  m.update(null, u32Bytes(2));
  assert.equal(code(() => m.update(null, u32Bytes(3))), "E2BIG");
  assert.equal(code(() => m.update(null, u32Bytes(3), 1)), "EINVAL", "BPF_NOEXIST");
  assert.equal(code(() => m.update(null, u32Bytes(3), BPF_EXIST)), "ok");
  assert.equal(readU32(m.lookup(null)), 2, "peek");
  assert.equal(readU32(m.lookupAndDelete(null)), 2);
  assert.equal(readU32(m.lookupAndDelete(null)), 3);
  assert.equal(code(() => m.delete(null)), "EINVAL");
  assert.equal(code(() => m.getNextKey(null)), "EINVAL");
  assert.equal(code(() => m.lookupAndDelete(null, 4)), "EINVAL");
  assert.equal(code(() => m.lookup(null, 4)), "EINVAL");
});

test("stack: LIFO from programs; pop of an empty stack zeroes the buffer and returns -ENOENT", () => {
  const space = new AddressSpace();
  const m = createMap(space, { type: 23, keySize: 0, valueSize: 4, maxEntries: 3 });
  const buf = space.alloc(8, { kind: "stack" });
  for (const v of [1, 2, 3]) { space.dv.setUint32(buf.start, v, true); assert.equal(m.pushElem(buf.start, 0), 0); }
  assert.equal(m.pushElem(buf.start, 0), -ERRNO.E2BIG);
  space.dv.setUint32(buf.start, 4, true);
  assert.equal(m.pushElem(buf.start, BPF_EXIST), 0, "overwrites the oldest (1)");
  const popped: number[] = [];
  while (m.popElem(buf.start) === 0) popped.push(space.dv.getUint32(buf.start, true));
  assert.deepEqual(popped, [4, 3, 2]);
  space.dv.setUint32(buf.start, 0xffff, true);
  assert.equal(m.peekElem(buf.start), -ERRNO.ENOENT);
  assert.equal(space.dv.getUint32(buf.start, true), 0);
  assert.equal(m.lookupElem(buf.start, 0), 0);
  assert.equal(m.updateElem(buf.start, buf.start, 0, 0), -ERRNO.EINVAL);
});
