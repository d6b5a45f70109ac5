// A fast path for offline filtering of classic little-endian pcap files: records are located in place (no per-packet
// objects) and matching records are copied verbatim, which is byte-identical to what tcpdump -w writes for such
// files. Anything unusual (big-endian, modified pcap, truncation, caplen above snaplen) returns null so the caller
// uses the general capture reader and its exact error reporting.

export interface PcapLayout {
  readonly linktype: number;
  readonly snaplen: number;
  /** Record offsets (record header start) of every packet, in file order. */
  readonly records: Uint32Array;
}

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;

/** The header of a classic little-endian pcap file this fast path handles, or null. */
export function pcapLeHeader(bytes: Uint8Array): { linktype: number; snaplen: number } | null {
  if (bytes.length < 24) return null;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = v.getUint32(0, true);
  if (magic !== MAGIC_US && magic !== MAGIC_NS) return null;
  if (v.getUint16(4, true) !== 2 || v.getUint16(6, true) !== 4 || v.getUint32(8, true) !== 0 || v.getUint32(12, true) !== 0) return null;
  const snaplen = v.getUint32(16, true);
  const linktype = v.getUint32(20, true);
  if (snaplen === 0 || snaplen > 262144 || (linktype & 0xffff0000) !== 0) return null;
  return { linktype, snaplen };
}

export function scanPcapLe(bytes: Uint8Array): PcapLayout | null {
  const header = pcapLeHeader(bytes);
  if (header === null) return null;
  const { linktype, snaplen } = header;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const offsets: number[] = [];
  let off = 24;
  while (off < bytes.length) {
    if (off + 16 > bytes.length) return null;
    const caplen = v.getUint32(off + 8, true);
    if (caplen > snaplen || off + 16 + caplen > bytes.length) return null;
    offsets.push(off);
    off += 16 + caplen;
  }
  return { linktype, snaplen, records: Uint32Array.from(offsets) };
}
