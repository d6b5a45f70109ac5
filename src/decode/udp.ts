// UDP: ports, the -v checksum, and the application printers tcpdump picks by port.

import { type Ctx } from "./context.ts";
import { type IpInfo, shouldBe, inCksum, pseudoSum } from "./ip.ts";
import { udpPort } from "./names.ts";
import { dnsPrint } from "./dns.ts";
import { vxlanPrint, genevePrint } from "./vxlan.ts";
import { bootpPrint } from "./dhcp.ts";
import { ntpPrint } from "./ntp.ts";
import { mplsPrint } from "./mpls.ts";

export function udpPrint(ctx: Ctx, off: number, length: number, ip: IpInfo): void {
  ctx.proto = "udp";
  const src = ip.v6 ? ctx.ip6(ip.src) : ctx.ip4(ip.src);
  const dst = ip.v6 ? ctx.ip6(ip.dst) : ctx.ip4(ip.dst);
  const n = ctx.o.nflag;
  if (ctx.avail(off) < 4) {
    ctx.out += `${src} > ${dst}: [|udp]`;
    return;
  }
  const sport = ctx.u16(off);
  const dport = ctx.u16(off + 2);
  const addrs = ip.afterExtHeaders ? `${udpPort(sport, n)} > ${udpPort(dport, n)}: ` : `${src}.${udpPort(sport, n)} > ${dst}.${udpPort(dport, n)}: `;
  if (length < 8) {
    ctx.out += addrs + `truncated-udp ${length}`;
    return;
  }
  if (ctx.avail(off) < 6) {
    ctx.out += addrs + " [|udp]";
    return;
  }
  let ulen = ctx.u16(off + 4);
  if (ulen === 0 && length > 65535) ulen = length;
  if (ulen < 8) {
    ctx.out += addrs + `truncated-udplength ${ulen}`;
    return;
  }
  ulen -= 8;
  length -= 8;
  if (ulen < length) length = ulen;
  const cp = off + 8;
  if (cp > ctx.end) {
    ctx.out += addrs + " [|udp]";
    return;
  }
  ctx.out += addrs;
  if (ctx.o.vflag > 0 && !ip.fragmented) {
    const sumField = ctx.u16(off + 6);
    if (!ip.v6 && ctx.o.vflag > 1) {
      if (sumField === 0) ctx.out += "[no cksum] ";
      else if (ctx.avail(cp) >= length) cksumText(ctx, off, length + 8, ip, sumField);
    } else if (ip.v6 && ctx.avail(cp) >= length) cksumText(ctx, off, length + 8, ip, sumField);
  }
  if (!ctx.o.qflag) {
    if (sport === 53 || dport === 53) { dnsPrint(ctx, cp, length, false); return; }
    if (sport === 67 || dport === 67 || sport === 68 || dport === 68) { bootpPrint(ctx, cp, length); return; }
    if (sport === 123 || dport === 123) { ntpPrint(ctx, cp, length); return; }
    if (sport === 4789 || dport === 4789) { vxlanPrint(ctx, cp, length); return; }
    if (sport === 6081 || dport === 6081) { genevePrint(ctx, cp, length); return; }
    if (sport === 5353 || dport === 5353) { dnsPrint(ctx, cp, length, false, true); return; }
    if (sport === 6635 || dport === 6635) { mplsPrint(ctx, cp, length); return; }
  }
  if (ulen > length && !ip.fragmented) ctx.out += `UDP, bad length ${ulen} > ${length}`;
  else ctx.out += `UDP, length ${ulen}`;
}

function cksumText(ctx: Ctx, off: number, len: number, ip: IpInfo, stored: number): void {
  const sum = inCksum(ctx.b, off, len, pseudoSum(ctx, ip, 17, len));
  if (sum !== 0) {
    ctx.out += `[bad udp cksum 0x${stored.toString(16).padStart(4, "0")} -> 0x${shouldBe(stored, sum).toString(16).padStart(4, "0")}!] `;
  } else ctx.out += "[udp sum ok] ";
}
