import assert from "node:assert/strict";
import { test } from "node:test";
import { BpfError } from "../errors.ts";
import { AddressSpace } from "../vm/memory.ts";
import { createMap } from "./create.ts";
import type { StackTraceMap } from "./stack-trace.ts";
import { BPF_F_FAST_STACK_CMP, BPF_F_REUSE_STACKID, ERRNO, readU32, u32Bytes } from "./types.ts";

const code = (f: () => unknown): string => {
  try { f(); return "ok"; } catch (e) { if (e instanceof BpfError) return e.code; throw e; }
};
const stackMap = (maxEntries: number, frames = 4) =>
  createMap(new AddressSpace(), { type: 7, keySize: 4, valueSize: frames * 8, maxEntries }) as StackTraceMap;

test("stack_trace: the same stack gets the same id; a colliding stack is EEXIST unless BPF_F_REUSE_STACKID", () => {
  const m = stackMap(1);
  const s1 = [0xffffffff81000010n, 0xffffffff81000020n];
  const s2 = [0xffffffff81000030n];
  const id = m.getStackId(s1, 0);
  assert.equal(id, 0);
  assert.equal(m.getStackId(s1, 0), id, "same stack, same id");
  assert.equal(m.getStackId(s2, 0), -ERRNO.EEXIST);
  assert.equal(m.getStackId(s2, BPF_F_REUSE_STACKID), -ERRNO.ENOMEM, "the kernel needs a free bucket before it swaps");
  assert.equal(m.getStackId(s1, BPF_F_FAST_STACK_CMP), id, "fast compare trusts the matching hash");
});

test("stack_trace: skip field, depth limit, user-space lookup/delete/next-key as Linux", () => {
  const m = stackMap(8, 2);
  assert.equal(m.getStackId([1n, 2n], 2), -ERRNO.EFAULT, "skipping everything");
  assert.equal(m.getStackId([1n], 0x10000), -ERRNO.EINVAL, "unknown flag");
  const id = m.getStackId([9n, 8n, 7n, 6n], 1);
  assert.deepEqual(m.stack(id), [8n, 7n], "skip 1, keep value_size/8 frames");
  const v = m.lookup(u32Bytes(id));
  assert.equal(v.length, 16);
  assert.equal(readU32(v, 0), 8);
  assert.equal(code(() => m.update(u32Bytes(id), v)), "EINVAL");
  assert.deepEqual(m.getNextKey(null), u32Bytes(id));
  assert.equal(m.getNextKey(u32Bytes(id)), null);
  assert.equal(code(() => m.delete(u32Bytes(99))), "E2BIG");
  assert.deepEqual(m.lookupAndDelete(u32Bytes(id)), v);
  assert.equal(code(() => m.lookup(u32Bytes(id))), "ENOENT");
  assert.equal(code(() => m.delete(u32Bytes(id))), "ENOENT");
  const short = m.getStackId([5n], 0);
  assert.deepEqual([...m.lookup(u32Bytes(short))].slice(8), new Array(8).fill(0), "shorter stacks are zero-padded");
});

test("stack_trace: BPF_F_REUSE_STACKID replaces the stack in a taken bucket", () => {
  const m = stackMap(2);
  // Find two stacks sharing a bucket of the 2 buckets.
  const first = m.getStackId([100n], 0);
  let n = 101n;
  while (m.getStackId([n], 0) !== -ERRNO.EEXIST) { m.delete(u32Bytes(1 - first)); n++; }
  assert.equal(m.getStackId([n], BPF_F_REUSE_STACKID), first);
  assert.deepEqual(m.stack(first), [n]);
  assert.equal(m.getStackId([100n], 0), -ERRNO.EEXIST, "the old stack lost its bucket");
});

test("stack_trace with BPF_F_STACK_BUILD_ID stores 32-byte frames with status BPF_STACK_BUILD_ID_IP and the ip", () => {
  const m = createMap(new AddressSpace(), { type: 7, keySize: 4, valueSize: 64, maxEntries: 4, flags: 32 }) as StackTraceMap;
  const id = m.getStackId([0x1234n, 0x5678n, 0x9abcn], 0);
  assert.equal(m.getStackId([0x1234n, 0x5678n, 0x9abcn], 0), id);
  assert.deepEqual(m.stack(id), [0x1234n, 0x5678n], "value_size / 32 frames");
  const v = m.lookup(u32Bytes(id));
  assert.equal(readU32(v, 0), 2);
  assert.equal(readU32(v, 24), 0x1234);
  assert.equal(readU32(v, 32), 2);
  assert.equal(readU32(v, 56), 0x5678);
});
