// The code generator's state (gencode.c compiler_state_t): where the link-layer header, link-layer type field and
// network-layer payload sit for the current link type (fixed offsets or a scratch register holding a computed one),
// the scratch-register allocator, and the constants the generator compares against.
import { BpfError } from "../errors.ts";
import { BPF_MEMWORDS } from "../isa/cbpf/insn.ts";
import { linkTypeDescription } from "./linktypes.ts";

export const OFFSET_NOT_SET = 0xffffffff;

/** A packet offset: constant_part, plus the value of scratch register `reg` when is_variable. */
export interface AbsOffset {
  isVariable: boolean;
  constantPart: number;
  reg: number;
}

const off = (constantPart = 0): AbsOffset => ({ isVariable: false, constantPart, reg: -1 });

/** DLT_* values as Linux's libpcap 1.10 defines them (pcap/dlt.h). */
export const DLT = {
  NULL: 0, CLASS_NETBSD_RAWAF: 0, EN10MB: 1, EN3MB: 2, AX25: 3, PRONET: 4, CHAOS: 5, IEEE802: 6, ARCNET: 7, SLIP: 8,
  PPP: 9, FDDI: 10, ATM_RFC1483: 11, HIPPI: 15, 
  ATM_CLIP: 19, REDBACK_SMARTEDGE: 32, PPP_SERIAL: 50, PPP_ETHER: 51, SYMANTEC_FIREWALL: 99, C_HDLC: 104,
  IEEE802_11: 105, FRELAY: 107, LINUX_SLL: 113, LTALK: 114, ECONET: 115, IPFILTER: 116,
  PFLOG: 117, CISCO_IOS: 118, PRISM_HEADER: 119, AIRONET_HEADER: 120, HHDLC: 121, IP_OVER_FC: 122, SUNATM: 123,
  RIO: 124, PCI_EXP: 125, AURORA: 126, IEEE802_11_RADIO: 127, TZSP: 128, ARCNET_LINUX: 129, JUNIPER_MLPPP: 130,
  JUNIPER_MLFR: 131, JUNIPER_ES: 132, JUNIPER_GGSN: 133, JUNIPER_MFR: 134, JUNIPER_ATM2: 135, JUNIPER_SERVICES: 136,
  JUNIPER_ATM1: 137, APPLE_IP_OVER_IEEE1394: 138, MTP2_WITH_PHDR: 139, MTP2: 140, MTP3: 141, SCCP: 142, DOCSIS: 143,
  LINUX_IRDA: 144, IBM_SP: 145, IBM_SN: 146, USER0: 147, USER1: 148, USER2: 149, USER3: 150, USER4: 151, USER5: 152,
  USER6: 153, USER7: 154, USER8: 155, USER9: 156, USER10: 157, USER11: 158, USER12: 159, USER13: 160, USER14: 161,
  USER15: 162, IEEE802_11_RADIO_AVS: 163, JUNIPER_MONITOR: 164, BACNET_MS_TP: 165, PPP_PPPD: 166, JUNIPER_PPPOE: 167,
  JUNIPER_PPPOE_ATM: 168, GPRS_LLC: 169, GPF_T: 170, GPF_F: 171, GCOM_T1E1: 172, GCOM_SERIAL: 173,
  JUNIPER_PIC_PEER: 174, ERF_ETH: 175, ERF_POS: 176, LINUX_LAPD: 177, JUNIPER_ETHER: 178, JUNIPER_PPP: 179,
  JUNIPER_FRELAY: 180, JUNIPER_CHDLC: 181, MFR: 182, JUNIPER_VP: 183, A429: 184, A653_ICM: 185, USB_FREEBSD: 186,
  USB: 186, BLUETOOTH_HCI_H4: 187, IEEE802_16_MAC_CPS: 188, USB_LINUX: 189, CAN20B: 190, IEEE802_15_4_LINUX: 191,
  PPI: 192, IEEE802_16_MAC_CPS_RADIO: 193, JUNIPER_ISM: 194, IEEE802_15_4_WITHFCS: 195, SITA: 196, ERF: 197,
  RAIF1: 198, IPMB_KONTRON: 199, JUNIPER_ST: 200, BLUETOOTH_HCI_H4_WITH_PHDR: 201, AX25_KISS: 202, LAPD: 203,
  PPP_WITH_DIR: 204, C_HDLC_WITH_DIR: 205, FRELAY_WITH_DIR: 206, LAPB_WITH_DIR: 207, IPMB_LINUX: 209, FLEXRAY: 210,
  MOST: 211, LIN: 212, X2E_SERIAL: 213, X2E_XORAYA: 214, IEEE802_15_4_NONASK_PHY: 215, LINUX_EVDEV: 216,
  GSMTAP_UM: 217, GSMTAP_ABIS: 218, MPLS: 219, USB_LINUX_MMAPPED: 220, DECT: 221, AOS: 222, WIHART: 223, FC_2: 224,
  FC_2_WITH_FRAME_DELIMS: 225, IPNET: 226, CAN_SOCKETCAN: 227, IPV4: 228, IPV6: 229, IEEE802_15_4_NOFCS: 230,
  DBUS: 231, JUNIPER_VS: 232, JUNIPER_SRX_E2E: 233, JUNIPER_FIBRECHANNEL: 234, DVB_CI: 235, MUX27010: 236,
  STANAG_5066_D_PDU: 237, JUNIPER_ATM_CEMIC: 238, NFLOG: 239, NETANALYZER: 240, NETANALYZER_TRANSPARENT: 241,
  IPOIB: 242, MPEG_2_TS: 243, NG40: 244, NFC_LLCP: 245, INFINIBAND: 247, SCTP: 248, USBPCAP: 249, RTAC_SERIAL: 250,
  BLUETOOTH_LE_LL: 251, WIRESHARK_UPPER_PDU: 252, NETLINK: 253, BLUETOOTH_LINUX_MONITOR: 254,
  BLUETOOTH_BREDR_BB: 255, BLUETOOTH_LE_LL_WITH_PHDR: 256, PROFIBUS_DL: 257, PKTAP: 258, EPON: 259, IPMI_HPM_2: 260,
  ZWAVE_R1_R2: 261, ZWAVE_R3: 262, WATTSTOPPER_DLM: 263, ISO_14443: 264, RDS: 265, USB_DARWIN: 266, OPENFLOW: 267,
  SDLC: 268, TI_LLN_SNIFFER: 269, LORATAP: 270, VSOCK: 271, NORDIC_BLE: 272, DOCSIS31_XRA31: 273,
  ETHERNET_MPACKET: 274, DISPLAYPORT_AUX: 275, LINUX_SLL2: 276, SERCOS_MONITOR: 277, OPENVIZSLA: 278, EBHSCR: 279,
  VPP_DISPATCH: 280, DSA_TAG_BRCM: 281, DSA_TAG_BRCM_PREPEND: 282, IEEE802_15_4_TAP: 283, DSA_TAG_DSA: 284,
  DSA_TAG_EDSA: 285, ELEE: 286, Z_WAVE_SERIAL: 287, USB_2_0: 288, ATSC_ALP: 289,
  RAW: 12, SLIP_BSDOS: 15, PPP_BSDOS: 16, PFSYNC: 246, LOOP: 108, ENC: 109, HDLC: 112,
} as const;

export const ETHERMTU = 1500;
export const ETHERTYPE = {
  IP: 0x0800, ARP: 0x0806, NS: 0x0600, MOPDL: 0x6001, MOPRC: 0x6002, DN: 0x6003, LAT: 0x6004, SCA: 0x6007, TEB: 0x6558,
  REVARP: 0x8035, ATALK: 0x809b, AARP: 0x80f3, IEEE8021Q: 0x8100, IPX: 0x8137, IPV6: 0x86dd, MPLS: 0x8847,
  PPPOED: 0x8863, PPPOES: 0x8864, IEEE8021AD: 0x88a8, LOOPBACK: 0x9000, IEEE8021QINQ: 0x9100,
} as const;
export const LLCSAP = { IP: 0x06, IEEE8021D: 0x42, SNAP: 0xaa, IPX: 0xe0, NETBEUI: 0xf0, ISONS: 0xfe } as const;
export const PPP = {
  IP: 0x0021, OSI: 0x0023, NS: 0x0025, DECNET: 0x0027, APPLE: 0x0029, IPX: 0x002b, VJC: 0x002d, VJNC: 0x002f,
  BRPDU: 0x0031, IPV6: 0x0057, MPLS_UCAST: 0x0281,
} as const;
export const IPPROTO = { ICMP: 1, IGMP: 2, TCP: 6, UDP: 17, IGRP: 9, FRAGMENT: 44, ICMPV6: 58, AH: 51, ESP: 50, PIM: 103, VRRP: 112, CARP: 112, SCTP: 132, HOPOPTS: 0, ROUTING: 43, DSTOPTS: 60, NONE: 59 } as const;
export const PROTO_UNDEF = -1;
export const ISO8473_CLNP = 0x81, ISO9542_ESIS = 0x82, ISO10589_ISIS = 0x83;
export const ISIS = { L1_LAN_IIH: 15, L2_LAN_IIH: 16, PTP_IIH: 17, L1_LSP: 18, L2_LSP: 20, L1_CSNP: 24, L2_CSNP: 25, L1_PSNP: 26, L2_PSNP: 27 } as const;

export interface CompilerState {
  snaplen: number;
  netmask: number;
  /** True when compiling for a capture file (tcpdump -r): some Linux-only tests are refused then. */
  readingFile: boolean;
  /** The capture file is in the other byte order (libpcap p->swapped). */
  swapped: boolean;
  linktype: number;
  prevlinktype: number;
  outermostlinktype: number;
  offLinkhdr: AbsOffset;
  offPrevlinkhdr: AbsOffset;
  offOutermostlinkhdr: AbsOffset;
  offLinkpl: AbsOffset;
  offLinktype: AbsOffset;
  offNl: number;
  offNlNosnap: number;
  isAtm: boolean;
  isGeneve: boolean;
  isVlanVloffset: boolean;
  offVpi: number;
  offVci: number;
  offProto: number;
  offPayload: number;
  labelStackDepth: number;
  vlanStackDepth: number;
  noOptimize: boolean;
  regused: boolean[];
  curreg: number;
}

/** bpf_error(): libpcap aborts compilation with this message. */
export function fail(message: string): never {
  throw new BpfError("PARSE", message);
}

export const describe = (dlt: number): string => linkTypeDescription(dlt);

/** Offsets per link type (gencode.c init_linktype): [linktype field, payload, network layer, network layer without SNAP]. */
function linkOffsets(cs: CompilerState, dlt: number): boolean {
  const set = (lt: number, pl: number, nl: number, nosnap: number): void => {
    cs.offLinktype.constantPart = lt;
    cs.offLinkpl.constantPart = pl;
    cs.offNl = nl;
    cs.offNlNosnap = nosnap;
  };
  const N = OFFSET_NOT_SET;
  const D = DLT;
  switch (dlt) {
    case D.ARCNET: set(2, 6, 0, 0); break;
    case D.ARCNET_LINUX: set(4, 8, 0, 0); break;
    case D.EN10MB: set(12, 14, 0, 3); break;
    case D.SLIP: set(N, 16, 0, 0); break;
    case D.SLIP_BSDOS: set(N, 24, 0, 0); break;
    case D.NULL: case D.LOOP: set(0, 4, 0, 0); break;
    case D.ENC: set(0, 12, 0, 0); break;
    case D.PPP: case D.PPP_PPPD: case D.C_HDLC: case D.HDLC: case D.PPP_SERIAL: set(2, 4, 0, 0); break;
    case D.PPP_ETHER: set(6, 8, 0, 0); break;
    case D.PPP_BSDOS: set(5, 24, 0, 0); break;
    case D.FDDI: set(13, 13, 8, 3); break;
    case D.IEEE802: set(14, 14, 8, 3); break;
    case D.PRISM_HEADER: case D.IEEE802_11_RADIO_AVS: case D.IEEE802_11_RADIO:
      cs.offLinkhdr.isVariable = true;
      set(24, 0, 8, 3); cs.offLinkpl.isVariable = true; break;
    case D.IEEE802_11: set(24, 0, 8, 3); cs.offLinkpl.isVariable = true; break;
    case D.PPI: set(24, 0, 8, 3); cs.offLinkpl.isVariable = true; cs.offLinkhdr.isVariable = true; break;
    case D.ATM_RFC1483: case D.ATM_CLIP: set(0, 0, 8, 3); break;
    case D.SUNATM:
      cs.isAtm = true; cs.offVpi = 1; cs.offVci = 2; cs.offProto = 0; cs.offPayload = 4;
      set(4, 4, 8, 3); break;
    case D.RAW: case D.IPV4: case D.IPV6: set(N, 0, 0, 0); break;
    case D.LINUX_SLL: set(14, 16, 0, 0); break;
    case D.LINUX_SLL2: set(0, 20, 0, 0); break;
    case D.LTALK: set(N, 0, 0, 0); break;
    case D.IP_OVER_FC: set(16, 16, 8, 3); break;
    case D.FRELAY: set(N, 0, 0, 0); break;
    case D.MFR: set(N, 0, 4, 0); break;
    case D.APPLE_IP_OVER_IEEE1394: set(16, 18, 0, 0); break;
    case D.SYMANTEC_FIREWALL: set(6, 44, 0, 0); break;
    case D.PFLOG: set(0, 0, 0, 0); cs.offLinkpl.isVariable = true; break;
    case D.JUNIPER_MFR: case D.JUNIPER_MLFR: case D.JUNIPER_MLPPP: case D.JUNIPER_PPP: case D.JUNIPER_CHDLC:
    case D.JUNIPER_FRELAY: set(4, 4, 0, N); break;
    case D.JUNIPER_ATM1: set(4, 4, 0, 10); break;
    case D.JUNIPER_ATM2: set(8, 8, 0, 10); break;
    case D.JUNIPER_PPPOE: case D.JUNIPER_ETHER: set(16, 14, 18, 21); break;
    case D.JUNIPER_PPPOE_ATM: set(4, 6, 0, N); break;
    case D.JUNIPER_GGSN: set(6, 12, 0, N); break;
    case D.JUNIPER_ES: set(6, N, N, N); break;
    case D.JUNIPER_MONITOR: set(12, 12, 0, N); break;
    case D.BACNET_MS_TP: set(N, N, N, N); break;
    case D.JUNIPER_SERVICES: set(12, N, N, N); break;
    case D.JUNIPER_VP: case D.JUNIPER_ST: set(18, N, N, N); break;
    case D.JUNIPER_ISM: set(8, N, N, N); break;
    case D.JUNIPER_VS: case D.JUNIPER_SRX_E2E: case D.JUNIPER_FIBRECHANNEL: case D.JUNIPER_ATM_CEMIC: set(8, N, N, N); break;
    case D.MTP2: case D.MTP2_WITH_PHDR: case D.ERF: set(N, N, N, N); break;
    case D.PFSYNC: set(N, 4, 0, 0); break;
    case D.AX25_KISS: set(N, N, N, N); break;
    case D.IPNET: set(1, 24, 0, N); break;
    case D.NETANALYZER: cs.offLinkhdr.constantPart = 4; set(16, 18, 0, 3); break;
    case D.NETANALYZER_TRANSPARENT: cs.offLinkhdr.constantPart = 12; set(24, 26, 0, 3); break;
    default:
      // DLT_MATCHING_MIN..DLT_MATCHING_MAX: known to pcap, no filtering offsets.
      if (dlt >= 104 && dlt <= 289) { set(N, N, N, N); break; }
      return false;
  }
  return true;
}

export function newCompilerState(dlt: number, snaplen: number, readingFile: boolean): CompilerState {
  const cs: CompilerState = {
    snaplen, netmask: 0, readingFile, swapped: false,
    linktype: dlt, prevlinktype: dlt, outermostlinktype: dlt,
    offLinkhdr: off(), offPrevlinkhdr: off(), offOutermostlinkhdr: off(), offLinkpl: off(), offLinktype: off(),
    offNl: 0, offNlNosnap: 0, isAtm: false, isGeneve: false, isVlanVloffset: false,
    offVpi: OFFSET_NOT_SET, offVci: OFFSET_NOT_SET, offProto: OFFSET_NOT_SET, offPayload: OFFSET_NOT_SET,
    labelStackDepth: 0, vlanStackDepth: 0, noOptimize: false,
    regused: new Array<boolean>(BPF_MEMWORDS).fill(false), curreg: 0,
  };
  if (!linkOffsets(cs, dlt)) fail(`unknown data link type ${dlt} (min 104, max 289)`);
  cs.offOutermostlinkhdr = { ...cs.offLinkhdr };
  cs.offPrevlinkhdr = { ...cs.offLinkhdr };
  return cs;
}

/** Allocates a scratch register M[n], round-robin from the last one as libpcap does (so numbering matches). */
export function allocReg(cs: CompilerState): number {
  for (let n = BPF_MEMWORDS; n > 0; n--) {
    if (cs.regused[cs.curreg]) cs.curreg = (cs.curreg + 1) % BPF_MEMWORDS;
    else {
      cs.regused[cs.curreg] = true;
      return cs.curreg;
    }
  }
  fail("too many registers needed to evaluate expression");
}

export function freeReg(cs: CompilerState, n: number): void {
  cs.regused[n] = false;
}

/** PUSH_LINKHDR: the packet's "current" link layer becomes an encapsulated one (PPPoE, Geneve). */
export function pushLinkhdr(cs: CompilerState, dlt: number, isVariable: boolean, constantPart: number, reg: number): void {
  cs.prevlinktype = cs.linktype;
  cs.offPrevlinkhdr = { ...cs.offLinkhdr };
  cs.linktype = dlt;
  cs.offLinkhdr = { isVariable, constantPart, reg };
  cs.isGeneve = false;
}
