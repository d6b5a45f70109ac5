// NTP (RFC 5905): the version and mode line tcpdump prints without -v.

import { type Ctx } from "./context.ts";

const MODES = ["unspecified", "symmetric active", "symmetric passive", "Client", "Server", "Broadcast", "Control Message", "Reserved"];

const LEAP: ReadonlyMap<number, string> = new Map([[0, ""], [0x40, "+1s"], [0x80, "-1s"], [0xc0, "clock unsynchronized"]]);

export function ntpPrint(ctx: Ctx, bp: number, length: number): void {
  ctx.proto = "ntp";
  const b0 = ctx.u8(bp);
  const version = (b0 >> 3) & 7;
  const mode = b0 & 7;
  ctx.out += `NTPv${version}`;
  ctx.out += `, ${MODES[mode]}, length ${length}`;
  if (ctx.o.vflag === 0) return;
  const leap = b0 & 0xc0;
  ctx.out += `\n\tLeap indicator: ${LEAP.get(leap)} (${leap})`;
}
