// ICMPv6 (RFC 4443, 4861, 3810): echo, errors, neighbor discovery with its options (-v), MLD v1/v2, as tcpdump
// prints them; the -v checksum.

import { TRUNCATED as TRUNC, type Ctx } from "./context.ts";
import { type IpInfo, inCksum, pseudoSum, shouldBe } from "./ip.ts";
import { hexLines } from "./hexdump.ts";
import { tcpPort, udpPort } from "./names.ts";
import { fqdnPrint } from "./dns.ts";

const TYPES: ReadonlyMap<number, string> = new Map([
  [1, "destination unreachable"], [2, "packet too big"], [3, "time exceeded in-transit"], [4, "parameter problem"],
  [128, "echo request"], [129, "echo reply"], [130, "multicast listener query"], [131, "multicast listener report"],
  [132, "multicast listener done"], [133, "router solicitation"], [134, "router advertisement"],
  [135, "neighbor solicitation"], [136, "neighbor advertisement"], [137, "redirect"], [138, "router renumbering"],
  [139, "who-are-you request"], [140, "who-are-you reply"], [141, "inverse neighbor solicitation"],
  [142, "inverse neighbor advertisement"], [143, "multicast listener report v2"], [144, "ha discovery request"],
  [145, "ha discovery reply"], [146, "mobile router solicitation"], [147, "mobile router advertisement"],
  [200, "mtrace response"], [201, "mtrace message"], [155, "RPL"],
]);
const UNREACH: ReadonlyMap<number, string> = new Map([
  [0, "unreachable route"], [1, " unreachable prohibited"], [2, "beyond scope"], [3, "unreachable address"], [4, "unreachable port"],
]);
const OPTIONS: ReadonlyMap<number, string> = new Map([
  [1, "source link-address"], [2, "destination link-address"], [3, "prefix info"], [4, "redirected header"], [5, "mtu"],
  [25, "rdnss"], [31, "dnssl"], [7, "advertisement interval"], [8, "homeagent information"], [24, "route info"],
]);
const MLDV2_RECORD: readonly string[] = ["", "is_in", "is_ex", "to_in", "to_ex", "allow", "block"];
const RTPREF = ["medium", "high", "rsv", "low"];

/** tcpdump's bittok2str: the names of the set bits, ", "-separated, or `none`. */
function bits(table: readonly (readonly [number, string])[], v: number, none = "none"): string {
  const names = table.filter(([m]) => (v & m) >>> 0 === m >>> 0 && m !== 0).map(([, n]) => n);
  return names.length ? names.join(", ") : none;
}
const RA_FLAGS = [[0x80, "managed"], [0x40, "other stateful"], [0x20, "home agent"], [0x02, "ipv6 only"]] as const;
const NA_FLAGS = [[0x80000000, "router"], [0x40000000, "solicited"], [0x20000000, "override"]] as const;
const PI_FLAGS = [[0x80, "onlink"], [0x40, "auto"], [0x20, "router"]] as const;

const lifetime = (v: number): string => (v === 0xffffffff ? "infinity" : `${v}s`);
const hexBytes = (ctx: Ctx, at: number, n: number): string => {
  let s = "";
  for (let i = 0; i < n; i++) s += (i ? ":" : "") + ctx.u8(at + i).toString(16).padStart(2, "0");
  return s;
};
/** print_unknown_data: a hex dump of what was captured of [at, at + n). */
const unknownData = (ctx: Ctx, at: number, n: number, indent: string): string =>
  hexLines(ctx.b, at, Math.min(at + n, ctx.end), indent);

export function icmp6Print(ctx: Ctx, bp: number, length: number, ip: IpInfo): void {
  ctx.proto = "icmp6";
  const v = ctx.o.vflag;
  if (length === 0) { ctx.out += "ICMP6, length 0 (invalid)"; return; }
  if (v && !ip.fragmented && ctx.avail(bp) >= length) {
    const stored = ctx.u16(bp + 2);
    const sum = inCksum(ctx.b, bp, length, pseudoSum(ctx, ip, 58, length));
    ctx.out += sum !== 0 ? `[bad icmp6 cksum 0x${stored.toString(16).padStart(4, "0")} -> 0x${shouldBe(stored, sum).toString(16).padStart(4, "0")}!] ` : "[icmp6 sum ok] ";
  }
  const type = ctx.u8(bp);
  ctx.out += `ICMP6, ${TYPES.get(type) ?? `unknown icmp6 type (${type})`}`;
  if (v && (type === 133 || type === 134 || type === 136 || type === 135 || type === 137 || type === 145 || type === 147)) {
    ctx.out += `, length ${length}`;
  }
  const code = ctx.u8(bp + 1);
  const oip = bp + 8;
  switch (type) {
    case 1:
      ctx.out += `, ${UNREACH.get(code) ?? `unknown unreach code (${code})`}`;
      switch (code) {
        case 0: case 1: case 3: ctx.out += ` ${ctx.ip6(oip + 24)}`; break;
        case 2: ctx.out += ` ${ctx.ip6(oip + 24)}, source address ${ctx.ip6(oip + 8)}`; break;
        case 4: {
          const up = upperLayer(ctx, oip);
          if (up === null) throw TRUNC;
          const dport = ctx.u16(up.at + 2);
          const dst = ctx.ip6(oip + 24);
          if (up.prot === 6) ctx.out += `, ${dst} tcp port ${tcpPort(dport, ctx.o.nflag)}`;
          else if (up.prot === 17) ctx.out += `, ${dst} udp port ${udpPort(dport, ctx.o.nflag)}`;
          else ctx.out += `, ${dst} protocol ${up.prot} port ${dport} unreachable`;
          break;
        }
        default:
          if (v <= 1) { ctx.out += unknownData(ctx, bp, length, "\n\t"); return; }
      }
      break;
    case 2: ctx.out += `, mtu ${ctx.u32(bp + 4)}`; break;
    case 3:
      if (code === 0) ctx.out += ` for ${ctx.ip6(oip + 24)}`;
      else if (code === 1) ctx.out += " (reassembly)";
      else ctx.out += `, unknown code (${code})`;
      break;
    case 4: {
      ctx.need(oip + 24, 16);
      const what = ["erroneous", "next header", "option", "incomplete header chain"][code];
      ctx.out += what ? `, ${what} - octet ${ctx.u32(bp + 4)}` : `, code-#${code}`;
      break;
    }
    case 128: case 129: ctx.out += `, id ${ctx.u16(bp + 4)}, seq ${ctx.u16(bp + 6)}`; break;
    case 130:
      if (length === 24) mld6(ctx, bp);
      else if (length >= 28) { ctx.out += " v2"; mldv2Query(ctx, bp, length); }
      else ctx.out += ` unknown-version (len ${length}) `;
      break;
    case 131: case 132: mld6(ctx, bp); break;
    case 133: if (v) options(ctx, bp + 8, length - 8); break;
    case 134:
      if (v) {
        const f = ctx.u8(bp + 5);
        ctx.out += `\n\thop limit ${ctx.u8(bp + 4)}, Flags [${bits(RA_FLAGS, f)}], pref ${RTPREF[(f & 0x18) >> 3]}, router lifetime ${ctx.u16(bp + 6)}s, reachable time ${ctx.u32(bp + 8)}ms, retrans timer ${ctx.u32(bp + 12)}ms`;
        options(ctx, bp + 16, length - 16);
      }
      break;
    case 135:
      ctx.out += `, who has ${ctx.ip6(bp + 8)}`;
      if (v) options(ctx, bp + 24, length - 24);
      break;
    case 136:
      ctx.out += `, tgt is ${ctx.ip6(bp + 8)}`;
      if (v) {
        ctx.out += `, Flags [${bits(NA_FLAGS, ctx.u32(bp + 4))}]`;
        options(ctx, bp + 24, length - 24);
      }
      break;
    case 137:
      ctx.out += `, ${ctx.ip6(bp + 24)} to ${ctx.ip6(bp + 8)}`;
      if (v) options(ctx, bp + 40, length - 40);
      break;
    // router renumbering and node information have printers of their own that bpfkit does not have yet
    case 138: case 139: case 140: case 155: case 141: case 142: break;
    case 143: mldv2Report(ctx, bp, length); break;
    case 144: case 146: ctx.out += `, id 0x${ctx.u16(bp + 4).toString(16).padStart(4, "0")}`; break;
    case 145:
      if (v) {
        ctx.out += `, id 0x${ctx.u16(bp + 4).toString(16).padStart(4, "0")}`;
        for (let p = bp + 8; p < bp + length; p += 16) ctx.out += `, ${ctx.ip6(p)}`;
      }
      break;
    case 147:
      if (v) {
        ctx.out += `, id 0x${ctx.u16(bp + 4).toString(16).padStart(4, "0")}`;
        const flags = ctx.u16(bp + 6);
        if (flags & 0xc000) ctx.out += " ";
        if (flags & 0x8000) ctx.out += "M";
        if (flags & 0x4000) ctx.out += "O";
        options(ctx, bp + 8, length - 8);
      }
      break;
    default:
      ctx.out += `, length ${length}`;
      if (v <= 1) ctx.out += unknownData(ctx, bp, length, "\n\t");
      return;
  }
  if (!v) ctx.out += `, length ${length}`;
}


/** The quoted packet's TCP/UDP header behind its IPv6 extension headers (get_upperlayer), or null. */
function upperLayer(ctx: Ctx, ip6: number): { at: number; prot: number } | null {
  if (ctx.avail(ip6 + 6) < 1) return null;
  let nh = ctx.b[ip6 + 6]!;
  let p = ip6;
  let hlen = 40;
  while (p < ctx.end) {
    p += hlen;
    switch (nh) {
      case 6: case 17:
        return ctx.avail(p + 2) >= 2 ? { at: p, prot: nh } : null;
      case 0: case 60: case 43:
        if (ctx.avail(p + 1) < 1) return null;
        nh = ctx.b[p]!;
        hlen = (ctx.b[p + 1]! + 1) << 3;
        break;
      case 44:
        if (ctx.avail(p + 2) < 2) return null;
        if ((((ctx.b[p + 2]! << 8) | ctx.b[p + 3]!) & 0xfff8) !== 0) return null;
        nh = ctx.b[p]!;
        hlen = 8;
        break;
      case 51:
        if (ctx.avail(p + 1) < 1) return null;
        nh = ctx.b[p]!;
        hlen = (ctx.b[p + 1]! + 2) << 2;
        break;
      default:
        return null;
    }
  }
  return null;
}

/** Neighbor discovery options; a truncated option ends the line " [|icmp6]". */
function options(ctx: Ctx, bp: number, resid: number): void {
  const v = ctx.o.vflag;
  let cp = bp;
  while (cp < ctx.end) {
    if (ctx.avail(cp + 1) < 1) throw TRUNC;
    if (resid <= 0) return;
    const type = ctx.b[cp]!;
    const olen = ctx.b[cp + 1]!;
    if (olen === 0 || cp + (olen << 3) > ctx.end) throw TRUNC;
    ctx.out += `\n\t  ${OPTIONS.get(type) ?? "unknown"} option (${type}), length ${olen << 3} (${olen}): `;
    switch (type) {
      case 1: case 2: ctx.out += hexBytes(ctx, cp + 2, (olen << 3) - 2); break;
      case 3:
        ctx.out += `${ctx.ip6(cp + 16)}/${ctx.u8(cp + 2)}${olen !== 4 ? "badlen" : ""}, Flags [${bits(PI_FLAGS, ctx.u8(cp + 3))}], valid time ${lifetime(ctx.u32(cp + 4))}`;
        ctx.out += `, pref. time ${lifetime(ctx.u32(cp + 8))}`;
        break;
      case 4: ctx.out += unknownData(ctx, bp, olen << 3, "\n\t    "); break;
      case 5: ctx.out += ` ${ctx.u32(cp + 4)}${olen !== 1 ? "bad option length" : ""}`; break;
      case 25: {
        ctx.out += ` lifetime ${ctx.u32(cp + 4)}s,`;
        const n = (olen - 1) >> 1;
        for (let i = 0; i < n; i++) ctx.out += ` addr: ${ctx.ip6(cp + 8 + 16 * i)}`;
        break;
      }
      case 31: {
        ctx.out += ` lifetime ${ctx.u32(cp + 4)}s, domain(s):`;
        let d = cp + 8;
        while (d < cp + (olen << 3) && ctx.u8(d) !== 0) {
          ctx.out += " ";
          d = fqdnPrint(ctx, d, bp);
          if (d < 0) throw TRUNC;
        }
        break;
      }
      case 7: ctx.out += ` ${ctx.u32(cp + 4)}ms`; break;
      case 8: ctx.out += ` preference ${ctx.u16(cp + 4)}, lifetime ${ctx.u16(cp + 6)}`; break;
      case 24: {
        ctx.need(cp + 4, 4);
        const prefix = new Uint8Array(16);
        if (olen === 2) prefix.set(ctx.b.subarray(cp + 8, cp + 16));
        else if (olen === 3) { ctx.need(cp + 8, 16); prefix.set(ctx.b.subarray(cp + 8, cp + 24)); }
        else if (olen !== 1) throw TRUNC;
        const saved = ctx.b, savedEnd = ctx.end;
        ctx.b = prefix; ctx.end = 16;
        const text = ctx.ip6(0);
        ctx.b = saved; ctx.end = savedEnd;
        ctx.out += ` ${text}/${ctx.u8(cp + 2)}, pref=${RTPREF[(ctx.u8(cp + 3) & 0x18) >> 3]}, lifetime=${lifetime(ctx.u32(cp + 4))}`;
        break;
      }
      default:
        if (v <= 1) { ctx.out += unknownData(ctx, cp + 2, (olen << 3) - 2, "\n\t  "); return; }
    }
    if (v > 1) ctx.out += unknownData(ctx, cp + 2, (olen << 3) - 2, "\n\t    ");
    cp += olen << 3;
    resid -= olen << 3;
  }
}

function mld6(ctx: Ctx, bp: number): void {
  if (bp + 24 > ctx.end) return;
  ctx.out += `max resp delay: ${ctx.u16(bp + 4)} addr: ${ctx.ip6(bp + 8)}`;
}

function mldv2Report(ctx: Ctx, bp: number, len: number): void {
  if (len < 8) { ctx.out += ` [invalid len ${len}]`; return; }
  const ngroups = ctx.u16(bp + 6);
  ctx.out += `, ${ngroups} group record(s)`;
  if (ctx.o.vflag === 0) return;
  let group = 8;
  for (let i = 0; i < ngroups; i++) {
    if (len < group + 20) { ctx.out += " [invalid number of groups]"; return; }
    ctx.out += ` [gaddr ${ctx.ip6(bp + group + 4)}`;
    const rt = ctx.u8(bp + group);
    ctx.out += ` ${MLDV2_RECORD[rt] || ` [v2-report-#${rt}]`}`;
    const nsrcs = ctx.u16(bp + group + 2);
    if (len < group + 20 + nsrcs * 16) { ctx.out += ` [invalid number of sources ${nsrcs}]`; return; }
    if (ctx.o.vflag === 1) ctx.out += `, ${nsrcs} source(s)`;
    else {
      ctx.out += " {";
      for (let j = 0; j < nsrcs; j++) ctx.out += ` ${ctx.ip6(bp + group + 20 + 16 * j)}`;
      ctx.out += " }";
    }
    group += 20 + nsrcs * 16;
    ctx.out += "]";
  }
}

function mldv2Query(ctx: Ctx, bp: number, len: number): void {
  if (len < 28) { ctx.out += ` [invalid len ${len}]`; return; }
  const mrc = ctx.u16(bp + 4);
  const mrt = mrc < 32768 ? mrc : ((mrc & 0x0fff) | 0x1000) << (((mrc & 0x7000) >> 12) + 3);
  if (ctx.o.vflag) ctx.out += ` [max resp delay=${mrt}]`;
  ctx.out += ` [gaddr ${ctx.ip6(bp + 8)}`;
  if (ctx.o.vflag) {
    const b24 = ctx.u8(bp + 24);
    if (b24 & 0x08) ctx.out += " sflag";
    if (b24 & 0x07) ctx.out += ` robustness=${b24 & 0x07}`;
    const q = ctx.u8(bp + 25);
    ctx.out += ` qqi=${q < 128 ? q : ((q & 0x0f) | 0x10) << (((q & 0x70) >> 4) + 3)}`;
  }
  const nsrcs = ctx.u16(bp + 26);
  if (nsrcs > 0) {
    if (len < 28 + nsrcs * 16) ctx.out += " [invalid number of sources]";
    else if (ctx.o.vflag > 1) {
      ctx.out += " {";
      for (let i = 0; i < nsrcs; i++) ctx.out += ` ${ctx.ip6(bp + 28 + 16 * i)}`;
      ctx.out += " }";
    } else ctx.out += `, ${nsrcs} source(s)`;
  }
  ctx.out += "]";
}
