import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BPF_MAP_TYPE, BPF_MAP_TYPE_BLOOM_FILTER, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_RINGBUF, BPF_PROG_TYPE, ERRNO,
  attachTypeOf, errnoName, mapTypeOf, pickErrno, progTypeOf,
} from "./index.ts";

test("named constants are the table positions (uapi values)", () => {
  assert.equal(BPF_MAP_TYPE_HASH, 1);
  assert.equal(BPF_MAP_TYPE_RINGBUF, 27);
  assert.equal(BPF_MAP_TYPE_BLOOM_FILTER, 30);
  assert.equal(BPF_MAP_TYPE.LRU_HASH, mapTypeOf("lru_hash"));
  assert.equal(BPF_PROG_TYPE.XDP, 6);
  assert.equal(progTypeOf("netfilter"), 32);
  assert.equal(attachTypeOf("trace_fentry"), 24);
});

test("errno names and numbers round-trip; unknown numbers have no name", () => {
  for (const [name, n] of Object.entries(ERRNO)) assert.equal(errnoName(n), name);
  assert.equal(errnoName(3), undefined);
  assert.deepEqual(pickErrno(["ENOENT", "ENOTSUPP"]), { ENOENT: 2, ENOTSUPP: 524 });
});
