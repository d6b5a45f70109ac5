// The syntax tree between the parser and the code generator, and the qualifier constants of libpcap's gencode.h.
// The generator walks the tree in the order bison reduces libpcap's grammar (children left to right, then the
// node), so block numbering and scratch-register allocation come out as in libpcap.

// Address qualifiers (q.addr).
export const Q_HOST = 1, Q_NET = 2, Q_PORT = 3, Q_GATEWAY = 4, Q_PROTO = 5, Q_PROTOCHAIN = 6, Q_PORTRANGE = 7;
// Protocol qualifiers (q.proto).
export const Q_LINK = 1, Q_IP = 2, Q_ARP = 3, Q_RARP = 4, Q_SCTP = 5, Q_TCP = 6, Q_UDP = 7, Q_ICMP = 8, Q_IGMP = 9,
  Q_IGRP = 10, Q_ATALK = 11, Q_DECNET = 12, Q_LAT = 13, Q_SCA = 14, Q_MOPRC = 15, Q_MOPDL = 16, Q_IPV6 = 17,
  Q_ICMPV6 = 18, Q_AH = 19, Q_ESP = 20, Q_PIM = 21, Q_VRRP = 22, Q_AARP = 23, Q_ISO = 24, Q_ESIS = 25, Q_ISIS = 26,
  Q_CLNP = 27, Q_STP = 28, Q_IPX = 29, Q_NETBEUI = 30, Q_ISIS_L1 = 31, Q_ISIS_L2 = 32, Q_ISIS_IIH = 33,
  Q_ISIS_SNP = 34, Q_ISIS_CSNP = 35, Q_ISIS_PSNP = 36, Q_ISIS_LSP = 37, Q_RADIO = 38, Q_CARP = 39;
// Direction qualifiers (q.dir).
export const Q_SRC = 1, Q_DST = 2, Q_OR = 3, Q_AND = 4, Q_ADDR1 = 5, Q_ADDR2 = 6, Q_ADDR3 = 7, Q_ADDR4 = 8,
  Q_RA = 9, Q_TA = 10;
export const Q_DEFAULT = 0;
export const Q_UNDEF = 255;

export interface Qual {
  readonly addr: number;
  readonly proto: number;
  readonly dir: number;
}
/** grammar.y's `qerr`: the qualifier of a term that is not an address (inherited by a following bare id). */
export const QERR: Qual = { addr: Q_UNDEF, proto: Q_UNDEF, dir: Q_UNDEF };

/**
 * Set on a phrase that was only completed by the tokens the parser adds after a syntax error to recover what bison
 * had reduced: bison never ran its action, so code generation stops there (its complete operands still run first).
 */
export interface Unreduced { readonly partial?: boolean }

/** Arithmetic operand (grammar `arth`). */
export type Arth =
  | { readonly t: "loadi"; readonly v: number }
  | { readonly t: "load"; readonly proto: number; readonly index: Arth; readonly size: number } & Unreduced
  | { readonly t: "binary"; readonly op: number; readonly left: Arth; readonly right: Arth } & Unreduced
  | { readonly t: "neg"; readonly operand: Arth }
  | { readonly t: "len" };

/** A filter expression (grammar `expr`/`term`/`id`). */
export type Node =
  | { readonly t: "and" | "or"; readonly left: Node; readonly right: Node }
  | { readonly t: "not"; readonly operand: Node }
  | { readonly t: "scode"; readonly name: string; readonly q: Qual }
  | { readonly t: "mcode"; readonly net: string; readonly mask: string | null; readonly masklen: number; readonly q: Qual }
  | { readonly t: "ncode"; readonly s: string | null; readonly v: number; readonly q: Qual }
  | { readonly t: "mcode6"; readonly addr: string; readonly masklen: number; readonly q: Qual }
  | { readonly t: "ecode"; readonly s: string; readonly q: Qual }
  | { readonly t: "acode"; readonly s: string; readonly q: Qual }
  | { readonly t: "abbrev"; readonly proto: number }
  | { readonly t: "relation"; readonly code: number; readonly reversed: boolean; readonly left: Arth; readonly right: Arth }
  | { readonly t: "broadcast" | "multicast"; readonly proto: number }
  | { readonly t: "less" | "greater" | "ifindex"; readonly n: number }
  | { readonly t: "byteop"; readonly op: string; readonly idx: number; readonly val: number }
  | { readonly t: "inbound"; readonly outbound: boolean }
  | { readonly t: "vlan" | "mpls" | "pppoes" | "geneve"; readonly n: number | null } & Unreduced
  | { readonly t: "pppoed" }
  | { readonly t: "llc"; readonly kind: "all" | "i" | "s" | "u" | "s_subtype" | "u_subtype"; readonly subtype: number }
  | { readonly t: "p80211_type"; readonly type: number; readonly mask: number }
  | { readonly t: "p80211_fcdir"; readonly dir: number }
  | { readonly t: "pf"; readonly what: string; readonly arg: string | number }
  | { readonly t: "atmtype" | "atmmulti" | "mtp2type"; readonly type: number }
  | { readonly t: "atmfield" | "mtp3field"; readonly field: number; readonly value: number; readonly code: number; readonly reversed: boolean }
  /** An error that libpcap's grammar actions raise when they reduce this phrase. */
  | { readonly t: "error"; readonly message: string };
