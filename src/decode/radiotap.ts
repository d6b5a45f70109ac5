// Radiotap headers (LINKTYPE_IEEE802_11_RADIO) as tcpdump prints them before the 802.11 frame: each field of the
// presence bitmaps, little-endian and aligned to its own size from the header's start, as a row of the FIELDS table
// (its parts' sizes, negative for signed, and the text). A field tcpdump does not know ends the header's text with
// "[bit N] "; the FLAGS field's DATAPAD and FCS bits shape the 802.11 frame that follows.

import { type Ctx } from "./context.ts";
import { ieee80211Print } from "./ieee80211.ts";

interface Field {
  /** Part sizes in bytes (1, 2, 4, 8; negative when signed). An 8-byte part yields two values, low then high. */
  readonly parts: readonly number[];
  /** The field's text from its part values and the presence word it was found in. */
  readonly text: (v: readonly number[], present: number) => string;
}

const MCS_BIT = 1 << 19, XCHANNEL_BIT = 1 << 18;

/** HT rates of MCS 33-76 (unequal modulation) at 20 MHz with the long guard interval, in units of 6.5 Mb/s. */
const HT_UNEQUAL = [
  6, 8, 10, 9, 12, 15, 8, 10, 10, 12, 14, 14, 16, 12, 15, 15, 18, 21, 21, 24, 10, 12, 14, 12, 14, 16, 18, 16, 18, 20,
  20, 22, 15, 18, 21, 18, 21, 24, 27, 24, 27, 30, 30, 33,
];
/** Per spatial stream for MCS n%8 (0-31): coded bits times coding rate per subcarrier. */
const HT_STREAM = [0.5, 1, 1.5, 2, 3, 4, 4.5, 5];

/** 802.11n data rate in Mb/s (0 when unknown): 52 data subcarriers at 20 MHz, 108 at 40; 4 µs symbols, 3.6 with short GI. */
function htRate(mcs: number, bw40: boolean, sgi: boolean): number {
  let r20: number;
  if (mcs < 32) r20 = 13 * HT_STREAM[mcs % 8]! * ((mcs >> 3) + 1);
  else if (mcs === 32) return bw40 ? (sgi ? 6 + 2 / 3 : 6) : 0;
  else if (mcs <= 76) r20 = 6.5 * HT_UNEQUAL[mcs - 33]!;
  else return 0;
  const r = bw40 ? r20 * 108 / 52 : r20;
  return sgi ? r / 0.9 : r;
}

function chanInfo(freq: number, flags: number, present: number): string {
  let s = `${freq} MHz`;
  const is = (m: number): boolean => (flags & m) === m;
  if (present & MCS_BIT) s += " 11n";
  else {
    if (is(0x0880)) s += " FHSS";
    if (is(0x0140)) s += flags & 0x4000 ? " 11a/10Mhz" : flags & 0x8000 ? " 11a/5Mhz" : " 11a";
    if (is(0x00c0) || is(0x0480)) s += flags & 0x4000 ? " 11g/10Mhz" : flags & 0x8000 ? " 11g/5Mhz" : " 11g";
    else if (is(0x00a0)) s += " 11b";
    if (flags & 0x10) s += " Turbo";
  }
  if (flags & 0x10000) s += " ht/20";
  else if (flags & 0x40000) s += " ht/40-";
  else if (flags & 0x20000) s += " ht/40+";
  return s + " ";
}

const HT_BW = ["20 MHz", "40 MHz", "20 MHz (L)", "20 MHz (U)"];
const VHT_BW = [
  "20 MHz", "40 MHz", "20 MHz (L)", "20 MHz (U)", "80 MHz", "80 MHz (L)", "80 MHz (U)", "80 MHz (LL)", "80 MHz (LU)",
  "80 MHz (UL)", "80 MHz (UU)", "160 MHz", "160 MHz (L)", "160 MHz (U)", "160 MHz (LL)", "160 MHz (LU)", "160 MHz (UL)",
  "160 MHz (UU)", "160 MHz (LLL)", "160 MHz (LLU)", "160 MHz (LUL)", "160 MHz (UUU)", "160 MHz (ULL)", "160 MHz (ULU)",
  "160 MHz (UUL)", "160 MHz (UUU)",
];

function mcsText([known, flags, mcs]: readonly number[]): string {
  let s = "";
  if (known! & 0x02) {
    const rate = known! & 0x05 ? htRate(mcs!, (flags! & 3) === 1, (flags! & 4) !== 0) : 0;
    s += rate !== 0 ? `${rate.toFixed(1)} Mb/s MCS ${mcs} ` : `MCS ${mcs} `;
  }
  if (known! & 0x01) s += `${HT_BW[flags! & 3]} `;
  if (known! & 0x04) s += `${flags! & 4 ? "short" : "long"} GI `;
  if (known! & 0x08) s += `${flags! & 8 ? "greenfield" : "mixed"} `;
  if (known! & 0x10) s += `${flags! & 0x10 ? "LDPC" : "BCC"} FEC `;
  if (known! & 0x20) s += `RX-STBC${(flags! & 0x60) >> 5} `;
  return s;
}

function vhtText(v: readonly number[]): string {
  const [known, flags, bandwidth] = v;
  const coding = v[7]!;
  let s = "";
  for (let i = 0; i < 4; i++) {
    const ms = v[3 + i]!;
    if ((ms & 0x0f) === 0) continue;
    s += `User ${i} MCS ${ms >> 4} ${coding & (1 << i) ? "LDPC" : "BCC"} FEC `;
  }
  if (known! & 0x40) s += `${VHT_BW[bandwidth! & 0x1f] ?? `unknown (${bandwidth! & 0x1f})`} `;
  if (known! & 0x04) s += `${flags! & 4 ? "short" : "long"} GI `;
  return s;
}

/** An unsigned 64-bit value from its halves, in decimal. */
function u64Text(lo: number, hi: number): string {
  return hi < 0x200000 ? String(hi * 4294967296 + lo) : ((BigInt(hi) << 32n) | BigInt(lo)).toString();
}

/** The default namespace's fields by bit number, as tcpdump 4.99 reads them. */
const FIELDS: readonly (Field | undefined)[] = [
  /* 0 TSFT */ { parts: [8], text: (v) => `${u64Text(v[0]!, v[1]!)}us tsft ` },
  /* 1 FLAGS */ {
    parts: [1],
    text: ([f]) => (f! & 1 ? "cfp " : "") + (f! & 2 ? "short preamble " : "") + (f! & 4 ? "wep " : "") +
      (f! & 8 ? "fragmented " : "") + (f! & 0x40 ? "bad-fcs " : ""),
  },
  /* 2 RATE */ { parts: [1], text: ([r]) => (r! >= 0x80 && r! <= 0x8f ? `MCS ${r! & 0x7f} ` : `${(0.5 * r!).toFixed(1)} Mb/s `) },
  /* 3 CHANNEL */ { parts: [2, 2], text: ([freq, flags], present) => (present & XCHANNEL_BIT ? "" : chanInfo(freq!, flags!, present)) },
  /* 4 FHSS */ { parts: [1, 1], text: ([set, pat]) => `fhset ${set} fhpat ${pat} ` },
  /* 5 DBM_ANTSIGNAL */ { parts: [-1], text: ([d]) => `${d}dBm signal ` },
  /* 6 DBM_ANTNOISE */ { parts: [-1], text: ([d]) => `${d}dBm noise ` },
  /* 7 LOCK_QUALITY */ { parts: [2], text: ([q]) => `${q} sq ` },
  /* 8 TX_ATTENUATION */ { parts: [-2], text: ([a]) => `${-a!} tx power ` },
  // tcpdump reads this 16-bit field as one signed byte
  /* 9 DB_TX_ATTENUATION */ { parts: [-1], text: ([a]) => `${-a!}dB tx attenuation ` },
  /* 10 DBM_TX_POWER */ { parts: [-1], text: ([p]) => `${p}dBm tx power ` },
  /* 11 ANTENNA */ { parts: [1], text: ([a]) => `antenna ${a} ` },
  /* 12 DB_ANTSIGNAL */ { parts: [1], text: ([d]) => `${d}dB signal ` },
  /* 13 DB_ANTNOISE */ { parts: [1], text: ([d]) => `${d}dB noise ` },
  /* 14 RX_FLAGS */ { parts: [2], text: () => "" },
  undefined, undefined, undefined,
  /* 18 XCHANNEL */ { parts: [4, 2, 1, 1], text: ([flags, freq], present) => chanInfo(freq!, flags!, present) },
  /* 19 MCS */ { parts: [1, 1, 1], text: mcsText },
  /* 20 AMPDU_STATUS */ { parts: [4, 2, 1, 1], text: () => "" },
  /* 21 VHT */ { parts: [2, 1, 1, 1, 1, 1, 1, 1, 1, 2], text: vhtText },
];

/** Reads fields as libpcap's cpack does: each aligned to its size from the header start, within the header's length. */
class Cursor {
  next: number;
  constructor(private readonly ctx: Ctx, private readonly base: number, private readonly len: number) { this.next = base; }
  /** The offset of an aligned n-byte value, or -1 when it does not fit. */
  reserve(n: number): number {
    const mis = (this.next - this.base) % n;
    const at = mis === 0 ? this.next : this.next + n - mis;
    return at - this.base + n > this.len ? -1 : at;
  }
  read(size: number, out: number[]): boolean {
    const n = size < 0 ? -size : size;
    const at = n === 1 ? (this.next - this.base < this.len ? this.next : -1) : this.reserve(n);
    if (at < 0) return false;
    const c = this.ctx;
    if (n === 1) out.push(size < 0 ? (c.u8(at) << 24) >> 24 : c.u8(at));
    else if (n === 2) out.push(size < 0 ? (c.le16(at) << 16) >> 16 : c.le16(at));
    else if (n === 4) out.push(c.le32(at));
    else out.push(c.le32(at), c.le32(at + 4));
    this.next = at + n;
    return true;
  }
  skip(n: number): boolean {
    if (this.next - this.base + n > this.len) return false;
    this.next += n;
    return true;
  }
}

const NAMESPACE = 1 << 29, VENDOR_NAMESPACE = 1 << 30;

/** One presence word's fields; false when the header cannot be read further. */
function namespacePrint(ctx: Ctx, cur: Cursor, present: number, bit0: number, state: { flags: number }): boolean {
  for (let bits = present; bits !== 0; bits &= bits - 1) {
    const bitno = 31 - Math.clz32(bits & -bits);
    if (bitno >= 29) break;
    const bit = bit0 + bitno;
    const field = FIELDS[bit];
    if (field === undefined) {
      ctx.out += `[bit ${bit}] `;
      return false;
    }
    const v: number[] = [];
    for (const size of field.parts) {
      if (!cur.read(size, v)) {
        ctx.out += " [|802.11_radio]";
        return false;
      }
    }
    if (bit === 1) state.flags = v[0]!;
    ctx.out += field.text(v, present);
  }
  return true;
}

/** A radiotap header and the 802.11 frame behind it; returns both headers' length. */
export function radiotapPrint(ctx: Ctx, off: number, length: number): number {
  ctx.proto = "802.11_radio";
  const caplen = ctx.avail(off);
  if (caplen < 8) { ctx.out += " [|802.11_radio]"; return caplen; }
  const len = ctx.le16(off + 2);
  if (len < 8 || caplen < len) { ctx.out += " [|802.11_radio]"; return caplen; }
  const cur = new Cursor(ctx, off, len);
  cur.skip(8);
  const end = off + len;
  let last = off + 4;
  while (last + 4 <= end && (ctx.le32(last) & 0x80000000) !== 0) {
    last += 4;
    cur.skip(4);
  }
  if (last + 4 > end) { ctx.out += " [|802.11_radio]"; return caplen; }
  const state = { flags: 0 };
  let bit0 = 0, vendor = false, skipLength = 0;
  for (let at = off + 4; at <= last; at += 4) {
    const present = ctx.le32(at);
    if (vendor) {
      if (!cur.skip(skipLength)) break;
      skipLength = 0;
    } else if (!namespacePrint(ctx, cur, present, bit0, state)) break;
    switch (present & (NAMESPACE | VENDOR_NAMESPACE)) {
      case 0: bit0 += 32; break;
      case NAMESPACE: bit0 = 0; vendor = false; skipLength = 0; break;
      case VENDOR_NAMESPACE: {
        // OUI, sub-namespace and skip length; tcpdump checks room for an aligned 16-bit word, then reads bytewise
        bit0 = 0;
        vendor = true;
        const v: number[] = [];
        if (cur.reserve(2) < 0 || !cur.read(1, v) || !cur.read(1, v) || !cur.read(1, v) || !cur.read(1, v) || !cur.read(2, v)) {
          ctx.out += " [|802.11_radio]";
          break;
        }
        skipLength = v[4]!;
        break;
      }
    }
  }
  return len + ieee80211Print(ctx, off + len, length - len, caplen - len, (state.flags & 0x20) !== 0, state.flags & 0x10 ? 4 : 0);
}
