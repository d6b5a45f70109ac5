// Opening a capture file like pcap_open_offline(): read the 4-byte magic, try pcap then pcapng, else
// "unknown file format". Packets stream from a generator; an error in the middle is thrown after every good
// packet before it was delivered (tcpdump prints those packets, then the error).

import type { CaptureInput } from "./source.ts";
import { ByteSource } from "./source.ts";
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

/** Reads the file header(s); throws a CaptureError (libpcap's text, byte offset) when libpcap would refuse it. */
export function openCapture(input: CaptureInput, options: ReadOptions = {}): OpenCapture {
  const src = new ByteSource(input);
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

/** Every packet of a capture file (open errors are thrown by the first next()). */
export function* readCapture(input: CaptureInput, options: ReadOptions = {}): Generator<CapturePacket> {
  yield* openCapture(input, options).packets();
}
