// PERF_EVENT_ARRAY (kernel/bpf/arraymap.c + bpf_trace.c bpf_perf_event_output) and the per-CPU perf buffers user space
// reads it through (libbpf perf_buffer). Each slot holds a BPF-output perf event bound to one CPU; a program writes a
// PERF_RECORD_SAMPLE {header, u32 size, raw data padded to 8} into the buffer of the slot it names (or of its own CPU
// with BPF_F_CURRENT_CPU). A full buffer drops the sample (-ENOSPC) and counts it lost; the next sample that fits is
// preceded by a PERF_RECORD_LOST with the count, as perf's ring buffer does. Checked byte for byte against Linux 6.18.

import { BpfError } from "../errors.ts";
import type { AddressSpace } from "../vm/memory.ts";
import { FdArrayMap } from "./fd-array.ts";
import type { MapOptions } from "./map.ts";
import type { MapSpec } from "./spec.ts";
import { BPF_F_CURRENT_CPU, BPF_F_INDEX_MASK, ERRNO } from "./types.ts";

export const PERF_RECORD_LOST = 2;
export const PERF_RECORD_SAMPLE = 9;
export const PERF_RECORD_MISC_KERNEL = 1;
const PAGE_SIZE = 4096;
let nextEventId = 1;

/** One CPU's perf ring buffer (the mmap'd data pages of a perf event), with libbpf's reader on top. */
export class PerfBuffer {
  readonly data: Uint8Array;
  readonly id = nextEventId++;
  /** data_head / data_tail, as free-running byte counts. */
  head = 0;
  tail = 0;
  /** Samples dropped and not yet reported in a PERF_RECORD_LOST. */
  pendingLost = 0;
  /** All samples ever dropped. */
  totalLost = 0;

  private readonly rec = new Uint8Array(24);
  private readonly recView = new DataView(this.rec.buffer);

  /** `pages` data pages (a power of 2, as libbpf's perf_buffer__new requires). */
  constructor(readonly cpu: number, pages = 8) {
    if (!Number.isInteger(pages) || pages <= 0 || (pages & (pages - 1)) !== 0) {
      throw new BpfError("EINVAL", `perf buffer page count ${pages} is not a power of 2`);
    }
    this.data = new Uint8Array(pages * PAGE_SIZE);
  }

  /** perf_output_begin + sample: appends a sample record (and a pending LOST record first); -ENOSPC when it does not fit. */
  write(src: Uint8Array, off: number, size: number): number {
    const raw = roundUp8(4 + size); // u32 size + data, padded to u64
    const sampleLen = 8 + raw;
    // perf_event_header.size is a u16; the kernel would truncate it and corrupt the buffer, bpfkit refuses.
    if (sampleLen > 0xffff) return -ERRNO.E2BIG;
    const lostLen = this.pendingLost > 0 ? 24 : 0;
    // perf_output_space: the buffer may never become completely full.
    if (this.head + lostLen + sampleLen - this.tail >= this.data.length) {
      this.pendingLost++;
      this.totalLost++;
      return -ERRNO.ENOSPC;
    }
    const rec = this.rec, dv = this.recView;
    if (lostLen) {
      dv.setUint32(0, PERF_RECORD_LOST, true);
      dv.setUint16(4, 0, true);
      dv.setUint16(6, 24, true);
      dv.setBigUint64(8, BigInt(this.id), true);
      dv.setBigUint64(16, BigInt(this.pendingLost), true);
      this.put(rec, 0, 24);
      this.pendingLost = 0;
    }
    dv.setUint32(0, PERF_RECORD_SAMPLE, true);
    dv.setUint16(4, PERF_RECORD_MISC_KERNEL, true); // what Linux 6.18 writes for a program's sample (checked)
    dv.setUint16(6, sampleLen, true);
    dv.setUint32(8, raw - 4, true); // the kernel reports the padded size
    this.put(rec, 0, 12);
    this.put(src, off, size);
    // The padding is skipped, not written (perf_output_skip): it keeps whatever bytes the ring held, as in Linux.
    this.head += raw - 4 - size;
    return 0;
  }

  /**
   * libbpf perf_buffer__consume_buffer: every record from data_tail to data_head, in order; samples to `onSample`
   * (raw data, its padded size), lost records to `onLost`. Returns the records read.
   */
  read(onSample: (data: Uint8Array, cpu: number) => void, onLost?: (lost: number, cpu: number) => void): number {
    let n = 0;
    while (this.tail < this.head) {
      const h = this.take(this.tail, 8);
      const dv = new DataView(h.buffer);
      const type = dv.getUint32(0, true), size = dv.getUint16(6, true);
      const rec = this.take(this.tail, size);
      const rv = new DataView(rec.buffer);
      if (type === PERF_RECORD_SAMPLE) {
        const len = rv.getUint32(8, true);
        onSample(rec.slice(12, 12 + len), this.cpu);
      } else if (type === PERF_RECORD_LOST) {
        onLost?.(Number(rv.getBigUint64(16, true)), this.cpu);
      }
      this.tail += size;
      n++;
    }
    return n;
  }

  private put(src: Uint8Array, off: number, len: number): void {
    const size = this.data.length;
    for (let k = 0; k < len; k++) this.data[(this.head + k) % size] = src[off + k]!;
    this.head += len;
  }

  private take(pos: number, len: number): Uint8Array {
    const out = new Uint8Array(len), size = this.data.length;
    for (let k = 0; k < len; k++) out[k] = this.data[(pos + k) % size]!;
    return out;
  }
}

export class PerfEventArrayMap extends FdArrayMap<PerfBuffer> {
  constructor(space: AddressSpace, spec: MapSpec, maxEntries: number, opts: MapOptions) {
    super(space, spec, maxEntries, opts);
  }

  /** Binds a perf buffer to slot `index` (what storing a perf event fd does). */
  attach(index: number, buffer: PerfBuffer | undefined): void {
    this.setSlot(index, buffer);
  }

  /** libbpf perf_buffer__new: one buffer per CPU, in slot = CPU (up to max_entries). */
  openBuffers(pages = 8): PerfBuffer[] {
    const out: PerfBuffer[] = [];
    for (let cpu = 0; cpu < Math.min(this.nCpus, this.maxEntries); cpu++) {
      const b = new PerfBuffer(cpu, pages);
      this.attach(cpu, b);
      out.push(b);
    }
    return out;
  }

  buffer(index: number): PerfBuffer | undefined {
    return this.slot(index);
  }

  /** libbpf perf_buffer__consume: reads every slot's buffer in slot order; returns the records read. */
  consume(onSample: (data: Uint8Array, cpu: number) => void, onLost?: (lost: number, cpu: number) => void): number {
    let n = 0;
    for (const b of this.slots) if (b !== undefined) n += b.read(onSample, onLost);
    return n;
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
    const b = this.slots[index];
    if (b === undefined) return -ERRNO.ENOENT;
    if (b.cpu !== cpu) return -ERRNO.EOPNOTSUPP;
    return b.write(this.space.u8, dataAddr, size);
  }

  protected resolve(fd: number): PerfBuffer | undefined {
    const b = this.opts.resolveFd?.(fd, this);
    return b instanceof PerfBuffer ? b : undefined;
  }

  protected idOf(): number {
    return 0;
  }

  protected override refusesLookup(): boolean {
    return true;
  }
}

const roundUp8 = (n: number): number => Math.ceil(n / 8) * 8;
