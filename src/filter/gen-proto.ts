// Protocol code generation (gencode.c): `proto N`, `protochain N` (a loop over IPv6 extension headers and AH,
// hence libpcap's backward jumps), the protocol abbreviations (`tcp`, `icmp6`, `l1`, ...) and the packet accessors
// (`tcp[13]`, `ip[2:2]`) with the conditions they imply (right protocol, not a fragment).
import {
  BPF_LD, BPF_LDX, BPF_ST, BPF_ALU, BPF_JMP, BPF_ABS, BPF_IND, BPF_MEM, BPF_MSH, BPF_IMM, BPF_K, BPF_X, BPF_B, BPF_H,
  BPF_W, BPF_ADD, BPF_MUL, BPF_JEQ, BPF_JSET, BPF_JA, BPF_MISC, BPF_TAX, BPF_TXA,
} from "../isa/cbpf/insn.ts";
import { type Block, type SList, newBlock, newStmt, sappend } from "./blocks.ts";
import {
  type CompilerState, DLT, ETHERTYPE, LLCSAP, IPPROTO, PROTO_UNDEF, ISO8473_CLNP, ISO9542_ESIS, ISO10589_ISIS, ISIS,
  allocReg, freeReg, fail,
} from "./state.ts";
import {
  OffRel, JMP, genAnd, genOr, genNot, genCmp, loadA, loadxIpHdrLen, absOffsetVarpart,
  type ArthValue,
} from "./gen-core.ts";
import { genLinktype } from "./gen-link.ts";
import {
  Q_DEFAULT, Q_LINK, Q_IP, Q_ARP, Q_RARP, Q_SCTP, Q_TCP, Q_UDP, Q_ICMP, Q_IGMP, Q_IGRP, Q_ATALK, Q_DECNET, Q_LAT, Q_SCA, Q_MOPRC,
  Q_MOPDL, Q_IPV6, Q_ICMPV6, Q_AH, Q_ESP, Q_PIM, Q_VRRP, Q_AARP, Q_ISO, Q_ESIS, Q_ISIS, Q_CLNP, Q_STP, Q_IPX,
  Q_NETBEUI, Q_ISIS_L1, Q_ISIS_L2, Q_ISIS_IIH, Q_ISIS_SNP, Q_ISIS_CSNP, Q_ISIS_PSNP, Q_ISIS_LSP, Q_RADIO, Q_CARP,
} from "./ast.ts";
import { lookupProtocol } from "./names.ts";

/** Lower-case protocol keyword for messages ("'tcp' modifier applied to host"). */
export const PROTO_NAMES: Readonly<Record<number, string>> = {
  [Q_SCTP]: "sctp", [Q_TCP]: "tcp", [Q_UDP]: "udp", [Q_ICMP]: "icmp", [Q_IGMP]: "igmp", [Q_IGRP]: "igrp",
  [Q_ICMPV6]: "icmp6", [Q_AH]: "ah", [Q_ESP]: "esp", [Q_PIM]: "pim", [Q_VRRP]: "vrrp", [Q_ESIS]: "esis",
  [Q_ISIS]: "isis", [Q_CLNP]: "clnp", [Q_STP]: "stp", [Q_NETBEUI]: "netbeui", [Q_ISIS_L1]: "l1", [Q_ISIS_L2]: "l2",
  [Q_ISIS_IIH]: "iih", [Q_ISIS_SNP]: "snp", [Q_ISIS_CSNP]: "csnp", [Q_ISIS_PSNP]: "psnp", [Q_ISIS_LSP]: "lsp",
  [Q_RADIO]: "radio", [Q_CARP]: "carp", [Q_IP]: "ip", [Q_RARP]: "rarp", [Q_ARP]: "arp", [Q_DECNET]: "decnet",
  [Q_LAT]: "lat", [Q_SCA]: "sca", [Q_MOPRC]: "moprc", [Q_MOPDL]: "mopdl", [Q_AARP]: "aarp", [Q_ISO]: "iso",
  [Q_IPX]: "ipx", [Q_IPV6]: "ip6", [Q_ATALK]: "atalk",
};

export function genIpfrag(cs: CompilerState): Block {
  const b = newBlock(JMP(BPF_JSET), 0x1fff);
  b.stmts = loadA(cs, OffRel.LINKPL, 6, BPF_H);
  genNot(b);
  return b;
}

// ---- proto / protochain ----

export function genProto(cs: CompilerState, v: number, proto: number, dir: number): Block {
  if (dir !== Q_DEFAULT) fail("direction applied to 'proto'");
  switch (proto) {
    case Q_DEFAULT: {
      const b0 = genProto(cs, v, Q_IP, dir);
      const b1 = genProto(cs, v, Q_IPV6, dir);
      genOr(b0, b1);
      return b1;
    }
    case Q_LINK: return genLinktype(cs, v);
    case Q_IP: {
      const b0 = genLinktype(cs, ETHERTYPE.IP);
      const b1 = genCmp(cs, OffRel.LINKPL, 9, BPF_B, v);
      genAnd(b0, b1);
      return b1;
    }
    case Q_IPV6: {
      const b0 = genLinktype(cs, ETHERTYPE.IPV6);
      let b2 = genCmp(cs, OffRel.LINKPL, 6, BPF_B, IPPROTO.FRAGMENT);
      const b1 = genCmp(cs, OffRel.LINKPL, 40, BPF_B, v);
      genAnd(b2, b1);
      b2 = genCmp(cs, OffRel.LINKPL, 6, BPF_B, v);
      genOr(b2, b1);
      genAnd(b0, b1);
      return b1;
    }
    case Q_ISO: {
      if (cs.linktype === DLT.FRELAY) return genCmp(cs, OffRel.LINKHDR, 2, BPF_H, 0x0300 | v);
      if (cs.linktype === DLT.C_HDLC || cs.linktype === DLT.HDLC) {
        const b0 = genLinktype(cs, (LLCSAP.ISONS << 8) | LLCSAP.ISONS);
        const b1 = genCmp(cs, OffRel.LINKPL_NOSNAP, 1, BPF_B, v);
        genAnd(b0, b1);
        return b1;
      }
      const b0 = genLinktype(cs, LLCSAP.ISONS);
      const b1 = genCmp(cs, OffRel.LINKPL_NOSNAP, 0, BPF_B, v);
      genAnd(b0, b1);
      return b1;
    }
    case Q_ISIS: {
      const b0 = genProto(cs, ISO10589_ISIS, Q_ISO, Q_DEFAULT);
      const b1 = genCmp(cs, OffRel.LINKPL_NOSNAP, 4, BPF_B, v);
      genAnd(b0, b1);
      return b1;
    }
    case Q_ARP: fail("arp does not encapsulate another protocol");
    case Q_RARP: fail("rarp does not encapsulate another protocol");
    case Q_ATALK: fail("AppleTalk encapsulation is not specifiable");
    case Q_DECNET: fail("DECNET encapsulation is not specifiable");
    case Q_LAT: fail("LAT does not encapsulate another protocol");
    case Q_SCA: fail("SCA does not encapsulate another protocol");
    case Q_MOPRC: fail("MOPRC does not encapsulate another protocol");
    case Q_MOPDL: fail("MOPDL does not encapsulate another protocol");
    case Q_CLNP: fail("'clnp proto' is not supported");
  }
  fail(`'${PROTO_NAMES[proto]} proto' is bogus`);
}

export function genProtochain(cs: CompilerState, v: number, proto: number): Block {
  const reg2 = allocReg(cs);
  if (proto === Q_DEFAULT) {
    const b0 = genProtochain(cs, v, Q_IP);
    const b = genProtochain(cs, v, Q_IPV6);
    genOr(b0, b);
    return b;
  }
  if (proto !== Q_IP && proto !== Q_IPV6) fail("bad protocol applied for 'protochain'");
  if (cs.offLinkpl.isVariable) fail("'protochain' not supported with variable length headers");
  cs.noOptimize = true;
  const nl = cs.offLinkpl.constantPart + cs.offNl;
  const s: SList[] = [newStmt(0)];
  const add = (code: number, k = 0): SList => { const x = newStmt(code, k); s.push(x); return x; };
  let b0: Block;
  if (proto === Q_IP) {
    b0 = genLinktype(cs, ETHERTYPE.IP);
    add(BPF_LD | BPF_ABS | BPF_B, nl + 9);
    add(BPF_LDX | BPF_MSH | BPF_B, nl);
  } else {
    b0 = genLinktype(cs, ETHERTYPE.IPV6);
    add(BPF_LD | BPF_ABS | BPF_B, nl + 6);
    add(BPF_LDX | BPF_IMM, 40);
  }
  const again = s.length;
  const fix5 = add(BPF_JMP | BPF_JEQ | BPF_K, v);
  const fix2 = add(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO.NONE);
  fix5.s.jf = fix2;
  let fix3: SList | null = null;
  if (proto === Q_IPV6) {
    const v6 = [add(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO.HOPOPTS)];
    fix2.s.jf = v6[0]!;
    for (const k of [IPPROTO.DSTOPTS, IPPROTO.ROUTING, IPPROTO.FRAGMENT]) {
      const x = add(BPF_JMP | BPF_JEQ | BPF_K, k);
      v6[v6.length - 1]!.s.jf = x;
      v6.push(x);
    }
    fix3 = v6[v6.length - 1]!;
    const advance = add(BPF_LD | BPF_IND | BPF_B, nl);
    add(BPF_ST, reg2);
    add(BPF_LD | BPF_IND | BPF_B, nl + 1);
    add(BPF_ALU | BPF_ADD | BPF_K, 1);
    add(BPF_ALU | BPF_MUL | BPF_K, 8);
    add(BPF_ALU | BPF_ADD | BPF_X, 0);
    add(BPF_MISC | BPF_TAX);
    const ld = add(BPF_LD | BPF_MEM, reg2);
    const ja = add(BPF_JMP | BPF_JA, again - s.length - 1);
    ld.s.jf = ja;
    for (const x of v6) x.s.jt = advance;
  } else {
    const x = add(BPF_ALU | BPF_ADD | BPF_K, 0);
    fix2.s.jf = x;
  }
  const ahcheck = add(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO.AH);
  if (fix3 !== null) fix3.s.jf = ahcheck;
  const txa1 = add(BPF_MISC | BPF_TXA);
  ahcheck.s.jt = txa1;
  add(BPF_LD | BPF_IND | BPF_B, nl);
  const st = add(BPF_ST, reg2);
  const txa2 = add(BPF_MISC | BPF_TXA);
  st.s.jt = txa2;
  add(BPF_ALU | BPF_ADD | BPF_K, 1);
  add(BPF_MISC | BPF_TAX);
  add(BPF_LD | BPF_IND | BPF_B, nl);
  add(BPF_ALU | BPF_ADD | BPF_K, 2);
  add(BPF_ALU | BPF_MUL | BPF_K, 4);
  add(BPF_MISC | BPF_TAX);
  add(BPF_LD | BPF_MEM, reg2);
  add(BPF_JMP | BPF_JA, again - s.length - 1);
  const end = add(BPF_ALU | BPF_ADD | BPF_K, 0);
  fix2.s.jt = end;
  ahcheck.s.jf = end;
  fix5.s.jt = end;
  for (let i = 0; i < s.length - 1; i++) s[i]!.next = s[i + 1]!;
  const b = newBlock(JMP(BPF_JEQ), v);
  b.stmts = s[1]!;
  freeReg(cs, reg2);
  genAnd(b0, b);
  return b;
}

export function genProtoAbbrev(cs: CompilerState, proto: number): Block {
  const chain = (ps: readonly number[]): Block => {
    let b0 = genProto(cs, ps[0]!, Q_ISIS, Q_DEFAULT);
    const b1 = genProto(cs, ps[1]!, Q_ISIS, Q_DEFAULT);
    genOr(b0, b1);
    for (const p of ps.slice(2)) {
      b0 = genProto(cs, p, Q_ISIS, Q_DEFAULT);
      genOr(b0, b1);
    }
    return b1;
  };
  switch (proto) {
    case Q_SCTP: return genProto(cs, IPPROTO.SCTP, Q_DEFAULT, Q_DEFAULT);
    case Q_TCP: return genProto(cs, IPPROTO.TCP, Q_DEFAULT, Q_DEFAULT);
    case Q_UDP: return genProto(cs, IPPROTO.UDP, Q_DEFAULT, Q_DEFAULT);
    case Q_ICMP: return genProto(cs, IPPROTO.ICMP, Q_IP, Q_DEFAULT);
    case Q_IGMP: return genProto(cs, IPPROTO.IGMP, Q_IP, Q_DEFAULT);
    case Q_IGRP: return genProto(cs, IPPROTO.IGRP, Q_IP, Q_DEFAULT);
    case Q_PIM: return genProto(cs, IPPROTO.PIM, Q_DEFAULT, Q_DEFAULT);
    case Q_VRRP: return genProto(cs, IPPROTO.VRRP, Q_IP, Q_DEFAULT);
    case Q_CARP: return genProto(cs, IPPROTO.CARP, Q_IP, Q_DEFAULT);
    case Q_IP: return genLinktype(cs, ETHERTYPE.IP);
    case Q_ARP: return genLinktype(cs, ETHERTYPE.ARP);
    case Q_RARP: return genLinktype(cs, ETHERTYPE.REVARP);
    case Q_LINK: fail("link layer applied in wrong context");
    case Q_ATALK: return genLinktype(cs, ETHERTYPE.ATALK);
    case Q_AARP: return genLinktype(cs, ETHERTYPE.AARP);
    case Q_DECNET: return genLinktype(cs, ETHERTYPE.DN);
    case Q_SCA: return genLinktype(cs, ETHERTYPE.SCA);
    case Q_LAT: return genLinktype(cs, ETHERTYPE.LAT);
    case Q_MOPDL: return genLinktype(cs, ETHERTYPE.MOPDL);
    case Q_MOPRC: return genLinktype(cs, ETHERTYPE.MOPRC);
    case Q_IPV6: return genLinktype(cs, ETHERTYPE.IPV6);
    case Q_ICMPV6: return genProto(cs, IPPROTO.ICMPV6, Q_IPV6, Q_DEFAULT);
    case Q_AH: return genProto(cs, IPPROTO.AH, Q_DEFAULT, Q_DEFAULT);
    case Q_ESP: return genProto(cs, IPPROTO.ESP, Q_DEFAULT, Q_DEFAULT);
    case Q_ISO: return genLinktype(cs, LLCSAP.ISONS);
    case Q_ESIS: return genProto(cs, ISO9542_ESIS, Q_ISO, Q_DEFAULT);
    case Q_ISIS: return genProto(cs, ISO10589_ISIS, Q_ISO, Q_DEFAULT);
    case Q_ISIS_L1: return chain([ISIS.L1_LAN_IIH, ISIS.PTP_IIH, ISIS.L1_LSP, ISIS.L1_CSNP, ISIS.L1_PSNP]);
    case Q_ISIS_L2: return chain([ISIS.L2_LAN_IIH, ISIS.PTP_IIH, ISIS.L2_LSP, ISIS.L2_CSNP, ISIS.L2_PSNP]);
    case Q_ISIS_IIH: return chain([ISIS.L1_LAN_IIH, ISIS.L2_LAN_IIH, ISIS.PTP_IIH]);
    case Q_ISIS_LSP: return chain([ISIS.L1_LSP, ISIS.L2_LSP]);
    case Q_ISIS_SNP: return chain([ISIS.L1_CSNP, ISIS.L2_CSNP, ISIS.L1_PSNP, ISIS.L2_PSNP]);
    case Q_ISIS_CSNP: return chain([ISIS.L1_CSNP, ISIS.L2_CSNP]);
    case Q_ISIS_PSNP: return chain([ISIS.L1_PSNP, ISIS.L2_PSNP]);
    case Q_CLNP: return genProto(cs, ISO8473_CLNP, Q_ISO, Q_DEFAULT);
    case Q_STP: return genLinktype(cs, LLCSAP.IEEE8021D);
    case Q_IPX: return genLinktype(cs, LLCSAP.IPX);
    case Q_NETBEUI: return genLinktype(cs, LLCSAP.NETBEUI);
    case Q_RADIO: fail("'radio' is not a valid protocol type");
  }
  throw new Error(`unknown protocol qualifier ${proto}`);
}

export function lookupProto(name: string, proto: number): number {
  switch (proto) {
    case Q_DEFAULT: case Q_IP: case Q_IPV6: {
      const v = lookupProtocol(name);
      if (v === PROTO_UNDEF) fail(`unknown ip proto '${name}'`);
      return v;
    }
    case Q_LINK: {
      const v = ETHER_PROTOS[name] ?? LLC_PROTOS[name];
      if (v === undefined) fail(`unknown ether proto '${name}'`);
      return v;
    }
    case Q_ISO: {
      const v = ({ esis: ISO9542_ESIS, isis: ISO10589_ISIS, clnp: ISO8473_CLNP } as Record<string, number>)[name];
      if (v === undefined) fail(`unknown osi proto '${name}'`);
      return v;
    }
  }
  return PROTO_UNDEF;
}

/** nametoaddr.c eproto_db and llc_db. */
const ETHER_PROTOS: Readonly<Record<string, number>> = {
  aarp: ETHERTYPE.AARP, arp: ETHERTYPE.ARP, atalk: ETHERTYPE.ATALK, decnet: ETHERTYPE.DN, ip: ETHERTYPE.IP,
  ip6: ETHERTYPE.IPV6, lat: ETHERTYPE.LAT, loopback: ETHERTYPE.LOOPBACK, mopdl: ETHERTYPE.MOPDL,
  moprc: ETHERTYPE.MOPRC, rarp: ETHERTYPE.REVARP, sca: ETHERTYPE.SCA,
};
const LLC_PROTOS: Readonly<Record<string, number>> = {
  iso: LLCSAP.ISONS, stp: LLCSAP.IEEE8021D, ipx: LLCSAP.IPX, netbeui: LLCSAP.NETBEUI,
};

// ---- packet accessors: proto[expr : size] ----

export function genLoad(cs: CompilerState, proto: number, inst: ArthValue, size: number): ArthValue {
  const regno = allocReg(cs);
  freeReg(cs, inst.regno);
  let sizeCode: number;
  switch (size) {
    case 1: sizeCode = BPF_B; break;
    case 2: sizeCode = BPF_H; break;
    case 4: sizeCode = BPF_W; break;
    default: fail("data size must be 1, 2, or 4");
  }
  const xferX = (): SList => newStmt(BPF_LDX | BPF_MEM, inst.regno);
  const xferA = (): SList => newStmt(BPF_LD | BPF_MEM, inst.regno);
  const indexedFrom = (o: { isVariable: boolean; constantPart: number; reg: number }, k: number): void => {
    let s = absOffsetVarpart(cs, o);
    if (s !== null) {
      sappend(s, xferA());
      sappend(s, newStmt(BPF_ALU | BPF_ADD | BPF_X));
      sappend(s, newStmt(BPF_MISC | BPF_TAX));
    } else s = xferX();
    sappend(s, newStmt(BPF_LD | BPF_IND | sizeCode, k));
    sappend(inst.s, s);
  };
  switch (proto) {
    case Q_RADIO: {
      if (cs.linktype !== DLT.IEEE802_11_RADIO_AVS && cs.linktype !== DLT.IEEE802_11_RADIO && cs.linktype !== DLT.PRISM_HEADER) {
        fail("radio information not present in capture");
      }
      const s = xferX();
      sappend(s, newStmt(BPF_LD | BPF_IND | sizeCode));
      sappend(inst.s, s);
      break;
    }
    case Q_LINK:
      indexedFrom(cs.offLinkhdr, cs.offLinkhdr.constantPart);
      break;
    case Q_IP: case Q_ARP: case Q_RARP: case Q_ATALK: case Q_DECNET: case Q_SCA: case Q_LAT: case Q_MOPRC: case Q_MOPDL:
    case Q_IPV6: {
      indexedFrom(cs.offLinkpl, cs.offLinkpl.constantPart + cs.offNl);
      const b = genProtoAbbrev(cs, proto);
      if (inst.b !== null) genAnd(inst.b, b);
      inst.b = b;
      break;
    }
    case Q_SCTP: case Q_TCP: case Q_UDP: case Q_ICMP: case Q_IGMP: case Q_IGRP: case Q_PIM: case Q_VRRP: case Q_CARP: {
      const s = loadxIpHdrLen(cs);
      sappend(s, xferA());
      sappend(s, newStmt(BPF_ALU | BPF_ADD | BPF_X));
      sappend(s, newStmt(BPF_MISC | BPF_TAX));
      sappend(s, newStmt(BPF_LD | BPF_IND | sizeCode, cs.offLinkpl.constantPart + cs.offNl));
      sappend(inst.s, s);
      const pa = genProtoAbbrev(cs, proto);
      const b = genIpfrag(cs);
      genAnd(pa, b);
      if (inst.b !== null) genAnd(inst.b, b);
      genAnd(genProtoAbbrev(cs, Q_IP), b);
      inst.b = b;
      break;
    }
    case Q_ICMPV6: {
      let b = genProtoAbbrev(cs, Q_IPV6);
      if (inst.b !== null) genAnd(inst.b, b);
      inst.b = b;
      b = genCmp(cs, OffRel.LINKPL, 6, BPF_B, 58);
      genAnd(inst.b, b);
      inst.b = b;
      indexedFrom(cs.offLinkpl, cs.offLinkpl.constantPart + cs.offNl + 40);
      break;
    }
    default: fail("unsupported index operation");
  }
  inst.regno = regno;
  sappend(inst.s, newStmt(BPF_ST, regno));
  return inst;
}

