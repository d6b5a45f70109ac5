// RINGBUF (kernel/bpf/ringbuf.c) with a libbpf-style consumer. Records are an 8-byte header {u32 len | BUSY | DISCARD,
// u32 pg_off} and the sample, padded to 8, at producer_pos & mask. The kernel maps the data pages twice so a record
// running past the end stays contiguous; bpfkit maps 2 × size bytes and, on commit, copies the part past the end to
// the start, so both views hold the same bytes. Reserve fails (NULL / -EAGAIN) when the record would put the producer
// more than size-1 bytes ahead of the consumer or of the oldest uncommitted record, as the kernel checks.
// Shared state (worker CPUs): the positions, the reserve lock (the kernel's rb->spinlock) and the counters live in a
// control block in the address space that programs cannot write; headers are read and written with Atomics, so
// producers on every CPU and the consumer in user space share one ring, as the kernel's producers and libbpf do.

import type { AddressSpace, Region } from "../vm/memory.ts";
import { spinLock, spinUnlock } from "./lock.ts";
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
const HDR = BPF_RINGBUF_HDR_SZ;
// Module-local copies: imported bindings are getter calls under some loaders (tsx), too slow for the hot paths.
const BUSY = BPF_RINGBUF_BUSY_BIT | 0, DISCARD = BPF_RINGBUF_DISCARD_BIT;
const NO_WAKEUP = BPF_RB_NO_WAKEUP, FORCE_WAKEUP = BPF_RB_FORCE_WAKEUP, EAGAIN = ERRNO.EAGAIN, EINVAL = ERRNO.EINVAL;

// Control block words (i32 index from C). Positions are u64 in the kernel: the ring logic runs on their low 32 bits
// (exact, since the ring is under 2^31 bytes and every distance it compares is below its size), published with
// Atomics; the whole positions, for bpf_ringbuf_query and user space, are f64 beside them (exact to 2^53).
const W_LOCK = 0, W_PROD = 1, W_CONS = 2, W_PEND = 3, W_DROPPED = 4, W_WAKEUPS = 5, W_WAKE_SEQ = 6;
const F_PROD = 4, F_CONS = 5; // f64 indexes within the control block
const CONTROL_BYTES = 48;

export class RingBufMap extends BpfMap {
  readonly size: number;
  readonly data: Region;
  private readonly mask: number;
  /** Positions, lock and counters (not writable by programs). */
  readonly control: Region;
  private readonly C: number;
  private f64: Float64Array;
  private f64Gen: number;
  /**
   * The records this thread reserved and has not committed: {header offset, sample length} pairs, `nHeld` of them
   * (a typed array, grown when full: a Map allocates as entries come and go). A program can write its record's header
   * (the record shares the ring's region), so commit uses the length it reserved, never the one in memory (kernel:
   * the verifier keeps the header out of reach). Reserve and commit run on one CPU, in one run.
   */
  private held = new Int32Array(16);
  private nHeld = 0;

  override get shareable(): boolean {
    return true;
  }

  constructor(space: AddressSpace, spec: MapSpec, maxEntries: number, opts: MapOptions) {
    super(space, spec, maxEntries, opts);
    this.size = maxEntries;
    this.mask = maxEntries - 1;
    this.data = this.allocRegion(2 * maxEntries, "data", true, "ringbuf");
    this.control = this.allocRegion(CONTROL_BYTES, "control", false);
    this.C = this.control.start >> 2;
    this.f64 = new Float64Array(space.u8.buffer, this.control.start, CONTROL_BYTES / 8);
    this.f64Gen = space.generation;
  }

  /** consumer_pos, as user space's mmap of the consumer page reads it. */
  get consumerPos(): number { return this.pos(F_CONS, W_CONS); }
  /** producer_pos. */
  get producerPos(): number { return this.pos(F_PROD, W_PROD); }
  /** Reservations and outputs that failed for lack of space, on every CPU (the kernel counts none; bpftrace-style "lost"). */
  get dropped(): number { return Atomics.load(this.space.i32, this.C + W_DROPPED) >>> 0; }
  /** Consumer notifications the kernel would have sent (irq_work wakeups), from every CPU. */
  get wakeups(): number { return Atomics.load(this.space.i32, this.C + W_WAKEUPS) >>> 0; }

  /** bpf_ringbuf_reserve: the sample's address, or 0 (flags must be 0; no room). */
  reserve(size: number, flags = 0): number {
    if (flags !== 0) return 0;
    const a = this.reserveRaw(size);
    if (a === 0) Atomics.add(this.space.i32, this.C + W_DROPPED, 1);
    else this.hold(a - HDR - this.data.start, size);
    return a;
  }

  /** bpf_ringbuf_submit. Returns -EINVAL (the kernel would oops) for an address that is not a reserved record. */
  submit(addr: number, flags = 0): number {
    return this.commitHeld(addr, flags, false);
  }

  /** bpf_ringbuf_discard: the consumer skips the record. */
  discard(addr: number, flags = 0): number {
    return this.commitHeld(addr, flags, true);
  }

  /** bpf_ringbuf_output: copy `size` bytes at dataAddr into a new record; -EAGAIN when full. */
  output(dataAddr: number, size: number, flags: number): number {
    if (flags & ~(NO_WAKEUP | FORCE_WAKEUP)) return -EINVAL;
    this.space.assert(dataAddr, size, false);
    const rec = this.reserveRaw(size);
    if (rec === 0) { Atomics.add(this.space.i32, this.C + W_DROPPED, 1); return -EAGAIN; }
    this.space.copyChecked(rec, dataAddr, size);
    // reserved and committed in one call: no program runs in between to rewrite the header, so nothing is held
    this.commit(rec - HDR - this.data.start, size, flags, false);
    return 0;
  }

  /** bpf_ringbuf_query. */
  query(flags: number): number {
    switch (flags) {
      case BPF_RB_AVAIL_DATA: {
        const cons = this.consumerPos;
        return this.producerPos - cons;
      }
      case BPF_RB_RING_SIZE: return this.size;
      case BPF_RB_CONS_POS: return this.consumerPos;
      case BPF_RB_PROD_POS: return this.producerPos;
      default: return 0;
    }
  }

  /**
   * The user-space consumer (libbpf ring_buffer__consume; one consumer at a time, as libbpf requires): hands each
   * committed, non-discarded sample to `cb` in order, stops at a record still being written (busy), advances
   * consumer_pos; it keeps reading while producers on other CPUs commit more. Returns the samples consumed, or the
   * callback's negative return, which stops consumption after that record.
   */
  consume(cb: (sample: Uint8Array) => number | void): number {
    const space = this.space, C = this.C, base = this.data.start, mask = this.mask;
    let cons = Atomics.load(space.i32, C + W_CONS), consFull = this.f64View()[F_CONS]!, n = 0;
    for (;;) {
      const prod = Atomics.load(space.i32, C + W_PROD);
      let progressed = false;
      while (cons !== prod) {
        const hdr = base + (cons & mask);
        const len = Atomics.load(space.i32, hdr >> 2);
        if (len & BUSY) return n;
        const sampleLen = len & ~DISCARD;
        // the header is program-writable: a rewritten length never takes the consumer past what was produced
        if (sampleLen + HDR > ((prod - cons) >>> 0)) return n;
        const step = roundUp8(sampleLen + HDR);
        cons = (cons + step) | 0;
        consFull += step;
        progressed = true;
        let r: number | void = 0;
        if (!(len & DISCARD)) {
          n++;
          r = cb(space.sliceChecked(hdr + HDR, sampleLen));
        }
        this.f64View()[F_CONS] = consFull;
        Atomics.store(space.i32, C + W_CONS, cons);
        if (typeof r === "number" && r < 0) return r;
      }
      if (!progressed) return n;
    }
  }

  /**
   * ring_buffer__poll: consumes what is there; with nothing there, waits up to `timeoutMs` for a producer's wakeup
   * (Atomics.wait on a word of the control block, where the kernel wakes epoll), then consumes. Waiting needs shared
   * memory and a thread allowed to block (Node's threads; a browser's workers); elsewhere it only consumes.
   */
  poll(timeoutMs: number, cb: (sample: Uint8Array) => number | void): number {
    const i32 = this.space.i32, w = this.C + W_WAKE_SEQ;
    const seq = Atomics.load(i32, w);
    const n = this.consume(cb);
    if (n !== 0 || timeoutMs <= 0 || !this.space.shared) return n;
    try { Atomics.wait(i32, w, seq, timeoutMs); } catch { return n; } // a thread that may not block
    return this.consume(cb);
  }

  /** A word that changes (Atomics.notify'd) on every wakeup: for consumers that wait with Atomics.waitAsync. */
  get wakeWord(): { readonly i32: Int32Array; readonly index: number } {
    return { i32: this.space.i32, index: this.C + W_WAKE_SEQ };
  }

  /** Whole position from its f64 (published before its 32-bit word, so never behind the word it was read after). */
  private pos(f: number, w: number): number {
    Atomics.load(this.space.i32, this.C + w);
    return this.f64View()[f]!;
  }

  /** Over the space's current buffer, renewed when the memory grew (space.generation; asking for .buffer is slow). */
  private f64View(): Float64Array {
    if (this.f64Gen !== this.space.generation) {
      this.f64 = new Float64Array(this.space.u8.buffer, this.control.start, CONTROL_BYTES / 8);
      this.f64Gen = this.space.generation;
    }
    return this.f64;
  }

  /** __bpf_ringbuf_reserve, under the ring's lock. */
  private reserveRaw(size: number): number {
    if (!Number.isInteger(size) || size < 0 || size > MAX_RECORD_SZ) return 0;
    const len = roundUp8(size + HDR);
    if (len > this.size) return 0;
    const space = this.space, C = this.C, base = this.data.start, mask = this.mask;
    const cons = Atomics.load(space.i32, C + W_CONS);
    // kernel: raw_spin_lock_irqsave (a trylock in NMI); a lock that cannot be had is a failed reservation
    if (!spinLock(space, C + W_LOCK)) return 0;
    try {
      const i32 = space.i32;
      const prod = i32[C + W_PROD]!;
      // Skip past records committed since the last reservation to find the oldest still being written.
      let pend = i32[C + W_PEND]!;
      while (pend !== prod) {
        const hdr = base + (pend & mask);
        const hlen = Atomics.load(i32, hdr >> 2);
        if (hlen & BUSY || this.heldAt(pend & mask) >= 0) break;
        const step = roundUp8((hlen & ~DISCARD) + HDR);
        // a rewritten committed header may claim more than was produced
        if (step > ((prod - pend) >>> 0)) { pend = prod; break; }
        pend = (pend + step) | 0;
      }
      i32[C + W_PEND] = pend;
      const next = (prod + len) | 0;
      if (((next - cons) >>> 0) > mask || ((next - pend) >>> 0) > mask) return 0;
      const off = prod & mask, hdr = base + off;
      Atomics.store(i32, hdr >> 2, size | BUSY);
      i32[(hdr >> 2) + 1] = DATA_PGOFF + (off >>> 12);
      const f = this.f64View();
      f[F_PROD] = f[F_PROD]! + len;
      Atomics.store(i32, C + W_PROD, next);
      return hdr + HDR;
    } finally {
      spinUnlock(space, C + W_LOCK);
    }
  }

  /** Submit or discard of a record this thread holds: its reserved length is let go and committed. */
  private commitHeld(addr: number, flags: number, discard: boolean): number {
    const off = addr - HDR - this.data.start;
    if (off < 0 || off >= this.size || off % 8 !== 0) return -EINVAL;
    const i = this.heldAt(off);
    if (i < 0) return -EINVAL;
    const held = this.held, last = 2 * --this.nHeld, sampleLen = held[i + 1]!;
    held[i] = held[last]!; held[i + 1] = held[last + 1]!;
    return this.commit(off, sampleLen, flags, discard);
  }

  private hold(off: number, sampleLen: number): void {
    if (2 * this.nHeld === this.held.length) {
      const grown = new Int32Array(2 * this.held.length);
      grown.set(this.held);
      this.held = grown;
    }
    const at = 2 * this.nHeld++;
    this.held[at] = off;
    this.held[at + 1] = sampleLen;
  }

  /** Index in `held` of the pair for the record at header offset `off`, or -1. */
  private heldAt(off: number): number {
    const held = this.held;
    for (let i = 0, n = 2 * this.nHeld; i < n; i += 2) if (held[i] === off) return i;
    return -1;
  }

  /** bpf_ringbuf_commit: mirror a wrapped tail to the start, clear BUSY (set DISCARD), wake the consumer. */
  private commit(off: number, sampleLen: number, flags: number, discard: boolean): number {
    const base = this.data.start, hdr = base + off;
    const space = this.space, end = off + roundUp8(sampleLen + HDR);
    if (end > this.size) space.copyChecked(base, base + this.size, end - this.size);
    Atomics.store(space.i32, hdr >> 2, discard ? sampleLen | DISCARD : sampleLen);
    const C = this.C;
    const cons = Atomics.load(space.i32, C + W_CONS) & this.mask;
    if ((flags & FORCE_WAKEUP) || (!(flags & NO_WAKEUP) && cons === off)) {
      Atomics.add(space.i32, C + W_WAKEUPS, 1);
      Atomics.add(space.i32, C + W_WAKE_SEQ, 1);
      if (space.shared) Atomics.notify(space.i32, C + W_WAKE_SEQ);
    }
    return 0;
  }
}

const roundUp8 = (n: number): number => Math.ceil(n / 8) * 8;
