// Opening a capture file like pcap_open_offline(): read the 4-byte magic, try pcap then pcapng, else
// "unknown file format". Packets stream from a generator; an error in the middle is thrown after every good
// packet before it was delivered (tcpdump prints those packets, then the error). The same parsers serve an
// asynchronous stream: a record whose bytes have not all arrived is parsed again once they have.

import type { CaptureInput } from "./source.ts";
import { ByteSource, NEED_MORE } from "./source.ts";
import { isPcapMagic, openPcap } from "./pcap.ts";
import { BT_SHB, openPcapng } from "./pcapng.ts";
import type { CaptureInfo, CapturePacket, ReadOptions } from "./types.ts";
import { CaptureError } from "./types.ts";

export type { CaptureInput } from "./source.ts";

export interface OpenCapture {
  readonly info: CaptureInfo;
  /** The packet records, in file order. Call once. */
  packets(): Generator<CapturePacket>;
}

export interface OpenCaptureAsync {
  readonly info: CaptureInfo;
  /** The packet records, in file order, as the stream delivers them. Call once. */
  packets(): AsyncGenerator<CapturePacket>;
}

/** A stream of byte chunks: an async iterable (Node streams) or a WHATWG ReadableStream. */
export type AsyncCaptureInput = AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;

function openWith(src: ByteSource, options: ReadOptions): { info: CaptureInfo; next: () => CapturePacket | null } {
  const magic = src.read(4);
  if (magic.length !== 4) {
    throw new CaptureError(`truncated dump file; tried to read 4 file header bytes, only got ${magic.length}`, 0, "open");
  }
  const magicLe = new DataView(magic.buffer, magic.byteOffset, 4).getUint32(0, true);
  if (isPcapMagic(magicLe)) return openPcap(src, magic, options);
  if (magicLe === BT_SHB) {
    const ng = openPcapng(src, options);
    if (ng) return ng;
  }
  throw new CaptureError("unknown file format", 0, "open");
}

/** Reads the file header(s); throws a CaptureError (libpcap's text, byte offset) when libpcap would refuse it. */
export function openCapture(input: CaptureInput, options: ReadOptions = {}): OpenCapture {
  const { info, next } = openWith(new ByteSource(input), options);
  return {
    info,
    *packets() {
      for (let p = next(); p !== null; p = next()) yield p;
    },
  };
}

/** Every packet of a capture file (open errors are thrown by the first next()). */
export function* readCapture(input: CaptureInput, options: ReadOptions = {}): Generator<CapturePacket> {
  yield* openCapture(input, options).packets();
}

/** openCapture over an asynchronous stream of chunks, reading only as far as each record needs. */
export async function openCaptureAsync(input: AsyncCaptureInput, options: ReadOptions = {}): Promise<OpenCaptureAsync> {
  const src = new ByteSource("push");
  const it: AsyncIterator<Uint8Array> = Symbol.asyncIterator in input
    ? (input as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()
    : readerIterator(input as ReadableStream<Uint8Array>);
  const feed = async (): Promise<void> => {
    const r = await it.next();
    if (r.done) src.end();
    else src.push(r.value);
  };
  const attempt = async <T>(step: () => T): Promise<T> => {
    src.mark();
    for (;;) {
      try {
        return step();
      } catch (e) {
        if (e !== NEED_MORE) throw e;
        src.reset();
        await feed();
      }
    }
  };
  const { info, next } = await attempt(() => openWith(src, options));
  return {
    info,
    async *packets() {
      for (let p = await attempt(next); p !== null; p = await attempt(next)) yield p;
    },
  };
}

/** Every packet of an asynchronous stream (open errors are thrown by the first next()). */
export async function* readCaptureAsync(input: AsyncCaptureInput, options: ReadOptions = {}): AsyncGenerator<CapturePacket> {
  yield* (await openCaptureAsync(input, options)).packets();
}

function readerIterator(stream: ReadableStream<Uint8Array>): AsyncIterator<Uint8Array> {
  const reader = stream.getReader();
  return {
    next: async () => {
      const r = await reader.read();
      return r.done ? { done: true, value: undefined } : { done: false, value: r.value };
    },
  };
}
