// SKF_AD_PAY_OFFSET: skb_get_poff() — the flow dissector finds the transport header, then the fixed size of the
// transport header is added (TCP uses its data offset). Dissection failure gives 0.
// Covered: VLAN (802.1Q/802.1AD, hardware-accelerated tag), IPv4 (fragments), IPv6 (hop-by-hop, routing,
// destination options, fragment headers), IP-in-IP and IPv6-in-IP encapsulation. Other protocols (MPLS, PPPoE,
// GRE, ...) are dissected by the kernel but not here: for those the result is 0 (as for an unknown protocol).

import type { SkbMeta } from "./skb.ts";
import { LOAD_FAULT, skbLength, skbLoad } from "./skb.ts";

const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const ETH_P_8021Q = 0x8100;
const ETH_P_8021AD = 0x88a8;
const MAX_FLOW_DISSECT_HDRS = 15;

// Fixed transport header sizes added by __skb_get_poff (TCP handled apart).
const L4_HEADER_SIZE: Readonly<Record<number, number>> = {
  17: 8, // UDP
  136: 8, // UDP-Lite
  1: 8, // ICMP
  58: 8, // ICMPv6
  2: 8, // IGMP
  33: 12, // DCCP
  132: 12, // SCTP
};

/** skb_get_poff(): payload offset of the packet, or 0 when the flow dissector gives up. */
export function skbPayloadOffset(linear: Uint8Array, meta: SkbMeta | undefined): number {
  const vlanPresent = ((meta?.vlanProto ?? 0) | (meta?.vlanTci ?? 0)) !== 0;
  let proto = vlanPresent ? (meta?.vlanProto ?? 0) : (meta?.protocol ?? 0);
  let nhoff = meta?.networkOffset ?? 0;
  let ipProto = -1;
  let fragment = false;
  let firstFrag = false;
  let usedHwVlan = false;
  const byte = (at: number): number => skbLoad(linear, meta, at, 1);
  const half = (at: number): number => skbLoad(linear, meta, at, 2);

  // Network layer: __skb_flow_dissect's proto_again loop.
  let done = false;
  for (let hdrs = 0; !done; hdrs++) {
    if (hdrs > MAX_FLOW_DISSECT_HDRS) return 0;
    switch (proto) {
      case ETH_P_IP: {
        if (skbLoad(linear, meta, nhoff + 16, 4) === LOAD_FAULT) return 0; // sizeof(struct iphdr)
        const ihl = byte(nhoff) & 0xf;
        if (ihl < 5) return 0;
        ipProto = byte(nhoff + 9);
        const fragOff = half(nhoff + 6);
        nhoff += ihl * 4;
        if ((fragOff & 0x3fff) !== 0) { // ip_is_fragment: MF or offset
          fragment = true;
          if ((fragOff & 0x1fff) !== 0) return finish();
          firstFrag = true;
          return finish(); // FLOW_DISSECTOR_F_PARSE_1ST_FRAG is not set
        }
        done = true;
        break;
      }
      case ETH_P_IPV6: {
        if (skbLoad(linear, meta, nhoff + 36, 4) === LOAD_FAULT) return 0; // sizeof(struct ipv6hdr)
        ipProto = byte(nhoff + 6);
        nhoff += 40;
        done = true;
        break;
      }
      case ETH_P_8021Q:
      case ETH_P_8021AD: {
        if (vlanPresent && !usedHwVlan) {
          usedHwVlan = true;
          proto = meta?.protocol ?? 0;
        } else {
          const encapsulated = half(nhoff + 2);
          if (encapsulated === LOAD_FAULT) return 0;
          proto = encapsulated;
          nhoff += 4;
        }
        break;
      }
      default:
        return 0;
    }
  }

  // Transport layer: ip_proto_again, for the extension headers that lead to another protocol.
  for (let hdrs = 0; ; hdrs++) {
    if (hdrs > MAX_FLOW_DISSECT_HDRS) return 0;
    if (ipProto === 0 || ipProto === 43 || ipProto === 60) { // hop-by-hop, routing, destination options
      const next = byte(nhoff);
      const len = byte(nhoff + 1);
      if (next === LOAD_FAULT || len === LOAD_FAULT) return 0;
      ipProto = next;
      nhoff += (len + 1) << 3;
      continue;
    }
    if (ipProto === 44) { // IPv6 fragment header
      if (skbLoad(linear, meta, nhoff + 4, 4) === LOAD_FAULT) return 0;
      fragment = true;
      const fragOff = half(nhoff + 2);
      ipProto = byte(nhoff);
      nhoff += 8;
      if ((fragOff & 0xfff8) === 0) firstFrag = true;
      return finish();
    }
    if (ipProto === 4 || ipProto === 41) { // IPIP / IPv6-in-IP: dissect the inner header
      return skbPayloadOffsetInner(linear, meta, ipProto === 4 ? ETH_P_IP : ETH_P_IPV6, nhoff);
    }
    return finish();
  }

  function finish(): number {
    let poff = Math.min(nhoff, skbLength(linear, meta)) & 0xffff;
    if (fragment && !firstFrag) return poff;
    if (ipProto === 6) {
      const doff = byte(poff + 12);
      if (doff === LOAD_FAULT) return poff;
      return poff + Math.max(20, (doff & 0xf0) >> 2);
    }
    return poff + (L4_HEADER_SIZE[ipProto] ?? 0);
  }
}

function skbPayloadOffsetInner(linear: Uint8Array, meta: SkbMeta | undefined, proto: number, nhoff: number): number {
  return skbPayloadOffset(linear, {
    ...meta, protocol: proto, vlanProto: 0, vlanTci: 0, networkOffset: nhoff,
  });
}
