// IGMP v1/v2/v3 (RFC 1112, 2236, 3376): queries, reports, leaves.

import { type Ctx } from "./context.ts";
import { inCksum } from "./ip.ts";
import { relTime } from "./dns.ts";

const REPORT_TYPES: ReadonlyMap<number, string> = new Map([
  [1, "is_in"], [2, "is_ex"], [3, "to_in"], [4, "to_ex"], [5, "allow"], [6, "block"],
]);

function v3Report(ctx: Ctx, bp: number, len: number): void {
  if (len < 16 || len & 3) { ctx.out += ` [invalid len ${len}]`; return; }
  const ngroups = ctx.u16(bp + 6);
  ctx.out += `, ${ngroups} group record(s)`;
  if (ctx.o.vflag === 0) return;
  let group = 8;
  for (let i = 0; i < ngroups; i++) {
    if (len < group + 8) { ctx.out += " [invalid number of groups]"; return; }
    ctx.out += ` [gaddr ${ctx.ip4(bp + group + 4)}`;
    const t = ctx.u8(bp + group);
    ctx.out += ` ${REPORT_TYPES.get(t) ?? ` [v3-report-#${t}]`}`;
    const nsrcs = ctx.u16(bp + group + 2);
    if (len < group + 8 + (nsrcs << 2)) { ctx.out += ` [invalid number of sources ${nsrcs}]`; return; }
    if (ctx.o.vflag === 1) ctx.out += `, ${nsrcs} source(s)`;
    else {
      ctx.out += " {";
      for (let j = 0; j < nsrcs; j++) ctx.out += ` ${ctx.ip4(bp + group + 8 + (j << 2))}`;
      ctx.out += " }";
    }
    group += 8 + (nsrcs << 2);
    ctx.out += "]";
  }
}

function v3Query(ctx: Ctx, bp: number, len: number): void {
  ctx.out += " v3";
  if (len < 12 || len & 3) { ctx.out += ` [invalid len ${len}]`; return; }
  const mrc = ctx.u8(bp + 1);
  const mrt = mrc < 128 ? mrc : ((mrc & 0x0f) | 0x10) << (((mrc & 0x70) >> 4) + 3);
  if (mrc !== 100) ctx.out += ` [max resp time ${mrt < 600 ? `${(mrt * 0.1).toFixed(1)}s` : relTime(Math.floor(mrt / 10))}]`;
  if (ctx.u32(bp + 4) === 0) return;
  ctx.out += ` [gaddr ${ctx.ip4(bp + 4)}`;
  const nsrcs = ctx.u16(bp + 10);
  if (nsrcs > 0) {
    if (len < 12 + (nsrcs << 2)) ctx.out += " [invalid number of sources]";
    else if (ctx.o.vflag > 1) {
      ctx.out += " {";
      for (let i = 0; i < nsrcs; i++) ctx.out += ` ${ctx.ip4(bp + 12 + (i << 2))}`;
      ctx.out += " }";
    } else ctx.out += `, ${nsrcs} source(s)`;
  }
  ctx.out += "]";
}

export function igmpPrint(ctx: Ctx, bp: number, len: number): void {
  ctx.proto = "igmp";
  if (ctx.o.qflag) { ctx.out += "igmp"; return; }
  const t = ctx.u8(bp);
  switch (t) {
    case 0x11:
      ctx.out += "igmp query";
      if (len >= 12) v3Query(ctx, bp, len);
      else {
        const mrt = ctx.u8(bp + 1);
        if (mrt) {
          ctx.out += " v2";
          if (mrt !== 100) ctx.out += ` [max resp time ${mrt}]`;
        } else ctx.out += " v1";
        if (ctx.u32(bp + 4)) ctx.out += ` [gaddr ${ctx.ip4(bp + 4)}]`;
        if (len !== 8) ctx.out += ` [len ${len}]`;
      }
      break;
    case 0x12:
      ctx.out += `igmp v1 report ${ctx.ip4(bp + 4)}`;
      if (len !== 8) ctx.out += ` [len ${len}]`;
      break;
    case 0x16: ctx.out += `igmp v2 report ${ctx.ip4(bp + 4)}`; break;
    case 0x22: ctx.out += "igmp v3 report"; v3Report(ctx, bp, len); break;
    case 0x17: ctx.out += `igmp leave ${ctx.ip4(bp + 4)}`; break;
    default: ctx.out += `igmp-${t}`; break;
  }
  if (ctx.o.vflag > 0 && len >= 4 && ctx.avail(bp) >= len && inCksum(ctx.b, bp, len) !== 0) {
    ctx.out += ` bad igmp cksum ${ctx.u16(bp + 2).toString(16)}!`;
  }
}
