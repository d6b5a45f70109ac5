// BOOTP/DHCP (RFC 951, 2131, 2132): the summary line, and with -v the fixed fields and the vendor area (RFC 1048
// options, each printed by the format its table entry names; the CMU vendor area).

import { printChar, TRUNCATED, type Ctx } from "./context.ts";
import { hexLines } from "./hexdump.ts";

/**
 * Options by tag: the first character says how the value prints — i addresses, p address pairs, l unsigned and
 * L signed 32-bit words, s 16-bit words, b dotted bytes, x colon-separated hex, a text, B booleans (Y/N), $ special,
 * space: handled before the format. Unknown tags pick b, s or l from the length.
 */
const OPTIONS: ReadonlyMap<number, string> = new Map([
  [0, " PAD"], [1, "iSubnet-Mask"], [2, "LTime-Zone"], [3, "iDefault-Gateway"], [4, "iTime-Server"],
  [5, "iIEN-Name-Server"], [6, "iDomain-Name-Server"], [7, "iLOG"], [8, "iCS"], [9, "iLPR-Server"], [10, "iIM"],
  [11, "iRL"], [12, "aHostname"], [13, "sBS"], [255, " END"], [14, "aDP"], [15, "aDomain-Name"], [16, "iSS"],
  [17, "aRP"], [18, "aEP"], [19, "BIPF"], [20, "BSRT"], [21, "pPF"], [22, "sRSZ"], [23, "bTTL"], [24, "lMTU-Timeout"],
  [25, "sMTU-Table"], [26, "sMTU"], [27, "BLSN"], [28, "iBR"], [29, "BMD"], [30, "BMS"], [31, "BRouter-Discovery"],
  [32, "iRSA"], [33, "pStatic-Route"], [34, "BUT"], [35, "lAT"], [36, "BIE"], [37, "bTT"], [38, "lKI"], [39, "BKG"],
  [40, "aYD"], [41, "iYS"], [42, "iNTP"], [43, "bVendor-Option"], [44, "iNetbios-Name-Server"], [45, "iWDD"],
  [46, "$Netbios-Node"], [47, "aNetbios-Scope"], [48, "iXFS"], [49, "iXDM"], [64, "sN+D"], [65, "iN+S"], [68, "iMH"],
  [69, "iSMTP"], [70, "iPOP3"], [71, "iNNTP"], [72, "iWWW"], [73, "iFG"], [74, "iIRC"], [75, "iSTS"], [76, "iSTDA"],
  [50, "iRequested-IP"], [51, "lLease-Time"], [52, "$OO"], [66, "aTFTP"], [67, "aBF"], [53, " DHCP-Message"],
  [54, "iServer-ID"], [55, "bParameter-Request"], [56, "aMSG"], [57, "sMSZ"], [58, "lRN"], [59, "lRB"],
  [60, "aVendor-Class"], [61, "$Client-ID"], [98, "aUAP"], [116, "BNOAUTO"], [78, "bSLP-DA"], [79, "bSLP-SCOPE"],
  [117, "sNSSEARCH"], [77, "$User-Class"], [118, "iSUBNET"], [121, "$Classless-Static-Route"],
  [249, "$Classless-Static-Route-Microsoft"], [150, "iTFTP-Server-Address"], [80, "aSLP-NA"], [81, "$FQDN"],
  [82, "$Agent-Information"], [83, "bARMT"], [88, "aTZSTR"], [89, "bFQDNS"], [90, "bAUTH"],
  [91, "LLast-Transaction-Time"], [92, "iAssociated-IP"], [93, "sARCH"], [94, "bNDI"], [97, "bGUID"], [95, "aLDAP"],
  [100, "aPOSIX-TZ"], [101, "aTZ-Name"], [112, "iNI"], [113, "aNITAG"], [114, "aURL"], [161, "aMUD-URL"],
]);

const MESSAGES: ReadonlyMap<number, string> = new Map([
  [1, "Discover"], [2, "Offer"], [3, "Request"], [4, "Decline"], [5, "ACK"], [6, "NACK"], [7, "Release"], [8, "Inform"],
  [10, "LeaseQuery"], [11, "LeaseUnassigned"], [12, "LeaseUnknown"], [13, "LeaseActive"],
]);
const OVERLOAD: ReadonlyMap<number, string> = new Map([[1, "file"], [2, "sname"], [3, "file+sname"]]);
const NETBIOS_NODE: ReadonlyMap<number, string> = new Map([[1, "b-node"], [2, "p-node"], [4, "m-node"], [8, "h-node"]]);
const HW_TYPES: ReadonlyMap<number, string> = new Map([[1, "ether"], [6, "ieee802"], [7, "arcnet"], [0xf, "frelay"], [0x17, "strip"], [0x18, "ieee1394"]]);
const AGENT_SUBOPTIONS: ReadonlyMap<number, string> = new Map([[1, "Circuit-ID"], [2, "Remote-ID"], [6, "Subscriber-ID"]]);

const optionEntry = (tag: number): string => OPTIONS.get(tag) ?? "?Unknown";

/** Counted text (nd_printn): the bytes as fn_print_char shows them; the packet's end inside ends the line truncated. */
function text(ctx: Ctx, at: number, n: number): void {
  const stop = Math.min(at + n, ctx.end);
  for (let i = at; i < stop; i++) ctx.out += printChar(ctx.b[i]!);
  if (at + n > ctx.end) { ctx.out += "\""; throw TRUNCATED; }
}

/** A NUL-terminated text in a fixed field (nd_printztn): false when no NUL comes before the field's or packet's end. */
function zText(ctx: Ctx, at: number, n: number): boolean {
  for (let i = at; i < at + n && i < ctx.end; i++) {
    const c = ctx.b[i]!;
    if (c === 0) return true;
    ctx.out += printChar(c);
  }
  return false;
}

export function bootpPrint(ctx: Ctx, bp: number, length: number): void {
  ctx.proto = "bootp";
  const op = ctx.u8(bp);
  ctx.out += `BOOTP/DHCP, ${op === 1 ? "Request" : op === 2 ? "Reply" : `unknown (0x${op.toString(16).padStart(2, "0")})`}`;
  const htype = ctx.u8(bp + 1);
  const hlen = ctx.u8(bp + 2);
  if (htype === 1 && hlen === 6 && op === 1) ctx.out += ` from ${ctx.mac(bp + 28)}`;
  ctx.out += `, length ${length}`;
  if (ctx.o.vflag === 0) return;
  ctx.need(bp + 8, 2);
  if (htype !== 1) ctx.out += `, htype ${htype}`;
  if (htype !== 1 || hlen !== 6) ctx.out += `, hlen ${hlen}`;
  const hops = ctx.u8(bp + 3);
  if (hops) ctx.out += `, hops ${hops}`;
  const xid = ctx.u32(bp + 4);
  if (xid) ctx.out += `, xid 0x${xid.toString(16)}`;
  const secs = ctx.u16(bp + 8);
  if (secs) ctx.out += `, secs ${secs}`;
  const flags = ctx.u16(bp + 10);
  ctx.out += `, Flags [${flags & 0x8000 ? "Broadcast" : "none"}]`;
  if (ctx.o.vflag > 1) ctx.out += ` (0x${flags.toString(16).padStart(4, "0")})`;
  for (const [at, name] of [[12, "Client-IP"], [16, "Your-IP"], [20, "Server-IP"], [24, "Gateway-IP"]] as const) {
    if (ctx.u32(bp + at) !== 0) ctx.out += `\n\t  ${name} ${ctx.ip4(bp + at)}`;
  }
  if (htype === 1 && hlen === 6) ctx.out += `\n\t  Client-Ethernet-Address ${ctx.mac(bp + 28)}`;
  for (const [at, size, name] of [[44, 64, "sname"], [108, 128, "file"]] as const) {
    if (ctx.u8(bp + at) === 0) continue;
    ctx.out += `\n\t  ${name} "`;
    if (!zText(ctx, bp + at, size)) { ctx.out += "\""; throw TRUNCATED; }
    ctx.out += "\"";
  }
  const vend = bp + 236;
  ctx.need(vend, 4);
  const magic = ctx.u32(vend);
  if (magic === 0x63825363) rfc1048Print(ctx, vend);
  else if (magic >>> 8 === 0x434d55 && (magic & 0xff) === 0) cmuPrint(ctx, vend);
  else if (magic !== 0) ctx.out += `\n\t  Vendor-#0x${magic.toString(16)}`;
}

function rfc1048Print(ctx: Ctx, bp: number): void {
  const v = ctx.o.vflag;
  ctx.out += "\n\t  Vendor-rfc1048 Extensions";
  ctx.out += `\n\t    Magic Cookie 0x${ctx.u32(bp).toString(16).padStart(8, "0")}`;
  bp += 4;
  while (bp < ctx.end) {
    const tag = ctx.u8(bp++);
    if (tag === 0 && v < 3) continue;
    if (tag === 255 && v < 3) return;
    const entry = optionEntry(tag);
    let c = entry[0]!;
    const name = entry.slice(1);
    let len = 0;
    if (tag !== 0 && tag !== 255) len = ctx.u8(bp++);
    ctx.out += `\n\t    ${name} (${tag}), length ${len}${len > 0 ? ": " : ""}`;
    if (tag === 0) {
      let n = 1;
      while (bp < ctx.end && ctx.b[bp] === 0) { bp++; n++; }
      if (n > 1) ctx.out += `, occurs ${n}`;
    }
    ctx.need(bp, len);
    if (tag === 53 && len === 1) {
      const m = ctx.u8(bp++);
      ctx.out += MESSAGES.get(m) ?? `Unknown (${m})`;
      continue;
    }
    if (tag === 55) {
      for (let i = 0; i < len; i++) {
        const inner = ctx.u8(bp++);
        ctx.out += (i % 4 === 0 ? "\n\t      " : ", ") + `${optionEntry(inner).slice(1)} (${inner})`;
      }
      continue;
    }
    if (c === "?") c = len & 1 ? "b" : len & 2 ? "s" : "l";
    let first = true;
    const sep = (s: string): void => { if (!first) ctx.out += s; first = false; };
    switch (c) {
      case "a":
        ctx.out += "\"";
        text(ctx, bp, len);
        ctx.out += "\"";
        bp += len; len = 0;
        break;
      case "i": case "l": case "L":
        while (len >= 4) {
          sep(",");
          ctx.out += c === "i" ? ctx.ip4(bp) : c === "L" ? String(ctx.u32(bp) | 0) : String(ctx.u32(bp));
          bp += 4; len -= 4;
        }
        break;
      case "p":
        while (len >= 8) {
          sep(",");
          ctx.out += `(${ctx.ip4(bp)}:${ctx.ip4(bp + 4)})`;
          bp += 8; len -= 8;
        }
        break;
      case "s":
        while (len >= 2) {
          sep(",");
          ctx.out += String(ctx.u16(bp));
          bp += 2; len -= 2;
        }
        break;
      case "B":
        while (len > 0) {
          sep(",");
          const b = ctx.u8(bp);
          ctx.out += b === 0 ? "N" : b === 1 ? "Y" : `${b}?`;
          bp++; len--;
        }
        break;
      case "$":
        [bp, len] = special(ctx, tag, bp, len);
        break;
      default:
        while (len > 0) {
          sep(c === "x" ? ":" : ".");
          const b = ctx.u8(bp);
          ctx.out += c === "x" ? b.toString(16).padStart(2, "0") : String(b);
          bp++; len--;
        }
    }
    if (len) {
      ctx.out += `\n\t  trailing data length ${len}`;
      bp += len;
    }
  }
}

/** The options with a layout of their own; returns where the option's unread bytes start and how many are left. */
function special(ctx: Ctx, tag: number, bp: number, len: number): [number, number] {
  switch (tag) {
    case 46: case 52: {
      if (len < 1) { ctx.out += "[ERROR: length < 1 bytes]"; return [bp, len]; }
      const b = ctx.u8(bp);
      ctx.out += (tag === 46 ? NETBIOS_NODE : OVERLOAD).get(b) ?? `#${b}`;
      return [bp + 1, len - 1];
    }
    case 81: {
      if (len < 3) { ctx.out += "[ERROR: length < 3 bytes]"; return [bp + len, 0]; }
      const flags = ctx.u8(bp);
      if (flags & 0xf0) ctx.out += `[ERROR: MBZ nibble 0x${((flags & 0xf0) >> 4).toString(16)} != 0] `;
      if (flags & 0x0f) ctx.out += `[${flags & 1 ? "S" : ""}${flags & 2 ? "O" : ""}${flags & 4 ? "E" : ""}${flags & 8 ? "N" : ""}] `;
      const r1 = ctx.u8(bp + 1), r2 = ctx.u8(bp + 2);
      if (r1 || r2) ctx.out += `${r1}/${r2} `;
      ctx.out += "\"";
      text(ctx, bp + 3, len - 3);
      ctx.out += "\"";
      return [bp + len, 0];
    }
    case 61: {
      if (len < 1) { ctx.out += "[ERROR: length < 1 bytes]"; return [bp, len]; }
      const type = ctx.u8(bp);
      bp++; len--;
      if (type === 0) {
        ctx.out += "\"";
        text(ctx, bp, len);
        ctx.out += "\"";
        return [bp + len, 0];
      }
      ctx.out += `${HW_TYPES.get(type) ?? `hardware-type ${type},`} `;
      for (let i = 0; i < len; i++) ctx.out += (i ? ":" : "") + ctx.u8(bp + i).toString(16).padStart(2, "0");
      return [bp + len, 0];
    }
    case 82: {
      while (len >= 2) {
        const sub = ctx.u8(bp), sublen = ctx.u8(bp + 1);
        bp += 2; len -= 2;
        const name = AGENT_SUBOPTIONS.get(sub) ?? "Unknown";
        if (sublen > len) {
          ctx.out += `\n\t      ${name} SubOption ${sub}, length ${sublen}: length goes past end of option`;
          return [bp + len, 0];
        }
        ctx.out += `\n\t      ${name} SubOption ${sub}, length ${sublen}: `;
        if (sub === 1 || sub === 2 || sub === 6) {
          const stop = Math.min(bp + sublen, ctx.end);
          for (let i = bp; i < stop; i++) ctx.out += printChar(ctx.b[i]!);
          if (bp + sublen > ctx.end) throw TRUNCATED;
        } else ctx.out += hexLines(ctx.b, bp, Math.min(bp + sublen, ctx.end), "\n\t\t");
        len -= sublen; bp += sublen;
      }
      return [bp, len];
    }
    case 121: case 249: {
      if (len < 5) { ctx.out += "[ERROR: length < 5 bytes]"; return [bp + len, 0]; }
      let first = true;
      while (len > 0) {
        if (!first) ctx.out += ",";
        const width = ctx.u8(bp);
        bp++; len--;
        if (width > 32) { ctx.out += `[ERROR: Mask width (${width}) > 32]`; return [bp + len, 0]; }
        const octets = (width + 7) >> 3;
        if (len < octets + 4) { ctx.out += `[ERROR: Remaining length (${len}) < ${octets + 4} bytes]`; return [bp + len, 0]; }
        ctx.out += "(";
        if (width === 0) ctx.out += "default";
        else {
          const parts: string[] = [];
          for (let i = 0; i < octets; i++) parts.push(String(ctx.u8(bp++)));
          for (let i = octets; i < 4; i++) parts.push("0");
          ctx.out += `${parts.join(".")}/${width}`;
        }
        ctx.out += `:${ctx.ip4(bp)})`;
        bp += 4;
        len -= octets + 4;
        first = false;
      }
      return [bp, len];
    }
    case 77: {
      if (len < 2) { ctx.out += "[ERROR: length < 2 bytes]"; return [bp + len, 0]; }
      let n = 1;
      while (len > 0) {
        const sublen = ctx.u8(bp);
        bp++; len--;
        ctx.out += `\n\t      instance#${n}: `;
        if (sublen === 0) { ctx.out += "[ERROR: suboption length must be non-zero]"; return [bp + len, 0]; }
        if (len < sublen) { ctx.out += "[ERROR: invalid option]"; return [bp + len, 0]; }
        ctx.out += "\"";
        text(ctx, bp, sublen);
        ctx.out += `", length ${sublen}`;
        n++;
        len -= sublen; bp += sublen;
      }
      return [bp, len];
    }
    default:
      ctx.out += `[unknown special tag ${tag}, size ${len}]`;
      return [bp + len, 0];
  }
}

function cmuPrint(ctx: Ctx, bp: number): void {
  ctx.out += " vend-cmu";
  const flags = ctx.u8(bp + 4);
  if (flags & ~1) ctx.out += ` F:0x${flags.toString(16)}`;
  const fields: [number, string][] = [[12, "DG"], [8, flags & 1 ? "SM" : "SM*"], [16, "NS1"], [20, "NS2"], [24, "IEN1"],
    [28, "IEN2"], [32, "TS1"], [36, "TS2"]];
  for (const [at, name] of fields) if (ctx.u32(bp + at) !== 0) ctx.out += ` ${name}:${ctx.ip4(bp + at)}`;
}
