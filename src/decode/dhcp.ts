// BOOTP/DHCP (RFC 951, 2131): the summary line tcpdump prints without -v.

import { type Ctx } from "./context.ts";

export function bootpPrint(ctx: Ctx, bp: number, length: number): void {
  ctx.proto = "bootp";
  const op = ctx.u8(bp);
  ctx.out += "BOOTP/DHCP";
  if (op === 1) {
    ctx.need(bp + 28, 6);
    const hlen = ctx.u8(bp + 2);
    const htype = ctx.u8(bp + 1);
    ctx.out += ", Request";
    if (htype === 1 && hlen === 6) ctx.out += ` from ${ctx.mac(bp + 28)}`;
  } else if (op === 2) {
    ctx.out += ", Reply";
  } else {
    ctx.out += ` op ${op}`;
  }
  ctx.out += `, length ${length}`;
}
