// ARP and RARP (RFC 826/903), and InARP, as tcpdump prints them.

import { type Ctx, formatMac, hex2 } from "./context.ts";
import { ETHERTYPES } from "./names.ts";
import { defaultPrint } from "./ether.ts";

const OPS: ReadonlyMap<number, string> = new Map([
  [1, "Request"], [2, "Reply"], [3, "Reverse Request"], [4, "Reverse Reply"], [8, "Inverse Request"], [9, "Inverse Reply"],
  [10, "NACK Reply"],
]);

const HARDWARE: ReadonlyMap<number, string> = new Map([
  [1, "Ethernet"], [6, "TokenRing"], [7, "ArcNet"], [15, "FrameRelay"], [23, "Strip"], [24, "IEEE 1394"], [19, "ATM"],
  [32, "InfiniBand"],
]);

function linkAddr(ctx: Ctx, off: number, len: number): string {
  ctx.need(off, len);
  if (len === 6) return ctx.mac(off);
  let s = "";
  for (let i = 0; i < len; i++) s += (i ? ":" : "") + hex2(ctx.b[off + i]!);
  return s;
}

export function arpPrint(ctx: Ctx, off: number, length: number): void {
  ctx.proto = "arp";
  const caplen = ctx.avail(off);
  // tcpdump checks that the fixed header and the target protocol address were captured before printing anything
  if (caplen < 8) { ctx.out += " [|arp]"; return; }
  const hrd = ctx.u16(off);
  if (hrd === 19) { atmArpPrint(ctx, off); return; }
  const pro = ctx.u16(off + 2);
  const hln = ctx.u8(off + 4);
  const pln = ctx.u8(off + 5);
  const op = ctx.u16(off + 6);
  const sha = off + 8, spa = sha + hln, tha = spa + pln, tpa = tha + hln;
  if (ctx.avail(tpa) < pln || tpa + pln > ctx.end) { ctx.out += " [|arp]"; return; }
  if (!ctx.o.eflag) ctx.out += "ARP, ";
  const v = ctx.o.vflag;
  if ((pro !== 0x0800 && pro !== 0x1000) || pln !== 4 || hln === 0 || v > 0) {
    ctx.out += `${HARDWARE.get(hrd) ?? `Unknown Hardware (${hrd})`} (len ${hln}), ` +
      `${ETHERTYPES.get(pro) ?? `Unknown Protocol (0x${pro.toString(16).padStart(4, "0")})`} (len ${pln})`;
    if (v === 0) { ctx.out += `, length ${length}`; return; }
  }
  ctx.out += `${v > 0 ? ", " : ""}${OPS.get(op) ?? `Unknown (${op})`} `;
  const ipAt = (at: number): string =>
    pro !== 0x0800 && pro !== 0x1000 ? "<wrong proto type>" : pln !== 4 ? "<wrong len>" : ctx.ip4(at);
  switch (op) {
    case 1: {
      ctx.out += "who-has " + ipAt(tpa);
      let nonzero = false;
      for (let i = 0; i < hln; i++) if (ctx.b[tha + i] !== 0) nonzero = true;
      if (nonzero) ctx.out += ` (${linkAddr(ctx, tha, hln)})`;
      ctx.out += " tell " + ipAt(spa);
      break;
    }
    case 2: ctx.out += `${ipAt(spa)} is-at ${linkAddr(ctx, sha, hln)}`; break;
    case 3: case 8: ctx.out += `who-is ${linkAddr(ctx, tha, hln)} tell ${linkAddr(ctx, sha, hln)}`; break;
    case 4: ctx.out += `${linkAddr(ctx, tha, hln)} at ${ipAt(tpa)}`; break;
    case 9: ctx.out += `${linkAddr(ctx, sha, hln)} at ${ipAt(spa)}`; break;
    default: defaultPrint(ctx, off); return;
  }
  ctx.out += `, length ${length}`;
}
void hex2;

/**
 * ATM ARP (RFC 2225): a 12-byte header with type/length bytes per address. tcpdump prints nothing but " [|arp]" unless
 * the header and the target protocol address were captured; complete ones get the header summary (the addresses'
 * ATM formats are not decoded by bpfkit yet).
 */
function atmArpPrint(ctx: Ctx, off: number): void {
  if (ctx.avail(off) < 12) { ctx.out += " [|arp]"; return; }
  const b = (i: number): number => ctx.b[off + i]!;
  const spln = b(6), tpln = b(11);
  const tpa = off + 12 + (b(4) & 0x3f) + (b(5) & 0x3f) + spln + (b(9) & 0x3f) + (b(10) & 0x3f);
  if (tpa + tpln > ctx.end) { ctx.out += " [|arp]"; return; }
  if (!ctx.o.eflag) ctx.out += "ARP, ";
  const pro = ctx.u16(off + 2);
  ctx.out += `ATM, ${pro === 0x0800 ? "IPv4" : `Unknown Protocol (0x${pro.toString(16).padStart(4, "0")})`} (len ${spln}/${tpln})`;
}
