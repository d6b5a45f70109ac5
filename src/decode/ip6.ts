// IPv6 (RFC 8200): the fixed header (-v fields), extension headers (hop-by-hop, destination options, routing,
// fragment), then the shared upper-layer demultiplexer.

import { TRUNCATED, type Ctx } from "./context.ts";
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
        if (nh === 0 || ctx.o.vflag > 0) optionsPrint(ctx, cp + 2, hl - 2, nh === 0 ? plen : -1);
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

/**
 * Hop-by-hop or destination options (with -v: "(rtalert: 0x0000) (padn) "); malformed ones end the line. `plen` is the
 * header's payload length for hop-by-hop options (a Jumbo Payload is valid only when it is 0), -1 for destination options.
 */
function optionsPrint(ctx: Ctx, p: number, len: number, plen: number): void {
  const v = ctx.o.vflag > 0;
  let jumbo = false;
  const trunc = (text: string): never => { ctx.out += text; throw TRUNCATED; };
  for (let i = 0; i < len;) {
    const type = ctx.u8(p + i);
    let olen = 1;
    if (type !== 0) {
      if (i + 1 >= len) throw TRUNCATED;
      olen = ctx.u8(p + i + 1) + 2;
    }
    if (i + olen > len) throw TRUNCATED;
    const dlen = ctx.u8(p + i + (type === 0 ? 0 : 1));
    switch (type) {
      case 0: if (v) ctx.out += "(pad1)"; break;
      case 1:
        if (len - i < 2) trunc("(padn: trunc)");
        if (v) ctx.out += "(padn)";
        break;
      case 5:
        if (len - i < 4) trunc("(rtalert: trunc)");
        if (dlen !== 2) trunc(`(rtalert: invalid len ${dlen})`);
        if (v) ctx.out += `(rtalert: 0x${ctx.u16(p + i + 2).toString(16).padStart(4, "0")}) `;
        break;
      case 0xc2: {
        if (len - i < 6) trunc("(jumbo: trunc)");
        if (dlen !== 4) trunc(`(jumbo: invalid len ${dlen})`);
        const jl = ctx.u32(p + i + 2);
        let why = "";
        if (jumbo) why = " - already seen";
        else {
          jumbo = true;
          if (plen < 0) why = " - not a hop-by-hop option";
          else if (plen !== 0) why = " - payload len != 0";
          else if (jl < 65536) why = " - < 65536";
        }
        if (v) ctx.out += `(jumbo: ${jl}${why}) `;
        break;
      }
      case 0xc9:
        if (len - i < 18) trunc("(homeaddr: trunc)");
        if (dlen < 16) trunc(`(homeaddr: invalid len ${dlen})`);
        if (v) {
          ctx.out += `(homeaddr: ${ctx.ip6(p + i + 2)}`;
          if (dlen > 16) subOptions(ctx, p + i + 18, olen - 18);
          ctx.out += ")";
        }
        break;
      default:
        if (len - i < 2) trunc(`(type ${type}: trunc)`);
        if (v) ctx.out += `(opt_type 0x${type.toString(16).padStart(2, "0")}: len=${dlen})`;
    }
    i += olen;
  }
  if (v) ctx.out += " ";
}

/** The sub-options of a Home Address option. */
function subOptions(ctx: Ctx, p: number, len: number): void {
  for (let i = 0; i < len;) {
    const type = ctx.u8(p + i);
    let olen = 1;
    if (type !== 0) {
      if (i + 1 >= len) throw TRUNCATED;
      olen = ctx.u8(p + i + 1) + 2;
    }
    if (i + olen > len) throw TRUNCATED;
    if (type === 0) ctx.out += ", pad1";
    else if (type === 1) {
      if (len - i < 2) { ctx.out += ", padn: trunc"; throw TRUNCATED; }
      ctx.out += ", padn";
    } else {
      if (len - i < 2) { ctx.out += `, sopt_type ${type}: trunc)`; throw TRUNCATED; }
      ctx.out += `, sopt_type 0x${type.toString(16).padStart(2, "0")}: len=${ctx.u8(p + i + 1)}`;
    }
    i += olen;
  }
}

/** tcpdump prints the fragment's payload length as an unsigned 64-bit number (a negative one wraps). */
function fragLen(len: number): string {
  const v = len - 8;
  return v >= 0 ? String(v) : (18446744073709551616n + BigInt(v)).toString();
}
