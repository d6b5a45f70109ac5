// Link layers other than Ethernet: Linux cooked v1/v2, BSD loopback (NULL/LOOP), raw IP, PPP. Each returns the
// link header length (what -x leaves out).

import { type Ctx } from "./context.ts";
import { ETHERTYPES } from "./names.ts";
import { unlessSuppressed, etherPrint, etherTypeText, ethertypePrint } from "./ether.ts";
import { ipPrint } from "./ip.ts";
import { ip6Print } from "./ip6.ts";
import { mplsPrint } from "./mpls.ts";

const SLL_PKTTYPES = ["In", "B", "M", "P", "Out"];

function sllTypeText(ctx: Ctx, type: number): string {
  if (type <= 1500) return type === 1 ? "802.3" : type === 4 ? "802.2" : `ethertype Unknown (0x${type.toString(16).padStart(4, "0")})`;
  return `ethertype ${ETHERTYPES.get(type) ?? "Unknown"} (0x${type.toString(16).padStart(4, "0")})`;
}

function sllPayload(ctx: Ctx, off: number, len: number, type: number, header: () => string): void {
  for (;;) {
    if (type <= 1500) { unlessSuppressed(ctx, off); return; }
    if (type === 0x8100) {
      if (ctx.avail(off) < 4) { ctx.proto = "vlan"; ctx.out += " [|vlan]"; return; }
      if (ctx.o.eflag) {
        const tci = ctx.u16(off);
        ctx.out += `vlan ${tci & 0xfff}, p ${tci >> 13}${tci & 0x1000 ? ", DEI" : ""}, `;
      }
      type = ctx.u16(off + 2);
      if (type <= 1500) type = 4;
      if (!ctx.o.qflag) ctx.out += `ethertype ${ETHERTYPES.get(type) ?? "Unknown"}, `;
      off += 4;
      len -= 4;
      continue;
    }
    if (!ethertypePrint(ctx, type, off, len)) {
      if (!ctx.o.eflag) ctx.out += header();
      unlessSuppressed(ctx, off);
    }
    return;
  }
}

export function sllPrint(ctx: Ctx, off: number, len: number): number {
  ctx.proto = "sll";
  ctx.need(off, 16);
  const pkttype = ctx.u16(off);
  const type = ctx.u16(off + 14);
  const header = (): string => {
    let s = `${(SLL_PKTTYPES[pkttype] ?? "?").padStart(3, " ")} `;
    if (ctx.u16(off + 4) === 6) s += `${ctx.mac(off + 6)} `;
    if (!ctx.o.qflag) s += `${sllTypeText(ctx, type)}, length ${len}: `;
    return s;
  };
  if (ctx.o.eflag) ctx.out += header();
  if (ctx.u16(off + 2) === 803) { ctx.out += "[|802.11]"; return 16; }
  sllPayload(ctx, off + 16, len - 16, type, header);
  return 16;
}

export function sll2Print(ctx: Ctx, off: number, len: number, ifName: (i: number) => string | undefined): number {
  ctx.proto = "sll2";
  ctx.need(off, 20);
  const type = ctx.u16(off);
  const ifindex = ctx.u32(off + 4);
  const pkttype = ctx.u8(off + 10);
  ctx.out += `${(ifName(ifindex) ?? "?").padEnd(5, " ")} ${(SLL_PKTTYPES[pkttype] ?? "?").padEnd(3, " ")} `;
  const header = (): string => {
    let s = `ifindex ${ifindex} `;
    if (ctx.u8(off + 11) === 6) s += `${ctx.mac(off + 12)} `;
    if (!ctx.o.qflag) s += `${sllTypeText(ctx, type)}, length ${len}: `;
    return s;
  };
  if (ctx.o.eflag) ctx.out += header();
  if (ctx.u16(off + 8) === 803) { ctx.out += "[|802.11]"; return 20; }
  sllPayload(ctx, off + 20, len - 20, type, header);
  return 20;
}

const BSD_AF: ReadonlyMap<number, string> = new Map([
  [2, "IPv4"], [6, "NS"], [7, "ISO"], [16, "Appletalk"], [23, "IPX"], [24, "IPv6"], [28, "IPv6"], [30, "IPv6"],
]);

export function nullPrint(ctx: Ctx, off: number, len: number, networkOrder: boolean): number {
  ctx.proto = "null";
  ctx.need(off, 4);
  let family = networkOrder ? ctx.u32(off) : ctx.le32(off);
  if ((family & 0xffff0000) !== 0) family = ((family & 0xff) << 24 | (family & 0xff00) << 8 | (family >>> 8) & 0xff00 | family >>> 24) >>> 0;
  const header = (l: number): string =>
    (ctx.o.qflag ? BSD_AF.get(family) ?? `Unknown AF ${family}` : `AF ${BSD_AF.get(family) ?? "Unknown"} (${family})`) + `, length ${l}: `;
  if (ctx.o.eflag) ctx.out += header(len);
  switch (family) {
    case 2: ipPrint(ctx, off + 4, len - 4); break;
    case 24: case 28: case 30: ip6Print(ctx, off + 4, len - 4); break;
    default:
      if (!ctx.o.eflag) ctx.out += header(len);
      unlessSuppressed(ctx, off + 4);
  }
  return 4;
}

/** Raw IP (and LINKTYPE_IPV4/IPV6): the version nibble picks the printer. */
export function rawPrint(ctx: Ctx, off: number, len: number): number {
  ctx.proto = "raw";
  if (ctx.o.eflag) ctx.out += "ip: ";
  ctx.proto = "ip";
  const v = ctx.u8(off) >> 4;
  if (v === 4) ipPrint(ctx, off, len);
  else if (v === 6) ip6Print(ctx, off, len);
  else ctx.out += `ip v${v}`;
  return 0;
}

const PPP_TYPES: ReadonlyMap<number, string> = new Map([
  [0x21, "IP"], [0x57, "IPV6"], [0x281, "MPLS"], [0x283, "MPLS"], [0xc021, "LCP"], [0x8021, "IPCP"], [0x8057, "IPV6CP"],
  [0xc023, "PAP"], [0xc223, "CHAP"], [0x2b, "IPX"], [0x23, "OSI"], [0x80fd, "CCP"], [0x3d, "ML"], [0xfd, "COMP"],
]);

export function pppPrint(ctx: Ctx, off: number, len: number): number {
  ctx.proto = "ppp";
  if (ctx.avail(off) < 4) { ctx.out += " [|ppp]"; return ctx.avail(off); }
  const olen = len;
  const h = ctx.u16(off);
  if (h === 0xff03 || h === 0x0003 || h === 0x0103) {
    if (ctx.o.eflag && h === 0x0003) ctx.out += "In  ";
    if (ctx.o.eflag && h === 0x0103) ctx.out += "Out ";
    off += 2;
    len -= 2;
  }
  let proto: number;
  if (ctx.u8(off) % 2) { proto = ctx.u8(off); off++; len--; } else { proto = ctx.u16(off); off += 2; len -= 2; }
  if (ctx.o.eflag) {
    const name = PPP_TYPES.get(proto);
    ctx.out += `${name ?? "unknown"} (0x${proto.toString(16).padStart(4, "0")}), length ${olen}`;
    if (name === undefined) return 4;
    ctx.out += ": ";
  }
  switch (proto) {
    case 0x21: case 0x0800: ipPrint(ctx, off, len); break;
    case 0x57: case 0x86dd: ipPrint6(ctx, off, len); break;
    case 0x281: case 0x283: mplsPrint(ctx, off, len); break;
    default:
      ctx.out += `${PPP_TYPES.get(proto) ?? `unknown PPP protocol (0x${proto.toString(16).padStart(4, "0")})`} `;
      unlessSuppressed(ctx, off);
  }
  return 4;
}

function ipPrint6(ctx: Ctx, off: number, len: number): void { ip6Print(ctx, off, len); }

export { etherPrint, etherTypeText };
