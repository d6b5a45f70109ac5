// The pcap savefile format as libpcap 1.10 reads it (sf-pcap.c): 24-byte file header in either byte order,
// microsecond (a1b2c3d4), nanosecond (a1b23c4d) and "modified" (a1b2cd34, 24-byte record headers) magics,
// versions 2.0-2.4 (and DG/UX 543.0), caplen/len swapped in old versions, the same sanity checks and messages.

import type { ByteSource } from "./source.ts";
import type { CaptureInfo, CapturePacket, ReadOptions } from "./types.ts";
import { CaptureError } from "./types.ts";
import { maxSnaplenForLinktype } from "./snaplen.ts";

export const TCPDUMP_MAGIC = 0xa1b2c3d4;
export const KUZNETZOV_TCPDUMP_MAGIC = 0xa1b2cd34;
export const NSEC_TCPDUMP_MAGIC = 0xa1b23c4d;
const MAGICS = [TCPDUMP_MAGIC, KUZNETZOV_TCPDUMP_MAGIC, NSEC_TCPDUMP_MAGIC];
const FILE_HEADER_SIZE = 24;
const LINKTYPE_ETHERNET = 1;
const INT_MAX = 0x7fffffff;

const swap32 = (v: number): number =>
  (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;

/** pcap_adjust_snapshot(): 0 or > INT_MAX means "the maximum for this link type". */
export function adjustSnapshot(linktype: number, snaplen: number): number {
  return snaplen === 0 || snaplen > INT_MAX ? maxSnaplenForLinktype(linktype) : snaplen;
}

/** True when the 4 magic bytes (as read little-endian) start a pcap file in either byte order. */
export function isPcapMagic(magicLe: number): boolean {
  return MAGICS.includes(magicLe) || MAGICS.includes(swap32(magicLe));
}

type LengthsSwapped = "no" | "maybe" | "yes";

/** pcap_check_header() after the 4 magic bytes were read; returns the info and a record iterator. */
export function openPcap(src: ByteSource, magicBytes: Uint8Array, _options: ReadOptions):
  { info: CaptureInfo; next: () => CapturePacket | null } {
  const magicLe = new DataView(magicBytes.buffer, magicBytes.byteOffset, 4).getUint32(0, true);
  const littleEndian = MAGICS.includes(magicLe);
  const magic = littleEndian ? magicLe : swap32(magicLe);
  const rest = src.read(FILE_HEADER_SIZE - 4);
  if (rest.length !== FILE_HEADER_SIZE - 4) {
    throw new CaptureError(`truncated dump file; tried to read ${FILE_HEADER_SIZE} file header bytes, only got ${rest.length}`,
      src.offset, "open");
  }
  const hv = new DataView(rest.buffer, rest.byteOffset, rest.length);
  const versionMajor = hv.getUint16(0, littleEndian);
  const versionMinor = hv.getUint16(2, littleEndian);
  const snaplenField = hv.getUint32(12, littleEndian);
  const linktypeField = hv.getUint32(16, littleEndian);
  if (versionMajor < 2) throw new CaptureError("archaic pcap savefile format", 4, "open");
  if (!((versionMajor === 2 && versionMinor <= 4) || (versionMajor === 543 && versionMinor === 0))) {
    throw new CaptureError(`unsupported pcap savefile version ${versionMajor}.${versionMinor}`, 4, "open");
  }
  const linktype = linktypeField & 0x03ffffff; // LT_LINKTYPE
  const linktypeExt = (linktypeField & 0xfc000000) >>> 0;
  let snapshot = adjustSnapshot(linktype, snaplenField);
  const modified = magic === KUZNETZOV_TCPDUMP_MAGIC;
  const nano = magic === NSEC_TCPDUMP_MAGIC;
  const lengthsSwapped: LengthsSwapped = versionMajor === 543 ? "yes"
    : versionMajor === 2 && versionMinor < 3 ? "yes" : versionMajor === 2 && versionMinor === 3 ? "maybe" : "no";
  // The patched libpcap adds a faked Ethernet header in cooked mode: allow 14 more bytes.
  if (modified && linktype === LINKTYPE_ETHERNET) snapshot = Math.min(snapshot + 14, INT_MAX);
  const hdrsize = modified ? 24 : 16;
  const info: CaptureInfo = {
    format: modified ? "pcap-modified" : "pcap", byteOrder: littleEndian ? "le" : "be", versionMajor, versionMinor,
    linktype, linktypeExt, snaplen: snapshot, tsPrecision: nano ? "ns" : "us",
    interfaces: [{ linktype, snaplen: snapshot, tsresol: nano ? 1_000_000_000n : 1_000_000n, tsoffset: 0n }],
  };
  const maxCaplen = maxSnaplenForLinktype(linktype);
  const u32 = littleEndian
    ? (b: Uint8Array, at: number): number => (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0
    : (b: Uint8Array, at: number): number => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;

  // One record per call (restartable: nothing changes until the whole record is read); null at the end.
  function next(): CapturePacket | null {
    {
      const offset = src.offset;
      const h = src.read(hdrsize);
      if (h.length === 0) return null;
      if (h.length !== hdrsize) {
        throw new CaptureError(`truncated dump file; tried to read ${hdrsize} header bytes, only got ${h.length}`,
          offset, "read");
      }
      // Fields read straight from the bytes: no DataView per record (this loop runs per packet).
      const sec = u32(h, 0) | 0;
      // libpcap reads the fraction as a signed 32-bit field, but a byte-swapped (big-endian, on this little-endian host)
      // file's field goes through a 32-bit byte swap that yields it unsigned: scaling an out-of-range nanosecond value
      // down to microseconds differs between the two (checked against tcpdump -r F -w)
      const frac = littleEndian ? u32(h, 4) | 0 : u32(h, 4);
      let caplen = u32(h, 8);
      let len = u32(h, 12);
      if (lengthsSwapped === "yes" || (lengthsSwapped === "maybe" && caplen > len)) [caplen, len] = [len, caplen];
      if (caplen > maxCaplen) {
        throw new CaptureError(caplen > snapshot
          ? `invalid packet capture length ${caplen}, bigger than snaplen of ${snapshot}`
          : `invalid packet capture length ${caplen}, bigger than maximum of ${maxCaplen}`, offset, "read");
      }
      let data: Uint8Array;
      if (caplen > snapshot) {
        // Keep the first `snapshot` bytes and discard the rest, as libpcap does for over-long records.
        data = src.read(snapshot);
        if (data.length !== snapshot) {
          throw new CaptureError(`truncated dump file; tried to read ${snapshot} captured bytes, only got ${data.length}`,
            offset + hdrsize, "read");
        }
        const discarded = src.skip(caplen - snapshot);
        if (discarded !== caplen - snapshot) {
          throw new CaptureError(`truncated dump file; tried to read ${caplen} captured bytes, only got ${snapshot + discarded}`,
            offset + hdrsize, "read");
        }
        caplen = snapshot;
      } else {
        data = src.read(caplen);
        if (data.length !== caplen) {
          throw new CaptureError(`truncated dump file; tried to read ${caplen} captured bytes, only got ${data.length}`,
            offset + hdrsize, "read");
        }
      }
      const ts = { sec, nsec: nano ? frac : frac * 1000 };
      if (modified) {
        return {
          linktype, ts, caplen, len, data, interface: 0, offset,
          ifindex: u32(h, 16) | 0, protocol: littleEndian ? h[20]! | (h[21]! << 8) : (h[20]! << 8) | h[21]!, pktType: h[22]!,
        };
      }
      return { linktype, ts, caplen, len, data, interface: 0, offset };
    }
  }
  return { info, next };
}
