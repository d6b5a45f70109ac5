// IPv4: the header (-v fields, options, fragments, checksum) and the demultiplexer to the next protocol, which IPv6
// shares for the upper layers.

import { type Ctx } from "./context.ts";
import { IP_PROTOS } from "./names.ts";
import { PROTOCOLS } from "../filter/netbase.ts";
import { tcpPrint } from "./tcp.ts";
import { udpPrint } from "./udp.ts";
import { icmpPrint } from "./icmp.ts";
import { icmp6Print } from "./icmp6.ts";
import { igmpPrint } from "./igmp.ts";
import { grePrint } from "./gre.ts";
import { ip6Print } from "./ip6.ts";

const protoNames = new Map<number, string>();
for (const [name, n] of Object.entries(PROTOCOLS)) if (!protoNames.has(n)) protoNames.set(n, name);

/** Where the upper layer came from: the IP version and the offsets of its addresses (for TCP's conversations, checksums). */
export interface IpInfo {
  readonly v6: boolean;
  readonly src: number;
  readonly dst: number;
  /** IPv4 header offset (for ICMP's quoting) or -1. */
  readonly hdr: number;
  /** True when this is not the first fragment (no upper header). */
  readonly fragmented: boolean;
  /** IPv6 with extension headers: the addresses were printed already, TCP/UDP print ports alone. */
  readonly afterExtHeaders?: boolean;
}

/** Internet checksum over [off, off+len) plus an initial sum (a pseudo-header). */
export function inCksum(b: Uint8Array, off: number, len: number, sum = 0): number {
  let i = off;
  const end = off + len;
  for (; i + 1 < end; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (i < end) sum += b[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** The TCP/UDP pseudo-header sum for an IPv4 or IPv6 packet. */
export function pseudoSum(ctx: Ctx, ip: IpInfo, proto: number, len: number): number {
  const b = ctx.b;
  let sum = 0;
  const n = ip.v6 ? 16 : 4;
  for (let i = 0; i < n; i += 2) {
    sum += (b[ip.src + i]! << 8) | b[ip.src + i + 1]!;
    sum += (b[ip.dst + i]! << 8) | b[ip.dst + i + 1]!;
  }
  return sum + proto + (len & 0xffff) + (len >>> 16);
}

const IP_OPTION_NAMES: ReadonlyMap<number, string> = new Map([
  [0, "EOL"], [1, "NOP"], [7, "RR"], [68, "TS"], [130, "SEC"], [131, "LSRR"], [133, "E-SEC"], [136, "SSRR"], [148, "RA"],
  [137, "SSRR"], [82, "traceroute"], [134, "CIPSO"],
]);

function ipOptions(ctx: Ctx, off: number, len: number): string {
  const parts: string[] = [];
  while (len > 0) {
    const opt = ctx.u8(off);
    const name = IP_OPTION_NAMES.get(opt) ?? `unknown ${opt}`;
    if (opt === 0 || opt === 1) {
      parts.push(name);
      off++;
      len--;
      if (opt === 0) break;
      continue;
    }
    if (len < 2) { parts.push(`${name} [bad length ${len}]`); break; }
    const olen = ctx.u8(off + 1);
    if (olen < 2 || olen > len) { parts.push(`${name} [bad length ${olen}]`); break; }
    if (opt === 148 && olen === 4) {
      const v = ctx.u16(off + 2);
      parts.push(v === 0 ? "RA" : `RA value ${v}`);
    } else parts.push(name);
    off += olen;
    len -= olen;
  }
  return parts.join(",");
}

export function ipPrint(ctx: Ctx, off: number, length: number): void {
  ctx.proto = "ip";
  if (!ctx.o.eflag) ctx.out += "IP ";
  const vhl = ctx.u8(off);
  if (vhl >> 4 !== 4) {
    if (vhl >> 4 === 6) ctx.out += ", wrong link-layer encapsulation";
    else ctx.out += `IP${vhl >> 4}`;
    return;
  }
  if (length < 20) { ctx.out += `truncated-ip ${length}`; return; }
  const hlen = (vhl & 0xf) * 4;
  if (hlen < 20) { ctx.out += `bad-hlen ${hlen}`; return; }
  ctx.need(off, 20);
  let len = ctx.u16(off + 2);
  if (len > length) ctx.out += `truncated-ip - ${len - length} bytes missing! `;
  if (len < hlen) {
    if (len === 0) len = length; // TSO: tcpdump uses the link length
    else { ctx.out += `bad-len ${len}`; return; }
  }
  if (len < length) length = len;
  // the IP datagram ends at its total length (link padding is not part of it)
  if (off + length < ctx.end) ctx.end = off + length;
  const fragField = ctx.u16(off + 6);
  const foff = (fragField & 0x1fff) * 8;
  const p = ctx.u8(off + 9);
  const v = ctx.o.vflag;
  if (v > 0) {
    const tos = ctx.u8(off + 1);
    let s = `(tos 0x${tos.toString(16)}`;
    if (tos & 3) s += ["", ",ECT(1)", ",ECT(0)", ",CE"][tos & 3];
    s += `, ttl ${ctx.u8(off + 8)}, id ${ctx.u16(off + 4)}, offset ${foff}, flags [`;
    const flags: string[] = [];
    if (fragField & 0x2000) flags.push("+");
    if (fragField & 0x4000) flags.push("DF");
    if (fragField & 0x8000) flags.push("rsvd");
    s += (flags.length ? flags.join(", ") : "none") + "]";
    s += `, proto ${IP_PROTOS.get(p) ?? "unknown"} (${p}), length ${ctx.u16(off + 2)}`;
    if (hlen > 20) s += `, options (${ipOptions(ctx, off + 20, hlen - 20)})`;
    if (ctx.avail(off) >= hlen) {
      const sum = inCksum(ctx.b, off, hlen);
      if (sum !== 0) {
        const stored = ctx.u16(off + 10);
        let s2 = 0;
        for (let i = 0; i < hlen; i += 2) if (i !== 10) s2 += (ctx.b[off + i]! << 8) | ctx.b[off + i + 1]!;
        while (s2 > 0xffff) s2 = (s2 & 0xffff) + (s2 >>> 16);
        s += `, bad cksum ${stored.toString(16)} (->${(~s2 & 0xffff).toString(16)})!`;
      }
    }
    s += ")\n    ";
    ctx.out += s;
  }
  const info: IpInfo = { v6: false, src: off + 12, dst: off + 16, hdr: off, fragmented: foff !== 0 };
  if (foff === 0) {
    if (p !== 6 && p !== 17 && p !== 132 && p !== 33) ctx.out += `${ctx.ip4(off + 12)} > ${ctx.ip4(off + 16)}: `;
    ipDemux(ctx, p, off + hlen, length - hlen, info);
  } else {
    ctx.out += `${ctx.ip4(off + 12)} > ${ctx.ip4(off + 16)}:`;
    ctx.out += ` ${protoName(ctx, p)} ${length - hlen}`;
  }
}

function protoName(ctx: Ctx, p: number): string {
  const name = ctx.o.nflag === 0 ? protoNames.get(p) : undefined;
  return name ?? `ip-proto-${p}`;
}

/** The upper-layer printers both IP versions reach. */
export function ipDemux(ctx: Ctx, p: number, off: number, len: number, ip: IpInfo): void {
  switch (p) {
    case 6: tcpPrint(ctx, off, len, ip); return;
    case 17: udpPrint(ctx, off, len, ip); return;
    case 1: if (!ip.v6) { icmpPrint(ctx, off, len, ip); return; } break;
    case 58: icmp6Print(ctx, off, len, ip); return;
    case 2: if (!ip.v6) { igmpPrint(ctx, off, len); return; } break;
    case 47: grePrint(ctx, off, len); return;
    case 4: ipPrint(ctx, off, len); return;
    case 41: ip6Print(ctx, off, len); return;
  }
  ctx.out += ` ${protoName(ctx, p)} ${len}`;
}

