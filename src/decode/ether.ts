// Ethernet II and 802.3 frames, 802.1Q/QinQ tags, and the ethertype dispatch every link layer shares.

import { type Ctx } from "./context.ts";
import { ETHERTYPES } from "./names.ts";
import { hexAsciiLines } from "./hexdump.ts";
import { arpPrint } from "./arp.ts";
import { ipPrint } from "./ip.ts";
import { ip6Print } from "./ip6.ts";
import { mplsPrint } from "./mpls.ts";
import { llcPrint } from "./llc.ts";

const VLAN_TYPES = new Set([0x8100, 0x88a8, 0x9100, 0x9200]);

/** "ethertype IPv4 (0x0800)", or under -q just the name. */
export function etherTypeText(ctx: Ctx, type: number): string {
  const hex = type.toString(16).padStart(4, "0");
  if (ctx.o.qflag) return ETHERTYPES.get(type) ?? `Unknown Ethertype (0x${hex})`;
  return `ethertype ${ETHERTYPES.get(type) ?? "Unknown"} (0x${hex})`;
}

/**
 * Prints the payload of a known ethertype; returns false when tcpdump has no printer for it (the caller then prints
 * the header and a hex dump). `len` is the wire length left, the captured end is ctx.end.
 */
export function ethertypePrint(ctx: Ctx, type: number, off: number, len: number): boolean {
  switch (type) {
    case 0x0800: ipPrint(ctx, off, len); return true;
    case 0x86dd: ip6Print(ctx, off, len); return true;
    case 0x0806: case 0x8035: arpPrint(ctx, off, len); return true;
    case 0x8847: case 0x8848: mplsPrint(ctx, off, len); return true;
    default: return false;
  }
}

/** The rest of the capture as tcpdump's default printer shows it (hex and ASCII). */
export function defaultPrint(ctx: Ctx, off: number): void {
  if (off < ctx.end) ctx.out += hexAsciiLines(ctx.b, off, ctx.end);
}

/** The default printer where tcpdump guards it with -x/-X/-q (ndo_suppress_default_print). */
export function unlessSuppressed(ctx: Ctx, off: number): void {
  if (!ctx.o.suppressDefault) defaultPrint(ctx, off);
}

/** Ethernet: returns the link header length (with any VLAN tags). */
export function etherPrint(ctx: Ctx, off: number, len: number): number {
  ctx.proto = "ether";
  const start = off;
  const caplen = ctx.end - off;
  if (caplen < 14) {
    ctx.out += " [|ether]";
    return caplen;
  }
  const e = ctx.o.eflag;
  const addrs = `${ctx.mac(off + 6)} > ${ctx.mac(off)}, `;
  if (e) ctx.out += addrs;
  const origLen = len;
  off += 12;
  len -= 12;
  let type = ctx.u16(off);
  let printedLength = false;
  while (VLAN_TYPES.has(type)) {
    if (ctx.end - (off + 2) < 4) {
      ctx.out += "[|vlan]";
      return ctx.end - start;
    }
    if (e) {
      const tci = ctx.u16(off + 2);
      ctx.out += etherTypeText(ctx, type);
      if (!printedLength) { ctx.out += `, length ${origLen}: `; printedLength = true; } else ctx.out += ", ";
      ctx.out += `vlan ${tci & 0xfff}, p ${tci >> 13}${tci & 0x1000 ? ", DEI" : ""}, `;
    }
    type = ctx.u16(off + 4);
    off += 4;
    len -= 4;
  }
  off += 2;
  len -= 2;
  const hdrlen = off - start;
  if (type <= 1500) {
    // 802.3: the field is the payload's length; tcpdump trims the packet to it (never past what the wire had) and
    // reads an 802.2 LLC header there
    const length = Math.min(type, len);
    if (e) {
      ctx.out += "802.3";
      if (!printedLength) ctx.out += `, length ${length}: `;
    }
    const saveEnd = ctx.end;
    if (off + length < ctx.end) ctx.end = off + length;
    let llc = llcPrint(ctx, off, length, Math.max(0, ctx.end - off), start + 6, start);
    // no printer for what the LLC header announces (llcPrint named the addresses): the raw payload
    if (llc < 0) { unlessSuppressed(ctx, off); llc = -llc; }
    ctx.end = saveEnd;
    // -x/-X dump what follows the LLC header (or what llcPrint could not read)
    return hdrlen + llc;
  }
  if (e) {
    ctx.out += etherTypeText(ctx, type);
    ctx.out += !printedLength ? `, length ${origLen}: ` : ", ";
  }
  if (!ethertypePrint(ctx, type, off, len)) {
    if (!e) ctx.out += addrs + etherTypeText(ctx, type) + `, length ${origLen}: `;
    unlessSuppressed(ctx, off);
  }
  return hdrlen;
}
