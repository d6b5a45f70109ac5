// Address and port code generation (gencode.c): host/net tests for IPv4, IPv6, ARP, RARP and DECnet, ports and
// port ranges, and the grammar's identifier forms (names, numbers, CIDR, MAC and ARCnet addresses) resolved through
// the built-in netbase tables. Protocol tests and packet accessors are in gen-proto.ts.
import { BPF_B, BPF_H, BPF_W } from "../isa/cbpf/insn.ts";
import type { Block } from "./blocks.ts";
import { type CompilerState, DLT, ETHERTYPE, IPPROTO, PROTO_UNDEF, OFFSET_NOT_SET, fail } from "./state.ts";
import { OffRel, genAnd, genOr, genCmp, genCmpGe, genCmpLe, genMcmp } from "./gen-core.ts";
import { genLinktype, genMacHost } from "./gen-link.ts";
import {
  type Qual, Q_DEFAULT, Q_HOST, Q_NET, Q_PORT, Q_PORTRANGE, Q_GATEWAY, Q_PROTO, Q_PROTOCHAIN, Q_UNDEF,
  Q_SRC, Q_DST, Q_AND, Q_OR, Q_ADDR1, Q_ADDR2, Q_ADDR3, Q_ADDR4, Q_RA, Q_TA,
  Q_LINK, Q_IP, Q_ARP, Q_RARP, Q_SCTP, Q_TCP, Q_UDP, Q_ATALK, Q_DECNET, Q_LAT, Q_SCA, Q_MOPRC,
  Q_MOPDL, Q_IPV6, Q_AARP, Q_ISO, Q_IPX,
} from "./ast.ts";
import { lookupPort, lookupHost, lookupNetwork, parseEtherAddress } from "./names.ts";
import { parseIpv6 } from "./lexer.ts";
import { PROTO_NAMES, genIpfrag, genProto, genProtochain, lookupProto } from "./gen-proto.ts";

const ADDR_DIR_ERRORS: Readonly<Record<number, string>> = {
  [Q_ADDR1]: "'addr1' and 'address1' are not valid qualifiers for", [Q_ADDR2]: "'addr2' and 'address2' are not valid qualifiers for",
  [Q_ADDR3]: "'addr3' and 'address3' are not valid qualifiers for", [Q_ADDR4]: "'addr4' and 'address4' are not valid qualifiers for",
  [Q_RA]: "'ra' is not a valid qualifier for", [Q_TA]: "'ta' is not a valid qualifier for",
};

/** Expands src/dst/and/or into one or two calls of `atom(dir)`; other directions are refused with `what`. */
function byDirection(dir: number, what: string, atom: (d: number) => Block): Block {
  switch (dir) {
    case Q_SRC: case Q_DST: return atom(dir);
    case Q_AND: case Q_DEFAULT: case Q_OR: {
      const b0 = atom(Q_SRC);
      const b1 = atom(Q_DST);
      if (dir === Q_AND) genAnd(b0, b1); else genOr(b0, b1);
      return b1;
    }
  }
  fail(`${ADDR_DIR_ERRORS[dir]} ${what}`);
}

function genHostop(cs: CompilerState, addr: number, mask: number, dir: number, proto: number, srcOff: number, dstOff: number): Block {
  if (dir === Q_SRC || dir === Q_DST) {
    const b0 = genLinktype(cs, proto);
    const b1 = genMcmp(cs, OffRel.LINKPL, dir === Q_SRC ? srcOff : dstOff, BPF_W, addr, mask);
    genAnd(b0, b1);
    return b1;
  }
  return byDirection(dir, "addresses other than 802.11 MAC addresses",
    (d) => genHostop(cs, addr, mask, d, proto, srcOff, dstOff));
}

function genHostop6(cs: CompilerState, addr: Uint8Array, mask: Uint8Array, dir: number, srcOff: number, dstOff: number): Block {
  if (dir === Q_SRC || dir === Q_DST) {
    const offset = dir === Q_SRC ? srcOff : dstOff;
    const word = (a: Uint8Array, i: number): number => ((a[4 * i]! << 24) | (a[4 * i + 1]! << 16) | (a[4 * i + 2]! << 8) | a[4 * i + 3]!) >>> 0;
    const b1 = genMcmp(cs, OffRel.LINKPL, offset + 12, BPF_W, word(addr, 3), word(mask, 3));
    let b0 = genMcmp(cs, OffRel.LINKPL, offset + 8, BPF_W, word(addr, 2), word(mask, 2));
    genAnd(b0, b1);
    b0 = genMcmp(cs, OffRel.LINKPL, offset + 4, BPF_W, word(addr, 1), word(mask, 1));
    genAnd(b0, b1);
    b0 = genMcmp(cs, OffRel.LINKPL, offset, BPF_W, word(addr, 0), word(mask, 0));
    genAnd(b0, b1);
    b0 = genLinktype(cs, ETHERTYPE.IPV6);
    genAnd(b0, b1);
    return b1;
  }
  return byDirection(dir, "addresses other than 802.11 MAC addresses", (d) => genHostop6(cs, addr, mask, d, srcOff, dstOff));
}

function genDnhostop(cs: CompilerState, addr: number, dir: number): Block {
  if (dir !== Q_SRC && dir !== Q_DST) {
    return byDirection(dir, "addresses other than 802.11 MAC addresses", (d) => genDnhostop(cs, addr, d));
  }
  const [offsetSh, offsetLh] = dir === Q_DST ? [1, 7] : [3, 15];
  const swapped = ((addr & 0xff) << 8) | ((addr >> 8) & 0xff);
  const b0 = genLinktype(cs, ETHERTYPE.DN);
  let tmp = genMcmp(cs, OffRel.LINKPL, 2, BPF_H, 0x8106, 0xff07);
  const b1 = genCmp(cs, OffRel.LINKPL, 2 + 1 + offsetLh, BPF_H, swapped);
  genAnd(tmp, b1);
  tmp = genMcmp(cs, OffRel.LINKPL, 2, BPF_B, 0x06, 0x7);
  let b2 = genCmp(cs, OffRel.LINKPL, 2 + offsetLh, BPF_H, swapped);
  genAnd(tmp, b2);
  genOr(b2, b1);
  tmp = genMcmp(cs, OffRel.LINKPL, 2, BPF_H, 0x8102, 0xff07);
  b2 = genCmp(cs, OffRel.LINKPL, 2 + 1 + offsetSh, BPF_H, swapped);
  genAnd(tmp, b2);
  genOr(b2, b1);
  tmp = genMcmp(cs, OffRel.LINKPL, 2, BPF_B, 0x02, 0x7);
  b2 = genCmp(cs, OffRel.LINKPL, 2 + offsetSh, BPF_H, swapped);
  genAnd(tmp, b2);
  genOr(b2, b1);
  genAnd(b0, b1);
  return b1;
}

const HOST_NOT_IMPLEMENTED: Readonly<Record<number, string>> = {
  [Q_ATALK]: "AppleTalk host filtering not implemented", [Q_LAT]: "LAT host filtering not implemented",
  [Q_SCA]: "SCA host filtering not implemented", [Q_MOPRC]: "MOPRC host filtering not implemented",
  [Q_MOPDL]: "MOPDL host filtering not implemented", [Q_AARP]: "AARP host filtering not implemented",
  [Q_ISO]: "ISO host filtering not implemented", [Q_IPX]: "IPX host filtering not implemented",
  [Q_IPV6]: "'ip6' modifier applied to ip host",
};

export function genHost(cs: CompilerState, addr: number, mask: number, proto: number, dir: number, type: number): Block {
  const typestr = type === Q_NET ? "net" : "host";
  switch (proto) {
    case Q_DEFAULT: {
      const b0 = genHost(cs, addr, mask, Q_IP, dir, type);
      if (cs.labelStackDepth === 0) {
        const b1 = genHost(cs, addr, mask, Q_ARP, dir, type);
        genOr(b0, b1);
        const b2 = genHost(cs, addr, mask, Q_RARP, dir, type);
        genOr(b1, b2);
        return b2;
      }
      return b0;
    }
    case Q_LINK: fail(`link-layer modifier applied to ${typestr}`);
    case Q_IP: return genHostop(cs, addr, mask, dir, ETHERTYPE.IP, 12, 16);
    case Q_RARP: return genHostop(cs, addr, mask, dir, ETHERTYPE.REVARP, 14, 24);
    case Q_ARP: return genHostop(cs, addr, mask, dir, ETHERTYPE.ARP, 14, 24);
    case Q_DECNET: return genDnhostop(cs, addr, dir);
  }
  const ni = HOST_NOT_IMPLEMENTED[proto];
  if (ni !== undefined) fail(ni);
  fail(`'${PROTO_NAMES[proto]}' modifier applied to ${typestr}`);
}

function genHost6(cs: CompilerState, addr: Uint8Array, mask: Uint8Array, proto: number, dir: number, type: number): Block {
  const typestr = type === Q_NET ? "net" : "host";
  if (proto === Q_DEFAULT || proto === Q_IPV6) return genHostop6(cs, addr, mask, dir, 8, 24);
  if (proto === Q_LINK) fail(`link-layer modifier applied to ip6 ${typestr}`);
  if (proto === Q_ATALK) fail(`AppleTalk modifier applied to ip6 ${typestr}`);
  fail(`'${PROTO_NAMES[proto]}' modifier applied to ip6 ${typestr}`);
}

// ---- ports ----

type PortAtom = (cs: CompilerState, off: number, v1: number, v2: number) => Block;
const portAtom4: PortAtom = (cs, off, v) => genCmp(cs, OffRel.TRAN_IPV4, off, BPF_H, v);
const portAtom6: PortAtom = (cs, off, v) => genCmp(cs, OffRel.TRAN_IPV6, off, BPF_H, v);
function rangeAtom(rel: OffRel): PortAtom {
  return (cs, off, v1, v2) => {
    if (v1 > v2) [v1, v2] = [v2, v1];
    const b1 = genCmpGe(cs, rel, off, BPF_H, v1);
    const b2 = genCmpLe(cs, rel, off, BPF_H, v2);
    genAnd(b1, b2);
    return b2;
  };
}

function genPortop(cs: CompilerState, v6: boolean, atom: PortAtom, p1: number, p2: number, proto: number, dir: number, what: string): Block {
  let b0: Block;
  if (v6) {
    b0 = genCmp(cs, OffRel.LINKPL, 6, BPF_B, proto);
  } else {
    const tmp = genCmp(cs, OffRel.LINKPL, 9, BPF_B, proto);
    b0 = genIpfrag(cs);
    genAnd(tmp, b0);
  }
  const b1 = byDirection(dir, what, (d) => atom(cs, d === Q_SRC ? 0 : 2, p1, p2));
  genAnd(b0, b1);
  return b1;
}

function genPortGeneric(cs: CompilerState, v6: boolean, range: boolean, p1: number, p2: number, ipProto: number, dir: number): Block {
  const atom = range ? rangeAtom(v6 ? OffRel.TRAN_IPV6 : OffRel.TRAN_IPV4) : v6 ? portAtom6 : portAtom4;
  const what = range ? "port ranges" : "ports";
  const b0 = genLinktype(cs, v6 ? ETHERTYPE.IPV6 : ETHERTYPE.IP);
  let b1: Block;
  if (ipProto === PROTO_UNDEF) {
    let tmp = genPortop(cs, v6, atom, p1, p2, IPPROTO.TCP, dir, what);
    b1 = genPortop(cs, v6, atom, p1, p2, IPPROTO.UDP, dir, what);
    genOr(tmp, b1);
    tmp = genPortop(cs, v6, atom, p1, p2, IPPROTO.SCTP, dir, what);
    genOr(tmp, b1);
  } else {
    b1 = genPortop(cs, v6, atom, p1, p2, ipProto, dir, what);
  }
  genAnd(b0, b1);
  return b1;
}

export const genPort = (cs: CompilerState, port: number, ipProto: number, dir: number): Block =>
  genPortGeneric(cs, false, false, port, port, ipProto, dir);
export const genPort6 = (cs: CompilerState, port: number, ipProto: number, dir: number): Block =>
  genPortGeneric(cs, true, false, port, port, ipProto, dir);

function portBoth(cs: CompilerState, range: boolean, p1: number, p2: number, ipProto: number, dir: number): Block {
  const b = genPortGeneric(cs, false, range, p1, p2, ipProto, dir);
  genOr(genPortGeneric(cs, true, range, p1, p2, ipProto, dir), b);
  return b;
}

// ---- names, numbers, addresses (grammar nid / id) ----

function checkPortProto(proto: number, realProto: number, what: string): number {
  const names: Record<number, string> = { [IPPROTO.TCP]: "tcp", [IPPROTO.UDP]: "udp", [IPPROTO.SCTP]: "sctp" };
  const want = proto === Q_UDP ? IPPROTO.UDP : proto === Q_TCP ? IPPROTO.TCP : proto === Q_SCTP ? IPPROTO.SCTP : null;
  if (want === null) return realProto;
  if (realProto !== PROTO_UNDEF && realProto !== want && names[realProto] !== undefined) {
    fail(`${what} is ${names[realProto]}`);
  }
  return want;
}

function checkPortNumber(p: number): void {
  if (p < 0) fail(`illegal port number ${p} < 0`);
  if (p > 65535) fail(`illegal port number ${p} > 65535`);
}

/** An identifier with qualifiers (gen_scode). */
export function genScode(cs: CompilerState, name: string, q: Qual): Block {
  const { proto, dir } = q;
  switch (q.addr) {
    case Q_NET: {
      let addr = lookupNetwork(name);
      if (addr === 0) fail(`unknown network '${name}'`);
      let mask = 0xffffffff;
      while (addr !== 0 && (addr & 0xff000000) === 0) { addr = (addr << 8) >>> 0; mask = (mask << 8) >>> 0; }
      return genHost(cs, addr, mask, proto, dir, q.addr);
    }
    case Q_DEFAULT: case Q_HOST: {
      if (proto === Q_LINK) {
        const lt = cs.linktype;
        const where = lt === DLT.FDDI ? "FDDI" : lt === DLT.IEEE802 ? "token ring" : lt === DLT.IP_OVER_FC ? "Fibre Channel"
          : lt === DLT.EN10MB || lt === DLT.NETANALYZER || lt === DLT.NETANALYZER_TRANSPARENT ? "ether" : "802.11";
        const known = [DLT.EN10MB, DLT.NETANALYZER, DLT.NETANALYZER_TRANSPARENT, DLT.FDDI, DLT.IEEE802, DLT.IEEE802_11,
          DLT.PRISM_HEADER, DLT.IEEE802_11_RADIO_AVS, DLT.IEEE802_11_RADIO, DLT.PPI, DLT.IP_OVER_FC] as number[];
        if (!known.includes(lt)) fail("only ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel supports link-level host name");
        // No /etc/ethers entries: libpcap's pcap_ether_hostton finds nothing.
        fail(`unknown ${where} host '${name}'`);
      }
      if (proto === Q_DECNET) fail(`decnet name support not included, '${name}' cannot be translated\n`);
      const addrs = lookupHost(name);
      if (addrs === null) fail(`unknown host '${name}'`);
      let tproto = proto;
      let tproto6 = proto;
      if (cs.offLinktype.constantPart === OFFSET_NOT_SET && tproto === Q_DEFAULT) { tproto = Q_IP; tproto6 = Q_IPV6; }
      let b: Block | null = null;
      for (const a of addrs) {
        let tmp: Block;
        if (typeof a === "number") {
          if (tproto === Q_IPV6) continue;
          tmp = genHost(cs, a, 0xffffffff, tproto, dir, q.addr);
        } else {
          if (tproto6 === Q_IP) continue;
          tmp = genHost6(cs, a, new Uint8Array(16).fill(0xff), tproto6, dir, q.addr);
        }
        if (b !== null) genOr(b, tmp);
        b = tmp;
      }
      if (b === null) fail(`unknown host '${name}'${proto === Q_DEFAULT ? "" : " for specified address family"}`);
      return b;
    }
    case Q_PORT: {
      if (proto !== Q_DEFAULT && proto !== Q_UDP && proto !== Q_TCP && proto !== Q_SCTP) fail("illegal qualifier of 'port'");
      const r = lookupPort(name);
      if (r === null) fail(`unknown port '${name}'`);
      const realProto = checkPortProto(proto, r.proto, `port '${name}'`);
      checkPortNumber(r.port);
      return portBoth(cs, false, r.port, r.port, realProto, dir);
    }
    case Q_PORTRANGE: {
      if (proto !== Q_DEFAULT && proto !== Q_UDP && proto !== Q_TCP && proto !== Q_SCTP) fail("illegal qualifier of 'portrange'");
      const r = lookupPortRange(name);
      if (r === null) fail(`unknown port in range '${name}'`);
      const realProto = checkPortProto(proto, r.proto, `port in range '${name}'`);
      checkPortNumber(r.p1);
      checkPortNumber(r.p2);
      return portBoth(cs, true, r.p1, r.p2, realProto, dir);
    }
    case Q_GATEWAY: fail("'gateway' not supported in this configuration");
    case Q_PROTO: case Q_PROTOCHAIN: {
      const real = lookupProto(name, proto);
      if (real < 0) fail(`unknown protocol: ${name}`);
      return q.addr === Q_PROTO ? genProto(cs, real, proto, dir) : genProtochain(cs, real, proto);
    }
    case Q_UNDEF: fail("syntax error in filter expression");
  }
  throw new Error(`bad address qualifier ${q.addr}`);
}

/** pcap_nametoportrange: "N-M" numerically (sscanf %d-%d), else two service names. */
function lookupPortRange(name: string): { p1: number; p2: number; proto: number } | null {
  const m = /^\s*([-+]?\d+)-([-+]?\d+)/.exec(name);
  if (m !== null) return { p1: Number(m[1]) | 0, p2: Number(m[2]) | 0, proto: PROTO_UNDEF };
  const dash = name.indexOf("-");
  if (dash < 0) return null;
  const a = lookupPort(name.slice(0, dash));
  if (a === null) return null;
  const b = lookupPort(name.slice(dash + 1));
  if (b === null) return null;
  return { p1: a.port, p2: b.port, proto: a.proto !== b.proto ? PROTO_UNDEF : b.proto };
}

/** __pcap_atoin: dotted decimal with 1-4 parts; returns the value and the number of bits given, or -1. */
export function atoin(s: string): { v: number; len: number } {
  let addr = 0;
  let len = 0;
  let i = 0;
  for (;;) {
    let n = 0;
    while (i < s.length && s[i] !== ".") {
      if (n > 25) return { v: 0, len: -1 };
      n = n * 10 + (s.charCodeAt(i++) - 48);
    }
    if (n > 255) return { v: 0, len: -1 };
    addr = ((addr << 8) | (n & 0xff)) >>> 0;
    len += 8;
    if (i >= s.length) return { v: addr, len };
    i++;
  }
}

/** A numeric address or number with qualifiers (gen_ncode). */
export function genNcode(cs: CompilerState, s: string | null, v: number, q: Qual): Block {
  let proto = q.proto;
  const dir = q.dir;
  let vlen: number;
  if (s === null) vlen = 32;
  else if (q.proto === Q_DECNET) {
    const m = /^\s*(\d+)\.(\d+)/.exec(s);
    if (m === null) fail(`malformed decnet address '${s}'`);
    v = ((Number(m[1]) << 10) & 0xfc00) | (Number(m[2]) & 0x3ff);
    vlen = 32;
  } else {
    const r = atoin(s);
    if (r.len < 0) fail(`invalid IPv4 address '${s}'`);
    v = r.v;
    vlen = r.len;
  }
  switch (q.addr) {
    case Q_DEFAULT: case Q_HOST: case Q_NET: {
      if (proto === Q_DECNET) return genHost(cs, v, 0, proto, dir, q.addr);
      if (proto === Q_LINK) fail("illegal link layer address");
      let mask = 0xffffffff;
      if (s === null && q.addr === Q_NET) {
        while (v !== 0 && (v & 0xff000000) === 0) { v = (v << 8) >>> 0; mask = (mask << 8) >>> 0; }
      } else {
        v = vlen === 0 ? v : (v * 2 ** (32 - vlen)) >>> 0;
        mask = vlen === 0 ? mask : (mask * 2 ** (32 - vlen)) >>> 0;
      }
      return genHost(cs, v, mask, proto, dir, q.addr);
    }
    case Q_PORT: case Q_PORTRANGE: {
      const what = q.addr === Q_PORT ? "port" : "portrange";
      if (proto === Q_UDP) proto = IPPROTO.UDP;
      else if (proto === Q_TCP) proto = IPPROTO.TCP;
      else if (proto === Q_SCTP) proto = IPPROTO.SCTP;
      else if (proto === Q_DEFAULT) proto = PROTO_UNDEF;
      else fail(`illegal qualifier of '${what}'`);
      if (v > 65535) fail(`illegal port number ${v} > 65535`);
      return portBoth(cs, q.addr === Q_PORTRANGE, v, v, proto, dir);
    }
    case Q_GATEWAY: fail("'gateway' requires a name");
    case Q_PROTO: return genProto(cs, v, proto, dir);
    case Q_PROTOCHAIN: return genProtochain(cs, v, proto);
    case Q_UNDEF: fail("syntax error in filter expression");
  }
  throw new Error(`bad address qualifier ${q.addr}`);
}

/** net A.B.C.D/len and net A.B.C.D mask M (gen_mcode). */
export function genMcode(cs: CompilerState, s1: string, s2: string | null, masklen: number, q: Qual): Block {
  const n0 = atoin(s1);
  if (n0.len < 0) fail(`invalid IPv4 address '${s1}'`);
  const n = (n0.v * 2 ** (32 - n0.len)) >>> 0;
  let m: number;
  if (s2 !== null) {
    const m0 = atoin(s2);
    if (m0.len < 0) fail(`invalid IPv4 address '${s2}'`);
    m = (m0.v * 2 ** (32 - m0.len)) >>> 0;
    if ((n & ~m) !== 0) fail(`non-network bits set in "${s1} mask ${s2}"`);
  } else {
    if (masklen > 32) fail("mask length must be <= 32");
    m = masklen === 0 ? 0 : (0xffffffff * 2 ** (32 - masklen)) >>> 0;
    if ((n & ~m) !== 0) fail(`non-network bits set in "${s1}/${masklen}"`);
  }
  if (q.addr === Q_NET) return genHost(cs, n, m, q.proto, q.dir, q.addr);
  fail("Mask syntax for networks only");
}

export function genMcode6(cs: CompilerState, s: string, masklen: number, q: Qual): Block {
  const addr = parseIpv6(s);
  if (addr === null) fail(`invalid ip6 address ${s}`);
  if (masklen > 128) fail("mask length must be <= 128");
  const mask = new Uint8Array(16);
  mask.fill(0xff, 0, masklen >> 3);
  if (masklen % 8) mask[masklen >> 3] = (0xff << (8 - (masklen % 8))) & 0xff;
  for (let i = 0; i < 16; i++) if ((addr[i]! & ~mask[i]!) !== 0) fail(`non-network bits set in "${s}/${masklen}"`);
  if ((q.addr === Q_DEFAULT || q.addr === Q_HOST) && masklen !== 128) fail("Mask syntax for networks only");
  if (q.addr === Q_DEFAULT || q.addr === Q_HOST || q.addr === Q_NET) return genHost6(cs, addr, mask, q.proto, q.dir, q.addr);
  fail("invalid qualifier against IPv6 address");
}

/** ARCnet `$xx` addresses (gen_acode / gen_ahostop): one byte at offset 0 (source) or 1 (destination). */
export function genAcode(cs: CompilerState, s: string, q: Qual): Block {
  if (cs.linktype !== DLT.ARCNET && cs.linktype !== DLT.ARCNET_LINUX) fail("aid supported only on ARCnet");
  if ((q.addr !== Q_HOST && q.addr !== Q_DEFAULT) || q.proto !== Q_LINK) fail("ARCnet address used in non-arc expression");
  const e = parseEtherAddress(s);
  const ahost = (dir: number): Block => {
    if (dir === Q_SRC || dir === Q_DST) return genCmp(cs, OffRel.LINKHDR, dir === Q_SRC ? 0 : 1, BPF_B, e[0]!);
    if (dir === Q_AND || dir === Q_DEFAULT || dir === Q_OR) {
      const b0 = ahost(Q_SRC);
      const b1 = ahost(Q_DST);
      if (dir === Q_AND) genAnd(b0, b1); else genOr(b0, b1);
      return b1;
    }
    fail(`${ADDR_DIR_ERRORS[dir]!.replace(" not valid qualifiers for", "").replace(" not a valid qualifier for", "")} only supported on 802.11`);
  };
  return ahost(q.dir);
}

export function genEcode(cs: CompilerState, s: string, q: Qual): Block {
  if ((q.addr === Q_HOST || q.addr === Q_DEFAULT) && q.proto === Q_LINK) {
    return genMacHost(cs, parseEtherAddress(s), q.dir,
      "ethernet addresses supported only on ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel");
  }
  fail("ethernet address used in non-ether expression");
}

