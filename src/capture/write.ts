// Writing pcap files the way libpcap's pcap_dump does: a 24-byte header (version 2.4, host = little-endian
// order unless asked), then 16-byte record headers. Microsecond or nanosecond magic.

import { BpfError } from "../errors.ts";
import { NSEC_TCPDUMP_MAGIC, TCPDUMP_MAGIC } from "./pcap.ts";
import { MAXIMUM_SNAPLEN } from "./snaplen.ts";

export interface PcapWriteOptions {
  readonly linktype: number;
  /** Default 262144 (MAXIMUM_SNAPLEN), as tcpdump writes. */
  readonly snaplen?: number;
  /**
   * Upper bits of the link-type field (LT_LINKTYPE_EXT: FCS length and its flag), written back as pcap_dump_open
   * does (`linktype | linktype_ext`). Default 0.
   */
  readonly linktypeExt?: number;
  /** Nanosecond timestamps (magic a1b23c4d); default microseconds (tcpdump -w, reading at its default precision). */
  readonly nano?: boolean;
  /** Default little-endian (the host order of this machine). */
  readonly bigEndian?: boolean;
}

export interface PcapWritePacket {
  readonly ts: { readonly sec: number; readonly nsec: number };
  readonly data: Uint8Array;
  /** Original length; default data.length. */
  readonly len?: number;
}

/** Incremental writer: header() once, then record() per packet; each returns the bytes to append. */
export class PcapWriter {
  private readonly le: boolean;
  private readonly snaplen: number;
  constructor(private readonly options: PcapWriteOptions) {
    this.le = !options.bigEndian;
    this.snaplen = options.snaplen ?? MAXIMUM_SNAPLEN;
    if (!Number.isInteger(options.linktype) || options.linktype < 0 || options.linktype > 0xffffffff) {
      throw new BpfError("EINVAL", `pcap link type ${options.linktype} is not a 32-bit unsigned integer`);
    }
  }

  header(): Uint8Array {
    const b = new Uint8Array(24);
    const v = new DataView(b.buffer);
    v.setUint32(0, this.options.nano ? NSEC_TCPDUMP_MAGIC : TCPDUMP_MAGIC, this.le);
    v.setUint16(4, 2, this.le);
    v.setUint16(6, 4, this.le);
    v.setUint32(16, this.snaplen >>> 0, this.le);
    v.setUint32(20, (this.options.linktype | (this.options.linktypeExt ?? 0)) >>> 0, this.le);
    return b;
  }

  /** One record: the packet is cut to the snapshot length, as when capturing. */
  record(p: PcapWritePacket): Uint8Array {
    const caplen = Math.min(p.data.length, this.snaplen);
    const b = new Uint8Array(16 + caplen);
    const v = new DataView(b.buffer);
    // libpcap divides the signed field, truncating toward zero (an invalid negative nsec stays negative)
    const frac = this.options.nano ? p.ts.nsec : Math.trunc(p.ts.nsec / 1000);
    v.setUint32(0, p.ts.sec >>> 0, this.le);
    v.setUint32(4, frac >>> 0, this.le);
    v.setUint32(8, caplen, this.le);
    v.setUint32(12, (p.len ?? p.data.length) >>> 0, this.le);
    b.set(p.data.subarray(0, caplen), 16);
    return b;
  }
}

/** A whole pcap file in one buffer. */
export function writePcap(packets: Iterable<PcapWritePacket>, options: PcapWriteOptions): Uint8Array {
  const w = new PcapWriter(options);
  const parts = [w.header()];
  for (const p of packets) parts.push(w.record(p));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
