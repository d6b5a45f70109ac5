// RINGBUF (kernel/bpf/ringbuf.c) with a libbpf-style consumer. Records are an 8-byte header {u32 len | BUSY | DISCARD,
// u32 pg_off} and the sample, padded to 8, at producer_pos & mask. The kernel maps the data pages twice so a record
// running past the end stays contiguous; bpfkit maps 2 × size bytes and, on commit, copies the part past the end to
// the start, so both views hold the same bytes. Reserve fails (NULL / -EAGAIN) when the record would put the producer
// more than size-1 bytes ahead of the consumer or of the oldest uncommitted record, as the kernel checks.

import type { AddressSpace, Region } from "../vm/memory.ts";
import { BpfMap } from "./map.ts";
import type { MapOptions } from "./map.ts";
import type { MapSpec } from "./spec.ts";
import {
  BPF_RB_AVAIL_DATA, BPF_RB_CONS_POS, BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP, BPF_RB_PROD_POS, BPF_RB_RING_SIZE,
  BPF_RINGBUF_BUSY_BIT, BPF_RINGBUF_DISCARD_BIT, BPF_RINGBUF_HDR_SZ, ERRNO,
} from "./types.ts";

/** RINGBUF_MAX_RECORD_SZ: the largest sample a record may hold. */
const MAX_RECORD_SZ = 0xffffffff >>> 2;
/** Data starts 3 pages into struct bpf_ringbuf (header, consumer, producer pages): the pg_off base (checked on Linux 6.18). */
const DATA_PGOFF = 3;

export class RingBufMap extends BpfMap {
  readonly size: number;
  readonly data: Region;
  private readonly mask: number;
  consumerPos = 0;
  producerPos = 0;
  private pendingPos = 0;
  /**
   * Sample length of each reserved, uncommitted record by header offset. The program can write the header bytes
   * (its record shares the ring's region), so commit uses the length it reserved, never the one in memory: a
   * rewritten header cannot make commit copy past the ring (kernel: the verifier keeps the header out of reach).
   */
  private readonly reserved = new Map<number, number>();
  /** Reservations and outputs that failed for lack of space (the kernel counts none; bpftrace-style "lost"). */
  dropped = 0;
  /** Consumer notifications the kernel would have sent (irq_work wakeups). */
  wakeups = 0;

  constructor(space: AddressSpace, spec: MapSpec, maxEntries: number, opts: MapOptions) {
    super(space, spec, maxEntries, opts);
    this.size = maxEntries;
    this.mask = maxEntries - 1;
    this.data = this.allocRegion(2 * maxEntries, "data", true, "ringbuf");
  }

  /** bpf_ringbuf_reserve: the sample's address, or 0 (flags must be 0; no room). */
  reserve(size: number, flags = 0): number {
    if (flags !== 0) return 0;
    const a = this.reserveRaw(size);
    if (a === 0) this.dropped++;
    return a;
  }

  /** bpf_ringbuf_submit. Returns -EINVAL (the kernel would oops) for an address that is not a reserved record. */
  submit(addr: number, flags = 0): number {
    return this.commit(addr, flags, false);
  }

  /** bpf_ringbuf_discard: the consumer skips the record. */
  discard(addr: number, flags = 0): number {
    return this.commit(addr, flags, true);
  }

  /** bpf_ringbuf_output: copy `size` bytes at dataAddr into a new record; -EAGAIN when full. */
  output(dataAddr: number, size: number, flags: number): number {
    if (flags & ~(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP)) return -ERRNO.EINVAL;
    this.space.assert(dataAddr, size, false);
    const rec = this.reserveRaw(size);
    if (rec === 0) { this.dropped++; return -ERRNO.EAGAIN; }
    this.space.copyChecked(rec, dataAddr, size);
    this.commit(rec, flags, false);
    return 0;
  }

  /** bpf_ringbuf_query. */
  query(flags: number): number {
    switch (flags) {
      case BPF_RB_AVAIL_DATA: return this.producerPos - this.consumerPos;
      case BPF_RB_RING_SIZE: return this.size;
      case BPF_RB_CONS_POS: return this.consumerPos;
      case BPF_RB_PROD_POS: return this.producerPos;
      default: return 0;
    }
  }

  /**
   * The user-space consumer (libbpf ring_buffer__consume): hands each committed, non-discarded sample to `cb` in
   * order, stops at a record still being written (busy), advances consumer_pos. Returns the samples consumed, or the
   * callback's negative return, which stops consumption after that record.
   */
  consume(cb: (sample: Uint8Array) => number | void): number {
    const u8 = this.space.u8, base = this.data.start;
    let cons = this.consumerPos, n = 0;
    while (cons < this.producerPos) {
      const hdr = base + (cons & this.mask);
      const len = (u8[hdr]! | (u8[hdr + 1]! << 8) | (u8[hdr + 2]! << 16) | (u8[hdr + 3]! << 24)) >>> 0;
      if (len & BPF_RINGBUF_BUSY_BIT) break;
      const sampleLen = len & ~BPF_RINGBUF_DISCARD_BIT & ~BPF_RINGBUF_BUSY_BIT;
      // a program may have rewritten a committed header: never read past the record's room in the ring
      if (sampleLen + BPF_RINGBUF_HDR_SZ > this.producerPos - cons) break;
      cons += roundUp8(sampleLen + BPF_RINGBUF_HDR_SZ);
      if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
        n++;
        const r = cb(u8.slice(hdr + BPF_RINGBUF_HDR_SZ, hdr + BPF_RINGBUF_HDR_SZ + sampleLen));
        if (typeof r === "number" && r < 0) { this.consumerPos = cons; return r; }
      }
      this.consumerPos = cons;
    }
    return n;
  }

  /** __bpf_ringbuf_reserve. */
  private reserveRaw(size: number): number {
    if (!Number.isInteger(size) || size < 0 || size > MAX_RECORD_SZ) return 0;
    const len = roundUp8(size + BPF_RINGBUF_HDR_SZ);
    if (len > this.size) return 0;
    const u8 = this.space.u8, base = this.data.start;
    const prod = this.producerPos;
    // Skip past records committed since the last reservation to find the oldest still being written.
    let pend = this.pendingPos;
    while (pend < prod) {
      const hdr = base + (pend & this.mask);
      const hlen = (u8[hdr]! | (u8[hdr + 1]! << 8) | (u8[hdr + 2]! << 16) | (u8[hdr + 3]! << 24)) >>> 0;
      if (hlen & BPF_RINGBUF_BUSY_BIT || this.reserved.has(pend & this.mask)) break;
      pend += roundUp8((hlen & ~BPF_RINGBUF_DISCARD_BIT) + BPF_RINGBUF_HDR_SZ);
    }
    this.pendingPos = pend = Math.min(pend, prod); // a rewritten committed header may claim more than was produced
    const next = prod + len;
    if (next - this.consumerPos > this.mask || next - pend > this.mask) return 0;
    const off = prod & this.mask, hdr = base + off;
    const dv = this.space.dv;
    dv.setUint32(hdr, (size | BPF_RINGBUF_BUSY_BIT) >>> 0, true);
    dv.setUint32(hdr + 4, DATA_PGOFF + (off >>> 12), true);
    this.reserved.set(off, size);
    this.producerPos = next;
    return hdr + BPF_RINGBUF_HDR_SZ;
  }

  /** bpf_ringbuf_commit: clear BUSY (set DISCARD), mirror a wrapped tail to the start, note a wakeup. */
  private commit(addr: number, flags: number, discard: boolean): number {
    const base = this.data.start, hdr = addr - BPF_RINGBUF_HDR_SZ, off = hdr - base;
    if (off < 0 || off >= this.size || off % 8 !== 0) return -ERRNO.EINVAL;
    const dv = this.space.dv;
    const sampleLen = this.reserved.get(off);
    if (sampleLen === undefined) return -ERRNO.EINVAL;
    this.reserved.delete(off);
    const end = off + roundUp8(sampleLen + BPF_RINGBUF_HDR_SZ);
    if (end > this.size) this.space.copyChecked(base, base + this.size, end - this.size);
    dv.setUint32(hdr, (discard ? sampleLen | BPF_RINGBUF_DISCARD_BIT : sampleLen) >>> 0, true);
    if (flags & BPF_RB_FORCE_WAKEUP) this.wakeups++;
    else if (!(flags & BPF_RB_NO_WAKEUP) && (this.consumerPos & this.mask) === off) this.wakeups++;
    return 0;
  }
}

const roundUp8 = (n: number): number => Math.ceil(n / 8) * 8;
