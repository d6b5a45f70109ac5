// Shapes shared by the capture readers and writer.

import { BpfError } from "../errors.ts";

/** One packet record. `data` is a view into the input (copied only when a record straddles input chunks). */
export interface CapturePacket {
  /** LINKTYPE_* of the interface the packet was captured on (pcap: the file's). */
  readonly linktype: number;
  /** Timestamp: seconds since the epoch and nanoseconds. */
  readonly ts: { readonly sec: number; readonly nsec: number };
  /** Captured bytes (data.length). */
  readonly caplen: number;
  /** Length on the wire. */
  readonly len: number;
  readonly data: Uint8Array;
  /** pcapng interface id (index within its section); 0 for pcap. */
  readonly interface: number;
  /** Byte offset of the record in the file. */
  readonly offset: number;
  /** "Modified" pcap (magic a1b2cd34) extras: interface index, protocol and packet type from the record header. */
  readonly ifindex?: number;
  readonly protocol?: number;
  readonly pktType?: number;
}

export interface CaptureInterface {
  readonly linktype: number;
  readonly snaplen: number;
  /** Timestamp units per second (if_tsresol): 1e6 by default, 1e9 for nanosecond files, 2^n for binary. */
  readonly tsresol: bigint;
  /** if_tsoffset: seconds added to every timestamp. */
  readonly tsoffset: bigint;
  readonly name?: string;
}

export type CaptureFormat = "pcap" | "pcap-modified" | "pcapng";

/** What the file header says. */
export interface CaptureInfo {
  readonly format: CaptureFormat;
  readonly byteOrder: "le" | "be";
  readonly versionMajor: number;
  readonly versionMinor: number;
  /** Link type of the file (pcapng: of the first interface), as libpcap reports it. */
  readonly linktype: number;
  /** Upper bits of a pcap link-type field (FCS length etc.), 0 for pcapng. */
  readonly linktypeExt: number;
  /** Snapshot length as libpcap adjusts it (0 or > INT_MAX → the link type's maximum). */
  readonly snaplen: number;
  /** "us" or "ns" for pcap; pcapng: the first interface's resolution. */
  readonly tsPrecision: "us" | "ns" | "other";
  /** pcapng: the interfaces seen so far (grows while reading); pcap: one. */
  readonly interfaces: readonly CaptureInterface[];
}

/**
 * A malformed or truncated capture file. `libpcapMessage` is libpcap's own text (what tcpdump prints after
 * "tcpdump: " when opening, or "tcpdump: pcap_loop: " while reading); the message adds the byte offset.
 */
export class CaptureError extends BpfError {
  readonly libpcapMessage: string;
  readonly phase: "open" | "read";
  constructor(libpcapMessage: string, offset: number, phase: "open" | "read") {
    super("FORMAT", `${libpcapMessage} (at byte offset ${offset})`, { offset });
    this.name = "CaptureError";
    this.libpcapMessage = libpcapMessage;
    this.phase = phase;
  }
  /** The line tcpdump 4.99 prints on stderr for this error. */
  tcpdumpText(): string {
    return this.phase === "open" ? `tcpdump: ${this.libpcapMessage}` : `tcpdump: pcap_loop: ${this.libpcapMessage}`;
  }
}

/** Reader options. */
export interface ReadOptions {
  /** Accept pcapng interfaces whose link type differs from the first (libpcap 1.10 refuses them). */
  readonly allowMixedLinktypes?: boolean;
}
