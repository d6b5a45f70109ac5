// Consumer of a BPF_MAP_TYPE_PERF_EVENT_ARRAY: one BPF-output software event per CPU, each with an mmap'd ring
// (struct perf_event_mmap_page, then 2^n data pages). bpf_perf_event_output writes PERF_RECORD_SAMPLE records with
// PERF_SAMPLE_RAW (u32 size + bytes); when a ring is full the kernel counts the drop and later writes a
// PERF_RECORD_LOST record with the number lost, which this reader adds up per CPU.
import { BpfError } from "../errors.ts";
import { closeFd, mapUpdateElem } from "./bpf.ts";
import { mmapShared, possibleCpus, watchReadable, type Mapping } from "./libc.ts";
import { mapInfo } from "./info.ts";
import { openPerfEvent, perfEventEnable, PERF_COUNT_SW_BPF_OUTPUT, PERF_SAMPLE_RAW, PERF_TYPE_SOFTWARE } from "./perf.ts";

const PERF_SAMPLE_TIME = 1 << 2;

const PAGE = 4096;
const PERF_RECORD_LOST = 2, PERF_RECORD_SAMPLE = 9;
// offsets in struct perf_event_mmap_page
const DATA_HEAD = 1024, DATA_TAIL = 1032;

/** `time`: the sample's PERF_SAMPLE_TIME stamp, when the reader was opened with `time: true`. */
export type PerfSampleCallback = (cpu: number, sample: Uint8Array, time?: bigint) => void;

export interface PerfBufferOptions {
  /** Also ask for PERF_SAMPLE_TIME (records carry a u64 timestamp before the raw data). */
  readonly time?: boolean;
  /** One ring only: on this CPU, stored at this index of the map (bpftool's `event_pipe … cpu N index M`). */
  readonly only?: { readonly cpu: number; readonly index: number };
  /** Called for each PERF_RECORD_LOST record, with its count. */
  readonly onLost?: (cpu: number, lost: bigint) => void;
}

interface CpuRing {
  cpu: number;
  fd: number;
  mapping: Mapping;
  head: BigUint64Array;
  tail: BigUint64Array;
  data: Uint8Array;
  view: DataView;
  watcher?: { close(): void };
}

export class PerfBufferReader {
  private readonly rings: CpuRing[] = [];
  /** samples delivered so far */
  received = 0;
  /** samples the kernel dropped (sum of PERF_RECORD_LOST counts), per CPU in lostPerCpu */
  lost = 0n;
  readonly lostPerCpu = new Map<number, bigint>();

  /** `pageCount` data pages per CPU (a power of two). */
  private readonly time: boolean;
  private readonly onLost: ((cpu: number, lost: bigint) => void) | undefined;
  constructor(readonly mapFd: number, private readonly onSample: PerfSampleCallback, pageCount = 8, opts: PerfBufferOptions = {}) {
    this.time = opts.time ?? false;
    this.onLost = opts.onLost;
    if (pageCount < 1 || (pageCount & (pageCount - 1)) !== 0) throw new BpfError("EINVAL", `perf buffer page count ${pageCount} is not a power of two`);
    const info = mapInfo(mapFd);
    if (info.type !== 4) throw new BpfError("EINVAL", `map ${info.id} is not a perf_event_array (type ${info.type})`);
    const n = Math.min(possibleCpus(), info.maxEntries);
    const slots = opts.only ? [opts.only] : Array.from({ length: n }, (_, cpu) => ({ cpu, index: cpu }));
    const sampleType = BigInt(PERF_SAMPLE_RAW | (this.time ? PERF_SAMPLE_TIME : 0));
    try {
      for (const { cpu, index } of slots) {
        const fd = openPerfEvent({ type: PERF_TYPE_SOFTWARE, config: BigInt(PERF_COUNT_SW_BPF_OUTPUT), sampleType, samplePeriod: 1n, wakeupEvents: 1 }, -1, cpu);
        let mapping: Mapping;
        try {
          mapping = mmapShared(fd, PAGE * (pageCount + 1), 0, true, `perf buffer of cpu ${cpu}`);
        } catch (e) {
          closeFd(fd);
          throw e;
        }
        const buf = mapping.bytes.buffer;
        const data = new Uint8Array(buf, PAGE, PAGE * pageCount);
        this.rings.push({
          cpu, fd, mapping, head: new BigUint64Array(buf, DATA_HEAD, 1), tail: new BigUint64Array(buf, DATA_TAIL, 1),
          data, view: new DataView(buf, PAGE, PAGE * pageCount),
        });
        try {
          mapUpdateElem(mapFd, new Uint8Array(new Uint32Array([index]).buffer), new Uint8Array(new Uint32Array([fd]).buffer));
        } catch (e) {
          // which ring could not be stored, for messages such as libbpf's "failed to set cpu #C, key K -> perf FD F"
          throw Object.assign(e as object, { perfRing: { cpu, index, fd } });
        }
        perfEventEnable(fd);
      }
    } catch (e) {
      this.close();
      throw e;
    }
  }

  private drain(r: CpuRing): number {
    // positions as Numbers, records read through the ring's DataView with wrap-around; a copy only for a sample that
    // wraps the end of the ring
    const size = r.data.length;
    let tail = Number(Atomics.load(r.tail, 0));
    const head = Number(Atomics.load(r.head, 0));
    const v = r.view;
    const u8 = (pos: number) => r.data[pos % size]!;
    const u16 = (pos: number) => u8(pos) | (u8(pos + 1) << 8);
    const u32 = (pos: number) => (u16(pos) | (u16(pos + 2) << 16)) >>> 0;
    let n = 0;
    while (tail < head) {
      const type = u32(tail), recSize = u16(tail + 6);
      if (recSize < 8) break;
      if (type === PERF_RECORD_SAMPLE) {
        // with PERF_SAMPLE_TIME the u64 stamp comes first
        const t = this.time ? 8 : 0;
        const time = this.time ? BigInt(u32(tail + 8)) | (BigInt(u32(tail + 12)) << 32n) : undefined;
        const rawSize = u32(tail + 8 + t);
        const start = (tail + 12 + t) % size;
        let sample: Uint8Array;
        if (start + rawSize <= size) sample = r.data.subarray(start, start + rawSize);
        else {
          sample = new Uint8Array(rawSize);
          sample.set(r.data.subarray(start), 0);
          sample.set(r.data.subarray(0, rawSize - (size - start)), size - start);
        }
        this.onSample(r.cpu, sample, time);
        n++;
      } else if (type === PERF_RECORD_LOST) {
        const off = (tail + 16) % size;
        const lost = off + 8 <= size ? v.getBigUint64(off, true) : BigInt(u32(tail + 16)) | (BigInt(u32(tail + 20)) << 32n);
        this.lost += lost;
        this.lostPerCpu.set(r.cpu, (this.lostPerCpu.get(r.cpu) ?? 0n) + lost);
        this.onLost?.(r.cpu, lost);
      }
      tail += recSize;
    }
    Atomics.store(r.tail, 0, BigInt(tail));
    this.received += n;
    return n;
  }

  /** Delivers everything buffered on every CPU; returns the number of samples. */
  consume(): number {
    let n = 0;
    for (const r of this.rings) n += this.drain(r);
    return n;
  }

  /** Consumes from the event loop whenever a CPU's ring signals data. */
  start(): void {
    for (const r of this.rings) if (!r.watcher) r.watcher = watchReadable(r.fd, () => this.drain(r));
  }

  close(): void {
    for (const r of this.rings) {
      r.watcher?.close();
      r.mapping.unmap();
      closeFd(r.fd);
    }
    this.rings.length = 0;
  }
}
