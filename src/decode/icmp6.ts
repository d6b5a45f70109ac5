// ICMPv6 (RFC 4443, 4861, 3810): echo, errors, neighbor discovery and MLD, as tcpdump prints them without -v.

import { type Ctx } from "./context.ts";
import type { IpInfo } from "./ip.ts";

const TYPES: ReadonlyMap<number, string> = new Map([
  [1, "destination unreachable"], [2, "packet too big"], [3, "time exceeded in-transit"], [4, "parameter problem"],
  [128, "echo request"], [129, "echo reply"], [130, "multicast listener query"], [131, "multicast listener report"],
  [132, "multicast listener done"], [133, "router solicitation"], [134, "router advertisement"],
  [135, "neighbor solicitation"], [136, "neighbor advertisement"], [137, "redirect"], [138, "router renumbering"],
  [139, "who-are-you request"], [140, "who-are-you reply"], [141, "inverse neighbor solicitation"],
  [142, "inverse neighbor advertisement"], [143, "multicast listener report v2"], [144, "ha discovery request"],
  [145, "ha discovery reply"], [146, "mobile router solicitation"], [147, "mobile router advertisement"],
  [151, "multicast router advertisement"], [152, "multicast router solicitation"], [153, "multicast router termination"],
]);

export function icmp6Print(ctx: Ctx, bp: number, length: number, ip: IpInfo): void {
  ctx.proto = "icmp6";
  void ip;
  const type = ctx.u8(bp);
  ctx.out += `ICMP6, ${TYPES.get(type) ?? `unknown icmp6 type (${type})`}`;
  switch (type) {
    case 128: case 129:
      ctx.out += `, id ${ctx.u16(bp + 4)}, seq ${ctx.u16(bp + 6)}`;
      break;
    case 135: ctx.out += `, who has ${ctx.ip6(bp + 8)}`; break;
    case 136: ctx.out += `, tgt is ${ctx.ip6(bp + 8)}`; break;
    case 143: ctx.out += `, ${ctx.u16(bp + 6)} group record(s)`; break;
    case 130:
      if (length === 24 || length >= 28) {
        if (length >= 28) ctx.out += " v2";
        const z = ctx.b.subarray(bp + 8, bp + 24).every((x) => x === 0);
        ctx.need(bp + 8, 16);
        if (!z) ctx.out += ` [gaddr ${ctx.ip6(bp + 8)}]`;
      }
      break;
  }
  ctx.out += `, length ${length}`;
}
