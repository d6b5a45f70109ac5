// The pcapng format as libpcap 1.10 reads it (sf-pcapng.c): a Section Header Block in either byte order, then
// blocks of any type; Interface Description Blocks (if_tsresol, if_tsoffset), Enhanced, Simple and obsolete
// Packet Blocks; unknown blocks skipped; several sections (byte order fixed by the first); the same checks and
// error texts as libpcap, including its refusal of interfaces whose link type differs from the first.

import type { ByteSource } from "./source.ts";
import type { CaptureInfo, CaptureInterface, CapturePacket, ReadOptions } from "./types.ts";
import { CaptureError } from "./types.ts";
import { adjustSnapshot } from "./pcap.ts";
import { maxSnaplenForLinktype } from "./snaplen.ts";

export const BT_SHB = 0x0a0d0d0a;
export const BT_IDB = 0x00000001;
export const BT_PB = 0x00000002;
export const BT_SPB = 0x00000003;
export const BT_EPB = 0x00000006;
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BT_SHB_INSANE_MAX = 1024 * 1024;
const INITIAL_MAX_BLOCKSIZE = 16 * 1024 * 1024;
const OPT_ENDOFOPT = 0;
const IF_NAME = 2;
const IF_TSRESOL = 9;
const IF_TSOFFSET = 14;

interface Block {
  readonly type: number;
  readonly body: DataView;
  readonly bytes: Uint8Array;
  readonly offset: number;
}

interface Iface extends CaptureInterface {
  /** Decimal resolutions up to 1e9: nanoseconds per unit, for the fast path; 0 → BigInt path. */
  readonly nsPerUnit: number;
  readonly resolNumber: number;
}

/** Opens a pcapng file whose first 4 bytes (BT_SHB) were read; null when it is not pcapng after all. */
export function openPcapng(src: ByteSource, options: ReadOptions):
  { info: CaptureInfo; next: () => CapturePacket | null } | null {
  const lenBytes = src.read(4);
  if (lenBytes.length < 4) return null; // "possibly a weird short text file": not pcapng
  const bom = src.read(4);
  if (bom.length < 4) return null;
  const bomLe = new DataView(bom.buffer, bom.byteOffset, 4).getUint32(0, true);
  let le: boolean;
  if (bomLe === BYTE_ORDER_MAGIC) le = true;
  else if (new DataView(bom.buffer, bom.byteOffset, 4).getUint32(0, false) === BYTE_ORDER_MAGIC) le = false;
  else return null;
  const totalLength = new DataView(lenBytes.buffer, lenBytes.byteOffset, 4).getUint32(0, le);
  const minShb = 8 + 16 + 4;
  if (totalLength < minShb || totalLength > BT_SHB_INSANE_MAX) {
    throw new CaptureError(`Section Header Block in pcapng dump file has invalid length ${minShb} < _${totalLength}_ < `
      + `${BT_SHB_INSANE_MAX} (BT_SHB_INSANE_MAX)`, 4, "open");
  }
  const shbRest = src.read(totalLength - 12);
  if (shbRest.length !== totalLength - 12) {
    throw new CaptureError(`truncated pcapng dump file; tried to read ${totalLength - 12} bytes, only got ${shbRest.length}`,
      12, "open");
  }
  const sv = new DataView(shbRest.buffer, shbRest.byteOffset, shbRest.length);
  const versionMajor = sv.getUint16(0, le);
  const versionMinor = sv.getUint16(2, le);
  if (!(versionMajor === 1 && (versionMinor === 0 || versionMinor === 2))) {
    throw new CaptureError(`unsupported pcapng savefile version ${versionMajor}.${versionMinor}`, 12, "open");
  }

  let maxBlocksize = INITIAL_MAX_BLOCKSIZE;
  const interfaces: Iface[] = [];
  const allInterfaces: CaptureInterface[] = [];

  // read_block(): header, size checks, body, trailer check. Null at a clean end of file.
  function readBlock(phase: "open" | "read"): Block | null {
    const offset = src.offset;
    const h = src.read(8);
    if (h.length === 0) return null;
    if (h.length !== 8) {
      throw new CaptureError(`truncated pcapng dump file; tried to read 8 bytes, only got ${h.length}`, offset, phase);
    }
    const hv = new DataView(h.buffer, h.byteOffset, 8);
    const type = hv.getUint32(0, le);
    const total = hv.getUint32(4, le);
    if (total < 12) {
      throw new CaptureError(`block in pcapng dump file has a length of ${total} < 12`, offset, phase);
    }
    if (total % 4 !== 0) {
      throw new CaptureError(`block in pcapng dump file has a length of ${total} that is not a multiple of 4`,
        offset, phase);
    }
    if (total > Math.max(maxBlocksize, 2048, totalLength)) {
      throw new CaptureError(`pcapng block size ${total} > maximum ${maxBlocksize}`, offset, phase);
    }
    const rest = src.read(total - 8);
    if (rest.length !== total - 8) {
      throw new CaptureError(`truncated pcapng dump file; tried to read ${total - 8} bytes, only got ${rest.length}`,
        offset + 8, phase);
    }
    const rv = new DataView(rest.buffer, rest.byteOffset, rest.length);
    if (rv.getUint32(rest.length - 4, le) !== total) {
      throw new CaptureError("block total length in header and trailer don't match", offset, phase);
    }
    const body = rest.subarray(0, rest.length - 4);
    return { type, bytes: body, body: new DataView(body.buffer, body.byteOffset, body.length), offset };
  }

  function tooShort(b: Block, phase: "open" | "read"): never {
    throw new CaptureError(`block of type ${b.type} in pcapng dump file is too short`, b.offset, phase);
  }

  // add_interface() + process_idb_options().
  function addInterface(b: Block, phase: "open" | "read"): Iface {
    if (b.bytes.length < 8) tooShort(b, phase);
    const linktype = b.body.getUint16(0, le);
    const snaplen = b.body.getUint32(4, le);
    let tsresol = 1_000_000n;
    let tsoffset = 0n;
    let decimalDigits = 6;
    let name: string | undefined;
    let sawResol = false;
    let sawOffset = false;
    let at = 8;
    // if_tsresol and if_tsoffset have a fixed length and may appear once (process_idb_options)
    const checkSingle = (option: string, length: number, want: number, seen: boolean): void => {
      if (length !== want) {
        throw new CaptureError(`Interface Description Block has ${option} option with length ${length} != ${want}`,
          b.offset, phase);
      }
      if (seen) throw new CaptureError(`Interface Description Block has more than one ${option} option`, b.offset, phase);
    };
    options: while (at < b.bytes.length) {
      if (b.bytes.length - at < 4) tooShort(b, phase);
      const code = b.body.getUint16(at, le);
      const length = b.body.getUint16(at + 2, le);
      const padded = Math.ceil(length / 4) * 4;
      if (b.bytes.length - at - 4 < padded) tooShort(b, phase);
      const value = at + 4;
      at = value + padded;
      switch (code) {
        case OPT_ENDOFOPT:
          if (length !== 0) {
            throw new CaptureError(`Interface Description Block has opt_endofopt option with length ${length} != 0`,
              b.offset, phase);
          }
          break options;
        case IF_TSRESOL: {
          checkSingle("if_tsresol", length, 1, sawResol);
          sawResol = true;
          const r = b.bytes[value]!;
          if (r & 0x80) {
            const shift = r & 0x7f;
            if (shift > 63) {
              throw new CaptureError(`Interface Description Block if_tsresol option resolution 2^-${shift} is too high`,
                b.offset, phase);
            }
            tsresol = 1n << BigInt(shift);
            decimalDigits = -1;
          } else {
            if (r > 19) {
              throw new CaptureError(`Interface Description Block if_tsresol option resolution 10^-${r} is too high`,
                b.offset, phase);
            }
            tsresol = 10n ** BigInt(r);
            decimalDigits = r;
          }
          break;
        }
        case IF_TSOFFSET:
          checkSingle("if_tsoffset", length, 8, sawOffset);
          sawOffset = true;
          tsoffset = b.body.getBigUint64(value, le);
          break;
        case IF_NAME:
          name = new TextDecoder().decode(b.bytes.subarray(value, value + length)).replace(/\0+$/, "");
          break;
      }
    }
    const iface: Iface = {
      linktype, snaplen, tsresol, tsoffset, ...(name !== undefined ? { name } : {}),
      nsPerUnit: decimalDigits >= 0 && decimalDigits <= 9 ? 10 ** (9 - decimalDigits) : 0,
      resolNumber: decimalDigits >= 0 && decimalDigits <= 9 ? 10 ** decimalDigits : 0,
    };
    interfaces.push(iface);
    allInterfaces.push(iface);
    return iface;
  }

  // Find the first IDB (pcap_ng_check_header).
  let first: Iface | undefined;
  while (!first) {
    const b = readBlock("open");
    if (!b) throw new CaptureError("the capture file has no Interface Description Blocks", src.offset, "open");
    if (b.type === BT_IDB) first = addInterface(b, "open");
    else if (b.type === BT_EPB || b.type === BT_SPB || b.type === BT_PB) {
      throw new CaptureError("the capture file has a packet block before any Interface Description Blocks",
        b.offset, "open");
    }
  }
  const linktype = first.linktype;
  const snapshot = adjustSnapshot(linktype, first.snaplen);
  const forSnaplen = 8 + 20 + maxSnaplenForLinktype(linktype) + 131072 + 4;
  if (forSnaplen > maxBlocksize) maxBlocksize = forSnaplen;

  const info: CaptureInfo = {
    format: "pcapng", byteOrder: le ? "le" : "be", versionMajor, versionMinor, linktype, linktypeExt: 0,
    snaplen: snapshot,
    tsPrecision: first.tsresol === 1_000_000n ? "us" : first.tsresol === 1_000_000_000n ? "ns" : "other",
    interfaces: allInterfaces,
  };

  // The next packet (null at the end). Blocks that change state (IDB, SHB) are processed whole, then marked, so a
  // rewind for more input (push mode) never processes them twice.
  function next(): CapturePacket | null {
    for (;; src.mark()) {
      const b = readBlock("read");
      if (!b) return null;
      let ifaceId: number;
      let caplen: number;
      let len: number;
      let tsHi = 0;
      let tsLo = 0;
      let dataAt: number;
      switch (b.type) {
        case BT_EPB:
        case BT_PB:
          if (b.bytes.length < 20) tooShort(b, "read");
          // the obsolete Packet Block has a u16 interface id (then a u16 drops count) where EPB has a u32 one
          ifaceId = b.type === BT_EPB ? b.body.getUint32(0, le) : b.body.getUint16(0, le);
          tsHi = b.body.getUint32(4, le);
          tsLo = b.body.getUint32(8, le);
          caplen = b.body.getUint32(12, le);
          len = b.body.getUint32(16, le);
          dataAt = 20;
          break;
        case BT_SPB:
          if (b.bytes.length < 4) tooShort(b, "read");
          ifaceId = 0;
          len = b.body.getUint32(0, le);
          caplen = Math.min(len, snapshot);
          dataAt = 4;
          break;
        case BT_IDB: {
          if (b.bytes.length < 8) tooShort(b, "read");
          const lt = b.body.getUint16(0, le);
          if (lt !== linktype && !options.allowMixedLinktypes) {
            throw new CaptureError(`an interface has a type ${lt} different from the type of the first interface`,
              b.offset, "read");
          }
          const sl = b.body.getUint32(4, le);
          if (adjustSnapshot(lt, sl) !== snapshot && !options.allowMixedLinktypes) {
            throw new CaptureError(`an interface has a snapshot length ${sl} different from the snapshot length of `
              + "the first interface", b.offset, "read");
          }
          addInterface(b, "read");
          continue;
        }
        case BT_SHB: {
          if (b.bytes.length < 16) tooShort(b, "read");
          const magic = b.body.getUint32(0, le);
          if (magic !== BYTE_ORDER_MAGIC) {
            throw new CaptureError(magic === 0x4d3c2b1a ? "the file has sections with different byte orders"
              : "the file has a section with a bad byte order magic field", b.offset, "read");
          }
          const major = b.body.getUint16(4, le);
          if (major !== 1) {
            throw new CaptureError(`unknown pcapng savefile major version number ${major}`, b.offset, "read");
          }
          interfaces.length = 0; // a new section has its own interfaces
          continue;
        }
        default:
          continue; // unknown block types are skipped
      }
      if (ifaceId >= interfaces.length) {
        throw new CaptureError(`a packet arrived on interface ${ifaceId}, but there's no Interface Description Block `
          + "for that interface", b.offset, "read");
      }
      if (caplen > snapshot) {
        throw new CaptureError(`invalid packet capture length ${caplen}, bigger than snaplen of ${snapshot}`,
          b.offset, "read");
      }
      if (b.bytes.length - dataAt < caplen) tooShort(b, "read");
      const iface = interfaces[ifaceId]!;
      const ts = timestamp(iface, tsHi, tsLo);
      return {
        linktype: iface.linktype, ts, caplen, len, data: b.bytes.subarray(dataAt, dataAt + caplen),
        interface: ifaceId, offset: b.offset,
      };
    }
  }
  return { info, next };
}

/** Splits a 64-bit timestamp in interface units into seconds (+ if_tsoffset) and nanoseconds. */
function timestamp(iface: Iface, hi: number, lo: number): { sec: number; nsec: number } {
  if (iface.nsPerUnit > 0 && iface.tsoffset === 0n) {
    // Long division of hi:lo by a resolution below 2^32, in 16-bit digits so every step is exact in a double.
    const r = iface.resolNumber;
    let rem = 0;
    let q = 0;
    for (const digit of [hi >>> 16, hi & 0xffff, lo >>> 16, lo & 0xffff]) {
      const cur = rem * 65536 + digit;
      const d = Math.floor(cur / r);
      rem = cur - d * r;
      q = q * 65536 + d;
    }
    return { sec: q, nsec: rem * iface.nsPerUnit };
  }
  const t = (BigInt(hi) << 32n) | BigInt(lo);
  const sec = t / iface.tsresol + iface.tsoffset;
  const frac = t % iface.tsresol;
  return { sec: Number(BigInt.asUintN(64, sec)), nsec: Number((frac * 1_000_000_000n) / iface.tsresol) };
}
