import assert from "node:assert/strict";
import { test } from "node:test";
import { AddressSpace } from "../vm/memory.ts";
import { createMap } from "./create.ts";
import type { RingBufMap } from "./ringbuf.ts";
import { BpfError } from "../errors.ts";
import {
  BPF_RB_AVAIL_DATA, BPF_RB_CONS_POS, BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP, BPF_RB_PROD_POS, BPF_RB_RING_SIZE,
  BPF_RINGBUF_BUSY_BIT, ERRNO,
} from "./types.ts";

const ring = (space: AddressSpace, size = 4096) => createMap(space, { type: 27, keySize: 0, valueSize: 0, maxEntries: size }) as RingBufMap;

test("ringbuf: records carry an 8-byte header, are 8-byte aligned, and reach the consumer in order", () => {
  const space = new AddressSpace();
  const rb = ring(space);
  const a = rb.reserve(5);
  assert.equal(a, rb.data.start + 8);
  assert.equal(space.dv.getUint32(a - 8, true), (5 | BPF_RINGBUF_BUSY_BIT) >>> 0, "busy while reserved");
  assert.equal(space.dv.getUint32(a - 4, true), 3, "pg_off: data starts 3 pages into struct bpf_ringbuf");
  space.u8.set([1, 2, 3, 4, 5], a);
  const b = rb.reserve(3);
  assert.equal(b, a + 16, "5 bytes + header round up to 16");
  assert.equal(rb.consume(() => 0), 0, "the first record is still busy");
  rb.submit(a, 0);
  space.u8.set([7, 8, 9], b);
  rb.discard(b, 0);
  const buf = space.alloc(16, { kind: "stack" });
  space.u8.set([0xaa, 0xbb], buf.start);
  assert.equal(rb.output(buf.start, 2, 0), 0);
  const got: number[][] = [];
  assert.equal(rb.consume((s) => { got.push([...s]); }), 2);
  assert.deepEqual(got, [[1, 2, 3, 4, 5], [0xaa, 0xbb]], "discarded records are skipped");
  assert.equal(rb.query(BPF_RB_CONS_POS), 48);
  assert.equal(rb.query(BPF_RB_PROD_POS), 48);
  assert.equal(rb.query(BPF_RB_RING_SIZE), 4096);
  assert.equal(rb.query(BPF_RB_AVAIL_DATA), 0);
  assert.equal(rb.reserve(8, 1), 0, "reserve takes no flags");
  assert.equal(rb.output(buf.start, 2, 4), -ERRNO.EINVAL);
});

test("ringbuf: reserve fails when full, counts drops, and wraps around with a contiguous record", () => {
  const space = new AddressSpace();
  const rb = ring(space);
  assert.equal(rb.reserve(4096), 0, "a record must fit with its header");
  const big = rb.reserve(4000);
  assert.ok(big !== 0);
  assert.equal(rb.reserve(100), 0, "the producer may not get size-1 bytes ahead of the consumer");
  assert.equal(rb.dropped, 2);
  rb.submit(big, 0);
  assert.equal(rb.consume(() => 0), 1);
  // producer at 4008: a 200-byte record runs past the end of the data area and wraps.
  const w = rb.reserve(200);
  assert.equal(w - 8 - rb.data.start, 4008);
  for (let i = 0; i < 200; i++) space.u8[w + i] = i;
  rb.submit(w, 0);
  // The part past the end is mirrored to the start of the ring, as the kernel's double mapping shows it:
  // the sample starts at ring offset 4016, so its byte 80 is at offset 0.
  assert.deepEqual([...space.u8.subarray(rb.data.start, rb.data.start + 3)], [80, 81, 82]);
  let sample: Uint8Array | undefined;
  rb.consume((s) => { sample = s; });
  assert.deepEqual([...sample!], Array.from({ length: 200 }, (_, i) => i));
  assert.equal(rb.query(BPF_RB_CONS_POS), 4008 + 208);
});

test("ringbuf: an uncommitted old record blocks reservations that would span the whole ring", () => {
  const rb = ring(new AddressSpace());
  const first = rb.reserve(8); // stays busy
  const r2 = rb.reserve(3000);
  rb.submit(r2, 0);
  assert.equal(rb.consume(() => 0), 0, "consumer stops at the busy record");
  assert.equal(rb.reserve(1500), 0);
  rb.discard(first, 0);
  assert.equal(rb.consume(() => 0), 1);
  assert.ok(rb.reserve(1000) !== 0);
});

test("ringbuf: a callback's negative return stops consumption after that record; wakeups follow the flags", () => {
  const space = new AddressSpace();
  const rb = ring(space);
  const buf = space.alloc(8, { kind: "stack" });
  rb.output(buf.start, 4, 0);
  assert.equal(rb.wakeups, 1, "consumer was caught up: wake it");
  rb.output(buf.start, 4, 0);
  assert.equal(rb.wakeups, 1, "consumer behind: no new wakeup");
  rb.output(buf.start, 4, BPF_RB_FORCE_WAKEUP);
  assert.equal(rb.wakeups, 2);
  assert.equal(rb.consume(() => -7), -7);
  assert.equal(rb.query(BPF_RB_AVAIL_DATA), 32);
  rb.output(buf.start, 4, BPF_RB_NO_WAKEUP);
  assert.equal(rb.consume(() => 0), 3);
});

test("ringbuf: user-space element commands are ENOTSUPP", () => {
  const rb = ring(new AddressSpace());
  for (const f of [() => rb.lookup(null), () => rb.update(null, new Uint8Array(0)), () => rb.delete(null), () => rb.getNextKey(null)]) {
    assert.throws(f, (e: unknown) => e instanceof BpfError && e.code === "ENOTSUPP");
  }
});
