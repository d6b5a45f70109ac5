// Link-layer code generation (gencode.c): "is this packet protocol P" for each link type, LLC/SNAP, MAC addresses,
// broadcast/multicast, direction, and the encapsulations that move the offsets (VLAN, MPLS, PPPoE, Geneve), plus the
// 802.11/radiotap prologue that computes the variable header length into a scratch register.
import {
  BPF_LD, BPF_LDX, BPF_ST, BPF_STX, BPF_ALU, BPF_JMP, BPF_ABS, BPF_IND, BPF_MEM, BPF_IMM, BPF_K, BPF_X, BPF_B, BPF_H,
  BPF_W, BPF_AND, BPF_ADD, BPF_MUL, BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_MISC, BPF_TAX, BPF_TXA, BPF_LSH, BPF_OR,
  SKF_AD_OFF, SKF_AD_IFINDEX, SKF_AD_PKTTYPE,
} from "../isa/cbpf/insn.ts";
import { type Block, type SList, newBlock, newStmt, sappend } from "./blocks.ts";
import {
  type CompilerState, DLT, ETHERMTU, ETHERTYPE, LLCSAP, PPP, IPPROTO, ISO8473_CLNP, ISO9542_ESIS, ISO10589_ISIS,
  allocReg, describe, fail, pushLinkhdr,
} from "./state.ts";
import {
  OffRel, JMP, genAnd, genOr, genNot, genCmp, genCmpGt, genCmpGe, genMcmp, genBcmp, genTrue, genFalse, loadA,
  loadxIpHdrLen, absOffsetVarpart,
} from "./gen-core.ts";
import { genAtmfield, genAtmtypeLlc, A_PROTOTYPE } from "./gen-atm.ts";
import { Q_SRC, Q_DST, Q_AND, Q_OR, Q_DEFAULT, Q_ADDR1, Q_ADDR2, Q_ADDR3, Q_ADDR4, Q_RA, Q_TA, Q_LINK, Q_IP, Q_IPV6 } from "./ast.ts";

const LINUX_SLL_P_802_3 = 0x0001, LINUX_SLL_P_802_2 = 0x0004, LINUX_SLL_OUTGOING = 4;
const swapLong = (y: number): number => (((y & 0xff) << 24) | ((y & 0xff00) << 8) | ((y >>> 8) & 0xff00) | ((y >>> 24) & 0xff)) >>> 0;

const isEthernet = (lt: number): boolean => lt === DLT.EN10MB || lt === DLT.NETANALYZER || lt === DLT.NETANALYZER_TRANSPARENT;
const is80211 = (lt: number): boolean => lt === DLT.IEEE802_11 || lt === DLT.PRISM_HEADER || lt === DLT.IEEE802_11_RADIO_AVS
  || lt === DLT.IEEE802_11_RADIO || lt === DLT.PPI;

function jset(cs: CompilerState, rel: OffRel, offset: number, k: number): Block {
  const b = newBlock(JMP(BPF_JSET), k);
  b.stmts = loadA(cs, rel, offset, BPF_B);
  return b;
}

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
      let b0 = genCmpGt(cs, OffRel.LINKTYPE, 0, BPF_H, ETHERMTU);
      genNot(b0);
      const b1 = p === ETHERTYPE.ATALK ? genSnap(cs, 0x080007, ETHERTYPE.ATALK) : genSnap(cs, 0x000000, ETHERTYPE.AARP);
      genAnd(b0, b1);
      b0 = genCmp(cs, OffRel.LINKTYPE, 0, BPF_H, p);
      genOr(b0, b1);
      return b1;
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
    case ETHERTYPE.ATALK: case ETHERTYPE.AARP: {
      let b0 = genCmp(cs, OffRel.LINKTYPE, 0, BPF_H, LINUX_SLL_P_802_2);
      const b1 = p === ETHERTYPE.ATALK ? genSnap(cs, 0x080007, ETHERTYPE.ATALK) : genSnap(cs, 0x000000, ETHERTYPE.AARP);
      genAnd(b0, b1);
      b0 = genCmp(cs, OffRel.LINKTYPE, 0, BPF_H, p);
      genOr(b0, b1);
      return b1;
    }
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
  if (cs.linktype === DLT.NULL || cs.linktype === DLT.ENC) p = swapLong(p);
  return genCmp(cs, OffRel.LINKHDR, 0, BPF_W, p);
}

export function check80211DataFrame(cs: CompilerState): Block {
  const b0 = jset(cs, OffRel.LINKHDR, 0, 0x08);
  const b1 = jset(cs, OffRel.LINKHDR, 0, 0x04);
  genNot(b1);
  genAnd(b1, b0);
  return b0;
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

function wlanDataHostop(cs: CompilerState, e: Uint8Array, dir: number): Block {
  // Which address field holds the source/destination depends on the To-DS/From-DS bits (tcpdump's 802.11 logic).
  const src = dir === Q_SRC;
  let b1 = jset(cs, OffRel.LINKHDR, 1, 0x01);
  let b0 = genBcmp(cs, OffRel.LINKHDR, src ? 24 : 16, e);
  genAnd(b1, b0);
  let b2 = jset(cs, OffRel.LINKHDR, 1, 0x01);
  genNot(b2);
  b1 = genBcmp(cs, OffRel.LINKHDR, src ? 16 : 4, e);
  genAnd(b2, b1);
  genOr(b1, b0);
  if (src) {
    b1 = jset(cs, OffRel.LINKHDR, 1, 0x02);
    genAnd(b1, b0);
    b2 = jset(cs, OffRel.LINKHDR, 1, 0x02);
    genNot(b2);
    b1 = genBcmp(cs, OffRel.LINKHDR, 10, e);
    genAnd(b2, b1);
    genOr(b1, b0);
  }
  b1 = jset(cs, OffRel.LINKHDR, 0, 0x08);
  genAnd(b1, b0);
  b2 = jset(cs, OffRel.LINKHDR, 0, 0x08);
  genNot(b2);
  b1 = genBcmp(cs, OffRel.LINKHDR, src ? 10 : 4, e);
  genAnd(b2, b1);
  genOr(b1, b0);
  b1 = jset(cs, OffRel.LINKHDR, 0, 0x04);
  genNot(b1);
  genAnd(b1, b0);
  return b0;
}

function notCtlCtsAck(cs: CompilerState): Block {
  const b0 = genMcmp(cs, OffRel.LINKHDR, 0, BPF_B, 0x04, 0x0c);
  genNot(b0);
  const b1 = genMcmp(cs, OffRel.LINKHDR, 0, BPF_B, 0xc0, 0xf0);
  genNot(b1);
  const b2 = genMcmp(cs, OffRel.LINKHDR, 0, BPF_B, 0xd0, 0xf0);
  genNot(b2);
  genAnd(b1, b2);
  genOr(b0, b2);
  return b2;
}

export function genWlanhostop(cs: CompilerState, e: Uint8Array, dir: number): Block {
  switch (dir) {
    case Q_SRC: case Q_DST: return wlanDataHostop(cs, e, dir);
    case Q_AND: case Q_DEFAULT: case Q_OR: {
      const b0 = genWlanhostop(cs, e, Q_SRC);
      const b1 = genWlanhostop(cs, e, Q_DST);
      if (dir === Q_AND) genAnd(b0, b1); else genOr(b0, b1);
      return b1;
    }
    case Q_ADDR1: return genBcmp(cs, OffRel.LINKHDR, 4, e);
    case Q_ADDR2: {
      const b2 = notCtlCtsAck(cs);
      const b1 = genBcmp(cs, OffRel.LINKHDR, 10, e);
      genAnd(b2, b1);
      return b1;
    }
    case Q_ADDR3: {
      const b0 = genMcmp(cs, OffRel.LINKHDR, 0, BPF_B, 0x04, 0x0c);
      genNot(b0);
      const b1 = genBcmp(cs, OffRel.LINKHDR, 16, e);
      genAnd(b0, b1);
      return b1;
    }
    case Q_ADDR4: {
      const b0 = genMcmp(cs, OffRel.LINKHDR, 1, BPF_B, 0x03, 0x03);
      const b1 = genBcmp(cs, OffRel.LINKHDR, 24, e);
      genAnd(b0, b1);
      return b1;
    }
    case Q_RA: {
      const b1 = jset(cs, OffRel.LINKHDR, 0, 0x08);
      const b0 = genBcmp(cs, OffRel.LINKHDR, 4, e);
      genAnd(b1, b0);
      return b0;
    }
    case Q_TA: {
      const b2 = notCtlCtsAck(cs);
      const b1 = jset(cs, OffRel.LINKHDR, 0, 0x08);
      genAnd(b1, b2);
      const b3 = genBcmp(cs, OffRel.LINKHDR, 10, e);
      genAnd(b2, b3);
      return b3;
    }
  }
  throw new Error("unreachable");
}

/** A MAC address test on whatever MAC-addressed link the packets have (ether host X). */
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
      let b1 = jset(cs, OffRel.LINKHDR, 1, 0x01);
      const b0 = jset(cs, OffRel.LINKHDR, 16, 1);
      genAnd(b1, b0);
      let b2 = jset(cs, OffRel.LINKHDR, 1, 0x01);
      genNot(b2);
      b1 = jset(cs, OffRel.LINKHDR, 4, 1);
      genAnd(b2, b1);
      genOr(b1, b0);
      b1 = jset(cs, OffRel.LINKHDR, 0, 0x08);
      genAnd(b1, b0);
      b2 = jset(cs, OffRel.LINKHDR, 0, 0x08);
      genNot(b2);
      b1 = jset(cs, OffRel.LINKHDR, 4, 1);
      genAnd(b2, b1);
      genOr(b1, b0);
      b1 = jset(cs, OffRel.LINKHDR, 0, 0x04);
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

// ---- encapsulations that move the offsets ----

export function genVlan(cs: CompilerState, vlanNum: number | null): Block {
  if (cs.labelStackDepth > 0) fail("no VLAN match after MPLS");
  const lt = cs.linktype;
  if (!isEthernet(lt) && lt !== DLT.IEEE802_11 && lt !== DLT.PRISM_HEADER && lt !== DLT.IEEE802_11_RADIO_AVS
    && lt !== DLT.IEEE802_11_RADIO) {
    fail(`no VLAN support for ${describe(lt)}`);
  }
  // tcpdump -d and savefiles never set BPF_SPECIAL_VLAN_HANDLING, so the tag is always looked for in the packet.
  let b0 = genLinktype(cs, ETHERTYPE.IEEE8021Q);
  let b1 = genLinktype(cs, ETHERTYPE.IEEE8021AD);
  genOr(b0, b1);
  b0 = b1;
  b1 = genLinktype(cs, ETHERTYPE.IEEE8021QINQ);
  genOr(b0, b1);
  b0 = b1;
  if (vlanNum !== null) {
    if (vlanNum > 0x0fff) fail(`VLAN tag ${vlanNum} greater than maximum 4095`);
    const v = genMcmp(cs, OffRel.LINKPL, 0, BPF_H, vlanNum, 0x0fff);
    genAnd(b0, v);
    b0 = v;
  }
  cs.offLinkpl.constantPart += 4;
  cs.offLinktype.constantPart += 4;
  cs.vlanStackDepth++;
  return b0;
}

export function genMpls(cs: CompilerState, label: number | null): Block {
  let b0: Block;
  if (cs.labelStackDepth > 0) {
    b0 = genMcmp(cs, OffRel.PREVMPLSHDR, 2, BPF_B, 0, 0x01);
  } else {
    const lt = cs.linktype;
    if (lt === DLT.C_HDLC || lt === DLT.HDLC || isEthernet(lt)) b0 = genLinktype(cs, ETHERTYPE.MPLS);
    else if (lt === DLT.PPP) b0 = genLinktype(cs, PPP.MPLS_UCAST);
    else fail(`no MPLS support for ${describe(lt)}`);
  }
  if (label !== null) {
    if (label > 0xfffff) fail(`MPLS label ${label} greater than maximum 1048575`);
    const b1 = genMcmp(cs, OffRel.LINKPL, 0, BPF_W, (label << 12) >>> 0, 0xfffff000);
    genAnd(b0, b1);
    b0 = b1;
  }
  cs.offNlNosnap += 4;
  cs.offNl += 4;
  cs.labelStackDepth++;
  return b0;
}

export const genPppoed = (cs: CompilerState): Block => genLinktype(cs, ETHERTYPE.PPPOED);

export function genPppoes(cs: CompilerState, sess: number | null): Block {
  let b0 = genLinktype(cs, ETHERTYPE.PPPOES);
  if (sess !== null) {
    if (sess > 0xffff) fail(`PPPoE session number ${sess} greater than maximum 65535`);
    const b1 = genMcmp(cs, OffRel.LINKPL, 0, BPF_W, sess, 0x0000ffff);
    genAnd(b0, b1);
    b0 = b1;
  }
  // The PPP header follows the 6-byte PPPoE header; from here on the link layer is PPP.
  pushLinkhdr(cs, DLT.PPP, cs.offLinkpl.isVariable, cs.offLinkpl.constantPart + cs.offNl + 6, cs.offLinkpl.reg);
  cs.offLinktype = { ...cs.offLinkhdr };
  cs.offLinkpl.constantPart = cs.offLinkhdr.constantPart + 2;
  cs.offNl = 0;
  cs.offNlNosnap = 0;
  return b0;
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
export function genGeneve(cs: CompilerState, vni: number | null,
  portfns: { v4: (port: number) => Block; v6: (port: number) => Block }): Block {
  const check = (v6: boolean): Block => {
    const rel = v6 ? OffRel.TRAN_IPV6 : OffRel.TRAN_IPV4;
    let b0 = v6 ? portfns.v6(6081) : portfns.v4(6081);
    let b1 = genMcmp(cs, rel, 8, BPF_B, 0, 0xc0);
    genAnd(b0, b1);
    b0 = b1;
    if (vni !== null) {
      if (vni > 0xffffff) fail(`Geneve VNI ${vni} greater than maximum 16777215`);
      b1 = genMcmp(cs, rel, 12, BPF_W, (vni << 8) >>> 0, 0xffffff00);
      genAnd(b0, b1);
      b0 = b1;
    }
    return b0;
  };
  // IPv4: leave the transport offset in X.
  let b0 = check(false);
  let s = loadxIpHdrLen(cs);
  sappend(s, newStmt(BPF_MISC | BPF_TXA));
  let b1 = newBlock(BPF_JMP | BPF_JEQ | BPF_X, 0);
  b1.stmts = s;
  genAnd(b0, b1);
  const v4 = b1;
  // IPv6: a fixed 40-byte header.
  b0 = check(true);
  const vs = absOffsetVarpart(cs, cs.offLinkpl);
  if (vs !== null) {
    sappend(vs, newStmt(BPF_LD | BPF_IMM, 40));
    sappend(vs, newStmt(BPF_ALU | BPF_ADD | BPF_X, 0));
    s = vs;
  } else {
    s = newStmt(BPF_LD | BPF_IMM, 40);
  }
  sappend(s, newStmt(BPF_MISC | BPF_TAX));
  b1 = newBlock(BPF_JMP | BPF_JEQ | BPF_X, 0);
  b1.stmts = s;
  genAnd(b0, b1);
  genOr(v4, b1);
  b0 = b1;
  const offsets = geneveOffsets(cs);
  b1 = genTrue();
  sappend(offsets, b1.stmts);
  b1.stmts = offsets;
  genAnd(b0, b1);
  cs.isGeneve = true;
  return b1;
}

function geneveOffsets(cs: CompilerState): SList {
  const s = newStmt(BPF_ALU | BPF_ADD | BPF_K, cs.offLinkpl.constantPart + cs.offNl + 8);
  sappend(s, newStmt(BPF_MISC | BPF_TAX));
  sappend(s, newStmt(BPF_ALU | BPF_ADD | BPF_K, 2));
  cs.offLinktype.reg = allocReg(cs);
  cs.offLinktype.isVariable = true;
  cs.offLinktype.constantPart = 0;
  sappend(s, newStmt(BPF_ST, cs.offLinktype.reg));
  sappend(s, newStmt(BPF_LD | BPF_IND | BPF_B, 0));
  sappend(s, newStmt(BPF_ALU | BPF_AND | BPF_K, 0x3f));
  sappend(s, newStmt(BPF_ALU | BPF_MUL | BPF_K, 4));
  sappend(s, newStmt(BPF_ALU | BPF_ADD | BPF_K, 8));
  sappend(s, newStmt(BPF_ALU | BPF_ADD | BPF_X, 0));
  pushLinkhdr(cs, DLT.EN10MB, true, 0, allocReg(cs));
  sappend(s, newStmt(BPF_ST, cs.offLinkhdr.reg));
  cs.noOptimize = true;
  sappend(s, newStmt(BPF_LD | BPF_IND | BPF_H, 2));
  sappend(s, newStmt(BPF_LDX | BPF_MEM, cs.offLinkhdr.reg));
  const sProto = newStmt(JMP(BPF_JEQ), ETHERTYPE.TEB);
  sappend(s, sProto);
  const txa = newStmt(BPF_MISC | BPF_TXA);
  sappend(s, txa);
  sProto.s.jt = txa;
  sappend(s, newStmt(BPF_ALU | BPF_ADD | BPF_K, 12));
  sappend(s, newStmt(BPF_ST, cs.offLinktype.reg));
  sappend(s, newStmt(BPF_ALU | BPF_ADD | BPF_K, 2));
  sappend(s, newStmt(BPF_MISC | BPF_TAX));
  cs.offLinkpl.reg = allocReg(cs);
  cs.offLinkpl.isVariable = true;
  cs.offLinkpl.constantPart = 0;
  const stx = newStmt(BPF_STX, cs.offLinkpl.reg);
  sappend(s, stx);
  sProto.s.jf = stx;
  cs.offNl = 0;
  return s;
}

// ---- 802.11 / radiotap: header lengths computed at run time ----

function radiotapPrefixLen(cs: CompilerState): SList | null {
  if (cs.offLinkhdr.reg === -1) return null;
  // The radiotap header length is a little-endian 16-bit field at offset 2.
  const s1 = newStmt(BPF_LD | BPF_B | BPF_ABS, 3);
  sappend(s1, newStmt(BPF_ALU | BPF_LSH | BPF_K, 8));
  sappend(s1, newStmt(BPF_MISC | BPF_TAX));
  sappend(s1, newStmt(BPF_LD | BPF_B | BPF_ABS, 2));
  sappend(s1, newStmt(BPF_ALU | BPF_OR | BPF_X));
  sappend(s1, newStmt(BPF_ST, cs.offLinkhdr.reg));
  sappend(s1, newStmt(BPF_MISC | BPF_TAX));
  return s1;
}

/** Prism or AVS header: AVS headers carry their length at offset 4, Prism headers are 144 bytes. */
function prismPrefixLen(cs: CompilerState): SList | null {
  cs.noOptimize = true;
  if (cs.offLinkhdr.reg === -1) return null;
  const s1 = newStmt(BPF_LD | BPF_W | BPF_ABS, 0);
  sappend(s1, newStmt(BPF_ALU | BPF_AND | BPF_K, 0xfffff000));
  const avsCookie = newStmt(JMP(BPF_JEQ), 0x80211000);
  sappend(s1, avsCookie);
  const ld4 = newStmt(BPF_LD | BPF_W | BPF_ABS, 4);
  sappend(s1, ld4);
  avsCookie.s.jt = ld4;
  const common = newStmt(BPF_JMP | 0x00 /* BPF_JA */, 1);
  sappend(s1, common);
  const ld144 = newStmt(BPF_LD | BPF_W | BPF_IMM, 144);
  sappend(s1, ld144);
  avsCookie.s.jf = ld144;
  const st = newStmt(BPF_ST, cs.offLinkhdr.reg);
  sappend(s1, st);
  common.s.jf = st;
  sappend(s1, newStmt(BPF_MISC | BPF_TAX));
  return s1;
}

function avsPrefixLen(cs: CompilerState): SList | null {
  if (cs.offLinkhdr.reg === -1) return null;
  const s1 = newStmt(BPF_LD | BPF_W | BPF_ABS, 4);
  sappend(s1, newStmt(BPF_ST, cs.offLinkhdr.reg));
  sappend(s1, newStmt(BPF_MISC | BPF_TAX));
  return s1;
}

function load80211HeaderLen(cs: CompilerState, s: SList | null, snext: SList | null): SList | null {
  if (cs.offLinkpl.reg === -1) return s;
  cs.noOptimize = true;
  if (s === null) s = newStmt(BPF_LDX | BPF_IMM, cs.offOutermostlinkhdr.constantPart);
  const reg = cs.offLinkpl.reg;
  sappend(s, newStmt(BPF_MISC | BPF_TXA));
  sappend(s, newStmt(BPF_ALU | BPF_ADD | BPF_K, 24));
  sappend(s, newStmt(BPF_ST, reg));
  sappend(s, newStmt(BPF_LD | BPF_IND | BPF_B, 0));
  const data1 = newStmt(JMP(BPF_JSET), 0x08);
  sappend(s, data1);
  const data2 = newStmt(JMP(BPF_JSET), 0x04);
  data1.s.jt = data2;
  sappend(s, data2);
  data1.s.jf = snext;
  data2.s.jt = snext;
  const qos = newStmt(JMP(BPF_JSET), 0x80);
  data2.s.jf = qos;
  sappend(s, qos);
  const ldreg = newStmt(BPF_LD | BPF_MEM, reg);
  qos.s.jt = ldreg;
  sappend(s, ldreg);
  sappend(s, newStmt(BPF_ALU | BPF_ADD | BPF_IMM, 2));
  sappend(s, newStmt(BPF_ST, reg));
  if (cs.linktype === DLT.IEEE802_11_RADIO) {
    const ld4 = newStmt(BPF_LD | BPF_ABS | BPF_W, 4);
    qos.s.jf = ld4;
    sappend(s, ld4);
    const flags = newStmt(JMP(BPF_JSET), swapLong(0x00000002));
    sappend(s, flags);
    flags.s.jf = snext;
    const ext = newStmt(JMP(BPF_JSET), swapLong(0x80000000));
    sappend(s, ext);
    flags.s.jt = ext;
    ext.s.jt = snext;
    const tsft = newStmt(JMP(BPF_JSET), swapLong(0x00000001));
    sappend(s, tsft);
    ext.s.jf = tsft;
    const ld16 = newStmt(BPF_LD | BPF_ABS | BPF_B, 16);
    sappend(s, ld16);
    tsft.s.jt = ld16;
    const tsftPad = newStmt(JMP(BPF_JSET), 0x20);
    sappend(s, tsftPad);
    const ld8 = newStmt(BPF_LD | BPF_ABS | BPF_B, 8);
    sappend(s, ld8);
    tsft.s.jf = ld8;
    const noTsftPad = newStmt(JMP(BPF_JSET), 0x20);
    sappend(s, noTsftPad);
    const roundup = newStmt(BPF_LD | BPF_MEM, reg);
    sappend(s, roundup);
    sappend(s, newStmt(BPF_ALU | BPF_ADD | BPF_IMM, 3));
    sappend(s, newStmt(BPF_ALU | BPF_AND | BPF_IMM, ~3 >>> 0));
    sappend(s, newStmt(BPF_ST, reg));
    tsftPad.s.jt = roundup;
    tsftPad.s.jf = snext;
    noTsftPad.s.jt = roundup;
    noTsftPad.s.jf = snext;
  } else {
    qos.s.jf = snext;
  }
  return s;
}

/** finish_parse's prologue: compute variable link-layer offsets once, at the start of the program. */
export function insertComputeVloffsets(cs: CompilerState, b: Block): void {
  if (cs.offLinkpl.reg !== -1 && cs.offLinkhdr.isVariable && cs.offLinkhdr.reg === -1) {
    cs.offLinkhdr.reg = allocReg(cs);
  }
  const outer = cs.outermostlinktype;
  let s: SList | null = null;
  if (outer === DLT.IEEE802_11_RADIO) s = radiotapPrefixLen(cs);
  else if (outer === DLT.PRISM_HEADER) s = prismPrefixLen(cs);
  else if (outer === DLT.IEEE802_11_RADIO_AVS) s = avsPrefixLen(cs);
  else if (outer === DLT.PPI) s = radiotapPrefixLen(cs); // PPI's length field is also little-endian 16-bit at offset 2
  if (is80211(outer)) s = load80211HeaderLen(cs, s, b.stmts);
  else if (outer === DLT.PFLOG && cs.offLinkpl.reg !== -1) {
    // The pflog header length is its first byte, rounded up to a multiple of 4.
    s = newStmt(BPF_LD | BPF_B | BPF_ABS, 0);
    sappend(s, newStmt(BPF_ALU | BPF_ADD | BPF_K, 3));
    sappend(s, newStmt(BPF_ALU | BPF_AND | BPF_K, 0xfffffffc));
    sappend(s, newStmt(BPF_ST, cs.offLinkpl.reg));
    sappend(s, newStmt(BPF_MISC | BPF_TAX));
  }
  if (s === null && cs.isVlanVloffset) fail("VLAN offsets with BPF extensions are not supported by bpfkit");
  if (s !== null) {
    sappend(s, b.stmts);
    b.stmts = s;
  }
}

/** PPI: only 802.11 payloads are filtered; the header's DLT field (little-endian) must say DLT_IEEE802_11. */
export function genPpiDltCheck(cs: CompilerState): Block | null {
  if (cs.linktype !== DLT.PPI) return null;
  const b = newBlock(JMP(BPF_JEQ), swapLong(DLT.IEEE802_11));
  b.stmts = newStmt(BPF_LD | BPF_W | BPF_ABS, 4);
  return b;
}

export function genP80211Type(cs: CompilerState, type: number, mask: number): Block {
  const lt = cs.linktype;
  if (lt !== DLT.IEEE802_11 && lt !== DLT.PRISM_HEADER && lt !== DLT.IEEE802_11_RADIO_AVS && lt !== DLT.IEEE802_11_RADIO) {
    fail("802.11 link-layer types supported only on 802.11");
  }
  return genMcmp(cs, OffRel.LINKHDR, 0, BPF_B, type, mask);
}

export function genP80211Fcdir(cs: CompilerState, dir: number): Block {
  const lt = cs.linktype;
  if (lt !== DLT.IEEE802_11 && lt !== DLT.PRISM_HEADER && lt !== DLT.IEEE802_11_RADIO_AVS && lt !== DLT.IEEE802_11_RADIO) {
    fail("frame direction supported only with 802.11 headers");
  }
  return genMcmp(cs, OffRel.LINKHDR, 1, BPF_B, dir, 0x03);
}

export { IPPROTO, BPF_JGT, BPF_JGE, BPF_ST, BPF_IND };
