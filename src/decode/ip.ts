// IPv4: the header (-v fields, options, fragments, checksum) and the demultiplexer to the next protocol, which IPv6
// shares for the upper layers.

import { type Ctx, TRUNCATED } from "./context.ts";
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
  [0, "EOL"], [1, "NOP"], [68, "timestamp"], [130, "security"], [7, "RR"], [137, "SSRR"], [131, "LSRR"], [148, "RA"],
  [82, "traceroute"],
]);

/** The -v option list; false when it ran past the capture (tcpdump then stops after the addresses). */
function ipOptions(ctx: Ctx, cp: number, length: number): boolean {
  let sep = "";
  for (let olen = 0; length > 0; cp += olen, length -= olen) {
    ctx.out += sep;
    sep = ",";
    const code = ctx.u8(cp);
    ctx.out += IP_OPTION_NAMES.get(code) ?? `unknown ${code}`;
    if (code === 0 || code === 1) olen = 1;
    else {
      olen = ctx.u8(cp + 1);
      if (olen < 2) { ctx.out += ` [bad length ${olen}]`; return true; }
    }
    if (olen > length) { ctx.out += ` [bad length ${olen}]`; return true; }
    if (cp + olen > ctx.end) return false;
    if (code === 0) return true;
    if (code === 148) {
      if (olen < 4) ctx.out += ` [bad length ${olen}]`;
      else if (ctx.u16(cp + 2) !== 0) ctx.out += ` value ${ctx.u16(cp + 2)}`;
    }
    // RR/LSRR/SSRR/timestamp contents are printed by tcpdump in detail; not decoded here
  }
  return true;
}

export function ipPrint(ctx: Ctx, off: number, length: number): void {
  ctx.proto = "ip";
  const vhl = ctx.u8(off);
  if (vhl >> 4 !== 4) {
    ctx.out += vhl >> 4 === 6 ? "IP6, wrong link-layer encapsulation (invalid)" : `IP${vhl >> 4} (invalid)`;
    return;
  }
  if (!ctx.o.eflag) ctx.out += "IP ";
  ctx.need(off, 20);
  if (length < 20) { ctx.out += `truncated-ip ${length}`; return; }
  const hlen = (vhl & 0xf) * 4;
  if (hlen < 20) { ctx.out += `bad-hlen ${hlen}`; return; }
  let len = ctx.u16(off + 2);
  if (length < len) ctx.out += `truncated-ip - ${len - length} bytes missing! `;
  if (len < hlen) {
    if (len !== 0) { ctx.out += `bad-len ${len}`; return; }
    len = length; // tcpdump's GUESS_TSO: a zero total length means the link length
  }
  const saveEnd = ctx.end;
  if (off + len < ctx.end) ctx.end = off + len;
  len -= hlen;
  const fragField = ctx.u16(off + 6);
  const p = ctx.u8(off + 9);
  if (ctx.o.vflag > 0) {
    const tos = ctx.u8(off + 1);
    ctx.out += `(tos 0x${tos.toString(16)}${["", ",ECT(1)", ",ECT(0)", ",CE"][tos & 3]}`;
    const ttl = ctx.u8(off + 8);
    if (ttl >= 1) ctx.out += `, ttl ${ttl}`;
    const flags: string[] = [];
    if (fragField & 0x2000) flags.push("+");
    if (fragField & 0x4000) flags.push("DF");
    if (fragField & 0x8000) flags.push("rsvd");
    ctx.out += `, id ${ctx.u16(off + 4)}, offset ${(fragField & 0x1fff) * 8}, flags [${flags.length ? flags.join(", ") : "none"}]` +
      `, proto ${IP_PROTOS.get(p) ?? "unknown"} (${p}), length ${ctx.u16(off + 2)}`;
    let truncated = false;
    if (hlen > 20) {
      ctx.out += ", options (";
      if (!ipOptions(ctx, off + 20, hlen - 20)) { ctx.out += " [truncated-option]"; truncated = true; }
      ctx.out += ")";
    }
    if (off + hlen <= ctx.end) {
      const sum = inCksum(ctx.b, off, hlen);
      if (sum !== 0) {
        const stored = ctx.u16(off + 10);
        ctx.out += `, bad cksum ${stored.toString(16)} (->${shouldBe(stored, sum).toString(16)})!`;
      }
    }
    ctx.out += ")\n    ";
    if (truncated) {
      ctx.out += `${ctx.ip4(off + 12)} > ${ctx.ip4(off + 16)}: `;
      throw TRUNCATED;
    }
  }
  if ((fragField & 0x1fff) === 0) {
    if (p !== 6 && p !== 17 && p !== 132 && p !== 33) ctx.out += `${ctx.ip4(off + 12)} > ${ctx.ip4(off + 16)}: `;
    if (off + hlen > ctx.end) {
      ctx.out += ` [remaining caplen(${ctx.avail(off)}) < header length(${hlen})]`;
      throw TRUNCATED;
    }
    const info: IpInfo = { v6: false, src: off + 12, dst: off + 16, hdr: off, fragmented: (fragField & 0x2000) !== 0 };
    ipDemux(ctx, p, off + hlen, len, info);
  } else {
    ctx.out += `${ctx.ip4(off + 12)} > ${ctx.ip4(off + 16)}: ${protoName(ctx, p)}`;
  }
  ctx.end = saveEnd;
}

/** in_cksum_shouldbe: the checksum field value that would have made the sum come out zero. */
export function shouldBe(stored: number, sum: number): number {
  let v = stored + sum;
  v = (v & 0xffff) + (v >>> 16);
  return ((v & 0xffff) + (v >>> 16)) & 0xffff;
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

