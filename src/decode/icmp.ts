// ICMP (RFC 792): echo, unreachable, time exceeded, redirect, and the quoted datagram under -v.

import { type Ctx } from "./context.ts";
import { type IpInfo, shouldBe, inCksum, ipPrint } from "./ip.ts";
import { tcpPort, udpPort } from "./names.ts";
import { hexLines } from "./hexdump.ts";

const TYPES: ReadonlyMap<number, string> = new Map([
  [0, "echo reply"], [4, "source quench"], [8, "echo request"], [10, "router solicitation"], [13, "time stamp request"],
  [14, "time stamp reply"], [15, "information request"], [16, "information reply"], [17, "address mask request"],
]);

/** Unreachable codes 6-15: the text around the quoted destination. */
const UNREACH: ReadonlyMap<number, string> = new Map([
  [6, "net %s unreachable - unknown"], [7, "host %s unreachable - unknown"], [8, "src host %s unreachable - isolated"],
  [9, "net %s unreachable - admin prohibited"], [10, "host %s unreachable - admin prohibited"],
  [11, "net %s unreachable - tos prohibited"], [12, "host %s unreachable - tos prohibited"],
  [13, "host %s unreachable - admin prohibited filter"], [14, "host %s unreachable - host precedence violation"],
  [15, "host %s unreachable - precedence cutoff"],
]);

const ERROR_TYPES = new Set([3, 4, 5, 11, 12]);

export function icmpPrint(ctx: Ctx, off: number, plen: number, ip: IpInfo): void {
  ctx.proto = "icmp";
  const type = ctx.u8(off);
  const code = ctx.u8(off + 1);
  const q = off + 8; // the quoted IP header
  let str: string;
  switch (type) {
    case 0: case 8:
      str = `echo ${type === 8 ? "request" : "reply"}, id ${ctx.u16(off + 4)}, seq ${ctx.u16(off + 6)}`;
      break;
    case 3: {
      const qdst = (): string => ctx.ip4(q + 16);
      switch (code) {
        case 0: str = `net ${qdst()} unreachable`; break;
        case 1: str = `host ${qdst()} unreachable`; break;
        case 2: str = `${qdst()} protocol ${ctx.u8(q + 9)} unreachable`; break;
        case 3: {
          const p = ctx.u8(q + 9);
          const hl = (ctx.u8(q) & 0xf) * 4;
          const dport = ctx.u16(q + hl + 2);
          if (p === 6) str = `${qdst()} tcp port ${tcpPort(dport, ctx.o.nflag)} unreachable`;
          else if (p === 17) str = `${qdst()} udp port ${udpPort(dport, ctx.o.nflag)} unreachable`;
          else str = `${qdst()} protocol ${p} port ${dport} unreachable`;
          break;
        }
        case 4: {
          const mtu = ctx.u16(off + 6);
          str = mtu ? `${qdst()} unreachable - need to frag (mtu ${mtu})` : `${qdst()} unreachable - need to frag`;
          break;
        }
        case 5: str = `${qdst()} unreachable - source route failed`; break;
        default: {
          const f = UNREACH.get(code);
          str = f ? f.replace("%s", qdst()) : `#${code} ${qdst()} unreachable`;
        }
      }
      break;
    }
    case 5: {
      const qdst = ctx.ip4(q + 16);
      const gw = ctx.ip4(off + 4);
      str = code === 0 ? `redirect ${qdst} to net ${gw}` : code === 1 ? `redirect ${qdst} to host ${gw}`
        : code === 2 ? `redirect-tos ${qdst} to net ${gw}` : code === 3 ? `redirect-tos ${qdst} to host ${gw}`
        : `redirect-#${code} ${qdst} to ${gw}`;
      break;
    }
    case 11:
      str = code === 0 ? "time exceeded in-transit" : code === 1 ? "ip reassembly time exceeded" : `time exceeded-#${code}`;
      break;
    case 12:
      str = code === 0 ? `parameter problem - octet ${ctx.u8(off + 4)}` : `parameter problem code ${code}`;
      break;
    case 18:
      str = `address mask is 0x${ctx.u32(off + 8).toString(16).padStart(8, "0")}`;
      break;
    default:
      str = TYPES.get(type) ?? `type-#${type}`;
  }
  ctx.out += `ICMP ${str}, length ${plen}`;
  if (ctx.o.vflag > 0 && !ip.fragmented && ctx.avail(off) >= plen) {
    const sum = inCksum(ctx.b, off, plen);
    if (sum !== 0) {
      const stored = ctx.u16(off + 2);
      ctx.out += ` (wrong icmp cksum ${stored.toString(16)} (->${shouldBe(stored, sum).toString(16)})!)`;
    }
  }
  if (ctx.o.vflag > 0 && ERROR_TYPES.has(type)) {
    ctx.out += "\n\t";
    const qlen = ctx.u16(q + 2);
    const saveEnd = ctx.end;
    if (q + qlen < ctx.end) ctx.end = q + qlen;
    ipPrint(ctx, q, qlen);
    ctx.end = saveEnd;
  }
  ctx.proto = "icmp";
  if (ctx.o.vflag > 0 && plen > 136 && (type === 3 || type === 11 || type === 12)) multipartPrint(ctx, off, plen);
}

const EXT_OBJECTS: ReadonlyMap<number, string> = new Map([[1, "MPLS Stack Entry"], [2, "Interface Identification"]]);

/** RFC 4884 extensions after the quoted packet (128 bytes in): the header, then each object (MPLS label stacks decoded). */
function multipartPrint(ctx: Ctx, off: number, plen: number): void {
  ctx.need(off, 141);
  const ext = off + 136;
  const extLen = plen - 136;
  // without a length field, an extension is assumed only where its checksum holds
  if (ctx.u8(off + 5) === 0 && ctx.avail(ext) >= extLen && inCksum(ctx.b, ext, extLen) !== 0) return;
  const version = ctx.u8(ext) >> 4;
  ctx.out += `\n\tICMP Multi-Part extension v${version}`;
  if (version !== 2) { ctx.out += " packet not supported"; return; }
  let hlen = extLen;
  if (ctx.avail(ext) >= hlen) {
    ctx.out += `, checksum 0x${ctx.u16(ext + 2).toString(16).padStart(4, "0")} (${inCksum(ctx.b, ext, hlen) !== 0 ? "in" : ""}correct), length ${hlen}`;
  }
  hlen -= 4;
  let p = ext + 4;
  while (hlen > 4) {
    ctx.need(p, 4);
    let olen = ctx.u16(p);
    const cls = ctx.u8(p + 2), ctype = ctx.u8(p + 3);
    p += 4;
    ctx.out += `\n\t  ${EXT_OBJECTS.get(cls) ?? "unknown"} Object (${cls}), Class-Type: ${ctype}, length ${olen}`;
    hlen -= 4;
    if (cls === 0 || olen < 4) return;
    olen -= 4;
    if (cls === 1 && ctype === 1) {
      const raw = ctx.u32(p);
      ctx.out += `\n\t    label ${raw >>> 12}, tc ${(raw >>> 9) & 7}${raw & 0x100 ? ", [S]" : ""}, ttl ${raw & 0xff}`;
    } else ctx.out += hexLines(ctx.b, p, Math.min(p + olen, ctx.end), "\n\t    ");
    if (hlen < olen) break;
    hlen -= olen;
    p += olen;
  }
}
