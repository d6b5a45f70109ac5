// The state one packet's printers share: the bytes, the captured end (tcpdump's snapend), the text built so far, the
// protocol being printed (named in " [|proto]" when the capture ends inside it) and the options.

import type { PrintOptions } from "./options.ts";

/** Thrown when a printer reads past the captured bytes; the packet's line then ends with " [|proto]". */
export const TRUNCATED: unique symbol = Symbol("truncated");

/** Per-capture state that outlives one packet: TCP conversations for relative sequence numbers. */
export interface TcpSeqState {
  readonly seq: number;
  readonly ack: number;
}

export class Ctx {
  b: Uint8Array = new Uint8Array(0);
  /** One past the last captured byte a printer may read (lowered by nested protocols' lengths). */
  end = 0;
  out = "";
  proto = "";
  readonly o: PrintOptions;
  /** Canonical 4-tuple → the conversation's initial sequence numbers (tcpdump's tcp_seq_hash). */
  readonly tcpSeq = new Map<string, TcpSeqState>();
  readonly hosts: ReadonlyMap<string, string>;
  constructor(o: PrintOptions, hosts: ReadonlyMap<string, string> = new Map()) {
    this.o = o;
    this.hosts = hosts;
  }

  need(off: number, n: number): void {
    if (off + n > this.end || off < 0) throw TRUNCATED;
  }
  u8(off: number): number {
    if (off >= this.end || off < 0) throw TRUNCATED;
    return this.b[off]!;
  }
  u16(off: number): number {
    if (off + 2 > this.end || off < 0) throw TRUNCATED;
    return (this.b[off]! << 8) | this.b[off + 1]!;
  }
  u24(off: number): number {
    if (off + 3 > this.end || off < 0) throw TRUNCATED;
    return (this.b[off]! << 16) | (this.b[off + 1]! << 8) | this.b[off + 2]!;
  }
  u32(off: number): number {
    if (off + 4 > this.end || off < 0) throw TRUNCATED;
    return ((this.b[off]! << 24) | (this.b[off + 1]! << 16) | (this.b[off + 2]! << 8) | this.b[off + 3]!) >>> 0;
  }
  le16(off: number): number {
    if (off + 2 > this.end || off < 0) throw TRUNCATED;
    return this.b[off]! | (this.b[off + 1]! << 8);
  }
  le32(off: number): number {
    if (off + 4 > this.end || off < 0) throw TRUNCATED;
    return (this.b[off]! | (this.b[off + 1]! << 8) | (this.b[off + 2]! << 16) | (this.b[off + 3]! << 24)) >>> 0;
  }
  /** Bytes captured from off on (0 when off is past the end). */
  avail(off: number): number {
    return off < this.end ? this.end - off : 0;
  }

  /** a.b.c.d, or the host name when names are on and one is known. */
  ip4(off: number): string {
    this.need(off, 4);
    const b = this.b;
    const s = `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
    if (this.o.nflag === 0 && this.hosts.size > 0) return this.hosts.get(s) ?? s;
    return s;
  }
  ip6(off: number): string {
    this.need(off, 16);
    const s = formatIp6(this.b, off);
    if (this.o.nflag === 0 && this.hosts.size > 0) return this.hosts.get(s) ?? s;
    return s;
  }
  /** A MAC address; without -n tcpdump appends the vendor ("(oui Cisco)", "(oui Unknown)"). */
  mac(off: number): string {
    this.need(off, 6);
    const s = formatMac(this.b, off);
    if (this.o.nflag !== 0) return s;
    // tcpdump's built-in ethers entry
    if (s === "ff:ff:ff:ff:ff:ff") return "Broadcast";
    const oui = (this.b[off]! << 16) | (this.b[off + 1]! << 8) | this.b[off + 2]!;
    return `${s} (oui ${OUI_NAMES.get(oui) ?? "Unknown"})`;
  }
}

/** tcpdump's oui_values (first name for a repeated OUI). */
export const OUI_NAMES: ReadonlyMap<number, string> = new Map([
  [0x000000, "Ethernet"], [0x00000c, "Cisco"], [0x00005e, "IANA"], [0x000081, "Nortel Networks SONMP"],
  [0x0000f8, "Cisco bridged"], [0x0080c2, "Ethernet bridged"], [0x00a03e, "ATM Forum"], [0x00e02f, "DOCSIS Spanning Tree"],
  [0x080007, "Appletalk"], [0x009069, "Juniper"], [0x080009, "Hewlett-Packard"], [0x00120f, "IEEE 802.3 Private"],
  [0x0012bb, "ANSI/TIA"], [0x001b21, "DCBX"], [0x002320, "Nicira Networks"], [0x5c16c7, "Big Switch Networks"],
  [0xb0d2f5, "Vello Systems"], [0x002481, "HP"], [0x0004ea, "HP-Labs"], [0x748771, "Infoblox Inc"],
  [0xa42305, "Open Networking Lab"], [0x00049f, "Freescale"], [0x0015ad, "Netronome"], [0x001018, "Broadcom"],
  [0x00e004, "PMC-Sierra"], [0xd0f0db, "Ericsson"],
]);

const HEX2: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
export const hex2 = (v: number): string => HEX2[v & 0xff]!;

export function formatMac(b: Uint8Array, off: number): string {
  return `${HEX2[b[off]!]}:${HEX2[b[off + 1]!]}:${HEX2[b[off + 2]!]}:${HEX2[b[off + 3]!]}:${HEX2[b[off + 4]!]}:${HEX2[b[off + 5]!]}`;
}

/** RFC 5952 text as inet_ntop prints it (longest zero run of two or more groups compressed, first on ties; v4-mapped tail). */
export function formatIp6(b: Uint8Array, off: number): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!);
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  if (bestLen < 2) best = -1;
  // glibc: ::ffff:a.b.c.d and ::a.b.c.d (the latter only when the 7th group is nonzero... handled as glibc does)
  if (best === 0 && (bestLen === 6 || (bestLen === 5 && g[5] === 0xffff))) {
    const v4 = `${b[off + 12]}.${b[off + 13]}.${b[off + 14]}.${b[off + 15]}`;
    return bestLen === 6 ? `::${v4}` : `::ffff:${v4}`;
  }
  let s = "";
  for (let i = 0; i < 8; i++) {
    if (i === best) { s += i === 0 ? "::" : ":"; i += bestLen - 1; continue; }
    s += g[i]!.toString(16);
    if (i < 7) s += ":";
  }
  return s;
}

/** A byte of text as tcpdump's fn_print_char shows it ("M-" for the high bit, "^" for control characters). */
export function printChar(c: number): string {
  let s = "";
  if (c >= 0x80) { s = "M-"; c &= 0x7f; }
  if (c < 0x20 || c === 0x7f) return s + "^" + String.fromCharCode(c ^ 0x40);
  return s + String.fromCharCode(c);
}

/** tcpdump's tok2str: the name for a value, else the fallback with %u/%x filled in. */
export function tok(table: ReadonlyMap<number, string>, v: number, fallback: string): string {
  const s = table.get(v);
  if (s !== undefined) return s;
  return fallback.replace("%u", String(v)).replace("%04x", v.toString(16).padStart(4, "0")).replace("%02x", v.toString(16).padStart(2, "0")).replace("%x", v.toString(16));
}
