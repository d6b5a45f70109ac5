// PERF_EVENT_ARRAY (kernel/bpf/arraymap.c + bpf_trace.c bpf_perf_event_output) and the per-CPU perf buffers user space
// reads it through (libbpf perf_buffer). Each slot holds a BPF-output perf event bound to one CPU; a program writes a
// PERF_RECORD_SAMPLE {header, u32 size, raw data padded to 8} into the buffer of the slot it names (or of its own CPU
// with BPF_F_CURRENT_CPU). A full buffer drops the sample (-ENOSPC) and counts it lost; the next sample that fits is
// preceded by a PERF_RECORD_LOST with the count, as perf's ring buffer does. Checked byte for byte against Linux 6.18.
// Shared state (worker CPUs): each buffer is a region of the address space laid out as perf's mmap (a control page
// with data_head/data_tail at perf_event_mmap_page's offsets, then the data pages), and the slots are mirrored as the
// buffers' addresses, so a program on any worker writes its CPU's buffer and user space drains every CPU's buffer.
import { BpfError } from "../errors.ts";
import type { AddressSpace, Region } from "../vm/memory.ts";
import { FdArrayMap } from "./fd-array.ts";
import { spinLock, spinUnlock } from "./lock.ts";
import type { MapOptions } from "./map.ts";
import type { MapSpec } from "./spec.ts";
import { BPF_F_CURRENT_CPU, BPF_F_INDEX_MASK, ERRNO, readU32 } from "./types.ts";

export const PERF_RECORD_LOST = 2;
export const PERF_RECORD_SAMPLE = 9;
export const PERF_RECORD_MISC_KERNEL = 1;
const PAGE_SIZE = 4096;
let nextEventId = 1;

// Byte offsets in the control page: data_head, data_tail, data_offset and data_size where struct perf_event_mmap_page
// has them (u64, low word first); bpfkit's own words in the page's reserved area.
const DATA_HEAD = 0x400, DATA_TAIL = 0x408, DATA_OFFSET = 0x410, DATA_SIZE = 0x418;
const B_LOCK = 0x100, B_CPU = 0x104, B_PAGES = 0x108, B_ID = 0x10c, B_PENDING_LOST = 0x110, B_TOTAL_LOST = 0x114, B_MAGIC = 0x118;
/** Address of the word a reader waits on (0: none): bumped and notified after every sample (wakeup_events = 1). */
const B_WAKE = 0x11c;
const MAGIC = 0x62706662; // "bpfb": a region is a perf buffer

/**
 * One CPU's perf ring buffer (the mmap'd pages of a perf event: control page, then data pages) in the address space,
 * with libbpf's reader on top. One writer at a time (the buffer's lock; the kernel writes a CPU's buffer only from
 * that CPU), one reader (user space).
 */
export class PerfBuffer {
  readonly region: Region;
  readonly cpu: number;
  readonly id: number;
  /** Bytes of the data pages. */
  readonly size: number;
  private readonly W: number;
  private readonly dataAt: number;

  /**
   * `pages` data pages (a power of 2, as libbpf's perf_buffer__new requires), mapped in `space`. With `attachAt`, a
   * view of the buffer another thread mapped at that address instead.
   */
  constructor(readonly space: AddressSpace, cpu: number, pages = 8, attachAt?: number, wakeAt = 0) {
    if (attachAt !== undefined) {
      const r = space.find(attachAt);
      if (r === undefined || r.start !== attachAt || space.dv.getUint32(attachAt + B_MAGIC, true) !== MAGIC) {
        throw new BpfError("EINVAL", `no perf buffer at 0x${attachAt.toString(16)} in this address space`);
      }
      this.region = r;
      const dv = space.dv;
      cpu = dv.getUint32(attachAt + B_CPU, true);
      pages = dv.getUint32(attachAt + B_PAGES, true);
      this.id = dv.getUint32(attachAt + B_ID, true);
    } else {
      if (!Number.isInteger(pages) || pages <= 0 || (pages & (pages - 1)) !== 0) {
        throw new BpfError("EINVAL", `perf buffer page count ${pages} is not a power of 2`);
      }
      this.region = space.alloc((pages + 1) * PAGE_SIZE, { kind: "scratch", name: `perf buffer cpu ${cpu}`, writable: false, align: PAGE_SIZE });
      this.id = nextEventId++;
      const dv = space.dv, a = this.region.start;
      dv.setUint32(a + B_CPU, cpu, true);
      dv.setUint32(a + B_PAGES, pages, true);
      dv.setUint32(a + B_ID, this.id, true);
      dv.setUint32(a + DATA_OFFSET, PAGE_SIZE, true);
      dv.setUint32(a + DATA_SIZE, pages * PAGE_SIZE, true);
      dv.setUint32(a + B_WAKE, wakeAt, true);
      Atomics.store(space.i32, (a + B_MAGIC) >> 2, MAGIC);
    }
    this.cpu = cpu;
    this.size = pages * PAGE_SIZE;
    this.W = this.region.start >> 2;
    this.dataAt = this.region.start + PAGE_SIZE;
  }

  /** A copy of the data pages, as user space's mmap shows them. */
  get data(): Uint8Array {
    return this.space.u8.slice(this.dataAt, this.dataAt + this.size);
  }

  /** data_head / data_tail, as free-running byte counts. */
  get head(): number { return this.u64(DATA_HEAD); }
  get tail(): number { return this.u64(DATA_TAIL); }
  /** User space writing data_tail: the records before it are read. */
  set tail(v: number) {
    const i32 = this.space.i32, w = this.W + (DATA_TAIL >> 2);
    i32[w + 1] = Math.floor(v / 2 ** 32);
    Atomics.store(i32, w, v % 2 ** 32 | 0);
  }
  /** Samples dropped and not yet reported in a PERF_RECORD_LOST. */
  get pendingLost(): number { return Atomics.load(this.space.i32, this.W + (B_PENDING_LOST >> 2)) >>> 0; }
  /** All samples ever dropped. */
  get totalLost(): number { return Atomics.load(this.space.i32, this.W + (B_TOTAL_LOST >> 2)) >>> 0; }

  /**
   * perf_output_begin + sample: appends a sample record of the `size` bytes at `dataAddr` (and a pending LOST record
   * first); -ENOSPC when it does not fit.
   */
  write(dataAddr: number, size: number): number {
    const raw = roundUp8(4 + size); // u32 size + data, padded to u64
    const sampleLen = 8 + raw;
    // perf_event_header.size is a u16; the kernel would truncate it and corrupt the buffer, bpfkit refuses.
    if (sampleLen > 0xffff) return -ERRNO.E2BIG;
    const space = this.space, W = this.W;
    if (!spinLock(space, W + (B_LOCK >> 2))) return -ERRNO.EBUSY;
    try {
      const i32 = space.i32;
      const head = i32[W + (DATA_HEAD >> 2)]!, tail = Atomics.load(i32, W + (DATA_TAIL >> 2));
      const pending = i32[W + (B_PENDING_LOST >> 2)]! >>> 0;
      const lostLen = pending > 0 ? 24 : 0;
      // perf_output_space: the buffer may never become completely full.
      if (((head - tail) >>> 0) + lostLen + sampleLen >= this.size) {
        Atomics.add(i32, W + (B_PENDING_LOST >> 2), 1);
        Atomics.add(i32, W + (B_TOTAL_LOST >> 2), 1);
        return -ERRNO.ENOSPC;
      }
      // headers as u32 words {type, misc | size << 16, ...}: records start 8-aligned, so no word straddles the wrap
      let at = head;
      if (lostLen) {
        at = this.word(at, PERF_RECORD_LOST);
        at = this.word(at, 24 << 16);
        at = this.word(at, this.id);
        at = this.word(at, 0);
        at = this.word(at, pending); // u64 lost
        at = this.word(at, 0);
        Atomics.store(i32, W + (B_PENDING_LOST >> 2), 0);
      }
      at = this.word(at, PERF_RECORD_SAMPLE);
      at = this.word(at, PERF_RECORD_MISC_KERNEL | (sampleLen << 16)); // the misc Linux 6.18 writes for a program's sample (checked)
      at = this.word(at, raw - 4); // the kernel reports the padded size
      at = this.put(at, dataAddr, size);
      // The padding is skipped, not written (perf_output_skip): it keeps whatever bytes the ring held, as in Linux.
      this.publish(DATA_HEAD, head, (at + raw - 4 - size) | 0);
      const wake = i32[W + (B_WAKE >> 2)]! >> 2;
      if (wake !== 0) {
        Atomics.add(i32, wake, 1);
        if (space.shared) Atomics.notify(i32, wake);
      }
      return 0;
    } finally {
      spinUnlock(space, W + (B_LOCK >> 2));
    }
  }

  /**
   * libbpf perf_buffer__consume_buffer: every record from data_tail to data_head, in order; samples to `onSample`
   * (raw data, its padded size), lost records to `onLost`. Returns the records read.
   */
  read(onSample: (data: Uint8Array, cpu: number) => void, onLost?: (lost: number, cpu: number) => void): number {
    const W = this.W;
    const head = Atomics.load(this.space.i32, W + (DATA_HEAD >> 2));
    const start = this.space.i32[W + (DATA_TAIL >> 2)]!;
    let tail = start, n = 0;
    while (tail !== head) {
      const type = this.u32At(tail), size = this.u32At(tail + 4) >>> 16;
      if (size < 8 || size > ((head - tail) >>> 0)) { tail = head; break; } // never in a buffer only bpfkit writes
      if (type === PERF_RECORD_SAMPLE) {
        // the raw data is copied straight out of the ring (no copy of the whole record first)
        onSample(this.take(tail + 12, size < 12 ? 0 : Math.min(this.u32At(tail + 8), size - 12)), this.cpu);
      } else if (type === PERF_RECORD_LOST && onLost !== undefined) {
        const rec = this.take(tail, size);
        onLost(readU32(rec, 16) + readU32(rec, 20) * 2 ** 32, this.cpu);
      }
      tail = (tail + size) | 0;
      n++;
    }
    if (tail !== start) this.publish(DATA_TAIL, start, tail);
    return n;
  }

  /** Stores a u64 position: its high word first (bumped when the low word wraps), then the low word with release. */
  private publish(at: number, old: number, next: number): void {
    const i32 = this.space.i32, w = this.W + (at >> 2);
    if ((next >>> 0) < (old >>> 0)) i32[w + 1] = (i32[w + 1]! + 1) | 0;
    Atomics.store(i32, w, next);
  }

  private u64(at: number): number {
    const i32 = this.space.i32, w = this.W + (at >> 2);
    return (Atomics.load(i32, w) >>> 0) + (i32[w + 1]! >>> 0) * 2 ** 32;
  }

  /** Stores u32 `v` at data position `pos` (4-aligned); the new position. */
  private word(pos: number, v: number): number {
    this.space.i32[(this.dataAt + (pos & (this.size - 1))) >> 2] = v;
    return (pos + 4) | 0;
  }

  /** Copies the `len` bytes at `from` in the space to data position `pos`, wrapping; the new position. */
  private put(pos: number, from: number, len: number): number {
    const u8 = this.space.u8, d = this.dataAt;
    const p = pos & (this.size - 1), first = Math.min(len, this.size - p);
    u8.copyWithin(d + p, from, from + first);
    if (first < len) u8.copyWithin(d, from + first, from + len);
    return (pos + len) | 0;
  }

  /** The little-endian u32 at data position `pos`, wrapping. */
  private u32At(pos: number): number {
    const u8 = this.space.u8, m = this.size - 1, d = this.dataAt;
    return (u8[d + (pos & m)]! | (u8[d + ((pos + 1) & m)]! << 8) | (u8[d + ((pos + 2) & m)]! << 16) | (u8[d + ((pos + 3) & m)]! << 24)) >>> 0;
  }

  private take(pos: number, len: number): Uint8Array {
    const u8 = this.space.u8, mask = this.size - 1, d = this.dataAt;
    const p = pos & mask, first = Math.min(len, this.size - p);
    const out = new Uint8Array(len);
    out.set(u8.subarray(d + p, d + p + first));
    if (first < len) out.set(u8.subarray(d, d + len - first), first);
    return out;
  }
}

export class PerfEventArrayMap extends FdArrayMap<PerfBuffer> {
  /** Views of buffers another thread put in the slots (an attached map), by address. */
  private readonly views = new Map<number, PerfBuffer>();
  /** The layout the views were made in: a buffer unmapped and another mapped at its address is a new buffer. */
  private viewsLayout = -1;

  /** The word buffers opened by openBuffers bump after each sample, and poll waits on. */
  private readonly wake: Region;

  constructor(space: AddressSpace, spec: MapSpec, maxEntries: number, opts: MapOptions) {
    super(space, spec, maxEntries, opts);
    this.shareSlots();
    this.wake = this.allocRegion(8, "wakeup", false);
  }

  override get shareable(): boolean {
    return true;
  }

  /** Binds a perf buffer to slot `index` (what storing a perf event fd does). */
  attach(index: number, buffer: PerfBuffer | undefined): void {
    this.setSlot(index, buffer);
  }

  /** libbpf perf_buffer__new: one buffer per CPU, in slot = CPU (up to max_entries), in this map's address space. */
  openBuffers(pages = 8): PerfBuffer[] {
    const out: PerfBuffer[] = [];
    for (let cpu = 0; cpu < Math.min(this.nCpus, this.maxEntries); cpu++) {
      const b = new PerfBuffer(this.space, cpu, pages, undefined, this.wake.start);
      this.attach(cpu, b);
      out.push(b);
    }
    return out;
  }

  /** The buffer in slot `index`: the one user space stored, or in a view attached from another thread, a view of it. */
  buffer(index: number): PerfBuffer | undefined {
    if (this.opts.attach === undefined) return this.slot(index);
    const at = this.sharedSlot(index);
    if (at === undefined) return undefined;
    if (this.viewsLayout !== this.space.layoutVersion) { this.views.clear(); this.viewsLayout = this.space.layoutVersion; }
    let b = this.views.get(at);
    if (b === undefined) {
      b = new PerfBuffer(this.space, 0, 1, at);
      this.views.set(at, b);
    }
    return b;
  }

  /** libbpf perf_buffer__consume: reads every slot's buffer in slot order; returns the records read. */
  consume(onSample: (data: Uint8Array, cpu: number) => void, onLost?: (lost: number, cpu: number) => void): number {
    let n = 0;
    for (let i = 0; i < this.maxEntries; i++) {
      const b = this.buffer(i);
      if (b !== undefined) n += b.read(onSample, onLost);
      else if (this.opts.attach === undefined && i >= this.slots.length) break;
    }
    return n;
  }

  /**
   * libbpf perf_buffer__poll: reads what is there; with nothing there, waits up to `timeoutMs` for a sample in any
   * buffer openBuffers opened (Atomics.wait where perf wakes epoll), then reads. Waiting needs shared memory and a
   * thread allowed to block; elsewhere it only reads. Returns the records read.
   */
  poll(timeoutMs: number, onSample: (data: Uint8Array, cpu: number) => void, onLost?: (lost: number, cpu: number) => void): number {
    const i32 = this.space.i32, w = this.wake.start >> 2;
    const seq = Atomics.load(i32, w);
    const n = this.consume(onSample, onLost);
    if (n !== 0 || timeoutMs <= 0 || !this.space.shared) return n;
    try { Atomics.wait(i32, w, seq, timeoutMs); } catch { return n; } // a thread that may not block
    return this.consume(onSample, onLost);
  }

  /**
   * bpf_perf_event_output from a program on `cpu`: `flags` is the u64 flags argument (index in the low 32 bits,
   * BPF_F_CURRENT_CPU for this CPU's slot). 0, or -EINVAL / -E2BIG / -ENOENT / -EOPNOTSUPP (event on another CPU) /
   * -ENOSPC (buffer full, sample lost).
   */
  perfOutput(cpu: number, flags: number, dataAddr: number, size: number): number {
    if (flags < 0 || flags > BPF_F_INDEX_MASK) return -ERRNO.EINVAL;
    this.space.assert(dataAddr, size, false);
    const index = flags === BPF_F_CURRENT_CPU ? cpu : flags;
    if (index >= this.maxEntries) return -ERRNO.E2BIG;
    const b = this.buffer(index);
    if (b === undefined) return -ERRNO.ENOENT;
    if (b.cpu !== cpu) return -ERRNO.EOPNOTSUPP;
    return b.write(dataAddr, size);
  }

  protected resolve(fd: number): PerfBuffer | undefined {
    const b = this.opts.resolveFd?.(fd, this);
    return b instanceof PerfBuffer ? b : undefined;
  }

  protected idOf(): number {
    return 0;
  }

  protected override keyOf(b: PerfBuffer): number {
    return b.region.start;
  }

  protected override refusesLookup(): boolean {
    return true;
  }
}

const roundUp8 = (n: number): number => Math.ceil(n / 8) * 8;
