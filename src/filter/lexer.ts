// The pcap-filter(7) scanner, mirroring libpcap 1.10's scanner.l: flex semantics (longest match wins, the earlier rule
// wins a tie), case-sensitive keywords, numbers in decimal/octal/hex, IPv4/IPv6/MAC literals and the named constants
// (tcp-syn, icmp-echo, ...). Errors the scanner itself reports in libpcap (bad octal digit, overflow, bogus address)
// are returned as a LEX_ERROR token carrying libpcap's message, so the parser can report the first error as libpcap does.

export type TokenKind =
  | "KW" | "NUM" | "ID" | "HID" | "HID6" | "EID" | "AID" | "OP" | "LEX_ERROR" | "EOF";

export interface Token {
  readonly kind: TokenKind;
  /** For KW: the keyword's grammar token name (e.g. "TCP", "LINK", "AND"); for OP: the operator text; else the text. */
  readonly text: string;
  /** NUM value (unsigned 32-bit). */
  readonly num: number;
  /** Byte offset in the expression. */
  readonly pos: number;
  /** libpcap's error text for LEX_ERROR tokens (empty when it is a plain syntax error). */
  readonly error: string;
}

/** Keyword spelling → grammar token (scanner.l's literal rules). */
const KEYWORDS: Readonly<Record<string, string>> = {
  dst: "DST", src: "SRC",
  link: "LINK", ether: "LINK", ppp: "LINK", slip: "LINK", fddi: "LINK", tr: "LINK", wlan: "LINK",
  arp: "ARP", rarp: "RARP", ip: "IP", sctp: "SCTP", tcp: "TCP", udp: "UDP", icmp: "ICMP", igmp: "IGMP", igrp: "IGRP",
  pim: "PIM", vrrp: "VRRP", carp: "CARP", radio: "RADIO",
  ip6: "IPV6", icmp6: "ICMPV6", ah: "AH", esp: "ESP",
  atalk: "ATALK", aarp: "AARP", decnet: "DECNET", lat: "LAT", sca: "SCA", moprc: "MOPRC", mopdl: "MOPDL",
  iso: "ISO", esis: "ESIS", "es-is": "ESIS", isis: "ISIS", "is-is": "ISIS",
  l1: "L1", l2: "L2", iih: "IIH", lsp: "LSP", snp: "SNP", csnp: "CSNP", psnp: "PSNP",
  clnp: "CLNP", stp: "STP", ipx: "IPX", netbeui: "NETBEUI",
  host: "HOST", net: "NET", mask: "NETMASK", port: "PORT", portrange: "PORTRANGE", proto: "PROTO",
  protochain: "PROTOCHAIN", gateway: "GATEWAY",
  type: "TYPE", subtype: "SUBTYPE", direction: "DIR", dir: "DIR",
  address1: "ADDR1", addr1: "ADDR1", address2: "ADDR2", addr2: "ADDR2",
  address3: "ADDR3", addr3: "ADDR3", address4: "ADDR4", addr4: "ADDR4", ra: "RA", ta: "TA",
  less: "LESS", greater: "GREATER", byte: "CBYTE", broadcast: "TK_BROADCAST", multicast: "TK_MULTICAST",
  and: "AND", "&&": "AND", or: "OR", "||": "OR", not: "NOT",
  len: "LEN", length: "LEN", inbound: "INBOUND", outbound: "OUTBOUND", ifindex: "IFINDEX",
  vlan: "VLAN", mpls: "MPLS", pppoed: "PPPOED", pppoes: "PPPOES", geneve: "GENEVE",
  lane: "LANE", llc: "LLC", metac: "METAC", bcc: "BCC", oam: "OAM", oamf4: "OAMF4", oamf4ec: "OAMF4EC",
  oamf4sc: "OAMF4SC", sc: "SC", ilmic: "ILMIC", vpi: "VPI", vci: "VCI", connectmsg: "CONNECTMSG",
  metaconnect: "METACONNECT",
  on: "PF_IFNAME", ifname: "PF_IFNAME", rset: "PF_RSET", ruleset: "PF_RSET", rnr: "PF_RNR", rulenum: "PF_RNR",
  srnr: "PF_SRNR", subrulenum: "PF_SRNR", reason: "PF_REASON", action: "PF_ACTION",
  fisu: "FISU", lssu: "LSSU", lsu: "LSSU", msu: "MSU", hfisu: "HFISU", hlssu: "HLSSU", hmsu: "HMSU",
  sio: "SIO", opc: "OPC", dpc: "DPC", sls: "SLS", hsio: "HSIO", hopc: "HOPC", hdpc: "HDPC", hsls: "HSLS",
};

/** Named numbers of scanner.l (icmptype, tcp-syn, icmp6-echo, ...). */
const NAMED_NUMBERS: Readonly<Record<string, number>> = {
  icmptype: 0, icmpcode: 1,
  "icmp-echoreply": 0, "icmp-unreach": 3, "icmp-sourcequench": 4, "icmp-redirect": 5, "icmp-echo": 8,
  "icmp-routeradvert": 9, "icmp-routersolicit": 10, "icmp-timxceed": 11, "icmp-paramprob": 12, "icmp-tstamp": 13,
  "icmp-tstampreply": 14, "icmp-ireq": 15, "icmp-ireqreply": 16, "icmp-maskreq": 17, "icmp-maskreply": 18,
  icmp6type: 0, icmp6code: 1,
  "icmp6-destinationunreach": 1, "icmp6-packettoobig": 2, "icmp6-timeexceeded": 3, "icmp6-parameterproblem": 4,
  "icmp6-echo": 128, "icmp6-echoreply": 129, "icmp6-multicastlistenerquery": 130,
  "icmp6-multicastlistenerreportv1": 131, "icmp6-multicastlistenerdone": 132, "icmp6-routersolicit": 133,
  "icmp6-routeradvert": 134, "icmp6-neighborsolicit": 135, "icmp6-neighboradvert": 136, "icmp6-redirect": 137,
  "icmp6-routerrenum": 138, "icmp6-nodeinformationquery": 139, "icmp6-nodeinformationresponse": 140,
  "icmp6-ineighbordiscoverysolicit": 141, "icmp6-ineighbordiscoveryadvert": 142,
  "icmp6-multicastlistenerreportv2": 143, "icmp6-homeagentdiscoveryrequest": 144,
  "icmp6-homeagentdiscoveryreply": 145, "icmp6-mobileprefixsolicit": 146, "icmp6-mobileprefixadvert": 147,
  "icmp6-certpathsolicit": 148, "icmp6-certpathadvert": 149, "icmp6-multicastrouteradvert": 151,
  "icmp6-multicastroutersolicit": 152, "icmp6-multicastrouterterm": 153,
  tcpflags: 13, "tcp-fin": 0x01, "tcp-syn": 0x02, "tcp-rst": 0x04, "tcp-push": 0x08, "tcp-ack": 0x10,
  "tcp-urg": 0x20, "tcp-ece": 0x40, "tcp-cwr": 0x80,
};

// Regular definitions of scanner.l.
const N = "(?:0[xX][0-9A-Fa-f]+|[0-9]+)";
const B = "[0-9A-Fa-f][0-9A-Fa-f]?";
const B2 = "[0-9A-Fa-f]{4}";
const W = "[0-9A-Fa-f]{1,4}";
const V4 = `${N}\\.${N}\\.${N}\\.${N}`;

/** The {V6} alternatives: 8 groups; n groups around one "::"; and 6-or-fewer groups with a dotted IPv4 tail. */
function v6Pattern(): string {
  const alts: string[] = [`${W}(?::${W}){7}`];
  const groups = (n: number): string => (n === 0 ? "" : `${W}(?::${W}){${n - 1}}`);
  for (let total = 7; total >= 0; total--) {
    for (let before = 0; before <= total; before++) alts.push(`${groups(before)}::${groups(total - before)}`);
  }
  alts.push(`${W}(?::${W}){5}:${V4}`);
  for (let total = 5; total >= 0; total--) {
    for (let before = 0; before <= total; before++) {
      const after = total - before;
      alts.push(`${groups(before)}::${after > 0 ? groups(after) + ":" : ""}${V4}`);
    }
  }
  return `(?:${alts.join("|")})`;
}

/** Pattern rules after the keywords, in scanner.l order (the order breaks ties of equal length). */
const RULES: ReadonlyArray<readonly [string, RegExp]> = [
  ["WS", /[ \r\n\t]/y],
  ["OP1", /[+\-*/%:\[\]!<>()&|^=]/y],
  ["OP2", />=|<=|!=|==|<<|>>/y],
  ["AID", new RegExp(`\\$${B}`, "y")],
  ["EID", new RegExp(`(?:${B}:${B}:${B}:${B}:${B}:${B}|${B}-${B}-${B}-${B}-${B}-${B}|${B}\\.${B}\\.${B}\\.${B}\\.${B}\\.${B}|${B2}\\.${B2}\\.${B2}|(?:${B2}){3})`, "y")],
  ["NUM", new RegExp(N, "y")],
  ["HID", new RegExp(`(?:${N}\\.${N}\\.${N}\\.${N}|${N}\\.${N}\\.${N}|${N}\\.${N})`, "y")],
  ["HID6", new RegExp(v6Pattern(), "y")],
  ["BADEID", new RegExp(`${B}:+(?:${B}:+)+`, "y")],
  ["ID", /[A-Za-z0-9](?:[-_.A-Za-z0-9]*[.A-Za-z0-9])?/y],
  ["ESCID", /\\[^ !()\n\t]+/y],
];

const HID6_RE = RULES[7]![1];

/** Whether the run of [0-9A-Fa-f:.] starting at `pos` contains a colon. */
function colonInHexRun(src: string, pos: number): boolean {
  for (let i = pos; i < src.length; i++) {
    const c = src.charCodeAt(i);
    if (c === 58) return true; // ':'
    const hex = (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102) || c === 46;
    if (!hex) return false;
  }
  return false;
}

// Rules whose alternation can make a JS regex stop short of flex's longest match.
const LONGEST_SEARCH = new Set<RegExp>([RULES[4]![1], RULES[7]![1]]);

const KEYWORD_RE = /[A-Za-z0-9&|][-A-Za-z0-9&|]*/y;

/** Longest match of `re` at `pos` (JS regexes take the first alternative, flex the longest: try every alternative). */
function longest(re: RegExp, src: string, pos: number): number {
  // An IPv6 literal is hex digits, dots and at least one colon: without a colon in that run the (large, lazily
  // compiled) HID6 pattern cannot match, and `bpfkit filter -d ip` need not compile it at start-up.
  if (re === HID6_RE && !colonInHexRun(src, pos)) return 0;
  // A sticky regex with alternation returns the first alternative that matches; to get flex's longest match we
  // test the candidate alternatives by anchoring to each possible end, longest first, within a bounded window.
  re.lastIndex = pos;
  const m = re.exec(src);
  if (m === null) return 0;
  const best = m[0].length;
  if (!LONGEST_SEARCH.has(re)) return best;
  const anchored = anchoredVersion(re);
  for (let end = Math.min(src.length, pos + 48); end > pos + best; end--) {
    if (anchored.test(src.slice(pos, end))) return end - pos;
  }
  return best;
}

const anchoredCache = new Map<RegExp, RegExp>();
function anchoredVersion(re: RegExp): RegExp {
  let a = anchoredCache.get(re);
  if (a === undefined) {
    a = new RegExp(`^(?:${re.source})$`);
    anchoredCache.set(re, a);
  }
  return a;
}

/** libpcap's stou(): decimal, 0-prefixed octal or 0x hex, checked for 32-bit overflow. */
function parseNumber(text: string): { value: number } | { error: string } {
  let n = 0;
  if (text[0] === "0" && (text[1] === "x" || text[1] === "X")) {
    for (const c of text.slice(2)) {
      if (n > 0xfffffff) return { error: `number ${text} overflows 32 bits` };
      n = n * 16 + parseInt(c, 16);
    }
  } else if (text[0] === "0") {
    for (const c of text.slice(1)) {
      if (c > "7") return { error: `number ${text} contains non-octal digit` };
      if (n > 0o3777777777) return { error: `number ${text} overflows 32 bits` };
      n = n * 8 + (c.charCodeAt(0) - 48);
    }
  } else {
    for (const c of text) {
      const d = c.charCodeAt(0) - 48;
      if (n > 429496729 || (n === 429496729 && d > 5)) return { error: `number ${text} overflows 32 bits` };
      n = n * 10 + d;
    }
  }
  return { value: n >>> 0 };
}

function isValidIpv6(text: string): boolean {
  return parseIpv6(text) !== null;
}

/** Parses an IPv6 literal as inet_pton does; 16 bytes, or null. */
export function parseIpv6(text: string): Uint8Array | null {
  let head = text;
  let tail4: number[] | null = null;
  const lastColon = text.lastIndexOf(":");
  if (text.indexOf(".", lastColon) >= 0) {
    const v4 = text.slice(lastColon + 1).split(".");
    if (v4.length !== 4) return null;
    tail4 = [];
    for (const p of v4) {
      if (!/^[0-9]{1,3}$/.test(p) || Number(p) > 255 || (p.length > 1 && p[0] === "0")) return null;
      tail4.push(Number(p));
    }
    head = text.slice(0, lastColon + 1);
    if (head.endsWith("::")) head = head; else head = head.slice(0, -1);
  }
  const groupsWanted = tail4 ? 6 : 8;
  const dbl = head.indexOf("::");
  if (dbl !== head.lastIndexOf("::")) return null;
  const parseGroups = (s: string): number[] | null => {
    if (s === "") return [];
    const out: number[] = [];
    for (const g of s.split(":")) {
      if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  let groups: number[];
  if (dbl >= 0) {
    const a = parseGroups(head.slice(0, dbl));
    const b = parseGroups(head.slice(dbl + 2));
    if (a === null || b === null || a.length + b.length > groupsWanted - 1) return null;
    groups = [...a, ...new Array<number>(groupsWanted - a.length - b.length).fill(0), ...b];
  } else {
    const a = parseGroups(head);
    if (a === null || a.length !== groupsWanted) return null;
    groups = a;
  }
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => { bytes[2 * i] = g >> 8; bytes[2 * i + 1] = g & 0xff; });
  if (tail4) tail4.forEach((b, i) => { bytes[12 + i] = b; });
  return bytes;
}

const tok = (kind: TokenKind, text: string, pos: number, num = 0, error = ""): Token => ({ kind, text, num, pos, error });

/** Splits an expression into tokens, ending with EOF. Never throws. */
export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let pos = 0;
  while (pos < src.length) {
    // Keywords and named numbers are literal rules that come first in scanner.l; the ID rule can match the same
    // text, so a keyword wins unless some pattern rule matches something longer.
    let bestLen = 0;
    let bestRule = "";
    KEYWORD_RE.lastIndex = pos;
    const km = KEYWORD_RE.exec(src);
    if (km !== null) {
      // the longest keyword that is a prefix of the run
      for (let l = km[0].length; l > 0; l--) {
        const w = src.slice(pos, pos + l);
        if (Object.hasOwn(KEYWORDS, w) || Object.hasOwn(NAMED_NUMBERS, w)) { bestLen = l; bestRule = "KW"; break; }
      }
    }
    for (const [name, re] of RULES) {
      const l = longest(re, src, pos);
      if (l > bestLen) { bestLen = l; bestRule = name; }
    }
    if (bestLen === 0) {
      out.push(tok("LEX_ERROR", src[pos]!, pos));
      pos++;
      continue;
    }
    const text = src.slice(pos, pos + bestLen);
    switch (bestRule) {
      case "WS": break;
      case "KW":
        if (Object.hasOwn(NAMED_NUMBERS, text)) out.push(tok("NUM", text, pos, NAMED_NUMBERS[text]!));
        else out.push(tok("KW", KEYWORDS[text]!, pos));
        break;
      case "OP1": case "OP2": out.push(tok("OP", text === "==" ? "=" : text, pos)); break;
      case "AID": out.push(tok("AID", text, pos)); break;
      case "EID": out.push(tok("EID", text, pos)); break;
      case "NUM": {
        const r = parseNumber(text);
        out.push("error" in r ? tok("LEX_ERROR", text, pos, 0, r.error) : tok("NUM", text, pos, r.value));
        break;
      }
      case "HID": out.push(tok("HID", text, pos)); break;
      case "HID6":
        out.push(isValidIpv6(text) ? tok("HID6", text, pos) : tok("HID6", text, pos, 0, `bogus IPv6 address ${text}`));
        break;
      case "BADEID": out.push(tok("EID", text, pos, 0, `bogus ethernet address ${text}`)); break;
      case "ID": out.push(tok("ID", text, pos)); break;
      case "ESCID": out.push(tok("ID", text.slice(1), pos)); break;
    }
    pos += bestLen;
  }
  out.push(tok("EOF", "", src.length));
  return out;
}
