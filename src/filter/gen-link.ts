// Link-layer code generation (gencode.c): "is this packet protocol P" for each link type, LLC/SNAP, MAC addresses,
// broadcast/multicast and packet direction. 802.11 specifics live in gen-wlan.ts, encapsulations in gen-encap.ts.
import {
  BPF_LD, BPF_LDX, BPF_JMP, BPF_MEM, BPF_X, BPF_B, BPF_H,
  BPF_W, BPF_JEQ, SKF_AD_OFF, SKF_AD_IFINDEX, SKF_AD_PKTTYPE,
} from "../isa/cbpf/insn.ts";
import { type Block, newBlock, newStmt, sappend } from "./blocks.ts";
import {
  type CompilerState, DLT, ETHERMTU, ETHERTYPE, LLCSAP, PPP, ISO8473_CLNP, ISO9542_ESIS, ISO10589_ISIS, describe, fail,
} from "./state.ts";
import {
  OffRel, genAnd, genOr, genNot, genCmp, genCmpGt, genCmpGe, genMcmp, genBcmp, genTrue, genFalse, genJset as jset,
} from "./gen-core.ts";
import { check80211DataFrame, genIfFrameBit, genWlanhostop, is80211, swapLong } from "./gen-wlan.ts";
import { genAtmfield, genAtmtypeLlc, A_PROTOTYPE } from "./gen-atm.ts";
import { Q_SRC, Q_DST, Q_AND, Q_OR, Q_DEFAULT, Q_ADDR1, Q_ADDR2, Q_ADDR3, Q_ADDR4, Q_RA, Q_TA, Q_LINK, Q_IP, Q_IPV6 } from "./ast.ts";

const LINUX_SLL_P_802_3 = 0x0001, LINUX_SLL_P_802_2 = 0x0004, LINUX_SLL_OUTGOING = 4;

export const isEthernet = (lt: number): boolean => lt === DLT.EN10MB || lt === DLT.NETANALYZER || lt === DLT.NETANALYZER_TRANSPARENT;

export function genSnap(cs: CompilerState, orgcode: number, ptype: number): Block {
  return genBcmp(cs, OffRel.LLC, 0, [LLCSAP.SNAP, LLCSAP.SNAP, 0x03, (orgcode >> 16) & 0xff, (orgcode >> 8) & 0xff,
    orgcode & 0xff, (ptype >> 8) & 0xff, ptype & 0xff]);
}

function etherLinktype(cs: CompilerState, p: number): Block {
  switch (p) {
    case LLCSAP.ISONS: case LLCSAP.IP: case LLCSAP.NETBEUI: {
      const b0 = genCmpGt(cs, OffRel.LINKTYPE, 0, BPF_H, ETHERMTU);
      genNot(b0);
      const b1 = genCmp(cs, OffRel.LLC, 0, BPF_H, (p << 8) | p);
      genAnd(b0, b1);
      return b1;
    }
    case LLCSAP.IPX: {
      let b0 = genCmp(cs, OffRel.LLC, 0, BPF_B, LLCSAP.IPX);
      const b1 = genCmp(cs, OffRel.LLC, 0, BPF_H, 0xffff);
      genOr(b0, b1);
      b0 = genSnap(cs, 0x000000, ETHERTYPE.IPX);
      genOr(b0, b1);
      b0 = genCmpGt(cs, OffRel.LINKTYPE, 0, BPF_H, ETHERMTU);
      genNot(b0);
      genAnd(b0, b1);
      b0 = genCmp(cs, OffRel.LINKTYPE, 0, BPF_H, ETHERTYPE.IPX);
      genOr(b0, b1);
      return b1;
    }
    case ETHERTYPE.ATALK: case ETHERTYPE.AARP: {
      const b0 = genCmpGt(cs, OffRel.LINKTYPE, 0, BPF_H, ETHERMTU);
      genNot(b0);
      return appleTalkSnapOrType(cs, p, b0);
    }
    default:
      if (p <= ETHERMTU) {
        const b0 = genCmpGt(cs, OffRel.LINKTYPE, 0, BPF_H, ETHERMTU);
        genNot(b0);
        const b1 = genCmp(cs, OffRel.LINKTYPE, 2, BPF_B, p);
        genAnd(b0, b1);
        return b1;
      }
      return genCmp(cs, OffRel.LINKTYPE, 0, BPF_H, p);
  }
}

/**
 * AppleTalk Phase 2 / AARP in SNAP after `isLlc` (the frame carries 802.2), or Phase 1 with the protocol as the type
 * field: both Ethernet and Linux cooked captures test it this way (gen_ether_linktype, gen_linux_sll_linktype).
 */
function appleTalkSnapOrType(cs: CompilerState, p: number, isLlc: Block): Block {
  const b1 = p === ETHERTYPE.ATALK ? genSnap(cs, 0x080007, ETHERTYPE.ATALK) : genSnap(cs, 0x000000, ETHERTYPE.AARP);
  genAnd(isLlc, b1);
  genOr(genCmp(cs, OffRel.LINKTYPE, 0, BPF_H, p), b1);
  return b1;
}

function linuxSllLinktype(cs: CompilerState, p: number): Block {
  switch (p) {
    case LLCSAP.ISONS: case LLCSAP.IP: case LLCSAP.NETBEUI: {
      const b0 = genCmp(cs, OffRel.LINKTYPE, 0, BPF_H, LINUX_SLL_P_802_2);
      const b1 = genCmp(cs, OffRel.LLC, 0, BPF_H, (p << 8) | p);
      genAnd(b0, b1);
      return b1;
    }
    case LLCSAP.IPX: {
      let b0 = genCmp(cs, OffRel.LLC, 0, BPF_B, LLCSAP.IPX);
      const b1 = genSnap(cs, 0x000000, ETHERTYPE.IPX);
      genOr(b0, b1);
      b0 = genCmp(cs, OffRel.LINKTYPE, 0, BPF_H, LINUX_SLL_P_802_2);
      genAnd(b0, b1);
      b0 = genCmp(cs, OffRel.LINKTYPE, 0, BPF_H, LINUX_SLL_P_802_3);
      genOr(b0, b1);
      b0 = genCmp(cs, OffRel.LINKTYPE, 0, BPF_H, ETHERTYPE.IPX);
      genOr(b0, b1);
      return b1;
    }
    case ETHERTYPE.ATALK: case ETHERTYPE.AARP:
      return appleTalkSnapOrType(cs, p, genCmp(cs, OffRel.LINKTYPE, 0, BPF_H, LINUX_SLL_P_802_2));
    default:
      if (p <= ETHERMTU) {
        const b0 = genCmp(cs, OffRel.LINKTYPE, 0, BPF_H, LINUX_SLL_P_802_2);
        const b1 = genCmp(cs, OffRel.LINKHDR, cs.offLinkpl.constantPart, BPF_B, p);
        genAnd(b0, b1);
        return b1;
      }
      return genCmp(cs, OffRel.LINKTYPE, 0, BPF_H, p);
  }
}

export function llcLinktype(cs: CompilerState, p: number): Block {
  switch (p) {
    case LLCSAP.IP: case LLCSAP.ISONS: case LLCSAP.NETBEUI: return genCmp(cs, OffRel.LLC, 0, BPF_H, (p << 8) | p);
    case LLCSAP.IPX: return genCmp(cs, OffRel.LLC, 0, BPF_B, LLCSAP.IPX);
    case ETHERTYPE.ATALK: return genSnap(cs, 0x080007, ETHERTYPE.ATALK);
    default:
      return p <= ETHERMTU ? genCmp(cs, OffRel.LLC, 0, BPF_B, p) : genCmp(cs, OffRel.LLC, 6, BPF_H, p);
  }
}

function loopbackLinktype(cs: CompilerState, p: number): Block {
  // DLT_NULL/ENC carry the address family in host byte order; libpcap compares it in network order on Linux.
  if (cs.linktype === DLT.NULL || cs.linktype === DLT.ENC) {
    if (cs.readingFile && cs.swapped) p = swapLong(p);
    p = swapLong(p);
  }
  return genCmp(cs, OffRel.LINKHDR, 0, BPF_W, p);
}

function ethertypeToPpptype(p: number): number {
  switch (p) {
    case ETHERTYPE.IP: return PPP.IP;
    case ETHERTYPE.IPV6: return PPP.IPV6;
    case ETHERTYPE.DN: return PPP.DECNET;
    case ETHERTYPE.ATALK: return PPP.APPLE;
    case ETHERTYPE.NS: return PPP.NS;
    case LLCSAP.ISONS: return PPP.OSI;
    case LLCSAP.IEEE8021D: return PPP.BRPDU;
    case LLCSAP.IPX: return PPP.IPX;
    default: return p;
  }
}

export function prevlinkhdrCheck(cs: CompilerState): Block | null {
  if (cs.isGeneve) return geneveLlCheck(cs);
  if (cs.prevlinktype === DLT.SUNATM) {
    const b0 = genCmp(cs, OffRel.PREVLINKHDR, 4, BPF_H, 0xff00);
    genNot(b0);
    return b0;
  }
  return null;
}

function mplsLinktype(cs: CompilerState, p: number): Block {
  if (p !== ETHERTYPE.IP && p !== ETHERTYPE.IPV6) fail("unsupported protocol over mpls");
  const b0 = genMcmp(cs, OffRel.LINKPL, -2, BPF_B, 0x01, 0x01);
  const b1 = genMcmp(cs, OffRel.LINKPL, 0, BPF_B, p === ETHERTYPE.IP ? 0x40 : 0x60, 0xf0);
  genAnd(b0, b1);
  return b1;
}

const NOT_IMPLEMENTED: ReadonlyArray<readonly [readonly number[], string]> = [
  [[DLT.LINUX_IRDA], "IrDA"], [[DLT.DOCSIS], "DOCSIS"], [[DLT.MTP2, DLT.MTP2_WITH_PHDR], "MTP2"], [[DLT.ERF], "ERF"],
  [[DLT.PFSYNC], "PFSYNC"], [[DLT.LINUX_LAPD], "LAPD"],
  [[DLT.USB_FREEBSD, DLT.USB_LINUX, DLT.USB_LINUX_MMAPPED, DLT.USBPCAP], "USB"],
  [[DLT.BLUETOOTH_HCI_H4, DLT.BLUETOOTH_HCI_H4_WITH_PHDR], "Bluetooth"], [[DLT.CAN20B, DLT.CAN_SOCKETCAN], "CAN"],
  [[DLT.IEEE802_15_4_WITHFCS, DLT.IEEE802_15_4_LINUX, DLT.IEEE802_15_4_NONASK_PHY, DLT.IEEE802_15_4_NOFCS, DLT.IEEE802_15_4_TAP], "IEEE 802.15.4"],
  [[DLT.IEEE802_16_MAC_CPS_RADIO], "IEEE 802.16"], [[DLT.SITA], "SITA"], [[DLT.RAIF1], "RAIF1"],
  [[DLT.IPMB_KONTRON, DLT.IPMB_LINUX], "IPMB"], [[DLT.AX25_KISS], "AX.25"], [[DLT.NFLOG], "NFLOG"],
];
const JUNIPER = [DLT.JUNIPER_MFR, DLT.JUNIPER_MLFR, DLT.JUNIPER_MLPPP, DLT.JUNIPER_ATM1, DLT.JUNIPER_ATM2,
  DLT.JUNIPER_PPPOE, DLT.JUNIPER_PPPOE_ATM, DLT.JUNIPER_GGSN, DLT.JUNIPER_ES, DLT.JUNIPER_MONITOR,
  DLT.JUNIPER_SERVICES, DLT.JUNIPER_ETHER, DLT.JUNIPER_PPP, DLT.JUNIPER_FRELAY, DLT.JUNIPER_CHDLC, DLT.JUNIPER_VP,
  DLT.JUNIPER_ST, DLT.JUNIPER_ISM, DLT.JUNIPER_VS, DLT.JUNIPER_SRX_E2E, DLT.JUNIPER_FIBRECHANNEL,
  DLT.JUNIPER_ATM_CEMIC] as number[];

/** "The link-layer payload is protocol p" (an Ethernet type, or an LLC SAP) for the current link type. */
export function genLinktype(cs: CompilerState, p: number): Block {
  if (cs.labelStackDepth > 0) return mplsLinktype(cs, p);
  const lt = cs.linktype;
  if (isEthernet(lt)) {
    const b0 = !cs.isGeneve ? prevlinkhdrCheck(cs) : null;
    const b1 = etherLinktype(cs, p);
    if (b0 !== null) genAnd(b0, b1);
    return b1;
  }
  if (lt === DLT.C_HDLC || lt === DLT.HDLC) {
    return genCmp(cs, OffRel.LINKTYPE, 0, BPF_H, p === LLCSAP.ISONS ? (p << 8) | LLCSAP.ISONS : p);
  }
  if (is80211(lt)) {
    const b0 = check80211DataFrame(cs);
    const b1 = llcLinktype(cs, p);
    genAnd(b0, b1);
    return b1;
  }
  if (lt === DLT.FDDI || lt === DLT.IEEE802 || lt === DLT.ATM_RFC1483 || lt === DLT.ATM_CLIP || lt === DLT.IP_OVER_FC) {
    return llcLinktype(cs, p);
  }
  if (lt === DLT.SUNATM) {
    const b0 = genAtmPrototypeLlc(cs);
    const b1 = llcLinktype(cs, p);
    genAnd(b0, b1);
    return b1;
  }
  if (lt === DLT.LINUX_SLL) return linuxSllLinktype(cs, p);
  if (lt === DLT.SLIP || lt === DLT.SLIP_BSDOS || lt === DLT.RAW) {
    if (p === ETHERTYPE.IP) return genMcmp(cs, OffRel.LINKHDR, 0, BPF_B, 0x40, 0xf0);
    if (p === ETHERTYPE.IPV6) return genMcmp(cs, OffRel.LINKHDR, 0, BPF_B, 0x60, 0xf0);
    return genFalse();
  }
  if (lt === DLT.IPV4) return p === ETHERTYPE.IP ? genTrue() : genFalse();
  if (lt === DLT.IPV6) return p === ETHERTYPE.IPV6 ? genTrue() : genFalse();
  if (lt === DLT.PPP || lt === DLT.PPP_PPPD || lt === DLT.PPP_SERIAL || lt === DLT.PPP_ETHER) {
    return genCmp(cs, OffRel.LINKTYPE, 0, BPF_H, ethertypeToPpptype(p));
  }
  if (lt === DLT.PPP_BSDOS) {
    if (p === ETHERTYPE.IP) {
      let b0 = genCmp(cs, OffRel.LINKTYPE, 0, BPF_H, PPP.IP);
      const b1 = genCmp(cs, OffRel.LINKTYPE, 0, BPF_H, PPP.VJC);
      genOr(b0, b1);
      b0 = genCmp(cs, OffRel.LINKTYPE, 0, BPF_H, PPP.VJNC);
      genOr(b1, b0);
      return b0;
    }
    return genCmp(cs, OffRel.LINKTYPE, 0, BPF_H, ethertypeToPpptype(p));
  }
  if (lt === DLT.NULL || lt === DLT.LOOP || lt === DLT.ENC) {
    if (p === ETHERTYPE.IP) return loopbackLinktype(cs, 2);
    if (p === ETHERTYPE.IPV6) {
      if (cs.readingFile) {
        // BSD-family AF_INET6 values a capture file may carry: 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (Darwin).
        let b0 = loopbackLinktype(cs, 24);
        const b1 = loopbackLinktype(cs, 28);
        genOr(b0, b1);
        b0 = loopbackLinktype(cs, 30);
        genOr(b0, b1);
        return b1;
      }
      return loopbackLinktype(cs, 10);
    }
    return genFalse();
  }
  if (lt === DLT.PFLOG) {
    if (p === ETHERTYPE.IP) return genCmp(cs, OffRel.LINKHDR, 1, BPF_B, 2);
    if (p === ETHERTYPE.IPV6) return genCmp(cs, OffRel.LINKHDR, 1, BPF_B, 10);
    return genFalse();
  }
  if (lt === DLT.ARCNET || lt === DLT.ARCNET_LINUX) {
    const arc = (v: number): Block => genCmp(cs, OffRel.LINKTYPE, 0, BPF_B, v);
    switch (p) {
      case ETHERTYPE.IPV6: return arc(0xc4);
      case ETHERTYPE.IP: { const b0 = arc(212); const b1 = arc(240); genOr(b0, b1); return b1; }
      case ETHERTYPE.ARP: { const b0 = arc(213); const b1 = arc(241); genOr(b0, b1); return b1; }
      case ETHERTYPE.REVARP: return arc(214);
      case ETHERTYPE.ATALK: return arc(221);
      default: return genFalse();
    }
  }
  if (lt === DLT.LTALK) return p === ETHERTYPE.ATALK ? genTrue() : genFalse();
  if (lt === DLT.FRELAY) {
    if (p === ETHERTYPE.IP) return genCmp(cs, OffRel.LINKHDR, 2, BPF_H, 0x03cc);
    if (p === ETHERTYPE.IPV6) return genCmp(cs, OffRel.LINKHDR, 2, BPF_H, 0x038e);
    if (p === LLCSAP.ISONS) {
      const b0 = genCmp(cs, OffRel.LINKHDR, 2, BPF_H, 0x0300 | ISO8473_CLNP);
      const b1 = genCmp(cs, OffRel.LINKHDR, 2, BPF_H, 0x0300 | ISO9542_ESIS);
      const b2 = genCmp(cs, OffRel.LINKHDR, 2, BPF_H, 0x0300 | ISO10589_ISIS);
      genOr(b1, b2);
      genOr(b0, b2);
      return b2;
    }
    return genFalse();
  }
  if (lt === DLT.MFR) fail("Multi-link Frame Relay link-layer type filtering not implemented");
  if (JUNIPER.includes(lt)) return genMcmp(cs, OffRel.LINKHDR, 0, BPF_W, 0x4d474300, 0xffffff00);
  if (lt === DLT.BACNET_MS_TP) return genMcmp(cs, OffRel.LINKHDR, 0, BPF_W, 0x55ff0000, 0xffff0000);
  if (lt === DLT.IPNET) {
    if (p === ETHERTYPE.IP) return genCmp(cs, OffRel.LINKTYPE, 0, BPF_B, 2);
    if (p === ETHERTYPE.IPV6) return genCmp(cs, OffRel.LINKTYPE, 0, BPF_B, 26);
    return genFalse();
  }
  for (const [dlts, what] of NOT_IMPLEMENTED) {
    if (dlts.includes(lt)) fail(`${what} link-layer type filtering not implemented`);
  }
  if (cs.offLinktype.constantPart !== 0xffffffff) return genCmp(cs, OffRel.LINKTYPE, 0, BPF_H, p);
  fail(`${describe(lt)} link-layer type filtering not implemented`);
}

/** SunATM: the pseudo-header says the payload is LLC-encapsulated (A_PROTOTYPE == PT_LLC). */
function genAtmPrototypeLlc(cs: CompilerState): Block {
  return genAtmfield(cs, A_PROTOTYPE, 0x02, BPF_JEQ, false);
}

export function genLlcInternal(cs: CompilerState): Block {
  const lt = cs.linktype;
  if (lt === DLT.EN10MB) {
    const b0 = genCmpGt(cs, OffRel.LINKTYPE, 0, BPF_H, ETHERMTU);
    genNot(b0);
    const b1 = genCmp(cs, OffRel.LLC, 0, BPF_H, 0xffff);
    genNot(b1);
    genAnd(b0, b1);
    return b1;
  }
  if (lt === DLT.SUNATM) return genAtmtypeLlc(cs);
  if (lt === DLT.IEEE802 || lt === DLT.FDDI || lt === DLT.ATM_RFC1483) return genTrue();
  if (is80211(lt)) return check80211DataFrame(cs);
  fail(`'llc' not supported for ${describe(lt)}`);
}

export function genLlc(cs: CompilerState, kind: string, subtype: number): Block {
  const b0 = genLlcInternal(cs);
  let b1: Block;
  switch (kind) {
    case "all": return b0;
    case "i": b1 = jset(cs, OffRel.LLC, 2, 0x01); genNot(b1); break;
    case "s": b1 = genMcmp(cs, OffRel.LLC, 2, BPF_B, 0x01, 0x03); break;
    case "u": b1 = genMcmp(cs, OffRel.LLC, 2, BPF_B, 0x03, 0x03); break;
    case "s_subtype": b1 = genMcmp(cs, OffRel.LLC, 2, BPF_B, subtype, 0x0f); break;
    default: b1 = genMcmp(cs, OffRel.LLC, 2, BPF_B, subtype, 0xef); break;
  }
  genAnd(b0, b1);
  return b1;
}

// ---- MAC addresses ----

const DIR_QUAL_NAMES: Readonly<Record<number, string>> = {
  [Q_ADDR1]: "'addr1' and 'address1' are", [Q_ADDR2]: "'addr2' and 'address2' are",
  [Q_ADDR3]: "'addr3' and 'address3' are", [Q_ADDR4]: "'addr4' and 'address4' are", [Q_RA]: "'ra' is", [Q_TA]: "'ta' is",
};

/** src/dst/and/or over a MAC-address comparison at (srcOff, dstOff) of the link header. */
function macHostop(cs: CompilerState, eaddr: Uint8Array, dir: number, srcOff: number, dstOff: number, where: string): Block {
  switch (dir) {
    case Q_SRC: return genBcmp(cs, OffRel.LINKHDR, srcOff, eaddr);
    case Q_DST: return genBcmp(cs, OffRel.LINKHDR, dstOff, eaddr);
    case Q_AND: case Q_DEFAULT: case Q_OR: {
      const b0 = macHostop(cs, eaddr, Q_SRC, srcOff, dstOff, where);
      const b1 = macHostop(cs, eaddr, Q_DST, srcOff, dstOff, where);
      if (dir === Q_AND) genAnd(b0, b1); else genOr(b0, b1);
      return b1;
    }
  }
  fail(`${DIR_QUAL_NAMES[dir]} only supported on ${where}`);
}

export const genEhostop = (cs: CompilerState, e: Uint8Array, dir: number): Block =>
  macHostop(cs, e, dir, 6, 0, "802.11 with 802.11 headers");

export function genMacHost(cs: CompilerState, e: Uint8Array, dir: number, unknownOn: string): Block {
  const lt = cs.linktype;
  if (isEthernet(lt)) {
    const tmp = prevlinkhdrCheck(cs);
    const b = genEhostop(cs, e, dir);
    if (tmp !== null) genAnd(tmp, b);
    return b;
  }
  if (lt === DLT.FDDI) return macHostop(cs, e, dir, 7, 1, "802.11");
  if (lt === DLT.IEEE802) return macHostop(cs, e, dir, 8, 2, "802.11");
  if (is80211(lt)) return genWlanhostop(cs, e, dir);
  if (lt === DLT.IP_OVER_FC) return macHostop(cs, e, dir, 10, 2, "802.11");
  fail(unknownOn);
}

export function genBroadcast(cs: CompilerState, proto: number): Block {
  const ebroadcast = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  if (proto === Q_DEFAULT || proto === Q_LINK) {
    const lt = cs.linktype;
    if (lt === DLT.ARCNET || lt === DLT.ARCNET_LINUX) return macHostop(cs, new Uint8Array([0]), Q_DST, 0, 1, "802.11");
    if (isEthernet(lt) || lt === DLT.FDDI || lt === DLT.IEEE802 || is80211(lt) || lt === DLT.IP_OVER_FC) {
      return genMacHost(cs, ebroadcast, Q_DST, "not a broadcast link");
    }
    fail("not a broadcast link");
  }
  if (proto === Q_IP) {
    if (cs.netmask === 0xffffffff) fail("netmask not known, so 'ip broadcast' not supported");
    const b0 = genLinktype(cs, ETHERTYPE.IP);
    const hostmask = ~cs.netmask >>> 0;
    const b1 = genMcmp(cs, OffRel.LINKPL, 16, BPF_W, 0, hostmask);
    const b2 = genMcmp(cs, OffRel.LINKPL, 16, BPF_W, hostmask, hostmask);
    genOr(b1, b2);
    genAnd(b0, b2);
    return b2;
  }
  fail("only link-layer/IP broadcast filters supported");
}

export function genMulticast(cs: CompilerState, proto: number): Block {
  if (proto === Q_DEFAULT || proto === Q_LINK) {
    const lt = cs.linktype;
    if (lt === DLT.ARCNET || lt === DLT.ARCNET_LINUX) return macHostop(cs, new Uint8Array([0]), Q_DST, 0, 1, "802.11");
    if (isEthernet(lt)) {
      const b1 = prevlinkhdrCheck(cs);
      const b0 = jset(cs, OffRel.LINKHDR, 0, 1);
      if (b1 !== null) genAnd(b1, b0);
      return b0;
    }
    if (lt === DLT.FDDI) return jset(cs, OffRel.LINKHDR, 1, 1);
    if (lt === DLT.IEEE802) return jset(cs, OffRel.LINKHDR, 2, 1);
    if (is80211(lt)) {
      // the destination's group bit: address 3 when To-DS is set, else address 1; address 1 for non-data frames
      const b0 = genIfFrameBit(cs, 1, 0x01, () => jset(cs, OffRel.LINKHDR, 16, 1), () => jset(cs, OffRel.LINKHDR, 4, 1));
      genIfFrameBit(cs, 0, 0x08, () => b0, () => jset(cs, OffRel.LINKHDR, 4, 1));
      const b1 = jset(cs, OffRel.LINKHDR, 0, 0x04);
      genNot(b1);
      genAnd(b1, b0);
      return b0;
    }
    if (lt === DLT.IP_OVER_FC) return jset(cs, OffRel.LINKHDR, 2, 1);
  } else if (proto === Q_IP) {
    const b0 = genLinktype(cs, ETHERTYPE.IP);
    const b1 = genCmpGe(cs, OffRel.LINKPL, 16, BPF_B, 224);
    genAnd(b0, b1);
    return b1;
  } else if (proto === Q_IPV6) {
    const b0 = genLinktype(cs, ETHERTYPE.IPV6);
    const b1 = genCmp(cs, OffRel.LINKPL, 24, BPF_B, 255);
    genAnd(b0, b1);
    return b1;
  }
  fail("link-layer multicast filters supported only on ethernet/FDDI/token ring/ARCNET/802.11/ATM LANE/Fibre Channel");
}

export function genInbound(cs: CompilerState, outbound: boolean): Block {
  const lt = cs.linktype;
  let b0: Block;
  if (lt === DLT.LINUX_SLL || lt === DLT.LINUX_SLL2) {
    b0 = lt === DLT.LINUX_SLL ? genCmp(cs, OffRel.LINKHDR, 0, BPF_H, LINUX_SLL_OUTGOING)
      : genCmp(cs, OffRel.LINKHDR, 10, BPF_B, LINUX_SLL_OUTGOING);
    if (!outbound) genNot(b0);
    return b0;
  }
  if (lt === DLT.IPNET) return genCmp(cs, OffRel.LINKHDR, 2, BPF_H, outbound ? 1 : 2);
  if (lt === DLT.PFLOG) return genCmp(cs, OffRel.LINKHDR, 60, BPF_B, outbound ? 2 : 1);
  if (lt === DLT.PPP_PPPD) return genCmp(cs, OffRel.LINKHDR, 0, BPF_B, outbound ? 1 : 0);
  if (JUNIPER.includes(lt)) return genMcmp(cs, OffRel.LINKHDR, 3, BPF_B, outbound ? 0 : 1, 0x01);
  if (cs.readingFile) fail(`inbound/outbound not supported on ${describe(lt)} when reading savefiles`);
  // Linux: the kernel's packet type (SKF_AD_PKTTYPE), PACKET_OUTGOING = 4.
  b0 = genCmp(cs, OffRel.LINKHDR, SKF_AD_OFF + SKF_AD_PKTTYPE, BPF_H, 4);
  if (!outbound) genNot(b0);
  return b0;
}

export function genIfindex(cs: CompilerState, ifindex: number): Block {
  if (cs.linktype === DLT.LINUX_SLL2) return genCmp(cs, OffRel.LINKHDR, 4, BPF_W, ifindex);
  if (cs.readingFile) fail(`ifindex not supported on ${describe(cs.linktype)} when reading savefiles`);
  return genCmp(cs, OffRel.LINKHDR, SKF_AD_OFF + SKF_AD_IFINDEX, BPF_W, ifindex);
}

function geneveLlCheck(cs: CompilerState): Block {
  const s = newStmt(BPF_LD | BPF_MEM, cs.offLinkhdr.reg);
  sappend(s, newStmt(BPF_LDX | BPF_MEM, cs.offLinkpl.reg));
  const b0 = newBlock(BPF_JMP | BPF_JEQ | BPF_X, 0);
  b0.stmts = s;
  genNot(b0);
  return b0;
}


/** gen_geneve: the UDP port and version checks for IPv4 and IPv6, then offsets pointing into the inner frame. */
