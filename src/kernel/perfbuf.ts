// Consumer of a BPF_MAP_TYPE_PERF_EVENT_ARRAY: one BPF-output software event per CPU, each with an mmap'd ring
// (struct perf_event_mmap_page, then 2^n data pages). bpf_perf_event_output writes PERF_RECORD_SAMPLE records with
// PERF_SAMPLE_RAW (u32 size + bytes); when a ring is full the kernel counts the drop and later writes a
// PERF_RECORD_LOST record with the number lost, which this reader adds up per CPU.
import { BpfError } from "../errors.ts";
import { closeFd, mapUpdateElem } from "./bpf.ts";
import { mmapShared, possibleCpus, watchReadable, type Mapping } from "./libc.ts";
import { mapInfo } from "./info.ts";
import { openPerfEvent, perfEventEnable, PERF_COUNT_SW_BPF_OUTPUT, PERF_SAMPLE_RAW, PERF_TYPE_SOFTWARE } from "./perf.ts";

const PAGE = 4096;
const PERF_RECORD_LOST = 2, PERF_RECORD_SAMPLE = 9;
// offsets in struct perf_event_mmap_page
const DATA_HEAD = 1024, DATA_TAIL = 1032;

export type PerfSampleCallback = (cpu: number, sample: Uint8Array) => void;

interface CpuRing {
  cpu: number;
  fd: number;
  mapping: Mapping;
  head: BigUint64Array;
  tail: BigUint64Array;
  data: Uint8Array;
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
  constructor(readonly mapFd: number, private readonly onSample: PerfSampleCallback, pageCount = 8) {
    if (pageCount < 1 || (pageCount & (pageCount - 1)) !== 0) throw new BpfError("EINVAL", `perf buffer page count ${pageCount} is not a power of two`);
    const info = mapInfo(mapFd);
    if (info.type !== 4) throw new BpfError("EINVAL", `map ${info.id} is not a perf_event_array (type ${info.type})`);
    const cpus = Math.min(possibleCpus(), info.maxEntries);
    try {
      for (let cpu = 0; cpu < cpus; cpu++) {
        const fd = openPerfEvent({ type: PERF_TYPE_SOFTWARE, config: BigInt(PERF_COUNT_SW_BPF_OUTPUT), sampleType: BigInt(PERF_SAMPLE_RAW), samplePeriod: 1n, wakeupEvents: 1 }, -1, cpu);
        let mapping: Mapping;
        try {
          mapping = mmapShared(fd, PAGE * (pageCount + 1), 0, true, `perf buffer of cpu ${cpu}`);
        } catch (e) {
          closeFd(fd);
          throw e;
        }
        const buf = mapping.bytes.buffer;
        this.rings.push({
          cpu, fd, mapping, head: new BigUint64Array(buf, DATA_HEAD, 1), tail: new BigUint64Array(buf, DATA_TAIL, 1),
          data: new Uint8Array(buf, PAGE, PAGE * pageCount),
        });
        mapUpdateElem(mapFd, new Uint8Array(new Uint32Array([cpu]).buffer), new Uint8Array(new Uint32Array([fd]).buffer));
        perfEventEnable(fd);
      }
    } catch (e) {
      this.close();
      throw e;
    }
  }

  private drain(r: CpuRing): number {
    const size = BigInt(r.data.length);
    let tail = Atomics.load(r.tail, 0);
    const head = Atomics.load(r.head, 0);
    let n = 0;
    const copy = (start: bigint, len: number): Uint8Array => {
      const off = Number(start % size);
      if (off + len <= r.data.length) return r.data.subarray(off, off + len);
      const out = new Uint8Array(len);
      const first = r.data.length - off;
      out.set(r.data.subarray(off), 0);
      out.set(r.data.subarray(0, len - first), first);
      return out;
    };
    while (tail < head) {
      const hdr = copy(tail, 8);
      const hv = new DataView(hdr.buffer, hdr.byteOffset, 8);
      const type = hv.getUint32(0, true), recSize = hv.getUint16(6, true);
      if (recSize < 8) break;
      const rec = copy(tail, recSize);
      const rv = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
      if (type === PERF_RECORD_SAMPLE) {
        const rawSize = rv.getUint32(8, true);
        this.onSample(r.cpu, rec.subarray(12, 12 + rawSize));
        n++;
      } else if (type === PERF_RECORD_LOST) {
        const lost = rv.getBigUint64(16, true);
        this.lost += lost;
        this.lostPerCpu.set(r.cpu, (this.lostPerCpu.get(r.cpu) ?? 0n) + lost);
      }
      tail += BigInt(recSize);
    }
    Atomics.store(r.tail, 0, tail);
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
