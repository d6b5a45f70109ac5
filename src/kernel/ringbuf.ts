// Consumer of a BPF_MAP_TYPE_RINGBUF map, laid out as kernel/bpf/ringbuf.c maps it: the consumer position page
// (read-write) at offset 0, then the producer position page and the data area mapped twice back to back (read-only),
// so a record that wraps is still contiguous. Each record: u32 len (bit 31 busy, bit 30 discarded), u32 page offset,
// then the sample, padded to 8 bytes. Positions are 64-bit counters; the consumer publishes its position after reading.
import { BpfError } from "../errors.ts";
import { mmapShared, watchReadable, type Mapping } from "./libc.ts";
import { mapInfo } from "./info.ts";

const BUSY = 0x80000000, DISCARD = 0x40000000, HDR = 8;
const PAGE = 4096;

export type SampleCallback = (sample: Uint8Array) => void;

export class RingBufferReader {
  private readonly consumerMap: Mapping;
  private readonly producerMap: Mapping;
  private readonly consumerPos: BigUint64Array;
  private readonly producerPos: BigUint64Array;
  private readonly data: Uint8Array;
  private readonly dataView: DataView;
  private readonly mask: bigint;
  private watcher?: { close(): void };
  /** samples delivered so far */
  received = 0;

  constructor(readonly mapFd: number, private readonly onSample: SampleCallback) {
    const info = mapInfo(mapFd);
    if (info.type !== 27) throw new BpfError("EINVAL", `map ${info.id} is not a ringbuf (type ${info.type})`);
    const size = info.maxEntries;
    this.consumerMap = mmapShared(mapFd, PAGE, 0, true, "ringbuf consumer page");
    try {
      this.producerMap = mmapShared(mapFd, PAGE + 2 * size, PAGE, false, "ringbuf producer/data pages");
    } catch (e) {
      this.consumerMap.unmap();
      throw e;
    }
    this.consumerPos = new BigUint64Array(this.consumerMap.bytes.buffer, 0, 1);
    this.producerPos = new BigUint64Array(this.producerMap.bytes.buffer, 0, 1);
    this.data = new Uint8Array(this.producerMap.bytes.buffer, PAGE, 2 * size);
    this.dataView = new DataView(this.data.buffer, this.data.byteOffset, this.data.byteLength);
    this.mask = BigInt(size - 1);
  }

  /** Delivers every committed sample now; returns how many. Discarded records are skipped, a busy one stops the walk. */
  consume(): number {
    // positions as Numbers (exact below 2^53 bytes of traffic); one BigInt store per call, none per record
    let cons = Number(Atomics.load(this.consumerPos, 0));
    const prod = Number(Atomics.load(this.producerPos, 0));
    const mask = Number(this.mask);
    let n = 0;
    while (cons < prod) {
      const off = cons % (mask + 1);
      // read after the producer position (Atomics.load orders it): the kernel clears BUSY only once the sample is written
      const len = this.dataView.getUint32(off, true);
      if (len & BUSY) break;
      const sampleLen = len & ~(BUSY | DISCARD);
      cons += (sampleLen + HDR + 7) & ~7;
      if (!(len & DISCARD)) {
        this.onSample(this.data.subarray(off + HDR, off + HDR + sampleLen));
        n++;
      }
    }
    if (n || cons !== Number(Atomics.load(this.consumerPos, 0))) Atomics.store(this.consumerPos, 0, BigInt(cons));
    this.received += n;
    return n;
  }

  /** Consumes whenever the kernel signals new data (epoll on the map fd) until close(). */
  start(): void {
    if (this.watcher) return;
    this.watcher = watchReadable(this.mapFd, () => this.consume());
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.producerMap.unmap();
    this.consumerMap.unmap();
  }
}
