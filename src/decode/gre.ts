// GRE (RFC 2784/2890, and the enhanced GRE of PPTP, RFC 2637): flags, key, sequence, then the payload by protocol.

import { type Ctx, TRUNCATED } from "./context.ts";
import { ETHERTYPES } from "./names.ts";
import { ipPrint } from "./ip.ts";
import { ip6Print } from "./ip6.ts";
import { mplsPrint } from "./mpls.ts";
import { etherPrint } from "./ether.ts";

const FLAGS: readonly (readonly [number, string])[] = [
  [0x8000, "checksum present"], [0x4000, "routing present"], [0x2000, "key present"], [0x1000, "sequence# present"],
  [0x0800, "source routing present"], [0x0080, "ack present"],
];

function flagText(flags: number): string {
  const s = FLAGS.filter(([b]) => flags & b).map(([, n]) => n);
  return s.length ? s.join(", ") : "none";
}

export function grePrint(ctx: Ctx, bp: number, length: number): void {
  ctx.proto = "gre";
  ctx.need(bp, 2);
  if (length < 2) throw TRUNCATED;
  const flags = ctx.u16(bp);
  const vers = flags & 7;
  ctx.out += `GREv${vers}`;
  if (vers > 1) { ctx.out += " ERROR: unknown-version"; return; }
  let len = length - 2;
  bp += 2;
  if (ctx.o.vflag) ctx.out += `, Flags [${flagText(flags)}]`;
  const take = (n: number): void => { ctx.need(bp, n); if (len < n) throw TRUNCATED; };
  take(2);
  const prot = ctx.u16(bp);
  len -= 2;
  bp += 2;
  if (vers === 0) {
    if (flags & 0xc000) {
      take(2);
      if (ctx.o.vflag) ctx.out += `, sum 0x${ctx.u16(bp).toString(16)}`;
      bp += 2; len -= 2;
      take(2);
      ctx.out += `, off 0x${ctx.u16(bp).toString(16)}`;
      bp += 2; len -= 2;
    }
    if (flags & 0x2000) { take(4); ctx.out += `, key=0x${ctx.u32(bp).toString(16)}`; bp += 4; len -= 4; }
    if (flags & 0x1000) { take(4); ctx.out += `, seq ${ctx.u32(bp)}`; bp += 4; len -= 4; }
    if (flags & 0x4000) throw TRUNCATED; // source routing entries: not decoded
  } else {
    if (flags & 0x2000) { take(4); ctx.out += `, call ${ctx.u32(bp) & 0xffff}`; bp += 4; len -= 4; }
    if (flags & 0x1000) { take(4); ctx.out += `, seq ${ctx.u32(bp)}`; bp += 4; len -= 4; }
    if (flags & 0x0080) { take(4); ctx.out += `, ack ${ctx.u32(bp)}`; bp += 4; len -= 4; }
    if ((flags & 0x1000) === 0) ctx.out += ", no-payload";
  }
  if (ctx.o.eflag) ctx.out += `, proto ${ETHERTYPES.get(prot) ?? "unknown"} (0x${prot.toString(16).padStart(4, "0")})`;
  ctx.out += `, length ${length}`;
  if (vers === 1 && (flags & 0x1000) === 0) return;
  ctx.out += ctx.o.vflag < 1 ? ": " : "\n\t";
  if (vers === 1) { ctx.out += `gre-proto-0x${prot.toString(16)}`; return; }
  switch (prot) {
    case 0x0800: ipPrint(ctx, bp, len); break;
    case 0x86dd: ip6Print(ctx, bp, len); break;
    case 0x8847: mplsPrint(ctx, bp, len); break;
    case 0x6558: etherPrint(ctx, bp, len); break;
    default: ctx.out += `gre-proto-0x${prot.toString(16)}`;
  }
}
