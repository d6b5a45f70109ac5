// Name tables the printers share, as tcpdump holds them: ethertypes, IP protocol numbers, and port → service names
// (the first /etc/services name for a port, as tcpdump's init_servarray keeps it; from the filter compiler's netbase).

import { TCP_SERVICES, UDP_SERVICES } from "../filter/netbase.ts";

export const ETHERTYPES: ReadonlyMap<number, string> = new Map([
  [0x0800, "IPv4"], [0x86dd, "IPv6"], [0x0806, "ARP"], [0x8035, "Reverse ARP"], [0x8100, "802.1Q"],
  [0x88a8, "802.1Q-QinQ"], [0x9100, "802.1Q-9100"], [0x9200, "802.1Q-9200"], [0x8847, "MPLS unicast"],
  [0x8848, "MPLS multicast"], [0x8863, "PPPoE D"], [0x8864, "PPPoE S"], [0x8809, "Slow Protocols"], [0x88cc, "LLDP"],
  [0x888e, "EAPOL"], [0x809b, "Appletalk"], [0x80f3, "Appletalk ARP"], [0x8137, "IPX"], [0x6003, "DN"], [0x6004, "LAT"],
  [0x6002, "MOP RC"], [0x6001, "MOP DL"], [0x8038, "Vines"], [0x0200, "PUP"], [0x0a00, "Xerox PUP"], [0x9000, "Loopback"],
  [0xfefe, "OSI"], [0xd28b, "Arista Vendor Specific Protocol"], [0x88e5, "802.1AE MACsec"], [0x8870, "Jumbo"],
  [0x88f7, "PTP"], [0x8902, "CFM"], [0x894f, "NSH"], [0x88b5, "Experimental"], [0x0101, "Xerox PUP addr"],
  [0x88be, "ERSPAN"], [0x6558, "TEB"],
  [0x880b, "PPP"],
]);

/** tcpdump's ipproto_values (the -v "proto NAME (N)" names). */
export const IP_PROTOS: ReadonlyMap<number, string> = new Map([
  [0, "Options"], [1, "ICMP"], [2, "IGMP"], [4, "IPIP"], [6, "TCP"], [8, "EGP"], [9, "IGRP"], [17, "UDP"], [33, "DCCP"],
  [41, "IPv6"], [47, "GRE"], [50, "ESP"], [51, "AH"], [58, "ICMPv6"], [88, "EIGRP"], [89, "OSPF"], [94, "MOBILE"],
  [103, "PIM"], [108, "IPComp"], [112, "VRRP"], [113, "PGM"], [132, "SCTP"], [135, "Mobility"], [137, "MPLS"],
  [43, "Routing"], [44, "Fragment"], [59, "none"], [60, "Destination"], [78, "ND"], [124, "ISIS"], [115, "L2TP"],
]);

function byPort(table: Readonly<Record<string, number>>): Map<number, string> {
  const m = new Map<number, string>();
  for (const [name, port] of Object.entries(table)) if (!m.has(port)) m.set(port, name);
  return m;
}

const tcpNames = byPort(TCP_SERVICES);
const udpNames = byPort(UDP_SERVICES);

/** A TCP port as tcpdump prints it: the service name unless -nn. */
export function tcpPort(port: number, nflag: number): string {
  return nflag > 1 ? String(port) : (tcpNames.get(port) ?? String(port));
}
export function udpPort(port: number, nflag: number): string {
  return nflag > 1 ? String(port) : (udpNames.get(port) ?? String(port));
}
