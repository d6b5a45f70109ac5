// Socket filters and XDP on the VM over packet sources: an array of packets or a pcap/pcapng file's bytes. Each packet
// gets the context the hook builds (struct __sk_buff over data from the network header for socket filters, struct
// xdp_md over a page-sized frame for XDP) and runs every program attached there, in attach order.
import { readCapture } from "../../capture/index.ts";
import { buildSkbContext, buildXdpContext } from "../contexts.ts";
import type { System } from "../system.ts";

export type PacketSource = Iterable<Uint8Array> | { readonly capture: Uint8Array };

function* packetsOf(src: PacketSource): Generator<Uint8Array> {
  if ("capture" in src) { for (const p of readCapture(src.capture)) yield p.data; }
  else yield* src;
}

export interface PacketVerdict {
  /** r0 of the last program: XDP_* action, or the bytes a socket filter keeps (0 drops) */
  readonly verdict: number;
  /** the packet after the programs (XDP may rewrite and resize it); for socket filters, the bytes kept */
  readonly data: Uint8Array;
}

/** Runs the socket filters attached to `socket` (attach target { kind: "socket_filter", socket }) on each packet. */
export function runSocketFilter(sys: System, socket: number, src: PacketSource, cpu = 0): PacketVerdict[] {
  const progs = sys.attached(`socket:${socket}`);
  const out: PacketVerdict[] = [];
  for (const pkt of packetsOf(src)) {
    let verdict = 0xffffffff;
    if (progs.length) {
      const ctx = buildSkbContext(sys.space, pkt);
      try {
        for (const p of progs) verdict = sys.run(p, { ...ctx.run, cpu }).lo >>> 0;
      } finally {
        ctx.release();
      }
    }
    // sk_filter_trim_cap: keep min(r0, len) bytes of the network-layer packet; 0 drops it
    const l3 = pkt.subarray(Math.min(14, pkt.length));
    out.push({ verdict, data: l3.slice(0, Math.min(verdict, l3.length)) });
  }
  return out;
}

export const XDP_ABORTED = 0, XDP_DROP = 1, XDP_PASS = 2, XDP_TX = 3, XDP_REDIRECT = 4;

/** Runs the XDP programs attached to `ifindex` on each packet; a program's non-PASS action ends the chain. */
export function runXdp(sys: System, ifindex: number, src: PacketSource, cpu = 0): PacketVerdict[] {
  const progs = sys.attached(`xdp:${ifindex}`);
  const out: PacketVerdict[] = [];
  for (const pkt of packetsOf(src)) {
    if (progs.length === 0) { out.push({ verdict: XDP_PASS, data: pkt.slice() }); continue; }
    const ctx = buildXdpContext(sys.space, pkt, { ingress_ifindex: ifindex });
    try {
      let verdict = XDP_PASS;
      for (const p of progs) {
        verdict = sys.run(p, { ...ctx.run, cpu }).lo >>> 0;
        if (verdict !== XDP_PASS) break;
      }
      out.push({ verdict, data: ctx.dataOut() });
    } finally {
      ctx.release();
    }
  }
  return out;
}
