// TCP: ports, flags, sequence numbers relative to the conversation's first ones (tcpdump's tcp_seq_hash) unless -S,
// window, urgent pointer, options, and the payload printers tcpdump picks by port.

import { type Ctx, hex2, printChar } from "./context.ts";
import { type IpInfo, shouldBe, inCksum, pseudoSum } from "./ip.ts";
import { tcpPort } from "./names.ts";
import { dnsPrint } from "./dns.ts";
import { httpPrint, HTTP_PORTS } from "./http.ts";
import { mptcpPrint } from "./mptcp.ts";

/** Flag bits and their letters, in the order tcpdump prints them. */
const FLAGS: readonly (readonly [number, string])[] = [
  [0x01, "F"], [0x02, "S"], [0x04, "R"], [0x08, "P"], [0x10, "."], [0x20, "U"], [0x40, "E"], [0x80, "W"],
];

const OPTION_NAMES: ReadonlyMap<number, string> = new Map([
  [0, "eol"], [1, "nop"], [2, "mss"], [3, "wscale"], [4, "sackOK"], [5, "sack"], [6, "echo"], [7, "echoreply"],
  [8, "TS"], [11, "cc"], [12, "ccnew"], [13, ""], [19, "md5"], [20, "scps"], [28, "uto"], [29, "tcp-ao"], [30, "mptcp"],
  [34, "tfo"], [254, "exp"],
]);

function flagText(flags: number): string {
  let s = "";
  for (const [bit, ch] of FLAGS) if (flags & bit) s += ch;
  return s === "" ? "none" : s;
}

class BadOption { }
const BAD = new BadOption();

/** Appends ", options [...]"; false when tcpdump stops at a bad option ("[bad opt]"). */
function optionsPrint(ctx: Ctx, cp: number, hlen: number, rev: boolean, thseq: number, thack: number, flags: number): boolean {
  ctx.out += ", options [";
  let first = true;
  try {
    while (hlen > 0) {
      if (!first) ctx.out += ",";
      const opt = ctx.u8(cp++);
      let len: number;
      if (opt === 0 || opt === 1) len = 1;
      else {
        len = ctx.u8(cp++);
        if (len < 2 || len > hlen) throw BAD;
        hlen--;
      }
      hlen--;
      let datalen = 0;
      const check = (l: number): void => { if (l > hlen) throw BAD; ctx.need(cp, l); };
      ctx.out += OPTION_NAMES.get(opt) ?? `unknown-${opt}`;
      switch (opt) {
        case 2: datalen = 2; check(2); ctx.out += ` ${ctx.u16(cp)}`; break;
        case 3: datalen = 1; check(1); ctx.out += ` ${ctx.u8(cp)}`; break;
        case 5: {
          datalen = len - 2;
          if (datalen % 8 !== 0) ctx.out += " invalid sack";
          else {
            ctx.out += ` ${datalen / 8} `;
            for (let i = 0; i < datalen; i += 8) {
              check(i + 4);
              let a = ctx.u32(cp + i);
              check(i + 8);
              let b = ctx.u32(cp + i + 4);
              if (rev) { a = (a - thseq) >>> 0; b = (b - thseq) >>> 0; } else { a = (a - thack) >>> 0; b = (b - thack) >>> 0; }
              ctx.out += `{${a}:${b}}`;
            }
          }
          break;
        }
        case 11: case 12: case 13: datalen = 4; check(4); ctx.out += ` ${ctx.u32(cp)}`; break;
        case 8: datalen = 8; check(8); ctx.out += ` val ${ctx.u32(cp)} ecr ${ctx.u32(cp + 4)}`; break;
        case 19: {
          datalen = 16; check(16); ctx.out += " ";
          for (let i = 0; i < 16; i++) ctx.out += hex2(ctx.u8(cp + i));
          break;
        }
        case 28: {
          datalen = 2; check(2);
          let v = ctx.u16(cp);
          ctx.out += ` 0x${v.toString(16)}`;
          v = v & 1 ? (v >> 1) * 60 : v >> 1;
          ctx.out += ` ${v}`;
          break;
        }
        case 0: case 1: case 4: break;
        case 30: {
          datalen = len - 2;
          check(datalen);
          const saveEnd = ctx.end;
          if (cp - 2 + len < ctx.end) ctx.end = cp - 2 + len;
          const ok = mptcpPrint(ctx, cp - 2, len, flags);
          ctx.end = saveEnd;
          if (!ok) throw BAD;
          break;
        }
        default: {
          datalen = len - 2;
          for (let i = 0; i < datalen; i++) { check(i + 1); ctx.out += (i === 0 ? " 0x" : "") + hex2(ctx.u8(cp + i)); }
        }
      }
      cp += datalen;
      hlen -= datalen;
      datalen++;
      if (opt !== 0 && opt !== 1) datalen++;
      if (datalen !== len) ctx.out += `[len ${len}]`;
      first = false;
      if (opt === 0) break;
    }
  } catch (e) {
    if (e !== BAD) throw e;
    ctx.out += "[bad opt]";
    if (!first) ctx.out += "]";
    return false;
  }
  ctx.out += "]";
  return true;
}

export function tcpPrint(ctx: Ctx, off: number, length: number, ip: IpInfo): void {
  ctx.proto = "tcp";
  const src = ip.v6 ? ctx.ip6(ip.src) : ctx.ip4(ip.src);
  const dst = ip.v6 ? ctx.ip6(ip.dst) : ctx.ip4(ip.dst);
  if (ctx.avail(off) < 4) {
    ctx.out += `${src} > ${dst}:`;
    ctx.out += " [|tcp]";
    return;
  }
  const sport = ctx.u16(off);
  const dport = ctx.u16(off + 2);
  const n = ctx.o.nflag;
  ctx.out += ip.afterExtHeaders ? `${tcpPort(sport, n)} > ${tcpPort(dport, n)}: ` : `${src}.${tcpPort(sport, n)} > ${dst}.${tcpPort(dport, n)}: `;
  ctx.need(off, 20);
  let hlen = (ctx.u8(off + 12) >> 4) * 4;
  if (hlen < 20) {
    ctx.out += ` tcp ${length - hlen} [bad hdr length ${hlen} - too short, < 20]`;
    return;
  }
  let seq = ctx.u32(off + 4);
  let ack = ctx.u32(off + 8);
  const win = ctx.u16(off + 14);
  const urp = ctx.u16(off + 18);
  if (ctx.o.qflag) {
    ctx.out += `tcp ${length - hlen}`;
    if (hlen > length) ctx.out += ` [bad hdr length ${hlen} - too long, > ${length}]`;
    return;
  }
  const flags = ctx.u8(off + 13);
  ctx.out += `Flags [${flagText(flags)}]`;
  let rev = false;
  let thseq = 0, thack = 0;
  if (!ctx.o.Sflag && (flags & 0x10)) {
    const n2 = ip.v6 ? 16 : 4;
    let cmp = 0;
    for (let i = 0; i < n2 && cmp === 0; i++) cmp = ctx.b[ip.src + i]! - ctx.b[ip.dst + i]!;
    rev = cmp > 0 || (cmp === 0 && sport > dport);
    const key = rev ? `${dst}|${src}|${dport}|${sport}|${ip.v6 ? 6 : 4}` : `${src}|${dst}|${sport}|${dport}|${ip.v6 ? 6 : 4}`;
    const th = ctx.tcpSeq.get(key);
    if (th === undefined || (flags & 0x02)) {
      const state = rev ? { ack: seq, seq: (ack - 1) >>> 0 } : { seq, ack: (ack - 1) >>> 0 };
      ctx.tcpSeq.set(key, state);
      thseq = state.seq;
      thack = state.ack;
    } else {
      if (rev) { seq = (seq - th.ack) >>> 0; ack = (ack - th.seq) >>> 0; } else { seq = (seq - th.seq) >>> 0; ack = (ack - th.ack) >>> 0; }
      thseq = th.seq;
      thack = th.ack;
    }
  }
  if (hlen > length) {
    ctx.out += ` [bad hdr length ${hlen} - too long, > ${length}]`;
    return;
  }
  if (ctx.o.vflag > 0 && !ip.fragmented && ctx.avail(off) >= length) {
    const sum = inCksum(ctx.b, off, length, pseudoSum(ctx, ip, 6, length));
    const stored = ctx.u16(off + 16);
    ctx.out += `, cksum 0x${stored.toString(16).padStart(4, "0")}`;
    if (sum !== 0) {
      ctx.out += ` (incorrect -> 0x${shouldBe(stored, sum).toString(16).padStart(4, "0")})`;
    } else ctx.out += " (correct)";
  }
  length -= hlen;
  if (ctx.o.vflag > 1 || length > 0 || (flags & 0x07)) {
    ctx.out += `, seq ${seq}`;
    if (length > 0) ctx.out += `:${(seq + length) >>> 0}`;
  }
  if (flags & 0x10) ctx.out += `, ack ${ack}`;
  ctx.out += `, win ${win}`;
  if (flags & 0x20) ctx.out += `, urg ${urp}`;
  if (hlen > 20) {
    if (!optionsPrint(ctx, off + 20, hlen - 20, rev, thseq, thack, flags)) return;
  }
  ctx.out += `, length ${length}`;
  if (length <= 0) return;
  const data = off + hlen;
  if ((flags & 0x04) && ctx.o.vflag > 0) {
    // RFC 1122: a reset may carry text saying why; the first 30 bytes ("!" when not all were captured)
    ctx.out += ctx.avail(data) >= length ? " [RST" : " [!RST";
    let n = length;
    if (n > 30) { n = 30; ctx.out += "+"; }
    ctx.out += " ";
    const stop = Math.min(data + n, ctx.end);
    for (let i = data; i < stop; i++) ctx.out += printChar(ctx.b[i]!);
    ctx.out += "]";
    return;
  }
  const port = (n: number): boolean => sport === n || dport === n;
  if (port(23) || port(25) || port(43) || port(1723) || port(6379) || port(10288) || port(6633) || port(6653) || port(21)) return;
  if (port(179)) { if (ctx.o.vflag === 0) ctx.out += ": BGP"; return; }
  if (port(22)) { sshPrint(ctx, data, length); return; }
  if (HTTP_PORTS.has(sport) || HTTP_PORTS.has(dport)) { ctx.out += ": "; httpPrint(ctx, data, length); return; }
  if (port(554) || port(8554)) return;
  if (port(53)) dnsPrint(ctx, data, length, true);
  else if (HTTP_PORTS.has(sport) || HTTP_PORTS.has(dport)) { ctx.out += ": "; httpPrint(ctx, data, length); }
  else if (sport === 22 || dport === 22) sshPrint(ctx, data, length);
  else if (sport === 179 || dport === 179) { if (ctx.o.vflag === 0) ctx.out += ": BGP"; }
}

/** ": SSH: <version line>" when the payload is an SSH banner line. */
function sshPrint(ctx: Ctx, off: number, len: number): void {
  ctx.proto = "ssh";
  for (let i = 0; i < 4; i++) if (ctx.u8(off + i) !== [0x53, 0x53, 0x48, 0x2d][i]) return;
  for (let idx = 4; idx < len; idx++) {
    const c = ctx.u8(off + idx);
    if (c === 0x0a || (c === 0x0d && idx + 1 < len && ctx.u8(off + idx + 1) === 0x0a)) {
      let s = "";
      for (let i = 0; i < idx; i++) s += String.fromCharCode(ctx.b[off + i]!);
      ctx.out += ": SSH: " + s;
      return;
    }
    if (c === 0x0d || c < 0x20 || c > 0x7e) return;
  }
}
