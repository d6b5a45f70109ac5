// IEEE 802.11 frames as tcpdump prints them: management frames by subtype (with the SSID, rates, DS channel, TIM and
// CF elements), control frames, data frames (WEP IV, or LLC/SNAP into the ethertype printers). -e adds the MAC
// header, -e -v its flags and duration. Returns the header length (what -x leaves out).

import { type Ctx, printChar } from "./context.ts";
import { defaultPrint } from "./ether.ts";
import { llcPrint } from "./llc.ts";
import { REASON_TEXT, STATUS_TEXT } from "./ieee80211-codes.ts";

const T_MGMT = 0, T_CTRL = 1, T_DATA = 2;

const MGMT_NAMES: readonly (string | undefined)[] = [
  "Assoc Request", "Assoc Response", "ReAssoc Request", "ReAssoc Response", "Probe Request", "Probe Response",
  undefined, undefined, "Beacon", "ATIM", "Disassociation", "Authentication", "DeAuthentication", "Action",
];

const CTRL_NAMES: readonly (string | undefined)[] = [
  undefined, undefined, undefined, undefined, undefined, undefined, undefined, "Control Wrapper", "BAR", "BA",
  "Power Save-Poll", "Request-To-Send", "Clear-To-Send", "Acknowledgment", "CF-End", "CF-End+CF-Ack",
];

/** Control frame header lengths by subtype (0: tcpdump does not know the subtype). */
const CTRL_HDRLEN = [0, 0, 0, 0, 0, 0, 0, 16, 20, 10, 16, 16, 10, 10, 16, 16];

const AUTH_ALGS = ["Open System", "Shared Key", "EAP"];

/** Action categories: name, then the action names by code ("Act#N" past the list). */
const ACTIONS: ReadonlyMap<number, readonly [string, readonly (string | undefined)[]]> = new Map([
  [3, ["BA ", ["ADDBA Request", "ADDBA Response", "DELBA"]]],
  [7, ["HT ", ["TxChWidth", "MIMOPwrSave"]]],
  [13, ["MeshAction ", ["MeshLink", "HWMP", "Gate Announcement", "Congestion Control", "MCCA Setup Request",
    "MCCA Setup Reply", "MCCA Advertisement Request", "MCCA Advertisement", "MCCA Teardown", "TBTT Adjustment Request",
    "TBTT Adjustment Response"]]],
  [14, ["MultiohopAction ", ["Proxy Update", "Proxy Update Confirmation"]]],
  [15, ["SelfprotectAction ", [undefined, "Peering Open", "Peering Confirm", "Peering Close", "Group Key Inform",
    "Group Key Acknowledge"]]],
]);
const ACTION_PLAIN: ReadonlyMap<number, string> = new Map([[0, "Spectrum Management"], [1, "QoS"], [2, "DLS"], [127, "Vendor"]]);

const statusText = (c: number): string => STATUS_TEXT[c] ?? "n/a";
const reasonText = (c: number): string => REASON_TEXT[c] ?? "Reserved";

/** The elements a management body may carry (the first of each kind is kept, as tcpdump does). */
interface Elements {
  ssid?: string;
  rates?: number[];
  channel?: number;
  ok: boolean;
}

/** tcpdump's fn_print_str: up to the first NUL, unprintable bytes escaped. */
function ssidText(b: Uint8Array, off: number, n: number): string {
  let s = "";
  for (let i = 0; i < n && b[off + i] !== 0; i++) s += printChar(b[off + i]!);
  return s;
}

/** Walks the information elements from `off` for `length` bytes; ok is false when one is cut short or malformed. */
function parseElements(ctx: Ctx, off: number, length: number): Elements {
  const el: Elements = { ok: false };
  while (length !== 0) {
    if (ctx.avail(off) < 2 || length < 2) return el;
    const n = ctx.b[off + 1]!;
    if (ctx.avail(off + 2) < n || length < n + 2) return el;
    const id = ctx.b[off]!;
    const body = off + 2;
    if (id === 0) {
      if (n > 32) return el;
      el.ssid ??= ssidText(ctx.b, body, n);
    } else if (id === 16) {
      if (n > 253) return el;
    } else if (id === 1) {
      if (n > 16) return el;
      if (el.rates === undefined && n !== 0) el.rates = Array.from(ctx.b.subarray(body, body + n));
    } else if (id === 3) {
      if (n === 1) el.channel ??= ctx.b[body]!;
    } else if (id === 5) {
      if (n > 3 && n - 3 > 251) return el;
    }
    off += 2 + n;
    length -= 2 + n;
  }
  el.ok = true;
  return el;
}

function ssidPrint(ctx: Ctx, el: Elements): void {
  if (el.ssid !== undefined) ctx.out += ` (${el.ssid})`;
}

function ratesPrint(ctx: Ctx, el: Elements): void {
  if (el.rates === undefined) return;
  let sep = " [";
  for (const r of el.rates) {
    ctx.out += `${sep}${(0.5 * (r & 0x7f)).toFixed(1)}${r & 0x80 ? "*" : ""}`;
    sep = " ";
  }
  ctx.out += " Mbit]";
}

function channelPrint(ctx: Ctx, el: Elements, cap: number): void {
  if (el.channel !== undefined) ctx.out += ` CH: ${el.channel}`;
  if (cap & 0x10) ctx.out += ", PRIVACY";
}

/** The WEP IV, pad and key id after a protected header. */
function wepPrint(ctx: Ctx, p: number): boolean {
  if (ctx.avail(p) < 4) return false;
  const iv = ctx.le32(p);
  ctx.out += ` IV:${(iv & 0xffffff).toString(16).padStart(3, " ")} Pad ${((iv >>> 24) & 0x3f).toString(16)} KeyID ${(iv >>> 30).toString(16)}`;
  return true;
}

/** A management frame's body; false when it is cut short (the caller adds " [|802.11]"). */
function mgmtBody(ctx: Ctx, fc: number, src: number, p: number, length: number): boolean {
  const subtype = (fc >> 4) & 0xf;
  ctx.out += MGMT_NAMES[subtype] ?? `Unhandled Management subtype(${subtype.toString(16)})`;
  if (fc & 0x4000) return wepPrint(ctx, p);
  const need = (n: number): boolean => ctx.avail(p) >= n && length >= n;
  switch (subtype) {
    case 0: { // assoc request: capabilities, listen interval, elements
      if (!need(4)) return false;
      const el = parseElements(ctx, p + 4, length - 4);
      ssidPrint(ctx, el);
      ratesPrint(ctx, el);
      return el.ok;
    }
    case 1: case 3: { // (re)assoc response: capabilities, status, AID
      if (!need(6)) return false;
      const cap = ctx.le16(p), status = ctx.le16(p + 2), aid = ctx.le16(p + 4);
      const el = parseElements(ctx, p + 6, length - 6);
      ctx.out += ` AID(${(aid & 0x3fff).toString(16)}) :${cap & 0x10 ? " PRIVACY " : ""}: ${statusText(status)}`;
      return el.ok;
    }
    case 2: { // reassoc request: capabilities, listen interval, current AP
      if (!need(10)) return false;
      const el = parseElements(ctx, p + 10, length - 10);
      ssidPrint(ctx, el);
      ctx.out += ` AP : ${ctx.mac(p + 4)}`;
      return el.ok;
    }
    case 4: {
      const el = parseElements(ctx, p, length);
      ssidPrint(ctx, el);
      ratesPrint(ctx, el);
      return el.ok;
    }
    case 5: case 8: { // probe response, beacon: timestamp, interval, capabilities
      if (!need(12)) return false;
      const cap = ctx.le16(p + 10);
      const el = parseElements(ctx, p + 12, length - 12);
      ssidPrint(ctx, el);
      ratesPrint(ctx, el);
      if (subtype === 8) ctx.out += cap & 1 ? " ESS" : " IBSS";
      channelPrint(ctx, el, cap);
      return el.ok;
    }
    case 9: return true;
    case 10: {
      if (!need(2)) return false;
      ctx.out += `: ${reasonText(ctx.le16(p))}`;
      return true;
    }
    case 11: { // authentication: algorithm, transaction sequence, status
      if (!need(6)) return false;
      const alg = ctx.le16(p), seq = ctx.le16(p + 2), status = ctx.le16(p + 4);
      const el = parseElements(ctx, p + 6, length - 6);
      const name = AUTH_ALGS[alg] ?? "Reserved";
      const st = seq % 2 ? statusText(status) : "";
      if (alg === 1 && (seq === 2 || seq === 3)) ctx.out += ` (${name})-${seq.toString(16)} [Challenge Text] ${st}`;
      else ctx.out += ` (${name})-${seq.toString(16)}: ${st}`;
      return el.ok;
    }
    case 12: {
      if (!need(2)) return false;
      const reason = reasonText(ctx.le16(p));
      ctx.out += ctx.o.eflag ? `: ${reason}` : ` (${ctx.mac(src)}): ${reason}`;
      return true;
    }
    case 13: {
      if (!need(2)) return false;
      ctx.out += ctx.o.eflag ? ": " : ` (${ctx.mac(src)}): `;
      const cat = ctx.u8(p), act = ctx.u8(p + 1);
      const plain = ACTION_PLAIN.get(cat);
      const named = ACTIONS.get(cat);
      if (plain !== undefined) ctx.out += `${plain} Act#${act}`;
      else if (named !== undefined) ctx.out += named[0] + (named[1][act] ?? `Act#${act}`);
      else ctx.out += `Reserved(${cat}) Act#${act}`;
      return true;
    }
    default: return true;
  }
}

/** A Block Ack Request's addresses, control and sequence (printed alike with and without -e). */
const barText = (ctx: Ctx, f: number): string =>
  ` RA:${ctx.mac(f + 4)} TA:${ctx.mac(f + 10)} CTL(${ctx.le16(f + 16).toString(16)}) SEQ(${ctx.le16(f + 18)}) `;

/** A control frame's name and, without -e, its addresses. */
function ctrlBody(ctx: Ctx, fc: number, f: number): void {
  const subtype = (fc >> 4) & 0xf;
  ctx.out += CTRL_NAMES[subtype] ?? "Unknown Ctrl Subtype";
  if (ctx.o.eflag && subtype !== 10) return;
  switch (subtype) {
    case 8: ctx.out += barText(ctx, f); break;
    case 10: ctx.out += ` AID(${ctx.le16(f + 2).toString(16)})`; break;
    case 11: ctx.out += ` TA:${ctx.mac(f + 10)} `; break;
    case 9: case 12: case 13: case 14: case 15: ctx.out += ` RA:${ctx.mac(f + 4)} `; break;
  }
}

/** -e: the MAC header (and with -v the frame control flags and duration). */
function headerPrint(ctx: Ctx, fc: number, f: number): void {
  const type = (fc >> 2) & 3, subtype = (fc >> 4) & 0xf;
  if (ctx.o.vflag) {
    if (fc & 0x2000) ctx.out += "More Data ";
    if (fc & 0x0400) ctx.out += "More Fragments ";
    if (fc & 0x1000) ctx.out += "Pwr Mgmt ";
    if (fc & 0x0800) ctx.out += "Retry ";
    if (fc & 0x8000) ctx.out += "Strictly Ordered ";
    if (fc & 0x4000) ctx.out += "Protected ";
    if (type !== T_CTRL || subtype !== 10) ctx.out += `${ctx.le16(f + 2)}us `;
  }
  const a1 = f + 4, a2 = f + 10, a3 = f + 16, a4 = f + 24;
  if (type === T_MGMT) {
    ctx.out += `BSSID:${ctx.mac(a3)} DA:${ctx.mac(a1)} SA:${ctx.mac(a2)} `;
  } else if (type === T_CTRL) {
    switch (subtype) {
      case 8: ctx.out += barText(ctx, f); break;
      case 10: ctx.out += `BSSID:${ctx.mac(a1)} TA:${ctx.mac(a2)} `; break;
      case 11: ctx.out += `RA:${ctx.mac(a1)} TA:${ctx.mac(a2)} `; break;
      case 9: case 12: case 13: ctx.out += `RA:${ctx.mac(a1)} `; break;
      case 14: case 15: ctx.out += `RA:${ctx.mac(a1)} BSSID:${ctx.mac(a2)} `; break;
    }
  } else if (type === T_DATA) {
    if (subtype & 0xb) {
      ctx.out += "CF ";
      if (subtype & 1) ctx.out += subtype & 2 ? "Ack/Poll" : "Ack";
      else if (subtype & 2) ctx.out += "Poll";
      if (subtype & 8) ctx.out += "+QoS";
      ctx.out += " ";
    }
    switch (fc & 0x300) {
      case 0x000: ctx.out += `DA:${ctx.mac(a1)} SA:${ctx.mac(a2)} BSSID:${ctx.mac(a3)} `; break;
      case 0x200: ctx.out += `DA:${ctx.mac(a1)} BSSID:${ctx.mac(a2)} SA:${ctx.mac(a3)} `; break;
      case 0x100: ctx.out += `BSSID:${ctx.mac(a1)} SA:${ctx.mac(a2)} DA:${ctx.mac(a3)} `; break;
      default: ctx.out += `RA:${ctx.mac(a1)} TA:${ctx.mac(a2)} DA:${ctx.mac(a3)} SA:${ctx.mac(a4)} `;
    }
  }
}

/** The MAC header's length for a frame control word, 0 (with tcpdump's note printed) when it is unknown. */
function headerLength(ctx: Ctx, fc: number): number {
  const type = (fc >> 2) & 3, subtype = (fc >> 4) & 0xf;
  switch (type) {
    case T_MGMT: return 24;
    case T_CTRL:
      if (CTRL_HDRLEN[subtype] === 0) ctx.out += `unknown 802.11 ctrl frame subtype (${subtype})`;
      return CTRL_HDRLEN[subtype]!;
    case T_DATA: return ((fc & 0x300) === 0x300 ? 30 : 24) + (subtype & 8 ? 2 : 0);
    default:
      ctx.out += `unknown 802.11 frame type (${type})`;
      return 0;
  }
}

/**
 * An 802.11 frame at `off`: `length` on the wire, `caplen` captured, `pad` when the body is aligned to 4 bytes
 * (radiotap's DATAPAD flag), `fcslen` the frame check sequence at the end. Returns the header length.
 */
export function ieee80211Print(ctx: Ctx, off: number, length: number, caplen: number, pad: boolean, fcslen: number): number {
  ctx.proto = "802.11";
  if (length < fcslen) {
    ctx.out += " [|802.11]";
    return caplen;
  }
  length -= fcslen;
  const origCaplen = caplen;
  if (caplen > length) {
    const cut = caplen - length;
    caplen -= cut;
    ctx.end -= cut;
  }
  if (caplen < 2) {
    ctx.out += " [|802.11]";
    return origCaplen;
  }
  const fc = ctx.le16(off);
  let hdrlen = headerLength(ctx, fc);
  if (hdrlen === 0) return 0;
  if (pad) hdrlen = (hdrlen + 3) & ~3;
  if (caplen < hdrlen) {
    ctx.out += " [|802.11]";
    return hdrlen;
  }
  if (ctx.o.eflag) headerPrint(ctx, fc, off);
  // tcpdump's lengths are unsigned: a wire length shorter than the header wraps
  length = (length - hdrlen) >>> 0;
  caplen -= hdrlen;
  const p = off + hdrlen;
  const type = (fc >> 2) & 3, subtype = (fc >> 4) & 0xf;
  if (type === T_MGMT) {
    if (!mgmtBody(ctx, fc, off + 10, p, length)) ctx.out += " [|802.11]";
  } else if (type === T_CTRL) {
    ctrlBody(ctx, fc, off);
  } else if (type === T_DATA) {
    if (subtype & 4) return hdrlen; // no-data frame
    if (fc & 0x4000) {
      ctx.out += "Data";
      if (!wepPrint(ctx, p)) ctx.out += " [|802.11]";
    } else {
      // the frame's source and destination by the To DS / From DS bits
      const ds = fc & 0x300;
      const src = ds === 0 || ds === 0x100 ? off + 10 : ds === 0x200 ? off + 16 : off + 24;
      const dst = ds === 0 || ds === 0x200 ? off + 4 : off + 16;
      let llc = llcPrint(ctx, p, length, caplen, src, dst);
      if (llc < 0) {
        if (!ctx.o.suppressDefault) defaultPrint(ctx, p);
        llc = -llc;
      }
      hdrlen += llc;
    }
  }
  return hdrlen;
}

/** LINKTYPE_PRISM_HEADER (and the AVS header Linux delivers under the same ARPHRD). */
export function prismPrint(ctx: Ctx, off: number, length: number): number {
  ctx.proto = "prism";
  const caplen = ctx.avail(off);
  if (caplen < 4) { ctx.out += " [|prism]"; return caplen; }
  const msg = ctx.u32(off);
  if (msg === 0x80211001 || msg === 0x80211002) return avsPrint(ctx, off, length);
  if (caplen < 144) { ctx.out += " [|prism]"; return caplen; }
  return 144 + ieee80211Print(ctx, off + 144, length - 144, caplen - 144, false, 0);
}

/** LINKTYPE_IEEE802_11_AVS: a header whose length is its second word. */
export function avsPrint(ctx: Ctx, off: number, length: number): number {
  ctx.proto = "802.11_radio_avs";
  const caplen = ctx.avail(off);
  if (caplen < 8) { ctx.out += " [|802.11_radio_avs]"; return caplen; }
  const n = ctx.u32(off + 4);
  if (n < 8 || caplen < n) { ctx.out += " [|802.11_radio_avs]"; return caplen; }
  return n + ieee80211Print(ctx, off + n, length - n, caplen - n, false, 0);
}
