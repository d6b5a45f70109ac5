// NTP (RFC 5905): the version and mode line tcpdump prints without -v.

import { type Ctx } from "./context.ts";

const MODES = ["unspecified", "symmetric active", "symmetric passive", "Client", "Server", "Broadcast", "Control Message", "Reserved"];

export function ntpPrint(ctx: Ctx, bp: number, length: number): void {
  ctx.proto = "ntp";
  const b0 = ctx.u8(bp);
  const version = (b0 >> 3) & 7;
  const mode = b0 & 7;
  ctx.out += `NTPv${version}`;
  ctx.out += `, ${MODES[mode]}, length ${length}`;
}
