// One packet to tcpdump's text: the number and time stamp, the link layer's printer, then any -x/-X/-A dump.

import { Ctx, TRUNCATED } from "./context.ts";
import type { PrintOptions } from "./options.ts";
import { TimestampFormat } from "./timestamp.ts";
import { hexAsciiLines, hexLines, asciiText } from "./hexdump.ts";
import { defaultPrint, etherPrint } from "./ether.ts";
import { nullPrint, pppPrint, rawPrint, sll2Print, sllPrint } from "./link.ts";
import { avsPrint, ieee80211Print, prismPrint } from "./ieee80211.ts";
import { radiotapPrint } from "./radiotap.ts";

/** What a printer needs of a packet record. */
export interface PrintablePacket {
  readonly ts: { readonly sec: number; readonly nsec: number };
  readonly len: number;
  readonly data: Uint8Array;
}

export interface PrinterEnv {
  /** Host names by address text, consulted unless -n (tcpdump asks the resolver; the CLI passes /etc/hosts). */
  readonly hosts?: ReadonlyMap<string, string>;
  /** Interface names by index (LINUX_SLL2 headers). */
  readonly ifName?: (index: number) => string | undefined;
}

/** LINKTYPE_* values the printers decode. */
export const DECODED_LINKTYPES: ReadonlySet<number> = new Set([0, 1, 9, 12, 14, 50, 101, 105, 108, 113, 119, 127, 163, 228, 229, 276]);

export class PacketPrinter {
  private readonly ctx: Ctx;
  private readonly ts: TimestampFormat;
  private readonly linktype: number;
  private readonly ifName: (i: number) => string | undefined;
  private count = 0;

  constructor(linktype: number, options: PrintOptions, env: PrinterEnv = {}) {
    this.linktype = linktype;
    this.ctx = new Ctx(options, env.hosts);
    this.ts = new TimestampFormat(options.tflag, options.nano);
    this.ifName = env.ifName ?? (() => undefined);
  }

  /** The packet's text, ending in a newline. */
  print(p: PrintablePacket): string {
    const o = this.ctx.o;
    const ctx = this.ctx;
    const data = p.data;
    this.count++;
    let head = o.number ? `${String(this.count).padStart(5, " ")}  ` : "";
    head += this.ts.format(p.ts.sec, p.ts.nsec);
    ctx.b = data;
    ctx.end = data.length;
    ctx.out = head;
    ctx.proto = "";
    let hdrlen = 0;
    try {
      hdrlen = this.link(data.length, p.len);
    } catch (e) {
      if (e !== TRUNCATED) throw e;
      ctx.out += ` [|${ctx.proto}]`;
    }
    let s = ctx.out;
    const caplen = data.length;
    if (o.Xflag) {
      if (o.Xflag > 1) s += hexAsciiLines(data, 0, caplen);
      else if (caplen > hdrlen) s += hexAsciiLines(data, hdrlen, caplen);
    } else if (o.xflag) {
      if (o.xflag > 1) s += hexLines(data, 0, caplen);
      else if (caplen > hdrlen) s += hexLines(data, hdrlen, caplen);
    } else if (o.Aflag) {
      if (o.Aflag > 1) s += asciiText(data, 0, caplen);
      else if (caplen > hdrlen) s += asciiText(data, hdrlen, caplen);
    }
    return s + "\n";
  }

  private link(caplen: number, len: number): number {
    const ctx = this.ctx;
    switch (this.linktype) {
      case 1: return etherPrint(ctx, 0, len);
      case 113: return sllPrint(ctx, 0, len);
      case 276: return sll2Print(ctx, 0, len, this.ifName);
      case 0: return nullPrint(ctx, 0, len, false);
      case 108: return nullPrint(ctx, 0, len, true);
      case 12: case 14: case 101: case 228: case 229: return rawPrint(ctx, 0, len);
      case 9: case 50: return pppPrint(ctx, 0, len);
      case 105: return ieee80211Print(ctx, 0, len, caplen, false, 0);
      case 127: return radiotapPrint(ctx, 0, len);
      case 119: return prismPrint(ctx, 0, len);
      case 163: return avsPrint(ctx, 0, len);
      default:
        defaultPrint(ctx, 0);
        void caplen;
        return 0;
    }
  }
}
