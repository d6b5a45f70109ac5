// IEEE 802.2 LLC and SNAP headers (what 802.11 data frames carry), and the IPX datagrams found raw behind an 802.3
// length. The LLC printer returns the header length it consumed, negative when tcpdump has no printer for the payload
// (the caller then dumps it).

import { type Ctx, formatMac, hex2, OUI_NAMES } from "./context.ts";
import { ETHERTYPES } from "./names.ts";
import { defaultPrint, ethertypePrint } from "./ether.ts";
import { ipPrint } from "./ip.ts";

const SAP_NAMES: ReadonlyMap<number, string> = new Map([
  [0x00, "Null"], [0xff, "Global"], [0x02, "802.1B I"], [0x03, "802.1B G"], [0x06, "IP"], [0x04, "SNA"],
  [0x0e, "ProWay NM"], [0x42, "STP"], [0x4e, "RS511"], [0x7e, "ISO8208"], [0x8e, "ProWay"], [0xaa, "SNAP"],
  [0xe0, "IPX"], [0xf0, "NetBeui"], [0xfe, "OSI"],
]);

/** Unnumbered-frame commands by LLC_U_CMD(control). */
const U_COMMANDS: ReadonlyMap<number, string> = new Map([
  [0x03, "ui"], [0xe3, "test"], [0xaf, "xid"], [0x63, "ua"], [0x43, "disc"], [0x0f, "dm"], [0x6f, "sabme"], [0x87, "frmr"],
]);

/** llc_flag_values: the SSAP's command/response bit with the poll bit (0x10 in U frames, 0x100 in I/S frames). */
const FLAG_NAMES: ReadonlyMap<number, string> = new Map([
  [0, "Command"], [1, "Response"], [0x10, "Poll"], [0x11, "Final"], [0x100, "Poll"], [0x101, "Final"],
]);

const SUPERVISORY = ["Receiver Ready", "Receiver not Ready", "Reject"];

function trunc(ctx: Ctx): void {
  ctx.out += ` [|${ctx.proto}]`;
}

/**
 * An LLC frame at `p` (`length` on the wire, `caplen` captured); `src`/`dst` are the link addresses' offsets (or -1)
 * that tcpdump names when it cannot decode the payload.
 */
export function llcPrint(ctx: Ctx, p: number, length: number, caplen: number, src: number, dst: number): number {
  ctx.proto = "llc";
  if (caplen < 3 || length < 3) {
    trunc(ctx);
    defaultPrint(ctx, p);
    return caplen < 3 ? caplen : length;
  }
  const dsapField = ctx.u8(p);
  const ssapField = ctx.u8(p + 1);
  let control = ctx.u8(p + 2);
  let hdrlen = 3;
  const isU = (control & 3) === 3;
  if (!isU) {
    if (caplen < 4 || length < 4) {
      trunc(ctx);
      defaultPrint(ctx, p);
      return caplen < 4 ? caplen : length;
    }
    control = ctx.le16(p + 2);
    hdrlen = 4;
  }
  const e = ctx.o.eflag;
  if (dsapField === 0xff && ssapField === 0xff) {
    // Novell "raw 802.3": the IPX header's all-ones checksum where the LLC header would be
    if (e) ctx.out += "IPX 802.3: ";
    ipxPrint(ctx, p);
    return 0;
  }
  const dsap = dsapField & ~1;
  const ssap = ssapField & ~1;
  if (e) {
    ctx.out += `LLC, dsap ${SAP_NAMES.get(dsap) ?? "Unknown"} (0x${hex2(dsap)}) ${dsapField & 1 ? "Group" : "Individual"}, ` +
      `ssap ${SAP_NAMES.get(ssap) ?? "Unknown"} (0x${hex2(ssap)}) ${ssapField & 1 ? "Response" : "Command"}, ` +
      `ctrl 0x${control.toString(16).padStart(isU ? 2 : 4, "0")}: `;
  }
  p += hdrlen;
  length -= hdrlen;
  caplen -= hdrlen;
  if (ssap === 0xaa && dsap === 0xaa && control === 3) return snapPrint(ctx, p, length, caplen, src, dst) ? hdrlen + 5 : -(hdrlen + 5);
  if (ssap === 0x06 && dsap === 0x06 && control === 3) {
    ipPrint(ctx, p, length);
    return hdrlen;
  }
  if (ssap === 0xe0 && dsap === 0xe0 && control === 3) {
    if (e) ctx.out += "IPX 802.2: ";
    ipxPrint(ctx, p);
    return hdrlen;
  }
  if (!e) {
    const addrs = src >= 0 && dst >= 0;
    if (ssap === dsap) {
      ctx.out += addrs ? `${ctx.mac(src)} > ${ctx.mac(dst)} ` : "";
      ctx.out += `${SAP_NAMES.get(dsap) ?? `Unknown DSAP 0x${hex2(dsap)}`} `;
    } else {
      const s = SAP_NAMES.get(ssap) ?? `Unknown SSAP 0x${hex2(ssap)}`;
      const d = SAP_NAMES.get(dsap) ?? `Unknown DSAP 0x${hex2(dsap)}`;
      ctx.out += addrs ? `${ctx.mac(src)} ${s} > ${ctx.mac(dst)} ${d} ` : `${s} > ${d} `;
    }
  }
  if (isU) {
    const cmd = control & 0xef;
    ctx.out += `Unnumbered, ${U_COMMANDS.get(cmd) ?? hex2(cmd)}, Flags [${FLAG_NAMES.get((ssapField & 1) | (control & 0x10)) ?? "?"}], length ${length + hdrlen}`;
    if ((control & ~0x10) === 0xaf) {
      if (length === 0) return hdrlen;
      if (caplen < 1) { trunc(ctx); return hdrlen; }
      if (ctx.u8(p) === 0x81) {
        if (caplen < 3 || length < 3) { trunc(ctx); defaultPrint(ctx, p); } else ctx.out += `: ${hex2(ctx.u8(p + 1))} ${hex2(ctx.u8(p + 2))}`;
        return hdrlen;
      }
    }
  } else {
    const flags = FLAG_NAMES.get((ssapField & 1) | (control & 0x100)) ?? "?";
    if ((control & 1) === 1) {
      ctx.out += `Supervisory, ${SUPERVISORY[(control >> 2) & 3] ?? "?"}, rcv seq ${(control >> 9) & 0x7f}, Flags [${flags}], length ${length + hdrlen}`;
      return hdrlen;
    }
    ctx.out += `Information, send seq ${(control >> 1) & 0x7f}, rcv seq ${(control >> 9) & 0x7f}, Flags [${flags}], length ${length + hdrlen}`;
  }
  return -hdrlen;
}

/** SNAP: OUI and protocol id; true when the payload was printed. */
function snapPrint(ctx: Ctx, p: number, length: number, caplen: number, src: number, dst: number): boolean {
  ctx.proto = "snap";
  if (ctx.avail(p) < 5 || caplen < 5 || length < 5) { trunc(ctx); return true; }
  const oui = ctx.u24(p);
  const et = ctx.u16(p + 3);
  // the protocol id is an ethertype under these OUIs
  const pid = (oui === 0 || oui === 0xf8 || oui === 0x080007 ? ETHERTYPES.get(et) : undefined) ?? "Unknown";
  const hex6 = oui.toString(16).padStart(6, "0");
  const hex4 = et.toString(16).padStart(4, "0");
  if (ctx.o.eflag) {
    ctx.out += `oui ${OUI_NAMES.get(oui) ?? "Unknown"} (0x${hex6}), ${oui === 0 ? "ethertype" : "pid"} ${pid} (0x${hex4}), length ${length - 5}: `;
  }
  p += 5;
  length -= 5;
  if ((oui === 0 || oui === 0xf8 || (oui === 0x080007 && et === 0x809b)) && ethertypePrint(ctx, et, p, length)) return true;
  if (!ctx.o.eflag) {
    if (src >= 0 && dst >= 0) ctx.out += `${ctx.mac(src)} > ${ctx.mac(dst)} `;
    if (oui === 0) ctx.out += `SNAP, ethertype ${pid} (0x${hex4}), length ${length}: `;
    else ctx.out += `SNAP, oui ${OUI_NAMES.get(oui) ?? "Unknown"} (0x${hex6}), pid ${pid} (0x${hex4}), length ${length}: `;
  }
  return false;
}

/** IPX sockets tcpdump names with just a length. */
const IPX_SOCKETS: ReadonlyMap<number, string> = new Map([
  [0x0451, "ipx-ncp"], [0x0455, "ipx-netbios"], [0x0456, "ipx-diags"], [0x0553, "ipx-nwlink-dgm"],
]);

/** net.node: the 32-bit network number, then the node's MAC address. */
function ipxAddr(ctx: Ctx, off: number): string {
  ctx.need(off, 10);
  return `${ctx.u32(off).toString(16).padStart(8, "0")}.${formatMac(ctx.b, off + 4)}`;
}

/** IPX: source and destination net.node.socket, then the socket's name and the data length. */
function ipxPrint(ctx: Ctx, p: number): void {
  ctx.proto = "ipx";
  if (!ctx.o.eflag) ctx.out += "IPX ";
  ctx.out += `${ipxAddr(ctx, p + 18)}.${ctx.u16(p + 28).toString(16).padStart(4, "0")} > `;
  ctx.out += `${ipxAddr(ctx, p + 6)}.${ctx.u16(p + 16).toString(16).padStart(4, "0")}: `;
  const length = ctx.u16(p + 2);
  if (length < 30) {
    ctx.out += `[length ${length} < 30] (invalid)`;
    return;
  }
  const skt = ctx.u16(p + 16);
  ctx.out += `${IPX_SOCKETS.get(skt) ?? `ipx-#${skt.toString(16)}`} ${length - 30}`;
}
