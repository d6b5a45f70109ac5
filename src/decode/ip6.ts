// IPv6 (RFC 8200): the fixed header (-v fields), extension headers (hop-by-hop, destination options, routing,
// fragment), then the shared upper-layer demultiplexer.

import { type Ctx } from "./context.ts";
import { type IpInfo, ipDemux } from "./ip.ts";
import { IP_PROTOS } from "./names.ts";

export function ip6Print(ctx: Ctx, off: number, length: number): void {
  ctx.proto = "ip6";
  if (ctx.avail(off) < 40 && length >= 40) { ctx.need(off, 40); }
  if (length < 40) { ctx.out += `truncated-ip6 ${length}`; return; }
  if (!ctx.o.eflag) ctx.out += "IP6 ";
  const ver = ctx.u8(off) >> 4;
  if (ver !== 6) { ctx.out += `version error: ${ver} != 6`; return; }
  const plen = ctx.u16(off + 4);
  let len: number;
  if (plen !== 0) {
    len = plen + 40;
    if (length < len) ctx.out += `truncated-ip6 - ${len - length} bytes missing!`;
  } else len = length;
  let nh = ctx.u8(off + 6);
  if (ctx.o.vflag > 0) {
    const flow = ctx.u32(off);
    let s = "(";
    if (flow & 0x0ff00000) s += `class 0x${((flow & 0x0ff00000) >>> 20).toString(16).padStart(2, "0")}, `;
    if (flow & 0x000fffff) s += `flowlabel 0x${(flow & 0x000fffff).toString(16).padStart(5, "0")}, `;
    s += `hlim ${ctx.u8(off + 7)}, next-header ${IP_PROTOS.get(nh) ?? "unknown"} (${nh}) payload length: ${plen}) `;
    ctx.out += s;
  }
  if (len < length) length = len;
  if (off + len < ctx.end) ctx.end = off + len;
  let cp = off + 40;
  len -= 40;
  let fragmented = false;
  let first = true;
  for (;;) {
    if (first && nh !== 6 && nh !== 17 && nh !== 33 && nh !== 132) ctx.out += `${ctx.ip6(off + 8)} > ${ctx.ip6(off + 24)}: `;
    let advance: number;
    switch (nh) {
      case 0: case 60: {
        ctx.proto = nh === 0 ? "hbhopt" : "dstopt";
        const hl = (ctx.u8(cp + 1) + 1) * 8;
        ctx.need(cp, hl);
        ctx.out += nh === 0 ? "HBH " : "DSTOPT ";
        advance = hl;
        nh = ctx.u8(cp);
        break;
      }
      case 44: {
        ctx.proto = "frag6";
        ctx.need(cp, 8);
        const fo = ctx.u16(cp + 2);
        const flen = len - 8;
        const fragOff = fo & 0xfff8;
        if (ctx.o.vflag > 0) ctx.out += `frag (0x${ctx.u32(cp + 4).toString(16).padStart(8, "0")}:${fragOff}|${fragLen(len)})`;
        else ctx.out += `frag (${fragOff}|${fragLen(len)})`;
        void flen;
        if (fragOff !== 0) return;
        ctx.out += " ";
        nh = ctx.u8(cp);
        advance = 8;
        fragmented = true;
        if (cp + 8 >= ctx.end) return;
        break;
      }
      default: {
        const info: IpInfo = { v6: true, src: off + 8, dst: off + 24, hdr: -1, fragmented, afterExtHeaders: !first };
        ipDemux(ctx, nh, cp, len, info);
        return;
      }
    }
    if (len < advance) { ctx.out += " [|ip6]"; return; }
    cp += advance;
    len -= advance;
    first = false;
    ctx.proto = "ip6";
    if (cp >= ctx.end) return;
  }
}

/** tcpdump prints the fragment's payload length as an unsigned 64-bit number (a negative one wraps). */
function fragLen(len: number): string {
  const v = len - 8;
  return v >= 0 ? String(v) : (18446744073709551616n + BigInt(v)).toString();
}
