// DNS (RFC 1035) and mDNS: the header summary, questions, answers (and the other sections under -vv), as tcpdump's
// domain printer shows them.

import { printChar, type Ctx, TRUNCATED, formatIp6, hex2 } from "./context.ts";

export const DNS_TYPES: ReadonlyMap<number, string> = new Map([
  [1, "A"], [2, "NS"], [3, "MD"], [4, "MF"], [5, "CNAME"], [6, "SOA"], [7, "MB"], [8, "MG"], [9, "MR"], [10, "NULL"],
  [11, "WKS"], [12, "PTR"], [13, "HINFO"], [14, "MINFO"], [15, "MX"], [16, "TXT"], [17, "RP"], [18, "AFSDB"], [19, "X25"],
  [20, "ISDN"], [21, "RT"], [22, "NSAP"], [23, "NSAP_PTR"], [24, "SIG"], [25, "KEY"], [26, "PX"], [27, "GPOS"],
  [28, "AAAA"], [29, "LOC"], [30, "NXT"], [31, "EID"], [32, "NIMLOC"], [33, "SRV"], [34, "ATMA"], [35, "NAPTR"],
  [36, "KX"], [37, "CERT"], [38, "A6"], [39, "DNAME"], [40, "SINK"], [41, "OPT"], [42, "APL"], [43, "DS"], [44, "SSHFP"],
  [45, "IPSECKEY"], [46, "RRSIG"], [47, "NSEC"], [48, "DNSKEY"], [99, "SPF"], [100, "UINFO"], [101, "UID"], [102, "GID"],
  [103, "UNSPEC"], [104, "UNSPECA"], [249, "TKEY"], [250, "TSIG"], [251, "IXFR"], [252, "AXFR"], [253, "MAILB"],
  [254, "MAILA"], [255, "ANY"], [256, "URI"],
]);

const CLASSES: ReadonlyMap<number, string> = new Map([[1, "IN"], [3, "CHAOS"], [4, "HS"], [255, "ANY"]]);

const OPCODES = ["", " inv_q", " stat", " op3", " notify", " update", " op6", " op7", " op8", " updateA", " updateD",
  " updateDA", " updateM", " updateMA", " zoneInit", " zoneRef"];
const RCODES = ["", " FormErr", " ServFail", " NXDomain", " NotImp", " Refused", " YXDomain", " YXRRSet", " NXRRSet",
  " NotAuth", " NotZone", " Resp11", " Resp12", " Resp13", " Resp14", " NoChange", " BadVers", "Resp17", " Resp18",
  " Resp19", " Resp20", "Resp21", " Resp22", " BadCookie"];

const typeName = (t: number): string => DNS_TYPES.get(t) ?? `Type${t}`;
const className = (c: number): string => CLASSES.get(c) ?? `(Class ${c})`;

const labelChar = printChar;

const NUL = -1;
const MAXCDNAME = 255;

/** Skips a name; returns the offset after it, or NUL. */
function nameSkip(ctx: Ctx, cp: number): number {
  if (cp >= ctx.end) return NUL;
  let i = ctx.b[cp++]!;
  while (i) {
    switch (i & 0xc0) {
      case 0xc0: return cp + 1;
      case 0x40: {
        if ((i & 0x3f) !== 1) return NUL;
        if (cp >= ctx.end) return NUL;
        const bits = ctx.b[cp++]! || 256;
        cp += Math.floor((bits + 7) / 8);
        break;
      }
      case 0x80: return NUL;
      default: cp += i;
    }
    if (cp >= ctx.end) return NUL;
    i = ctx.b[cp++]!;
  }
  return cp;
}

function labelLen(ctx: Ctx, cp: number): number {
  if (cp >= ctx.end) return NUL;
  const i = ctx.b[cp]!;
  switch (i & 0xc0) {
    case 0x40: {
      if ((i & 0x3f) !== 1) { ctx.out += `<ELT ${i & 0x3f}>`; return NUL; }
      if (cp + 1 >= ctx.end) return NUL;
      const bits = ctx.b[cp + 1]! || 256;
      return Math.floor((bits + 7) / 8) + 1;
    }
    case 0x80: ctx.out += "<BAD LABEL TYPE>"; return NUL;
    default: return i;
  }
}

/** n characters as tcpdump's nd_printn shows them; true when the capture ended first. */
function printn(ctx: Ctx, s: number, n: number): boolean {
  while (n > 0 && s < ctx.end) {
    n--;
    ctx.out += labelChar(ctx.b[s++]!);
  }
  return n !== 0;
}

function blabelPrint(ctx: Ctx, cp: number): number {
  if (cp >= ctx.end) return NUL;
  const bitlen = ctx.b[cp]! || 256;
  const slen = Math.floor((bitlen + 3) / 4);
  const lim = cp + 1 + slen;
  ctx.out += "\\[x";
  let bp = cp + 1, b = bitlen;
  for (; bp < lim && b > 7; b -= 8, bp++) ctx.out += hex2(ctx.u8(bp));
  if (b > 4) { ctx.out += hex2(ctx.u8(bp) & (0xff << (8 - b))); bp++; }
  else if (b > 0) { ctx.out += (((ctx.u8(bp) >> 4) & 0x0f) & (0x0f << (4 - b))).toString(16); bp++; }
  ctx.out += `/${bitlen}]`;
  return lim;
}

/** Prints a (possibly compressed) name; returns the offset after it in the record, or NUL. */
export function fqdnPrint(ctx: Ctx, cp: number, msg: number): number {
  let l = labelLen(ctx, cp);
  if (l === NUL) return NUL;
  let maxOffset = cp - msg;
  let i = ctx.b[cp++]!;
  let compress = false;
  let rp = NUL;
  if ((i & 0xc0) !== 0xc0) rp = cp + l;
  if (i === 0) { ctx.out += "."; return rp; }
  let chars = 0;
  while (i && cp < ctx.end) {
    switch (i & 0xc0) {
      case 0xc0: {
        if (!compress) { rp = cp + 1; compress = true; }
        if (cp >= ctx.end) return NUL;
        const offset = ((i << 8) | ctx.b[cp]!) & 0x3fff;
        if (offset >= maxOffset) { ctx.out += "<BAD PTR>"; return NUL; }
        maxOffset = offset;
        cp = msg + offset;
        if (cp >= ctx.end) return NUL;
        i = ctx.b[cp]!;
        l = labelLen(ctx, cp);
        if (l === NUL) return NUL;
        cp++;
        continue;
      }
      case 0x40:
        if ((i & 0x3f) !== 1) { ctx.out += `<ELT ${i & 0x3f}>`; return NUL; }
        if (blabelPrint(ctx, cp) === NUL) return NUL;
        break;
      case 0x80: ctx.out += "<BAD LABEL TYPE>"; return NUL;
      default:
        if (chars + l <= MAXCDNAME) { if (printn(ctx, cp, l)) return NUL; }
        else if (chars < MAXCDNAME) { if (printn(ctx, cp, MAXCDNAME - chars)) return NUL; }
        chars += l;
    }
    cp += l;
    if (chars <= MAXCDNAME) ctx.out += ".";
    chars++;
    if (cp >= ctx.end) return NUL;
    i = ctx.b[cp]!;
    l = labelLen(ctx, cp);
    if (l === NUL) return NUL;
    cp++;
    if (!compress) rp += l + 1;
  }
  if (chars > MAXCDNAME) ctx.out += "<DOMAIN NAME TOO LONG>";
  return rp;
}

function qPrint(ctx: Ctx, cp: number, msg: number, mdns: boolean): number {
  const np = cp;
  cp = nameSkip(ctx, cp);
  if (cp === NUL || cp + 4 > ctx.end) return NUL;
  const t = ctx.u16(cp);
  const qc = ctx.u16(cp + 2);
  ctx.out += ` ${typeName(t)}`;
  const cls = mdns ? qc & 0x7fff : qc;
  if (cls !== 1) ctx.out += ` ${className(cls)}`;
  if (mdns) ctx.out += qc & 0x8000 ? " (QU)" : " (QM)";
  ctx.out += "? ";
  const r = fqdnPrint(ctx, np, msg);
  return r === NUL ? NUL : r + 4;
}

function rPrint(ctx: Ctx, cp: number, msg: number, mdns: boolean): number {
  if (ctx.o.vflag > 0) {
    ctx.out += " ";
    cp = fqdnPrint(ctx, cp, msg);
    if (cp === NUL) return NUL;
  } else cp = nameSkip(ctx, cp);
  if (cp === NUL || cp + 10 > ctx.end) return ctx.end;
  const typ = ctx.u16(cp);
  const cls = ctx.u16(cp + 2);
  const c = mdns ? cls & 0x7fff : cls;
  if (c !== 1 && typ !== 41) ctx.out += ` ${className(c)}`;
  if (mdns && (cls & 0x8000)) ctx.out += " (Cache flush)";
  let optFlags = 0;
  if (typ === 41) optFlags = ctx.u16(cp + 6);
  else if (ctx.o.vflag > 2) ctx.out += ` [${relTime(ctx.u32(cp + 4))}]`;
  const len = ctx.u16(cp + 8);
  cp += 10;
  const rp = cp + len;
  ctx.out += ` ${typeName(typ)}`;
  if (rp > ctx.end) return NUL;
  switch (typ) {
    case 1: ctx.out += ` ${ctx.b[cp]}.${ctx.b[cp + 1]}.${ctx.b[cp + 2]}.${ctx.b[cp + 3]}`; if (cp + 4 > ctx.end) return NUL; break;
    case 2: case 5: case 12: case 39: ctx.out += " "; if (fqdnPrint(ctx, cp, msg) === NUL) return NUL; break;
    case 6: {
      if (ctx.o.vflag === 0) break;
      ctx.out += " ";
      if ((cp = fqdnPrint(ctx, cp, msg)) === NUL) return NUL;
      ctx.out += " ";
      if ((cp = fqdnPrint(ctx, cp, msg)) === NUL) return NUL;
      if (cp + 20 > ctx.end) return NUL;
      for (let k = 0; k < 5; k++) ctx.out += ` ${ctx.u32(cp + 4 * k)}`;
      break;
    }
    case 15:
      ctx.out += " ";
      if (cp + 2 > ctx.end) return NUL;
      if (fqdnPrint(ctx, cp + 2, msg) === NUL) return NUL;
      ctx.out += ` ${ctx.u16(cp)}`;
      break;
    case 16:
      while (cp < rp) {
        ctx.out += ' "';
        if (cp >= ctx.end) return NUL;
        const n = ctx.b[cp++]!;
        if (printn(ctx, cp, n)) return NUL;
        cp += n;
        ctx.out += '"';
      }
      break;
    case 33:
      ctx.out += " ";
      if (cp + 6 > ctx.end) return NUL;
      if (fqdnPrint(ctx, cp + 6, msg) === NUL) return NUL;
      ctx.out += `:${ctx.u16(cp + 4)} ${ctx.u16(cp)} ${ctx.u16(cp + 2)}`;
      break;
    case 28: if (cp + 16 > ctx.end) return NUL; ctx.out += ` ${formatIp6(ctx.b, cp)}`; break;
    case 256:
      if (cp + len > ctx.end) return NUL;
      ctx.out += ` ${ctx.u16(cp)} ${ctx.u16(cp + 2)} `;
      if (printn(ctx, cp + 4, len - 4)) return NUL;
      break;
    case 104: if (cp + len > ctx.end || printn(ctx, cp, len)) return NUL; break;
    case 41:
      ctx.out += ` UDPsize=${cls}`;
      if (optFlags & 0x8000) ctx.out += " DO";
      if (cp < rp) {
        ctx.out += " [";
        while (cp < rp) {
          cp = ednsOpt(ctx, cp);
          if (cp === NUL) return NUL;
          if (cp < rp) ctx.out += ",";
        }
        ctx.out += "]";
      }
      break;
  }
  return rp;
}

const EDNS_OPTS: ReadonlyMap<number, string> = new Map([
  [1, "LLQ"], [2, "UL"], [3, "NSID"], [5, "DAU"], [6, "DHU"], [7, "N3U"], [8, "ECS"], [9, "EXPIRE"], [10, "COOKIE"],
  [11, "KEEPALIVE"], [12, "PADDING"], [13, "CHAIN"], [14, "KEY-TAG"], [16, "CLIENT-TAG"], [17, "SERVER-TAG"],
]);

function ednsOpt(ctx: Ctx, cp: number): number {
  if (cp + 2 > ctx.end) return NUL;
  const code = ctx.u16(cp);
  ctx.out += EDNS_OPTS.get(code) ?? `Opt${code}`;
  if (cp + 4 > ctx.end) return NUL;
  const len = ctx.u16(cp + 2);
  cp += 4;
  if (cp + len > ctx.end) throw TRUNCATED;
  if (len > 0) {
    ctx.out += " ";
    if (code === 12) ctx.out += `(${len})`;
    else if (code === 9 && len === 4) ctx.out += `${ctx.u32(cp)} sec`;
    else if (code === 10 && !(len < 8 || (len > 8 && len < 16) || len > 40)) {
      for (let i = 0; i < len; i++) ctx.out += (i === 8 ? " " : "") + hex2(ctx.b[cp + i]!);
    } else if ([9, 10, 11, 14].includes(code)) {
      if (code === 11 && len === 2) ctx.out += `${(ctx.u16(cp) / 10).toFixed(1)} sec`;
      else if (code === 14 && len % 2 === 0) for (let i = 0; i < len; i += 2) ctx.out += (i ? " " : "") + ctx.u16(cp + i);
      else ctx.out += " (invalid)";
    } else for (let i = 0; i < len; i++) ctx.out += hex2(ctx.b[cp + i]!);
  }
  return cp + len;
}

/** tcpdump's unsigned_relts_print: 1d2h3m4s, with zero parts left out ("0s" for zero). */
export function relTime(secs: number): string {
  if (secs === 0) return "0s";
  let s = "";
  const d = Math.floor(secs / 86400), h = Math.floor(secs / 3600) % 24, m = Math.floor(secs / 60) % 60, x = secs % 60;
  if (d) s += `${d}d`;
  if (h) s += `${h}h`;
  if (m) s += `${m}m`;
  if (x) s += `${x}s`;
  return s;
}

function sectionsTrunc(): never { throw TRUNCATED; }

export function dnsPrint(ctx: Ctx, off: number, length: number, overTcp: boolean, mdns = false): void {
  ctx.proto = "domain";
  if (overTcp) {
    if (length < 2) { ctx.out += ` [DNS over TCP: length ${length} < 2] (invalid)`; return; }
    length -= 2;
    const pfx = ctx.u16(off);
    if (pfx !== length) { ctx.out += ` [prefix length(${pfx}) != length(${length})] (invalid)`; return; }
    off += 2;
    ctx.out += " ";
  }
  const msg = off;
  if (length < 12) { ctx.out += `domain [length ${length} < 12] (invalid)`; return; }
  ctx.need(off, 12);
  const id = ctx.u16(off);
  const flags = ctx.u16(off + 2);
  const qd = ctx.u16(off + 4);
  let an = ctx.u16(off + 6);
  let ns = ctx.u16(off + 8);
  let ar = ctx.u16(off + 10);
  const opcode = (flags >> 11) & 0xf;
  let rcode = flags & 0xf;
  // the OPT record's extended rcode bits
  let cp = off + 12;
  scan: {
    for (let i = 0; i < qd; i++) {
      if ((cp = nameSkip(ctx, cp)) === NUL) break scan;
      cp += 4;
      if (cp >= ctx.end) break scan;
    }
    for (let i = 0; i < an + ns; i++) {
      if ((cp = nameSkip(ctx, cp)) === NUL) break scan;
      cp += 8;
      if (cp + 2 > ctx.end) break scan;
      cp += 2 + ctx.u16(cp);
      if (cp >= ctx.end) break scan;
    }
    for (let i = 0; i < ar; i++) {
      if ((cp = nameSkip(ctx, cp)) === NUL) break scan;
      if (cp + 2 > ctx.end) break scan;
      const type = ctx.u16(cp);
      cp += 4;
      if (cp + 1 > ctx.end) break scan;
      if (type === 41) { rcode |= ctx.b[cp]! << 4; break scan; }
      cp += 4;
      if (cp + 2 > ctx.end) break scan;
      cp += 2 + ctx.u16(cp);
      if (cp >= ctx.end) break scan;
    }
  }
  cp = off + 12;
  if (flags & 0x8000) {
    ctx.out += `${id}${OPCODES[opcode]}${rcode < RCODES.length ? RCODES[rcode] : ` Resp${rcode & 0xfff}`}${flags & 0x400 ? "*" : ""}` +
      `${flags & 0x80 ? "" : "-"}${flags & 0x200 ? "|" : ""}${flags & 0x20 ? "$" : ""}`;
    if (qd !== 1) ctx.out += ` [${qd}q]`;
    for (let i = 0; i < qd; i++) {
      if (i !== 0) ctx.out += ",";
      if (ctx.o.vflag > 1) { ctx.out += " q:"; if ((cp = qPrint(ctx, cp, msg, mdns)) === NUL) sectionsTrunc(); }
      else { if ((cp = nameSkip(ctx, cp)) === NUL) sectionsTrunc(); cp += 4; }
    }
    ctx.out += ` ${an}/${ns}/${ar}`;
    if (an) {
      if ((cp = rPrint(ctx, cp, msg, mdns)) === NUL) sectionsTrunc();
      an--;
      while (cp < ctx.end && an) { ctx.out += ","; if ((cp = rPrint(ctx, cp, msg, mdns)) === NUL) sectionsTrunc(); an--; }
    }
    if (an) sectionsTrunc();
    if (ctx.o.vflag > 1) {
      [cp, ns] = section(ctx, cp, msg, mdns, ns, " ns:");
      if (ns) sectionsTrunc();
      [cp, ar] = section(ctx, cp, msg, mdns, ar, " ar:");
      if (ar) sectionsTrunc();
    }
  } else {
    ctx.out += `${id}${OPCODES[opcode]}${flags & 0x100 ? "+" : ""}${flags & 0x10 ? "%" : ""}`;
    if (flags & 0x6cf) ctx.out += ` [b2&3=0x${flags.toString(16)}]`;
    if (opcode === 1) {
      if (qd) ctx.out += ` [${qd}q]`;
      if (an !== 1) ctx.out += ` [${an}a]`;
    } else {
      if (an) ctx.out += ` [${an}a]`;
      if (qd !== 1) ctx.out += ` [${qd}q]`;
    }
    if (ns) ctx.out += ` [${ns}n]`;
    if (ar) ctx.out += ` [${ar}au]`;
    let q = qd;
    if (q) {
      if ((cp = qPrint(ctx, cp, msg, mdns)) === NUL) sectionsTrunc();
      q--;
      while (cp < ctx.end && q) { if ((cp = qPrint(ctx, cp, msg, mdns)) === NUL) sectionsTrunc(); q--; }
    }
    if (q) sectionsTrunc();
    if (ctx.o.vflag > 1) {
      if (an) {
        if ((cp = rPrint(ctx, cp, msg, mdns)) === NUL) sectionsTrunc();
        an--;
        while (cp < ctx.end && an) { ctx.out += ","; if ((cp = rPrint(ctx, cp, msg, mdns)) === NUL) sectionsTrunc(); an--; }
      }
      if (an) sectionsTrunc();
      [cp, ns] = section(ctx, cp, msg, mdns, ns, " ns:");
      if (ns > 0) sectionsTrunc();
      [cp, ar] = section(ctx, cp, msg, mdns, ar, " ar:");
      if (ar > 0) sectionsTrunc();
    }
  }
  ctx.out += ` (${length})`;
}

function section(ctx: Ctx, cp: number, msg: number, mdns: boolean, n: number, tag: string): [number, number] {
  if (cp < ctx.end && n) {
    ctx.out += tag;
    if ((cp = rPrint(ctx, cp, msg, mdns)) === NUL) sectionsTrunc();
    n--;
    while (cp < ctx.end && n) { ctx.out += ","; if ((cp = rPrint(ctx, cp, msg, mdns)) === NUL) sectionsTrunc(); n--; }
  }
  return [cp, n];
}
