// MPLS label stacks (RFC 3032), then the payload guessed from the bottom label or the first nibble, as tcpdump does.

import { type Ctx } from "./context.ts";
import { ipPrint } from "./ip.ts";
import { ip6Print } from "./ip6.ts";
import { unlessSuppressed } from "./ether.ts";

const LABEL_NAMES = ["IPv4 explicit NULL", "router alert", "IPv6 explicit NULL", "implicit NULL", "rsvd", "rsvd", "rsvd",
  "rsvd", "rsvd", "rsvd", "rsvd", "rsvd", "rsvd", "OAM alert", "rsvd", "rsvd"];

export function mplsPrint(ctx: Ctx, p: number, length: number): void {
  ctx.proto = "mpls";
  ctx.out += "MPLS";
  let depth = 0;
  let entry: number;
  do {
    if (length < 4) { ctx.out += " (invalid)"; ctx.need(p, length); return; }
    entry = ctx.u32(p);
    const label = entry >>> 12;
    ctx.out += `${depth && ctx.o.vflag ? "\n\t" : " "}(label ${label}`;
    depth++;
    if (ctx.o.vflag && label < 16) ctx.out += ` (${LABEL_NAMES[label]})`;
    ctx.out += `, tc ${(entry >>> 9) & 7}`;
    if (entry & 0x100) ctx.out += ", [S]";
    ctx.out += `, ttl ${entry & 0xff})`;
    p += 4;
    length -= 4;
  } while (!(entry & 0x100));
  let pt = 0;
  switch (entry >>> 12) {
    case 0: case 3: pt = 4; break;
    case 2: pt = 6; break;
    default: {
      if (length < 1) return;
      const first = ctx.u8(p);
      pt = first >= 0x45 && first <= 0x4f ? 4 : first >= 0x60 && first <= 0x6f ? 6 : first >= 0x81 && first <= 0x83 ? 1 : 0;
    }
  }
  if (pt === 0 || pt === 1) { if (pt === 0) unlessSuppressed(ctx, p); else ctx.out += ctx.o.vflag ? "\n\t" : " "; return; }
  ctx.out += ctx.o.vflag ? "\n\t" : " ";
  if (pt === 4) ipPrint(ctx, p, length);
  else ip6Print(ctx, p, length);
}
