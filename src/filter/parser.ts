// Recursive-descent parser for libpcap 1.10's grammar.y, producing the syntax tree of ast.ts.
// It reproduces bison's resolution of the grammar: `and`/`or` share one left-associative level, `not` binds tighter,
// arithmetic follows grammar.y's %left table while `%` and `^` (which have no precedence there) always shift, and a
// bare address after `and`/`or` inherits the qualifiers of the phrase before it ($<blk>0 in grammar.y).
import { BpfError } from "../errors.ts";
import { tokenize, type Token } from "./lexer.ts";
import {
  type Arth, type Node, type Qual, QERR, Q_DEFAULT, Q_HOST, Q_NET, Q_PORT, Q_PORTRANGE, Q_PROTO, Q_PROTOCHAIN,
  Q_GATEWAY, Q_SRC, Q_DST, Q_OR, Q_AND, Q_ADDR1, Q_ADDR2, Q_ADDR3, Q_ADDR4, Q_RA, Q_TA,
  Q_LINK, Q_IP, Q_ARP, Q_RARP, Q_SCTP, Q_TCP, Q_UDP, Q_ICMP, Q_IGMP, Q_IGRP, Q_PIM, Q_VRRP, Q_CARP, Q_ATALK, Q_AARP,
  Q_DECNET, Q_LAT, Q_SCA, Q_MOPDL, Q_MOPRC, Q_IPV6, Q_ICMPV6, Q_AH, Q_ESP, Q_ISO, Q_ESIS, Q_ISIS, Q_ISIS_L1,
  Q_ISIS_L2, Q_ISIS_IIH, Q_ISIS_LSP, Q_ISIS_SNP, Q_ISIS_PSNP, Q_ISIS_CSNP, Q_CLNP, Q_STP, Q_IPX, Q_NETBEUI, Q_RADIO,
} from "./ast.ts";
import { BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_MOD, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH, BPF_JGT, BPF_JGE, BPF_JEQ } from "../isa/cbpf/insn.ts";

/** grammar.y's pname: protocol keyword token → Q_* value. */
const PNAMES: Readonly<Record<string, number>> = {
  LINK: Q_LINK, IP: Q_IP, ARP: Q_ARP, RARP: Q_RARP, SCTP: Q_SCTP, TCP: Q_TCP, UDP: Q_UDP, ICMP: Q_ICMP, IGMP: Q_IGMP,
  IGRP: Q_IGRP, PIM: Q_PIM, VRRP: Q_VRRP, CARP: Q_CARP, ATALK: Q_ATALK, AARP: Q_AARP, DECNET: Q_DECNET, LAT: Q_LAT,
  SCA: Q_SCA, MOPDL: Q_MOPDL, MOPRC: Q_MOPRC, IPV6: Q_IPV6, ICMPV6: Q_ICMPV6, AH: Q_AH, ESP: Q_ESP, ISO: Q_ISO,
  ESIS: Q_ESIS, ISIS: Q_ISIS, L1: Q_ISIS_L1, L2: Q_ISIS_L2, IIH: Q_ISIS_IIH, LSP: Q_ISIS_LSP, SNP: Q_ISIS_SNP,
  PSNP: Q_ISIS_PSNP, CSNP: Q_ISIS_CSNP, CLNP: Q_CLNP, STP: Q_STP, IPX: Q_IPX, NETBEUI: Q_NETBEUI, RADIO: Q_RADIO,
};
const SIMPLE_DQUAL: Readonly<Record<string, number>> = {
  ADDR1: Q_ADDR1, ADDR2: Q_ADDR2, ADDR3: Q_ADDR3, ADDR4: Q_ADDR4, RA: Q_RA, TA: Q_TA,
};
const AQUAL: Readonly<Record<string, number>> = { HOST: Q_HOST, NET: Q_NET, PORT: Q_PORT, PORTRANGE: Q_PORTRANGE };
/** Binary arithmetic operators with grammar.y's precedence; `%` and `^` have none (bison shifts). */
const ARITH: Readonly<Record<string, { op: number; prec: number }>> = {
  "|": { op: BPF_OR, prec: 1 }, "&": { op: BPF_AND, prec: 2 }, "<<": { op: BPF_LSH, prec: 3 }, ">>": { op: BPF_RSH, prec: 3 },
  "+": { op: BPF_ADD, prec: 4 }, "-": { op: BPF_SUB, prec: 4 }, "*": { op: BPF_MUL, prec: 5 }, "/": { op: BPF_DIV, prec: 5 },
  "%": { op: BPF_MOD, prec: 0 }, "^": { op: BPF_XOR, prec: 0 },
};
const UMINUS_PREC = 6;
/** relop / irelop: the jump and whether the comparison is reversed. */
const RELOPS: Readonly<Record<string, { code: number; reversed: boolean }>> = {
  ">": { code: BPF_JGT, reversed: false }, ">=": { code: BPF_JGE, reversed: false }, "=": { code: BPF_JEQ, reversed: false },
  "<=": { code: BPF_JGT, reversed: true }, "<": { code: BPF_JGE, reversed: true }, "!=": { code: BPF_JEQ, reversed: true },
};
const ATMTYPES: Readonly<Record<string, number>> = { LANE: 30, METAC: 22, BCC: 23, OAMF4EC: 25, OAMF4SC: 24, SC: 26, ILMIC: 27 };
const ATMMULTI: Readonly<Record<string, number>> = { OAM: 28, OAMF4: 29, CONNECTMSG: 70, METACONNECT: 71 };
const MTP2TYPES: Readonly<Record<string, number>> = { FISU: 22, LSSU: 23, MSU: 24, HFISU: 25, HLSSU: 26, HMSU: 27 };
const MTP3FIELDS: Readonly<Record<string, number>> = { SIO: 1, OPC: 2, DPC: 3, SLS: 4, HSIO: 5, HOPC: 6, HDPC: 7, HSLS: 8 };
const LLC_S_SUBTYPES: Readonly<Record<string, number>> = { rr: 0x0001, rnr: 0x0005, rej: 0x0009 };
const LLC_U_SUBTYPES: Readonly<Record<string, number>> = {
  ui: 0x03, ua: 0x63, disc: 0x43, dm: 0x0f, sabme: 0x6f, test: 0xe3, xid: 0xaf, frmr: 0x87,
};
/** grammar.y's str2tok: case-insensitive lookup in a name table. */
function strToTok(name: string, table: Readonly<Record<string, number>>): number | undefined {
  const n = name.toLowerCase();
  return Object.hasOwn(table, n) ? table[n] : undefined;
}
const WLAN_TYPES: Readonly<Record<string, number>> = { data: 0x08, mgt: 0x00, management: 0x00, ctl: 0x04, control: 0x04 };
const WLAN_SUBTYPES: ReadonlyArray<readonly [number, Readonly<Record<string, number>>]> = [
  [0x00, { assocreq: 0x00, "assoc-req": 0x00, assocresp: 0x10, "assoc-resp": 0x10, reassocreq: 0x20, "reassoc-req": 0x20,
    reassocresp: 0x30, "reassoc-resp": 0x30, probereq: 0x40, "probe-req": 0x40, proberesp: 0x50, "probe-resp": 0x50,
    beacon: 0x80, atim: 0x90, disassoc: 0xa0, disassociation: 0xa0, auth: 0xb0, authentication: 0xb0, deauth: 0xc0,
    deauthentication: 0xc0 }],
  [0x04, { "ps-poll": 0xa0, rts: 0xb0, cts: 0xc0, ack: 0xd0, "cf-end": 0xe0, "cf-end-ack": 0xf0 }],
  [0x08, { data: 0x00, "data-cf-ack": 0x10, "data-cf-poll": 0x20, "data-cf-ack-poll": 0x30, null: 0x40, "cf-ack": 0x50,
    "cf-poll": 0x60, "cf-ack-poll": 0x70, "qos-data": 0x80, "qos-data-cf-ack": 0x90, "qos-data-cf-poll": 0xa0,
    "qos-data-cf-ack-poll": 0xb0, qos: 0xc0, "qos-cf-poll": 0xe0, "qos-cf-ack-poll": 0xf0 }],
];
const WLAN_DIRS: Readonly<Record<string, number>> = { nods: 0, tods: 1, fromds: 2, dstods: 3 };

/**
 * The parser's methods are generators run by `run` on an explicit stack, so nesting is limited by bison's stack
 * (modelled below), never by the JavaScript call stack. A method calls another with `yield* call(g)`.
 */
type G<T> = Generator<G<unknown>, T, unknown>;
function* call<T>(g: G<T>): G<T> { return (yield g) as T; }
function run<T>(root: G<T>): T {
  const stack: G<unknown>[] = [root];
  let value: unknown, error: unknown, failed = false;
  for (;;) {
    const top = stack[stack.length - 1]!;
    let r: IteratorResult<G<unknown>, unknown>;
    try {
      r = failed ? top.throw(error) : top.next(value);
    } catch (e) {
      stack.pop();
      if (stack.length === 0) throw e;
      failed = true;
      error = e;
      continue;
    }
    failed = false;
    if (r.done) {
      stack.pop();
      if (stack.length === 0) return r.value as T;
      value = r.value;
    } else {
      stack.push(r.value);
      value = undefined;
    }
  }
}

/**
 * bison's stack limit (YYMAXDEPTH 10,000, less its start state and `null`): the parser counts the grammar symbols
 * bison would hold (an open paren, a `not`, `expr and`, `arth +`, `pname [`, a qualifier head, ...) and stops with
 * libpcap's "memory exhausted" where bison would overflow.
 */
const MAX_DEPTH = 9997;
class StackExhausted {}

/** Thrown inside the parser to unwind to the last choice point; carries the index of the offending token. */
class SyntaxFailure {
  constructor(readonly at: number) {}
}

interface Phrase {
  readonly node: Node;
  /** The qualifier a following bare id inherits ($$.q in grammar.y). */
  readonly q: Qual;
}

class Parser {
  private i = 0;
  /** Furthest token index a syntax failure reached (the token bison would have choked on). */
  furthest = 0;
  /** match[k]: for a `(` at k, the index of its `)` (-1 if none). */
  private readonly match: Int32Array;
  /** Phrases already known not to parse at a token (kind * length + index): keeps backtracking linear. */
  private readonly failed = new Set<number>();
  /** `synthAt`: index of the first token added after a syntax error (see reducedPrefix); none by default. */
  constructor(private readonly toks: readonly Token[], private readonly synthAt = Infinity) {
    this.match = new Int32Array(toks.length).fill(-1);
    const open: number[] = [];
    toks.forEach((t, k) => {
      if (t.kind !== "OP") return;
      if (t.text === "(") open.push(k);
      else if (t.text === ")" && open.length > 0) this.match[open.pop()!] = k;
    });
  }
  /** Grammar symbols bison would hold on its stack for the phrases open around the current token. */
  private depth = 0;
  /** bison momentarily holds `k` more symbols (a leaf phrase before it reduces). */
  private touch(k: number): void { if (this.depth + k > MAX_DEPTH) throw new StackExhausted(); }
  /** Runs `g` with `k` more symbols held below it. */
  private *nest<T>(k: number, g: G<T>): G<T> {
    this.depth += k;
    this.touch(0);
    const v = yield* call(g);
    this.depth -= k;
    return v;
  }
  /** A phrase ending past the real tokens was never reduced by bison. */
  private cut(): { partial?: boolean } { return this.i > this.synthAt ? { partial: true } : {}; }

  private peek(o = 0): Token { return this.toks[Math.min(this.i + o, this.toks.length - 1)]!; }
  private fail(): never {
    if (this.i > this.furthest) this.furthest = this.i;
    throw new SyntaxFailure(this.i);
  }
  private isKw(t: Token, ...names: string[]): boolean { return t.kind === "KW" && names.includes(t.text); }
  private isOp(t: Token, ...ops: string[]): boolean { return t.kind === "OP" && ops.includes(t.text); }
  private expectOp(op: string): void { if (this.isOp(this.peek(), op)) this.i++; else this.fail(); }
  private isNot(t: Token): boolean { return this.isOp(t, "!") || this.isKw(t, "NOT"); }
  private isConnective(t: Token): "and" | "or" | null {
    if (this.isKw(t, "AND")) return "and";
    if (this.isKw(t, "OR")) return "or";
    return null;
  }
  /**
   * Runs `g` (the phrase `kind` at the current token); on a syntax failure restores the position (and modelled
   * stack depth) and returns null. A phrase that failed at a token fails there again without being re-parsed.
   */
  private *attempt<T>(kind: number, g: G<T>): G<T | null> {
    const save = this.i, depth = this.depth, key = kind * this.toks.length + this.i;
    if (this.failed.has(key)) return null;
    try {
      return yield* call(g);
    } catch (e) {
      if (!(e instanceof SyntaxFailure)) throw e;
      this.failed.add(key);
      this.i = save;
      this.depth = depth;
      return null;
    }
  }

  /** `( expr )` as a term. */
  private *grouped(prev: Qual): G<Phrase> {
    this.i++;
    const e = yield* this.nest(1, this.expr(prev));
    this.touch(3);
    this.expectOp(")");
    if (!this.atPhraseEnd()) this.fail();
    return { node: e.node, q: prev };
  }

  *prog(): G<Node | null> {
    if (this.peek().kind === "EOF") return null;
    const e = yield* call(this.expr(QERR));
    if (this.peek().kind !== "EOF") this.fail();
    return e.node;
  }

  /** expr: term | expr and term | expr and id | expr or term | expr or id. */
  private *expr(prev: Qual): G<Phrase> {
    let left = yield* call(this.term(prev));
    for (;;) {
      const c = this.isConnective(this.peek());
      if (c === null) return left;
      this.i++;
      const right = yield* this.nest(2, this.termOrId(left.q));
      left = { node: { t: c, left: left.node, right: right.node }, q: right.q };
    }
  }

  /** After `and`/`or`: a term, or a bare id inheriting `prev`. */
  private *termOrId(prev: Qual): G<Phrase> {
    const t = this.peek();
    if (this.isNot(t)) {
      this.i++;
      const inner = yield* this.nest(1, this.termOrId(prev));
      return { node: { t: "not", operand: inner.node }, q: inner.q };
    }
    if (t.kind === "ID" || t.kind === "HID" || t.kind === "HID6" || t.kind === "EID" || t.kind === "AID") return yield* call(this.id(prev));
    if (t.kind === "NUM" || this.isOp(t, "(")) {
      // Both readings from the same token; one that ends the phrase wins. Otherwise the term (or the id) is kept
      // where it ended, and the caller fails on the token after it.
      const start = this.i;
      const asTerm = yield* this.attempt(0, this.term(prev));
      if (asTerm !== null && this.atPhraseEnd()) return asTerm;
      const termEnd = this.i;
      this.i = start;
      const asId = yield* this.attempt(1, this.id(prev));
      if (asId !== null && (this.atPhraseEnd() || asTerm === null)) return asId;
      if (asTerm === null) this.fail();
      this.i = termEnd;
      return asTerm;
    }
    return yield* call(this.term(prev));
  }

  private atPhraseEnd(): boolean {
    const t = this.peek();
    return t.kind === "EOF" || this.isConnective(t) !== null || this.isOp(t, ")");
  }

  /** term: rterm | not term. */
  private *term(prev: Qual): G<Phrase> {
    if (this.isNot(this.peek())) {
      this.i++;
      const inner = yield* this.nest(1, this.term(prev));
      return { node: { t: "not", operand: inner.node }, q: inner.q };
    }
    return yield* call(this.rterm(prev));
  }

  private *rterm(prev: Qual): G<Phrase> {
    const t = this.peek();
    if (this.isOp(t, "(")) {
      // A group followed by an operator is tried as arithmetic first: trying `( expr )` first would re-parse
      // nested arithmetic groups once per level (quadratic).
      const after = this.match[this.i]! >= 0 ? this.toks[this.match[this.i]! + 1] : undefined;
      const arithmetic = after !== undefined && after.kind === "OP" && (ARITH[after.text] !== undefined || RELOPS[after.text] !== undefined);
      if (arithmetic) {
        const rel = yield* this.attempt(4, this.relation());
        if (rel !== null) return { node: rel, q: QERR };
      }
      const grouped = yield* this.attempt(3, this.grouped(prev));
      if (grouped !== null) return grouped;
      const rel = yield* this.attempt(4, this.relation());
      if (rel === null) this.fail();
      return { node: rel, q: QERR };
    }
    if (t.kind === "NUM" || this.isOp(t, "-") || this.isKw(t, "LEN")) return { node: (yield* call(this.relation())), q: QERR };
    if (t.kind === "KW") {
      const pname = PNAMES[t.text];
      if (pname !== undefined) {
        const next = this.peek(1);
        if (this.isOp(next, "[")) return { node: (yield* call(this.relation())), q: QERR };
        if (this.startsHeadTail(next) || this.isKw(next, "TK_BROADCAST", "TK_MULTICAST", "TYPE", "SUBTYPE", "DIR")) {
          this.i++;
          return yield* call(this.afterPqual(pname));
        }
        this.i++;
        this.touch(1);
        return { node: { t: "abbrev", proto: pname }, q: QERR };
      }
      if (this.startsHeadTail(t) || this.isKw(t, "TK_BROADCAST", "TK_MULTICAST", "TYPE", "SUBTYPE", "DIR")) {
        return yield* call(this.afterPqual(Q_DEFAULT));
      }
      // bison holds a keyword phrase's few tokens before reducing it (vlan's nested pnum counts its own, more)
      // (a field's `( N or N … )` list: the field, `paren` and the list when `)` arrives, 3 as for `field relop N`)
      const start = this.i;
      const node = yield* call(this.other());
      this.touch(this.isOp(this.toks[start + 1]!, "(") && isField(t) ? 3 : Math.min(this.i - start, 4));
      return { node, q: QERR };
    }
    this.fail();
  }

  private startsHeadTail(t: Token): boolean {
    return this.isKw(t, "SRC", "DST", "HOST", "NET", "PORT", "PORTRANGE", "PROTO", "PROTOCHAIN", "GATEWAY")
      || (t.kind === "KW" && SIMPLE_DQUAL[t.text] !== undefined);
  }

  /** After pqual: head id, broadcast/multicast, or an 802.11 frame test. */
  private *afterPqual(proto: number): G<Phrase> {
    const t = this.peek();
    const start = this.i;
    // pqual (empty or not) and the keyword
    if (this.isKw(t, "TK_BROADCAST", "TK_MULTICAST")) this.touch(2);
    if (this.isKw(t, "TK_BROADCAST")) { this.i++; return { node: { t: "broadcast", proto }, q: QERR }; }
    if (this.isKw(t, "TK_MULTICAST")) { this.i++; return { node: { t: "multicast", proto }, q: QERR }; }
    if (this.isKw(t, "TYPE", "SUBTYPE", "DIR")) {
      const node = this.p80211();
      this.touch(1 + this.i - start);
      return { node, q: QERR };
    }
    let dir = Q_DEFAULT;
    let addr = Q_DEFAULT;
    if (this.isKw(t, "SRC", "DST")) {
      const first = t.text;
      this.i++;
      dir = first === "SRC" ? Q_SRC : Q_DST;
      const c = this.isConnective(this.peek());
      if (c !== null) {
        this.i++;
        if (!this.isKw(this.peek(), first === "SRC" ? "DST" : "SRC")) this.fail();
        this.i++;
        dir = c === "or" ? Q_OR : Q_AND;
      }
    } else if (t.kind === "KW" && SIMPLE_DQUAL[t.text] !== undefined) {
      this.i++;
      dir = SIMPLE_DQUAL[t.text]!;
    }
    const a = this.peek();
    if (a.kind === "KW" && AQUAL[a.text] !== undefined) { this.i++; addr = AQUAL[a.text]!; }
    else if (dir === Q_DEFAULT) {
      if (this.isKw(a, "PROTO")) { this.i++; addr = Q_PROTO; }
      else if (this.isKw(a, "PROTOCHAIN")) { this.i++; addr = Q_PROTOCHAIN; }
      else if (this.isKw(a, "GATEWAY")) { this.i++; addr = Q_GATEWAY; }
      else this.fail();
    }
    const q: Qual = { addr, proto, dir };
    // pqual, then the direction's tokens (reduced to dqual) and the address keyword; then `head` under the id
    const dirTokens = this.i - start - (addr === Q_DEFAULT ? 0 : 1);
    this.touch(1 + dirTokens);
    this.touch(1 + (dir === Q_DEFAULT ? 0 : 1) + (addr === Q_DEFAULT ? 0 : 1));
    return yield* this.nest(1, this.id(q));
  }

  /** id: nid | pnum | paren pid ')'; nid's forms take the inherited qualifier `q`. */
  private *id(q: Qual): G<Phrase> {
    const t = this.peek();
    if (this.isNot(t)) {
      this.i++;
      const inner = yield* this.nest(1, this.id(q));
      return { node: { t: "not", operand: inner.node }, q: inner.q };
    }
    if (this.isOp(t, "(")) {
      const num = yield* this.attempt(2, this.pnum());
      if (num !== null) return { node: { t: "ncode", s: null, v: num, q }, q };
      this.i++;
      const inner = yield* this.nest(1, this.pid(q));
      this.touch(3);
      this.expectOp(")");
      return inner;
    }
    if (t.kind === "NUM") { this.touch(1); this.i++; return { node: { t: "ncode", s: null, v: t.num, q }, q }; }
    return yield* call(this.nid(q));
  }

  /** pid: nid | qid and id | qid or id, with qid: pnum | pid. */
  private *pid(q: Qual): G<Phrase> {
    let left: Phrase;
    const t = this.peek();
    if (t.kind === "NUM" || this.isOp(t, "(")) {
      const v = yield* call(this.pnum());
      left = { node: { t: "ncode", s: null, v, q }, q };
      if (this.isConnective(this.peek()) === null) this.fail();
    } else {
      left = yield* call(this.nid(q));
    }
    for (;;) {
      const c = this.isConnective(this.peek());
      if (c === null) return left;
      this.i++;
      const right = yield* this.nest(2, this.id(left.q));
      left = { node: { t: c, left: left.node, right: right.node }, q: right.q };
    }
  }

  private *nid(q: Qual): G<Phrase> {
    const t = this.peek();
    const err = (message: string): Phrase => ({ node: { t: "error", message }, q });
    if (this.isNot(t)) {
      this.i++;
      const inner = yield* this.nest(1, this.id(q));
      return { node: { t: "not", operand: inner.node }, q: inner.q };
    }
    this.touch(this.isOp(this.peek(1), "/") || this.isKw(this.peek(1), "NETMASK") ? 3 : 1);
    switch (t.kind) {
      case "ID": this.i++; return { node: { t: "scode", name: t.text, q }, q };
      case "HID": {
        this.i++;
        if (this.isOp(this.peek(), "/")) {
          this.i++;
          const n = this.peek();
          if (n.kind !== "NUM") this.fail();
          this.i++;
          return { node: { t: "mcode", net: t.text, mask: null, masklen: n.num, q }, q };
        }
        if (this.isKw(this.peek(), "NETMASK")) {
          this.i++;
          const m = this.peek();
          if (m.kind !== "HID") this.fail();
          this.i++;
          return { node: { t: "mcode", net: t.text, mask: m.text, masklen: 0, q }, q };
        }
        if (q.addr === Q_PORT) return err("'port' modifier applied to ip host");
        if (q.addr === Q_PORTRANGE) return err("'portrange' modifier applied to ip host");
        if (q.addr === Q_PROTO) return err("'proto' modifier applied to ip host");
        if (q.addr === Q_PROTOCHAIN) return err("'protochain' modifier applied to ip host");
        return { node: { t: "ncode", s: t.text, v: 0, q }, q };
      }
      case "HID6": {
        this.i++;
        if (t.error) return err(t.error);
        if (this.isOp(this.peek(), "/")) {
          this.i++;
          const n = this.peek();
          if (n.kind !== "NUM") this.fail();
          this.i++;
          return { node: { t: "mcode6", addr: t.text, masklen: n.num, q }, q };
        }
        return { node: { t: "mcode6", addr: t.text, masklen: 128, q }, q };
      }
      case "EID":
        this.i++;
        if (t.error) return err(t.error);
        return { node: { t: "ecode", s: t.text, q }, q };
      case "AID": this.i++; return { node: { t: "acode", s: t.text, q }, q };
      default: this.fail();
    }
  }

  /** pnum: NUM | paren pnum ')'. */
  private *pnum(): G<number> {
    const t = this.peek();
    if (t.kind === "NUM") { this.touch(1); this.i++; return t.num; }
    if (this.isOp(t, "(")) {
      this.i++;
      const v = yield* this.nest(1, this.pnum());
      this.touch(3);
      this.expectOp(")");
      return v;
    }
    this.fail();
  }

  private *relation(): G<Node> {
    const left = yield* call(this.arth(0));
    const t = this.peek();
    const rel = t.kind === "OP" ? RELOPS[t.text] : undefined;
    if (rel === undefined) this.fail();
    this.i++;
    const right = yield* this.nest(2, this.arth(0));
    return { t: "relation", code: rel.code, reversed: rel.reversed, left, right };
  }

  private *arth(minPrec: number): G<Arth> {
    let left = yield* call(this.unary());
    for (;;) {
      const t = this.peek();
      const info = t.kind === "OP" ? ARITH[t.text] : undefined;
      if (info === undefined) return left;
      if (info.prec === 0) {
        this.i++;
        const right = yield* this.nest(2, this.arth(0));
        left = { t: "binary", op: info.op, left, right, ...this.cut() };
        continue;
      }
      if (info.prec < minPrec) return left;
      this.i++;
      const right = yield* this.nest(2, this.arth(info.prec + 1));
      left = { t: "binary", op: info.op, left, right, ...this.cut() };
    }
  }

  private *unary(): G<Arth> {
    const t = this.peek();
    if (this.isOp(t, "-")) {
      this.i++;
      return { t: "neg", operand: (yield* this.nest(1, this.arth(UMINUS_PREC))) };
    }
    if (t.kind === "NUM") { this.touch(1); this.i++; return { t: "loadi", v: t.num }; }
    if (this.isKw(t, "LEN")) { this.touch(1); this.i++; return { t: "len" }; }
    if (this.isOp(t, "(")) {
      // `( arth )` parses the same wherever it stands: one that failed at this token fails again without a re-parse
      // (else every enclosing `(` re-reads the groups inside it on its way to the error: quadratic)
      const inner = yield* this.attempt(5, this.parenArth());
      if (inner === null) this.fail();
      return inner;
    }
    if (t.kind === "KW" && PNAMES[t.text] !== undefined && this.isOp(this.peek(1), "[")) {
      this.i += 2;
      const index = yield* this.nest(2, this.arth(0));
      // pname [ arth ] or pname [ arth : NUM ]
      this.touch(this.isOp(this.peek(), ":") ? 6 : 4);
      let size = 1;
      if (this.isOp(this.peek(), ":")) {
        this.i++;
        const n = this.peek();
        if (n.kind !== "NUM") this.fail();
        this.i++;
        size = n.num;
      }
      this.expectOp("]");
      return { t: "load", proto: PNAMES[t.text]!, index, size, ...this.cut() };
    }
    this.fail();
  }

  private *parenArth(): G<Arth> {
    this.i++;
    const inner = yield* this.nest(1, this.arth(0));
    this.touch(3);
    this.expectOp(")");
    return inner;
  }

  private *optionalPnum(): G<number | null> {
    const t = this.peek();
    if (t.kind === "NUM" || this.isOp(t, "(")) return yield* this.attempt(2, this.pnum());
    return null;
  }

  private num(): number {
    const t = this.peek();
    if (t.kind !== "NUM") this.fail();
    this.i++;
    return t.num;
  }

  /** A keyword phrase (`less N`, `vlan [N]`, `byte N op V`, ...). */
  private *other(): G<Node> {
    const t = this.peek();
    this.i++;
    switch (t.text) {
      case "LESS": return { t: "less", n: this.num() };
      case "GREATER": return { t: "greater", n: this.num() };
      case "CBYTE": {
        const idx = this.num();
        const op = this.peek();
        if (!this.isOp(op, "&", "|", "<", ">", "=")) this.fail();
        this.i++;
        return { t: "byteop", op: op.text, idx, val: this.num() };
      }
      case "INBOUND": return { t: "inbound", outbound: false };
      case "OUTBOUND": return { t: "inbound", outbound: true };
      case "IFINDEX": return { t: "ifindex", n: this.num() };
      case "VLAN": { const n = yield* this.nest(1, this.optionalPnum()); return { t: "vlan", n, ...this.cut() }; }
      case "MPLS": { const n = yield* this.nest(1, this.optionalPnum()); return { t: "mpls", n, ...this.cut() }; }
      case "PPPOED": return { t: "pppoed" };
      case "PPPOES": { const n = yield* this.nest(1, this.optionalPnum()); return { t: "pppoes", n, ...this.cut() }; }
      case "GENEVE": { const n = yield* this.nest(1, this.optionalPnum()); return { t: "geneve", n, ...this.cut() }; }
      case "LLC": return this.llc();
      case "PF_IFNAME": case "PF_RSET": {
        const id = this.peek();
        if (id.kind !== "ID") this.fail();
        this.i++;
        return { t: "pf", what: t.text, arg: id.text };
      }
      case "PF_RNR": case "PF_SRNR": return { t: "pf", what: t.text, arg: this.num() };
      case "PF_REASON": case "PF_ACTION": {
        const a = this.peek();
        if (a.kind === "NUM" && t.text === "PF_REASON") { this.i++; return { t: "pf", what: t.text, arg: a.num }; }
        if (a.kind !== "ID") this.fail();
        this.i++;
        return { t: "pf", what: t.text, arg: a.text };
      }
    }
    if (ATMTYPES[t.text] !== undefined) return { t: "atmtype", type: ATMTYPES[t.text]! };
    if (ATMMULTI[t.text] !== undefined) return { t: "atmmulti", type: ATMMULTI[t.text]! };
    if (MTP2TYPES[t.text] !== undefined) return { t: "mtp2type", type: MTP2TYPES[t.text]! };
    if (t.text === "VPI" || t.text === "VCI") return this.fieldValue("atmfield", t.text === "VPI" ? 51 : 52);
    if (MTP3FIELDS[t.text] !== undefined) return this.fieldValue("mtp3field", MTP3FIELDS[t.text]!);
    this.i--;
    this.fail();
  }

  /** atmvalue / mtp3value: NUM | relop NUM | irelop NUM | ( NUM or NUM ... ). */
  private fieldValue(t: "atmfield" | "mtp3field", field: number): Node {
    const v = this.peek();
    if (v.kind === "NUM") { this.i++; return { t, field, value: v.num, code: BPF_JEQ, reversed: false }; }
    const rel = v.kind === "OP" ? RELOPS[v.text] : undefined;
    if (rel !== undefined) {
      this.i++;
      return { t, field, value: this.num(), code: rel.code, reversed: rel.reversed };
    }
    this.expectOp("(");
    this.touch(2); // the field and `paren` are on bison's stack before the list's first token is read
    let node: Node = { t, field, value: this.num(), code: BPF_JEQ, reversed: false };
    this.touch(3);
    while (this.isKw(this.peek(), "OR")) {
      this.i++;
      node = { t: "or", left: node, right: { t, field, value: this.num(), code: BPF_JEQ, reversed: false } };
    }
    this.expectOp(")");
    return node;
  }

  private llc(): Node {
    const t = this.peek();
    if (this.isKw(t, "PF_RNR")) { this.i++; return { t: "llc", kind: "s_subtype", subtype: LLC_S_SUBTYPES.rnr! }; }
    if (t.kind !== "ID") return { t: "llc", kind: "all", subtype: 0 };
    this.i++;
    const name = t.text.toLowerCase();
    if (name === "i" || name === "s" || name === "u") return { t: "llc", kind: name, subtype: 0 };
    const s = strToTok(t.text, LLC_S_SUBTYPES);
    if (s !== undefined) return { t: "llc", kind: "s_subtype", subtype: s };
    const u = strToTok(t.text, LLC_U_SUBTYPES);
    if (u !== undefined) return { t: "llc", kind: "u_subtype", subtype: u };
    return { t: "error", message: `unknown LLC type name "${t.text}"` };
  }

  private p80211(): Node {
    const t = this.peek();
    this.i++;
    if (t.text === "DIR") {
      const d = this.peek();
      if (d.kind === "NUM") { this.i++; return { t: "p80211_fcdir", dir: d.num }; }
      if (d.kind !== "ID") this.fail();
      this.i++;
      const v = WLAN_DIRS[d.text.toLowerCase()];
      if (v === undefined) return { t: "error", message: "unknown 802.11 direction" };
      return { t: "p80211_fcdir", dir: v };
    }
    if (t.text === "SUBTYPE") {
      const st = this.peek();
      if (st.kind !== "ID") this.fail();
      this.i++;
      for (const [type, table] of WLAN_SUBTYPES) {
        const v = strToTok(st.text, table);
        if (v !== undefined) return { t: "p80211_type", type: v | type, mask: 0xfc };
      }
      return { t: "error", message: "unknown 802.11 type name" };
    }
    const ty = this.peek();
    let type: number;
    if (ty.kind === "NUM") {
      this.i++;
      if ((ty.num & ~0x0c) !== 0) return { t: "error", message: `invalid 802.11 type value 0x${ty.num.toString(16).padStart(2, "0")}` };
      type = ty.num;
    } else if (ty.kind === "ID") {
      this.i++;
      const v = strToTok(ty.text, WLAN_TYPES);
      if (v === undefined) return { t: "error", message: `unknown 802.11 type name "${ty.text}"` };
      type = v;
    } else this.fail();
    if (!this.isKw(this.peek(), "SUBTYPE")) return { t: "p80211_type", type, mask: 0x0c };
    this.i++;
    const st = this.peek();
    if (st.kind === "NUM") {
      this.i++;
      if ((st.num & ~0xf0) !== 0) return { t: "error", message: `invalid 802.11 subtype value 0x${st.num.toString(16).padStart(2, "0")}` };
      return { t: "p80211_type", type: type | st.num, mask: 0xfc };
    }
    if (st.kind !== "ID") this.fail();
    this.i++;
    const table = WLAN_SUBTYPES.find(([t2]) => t2 === type);
    if (table === undefined) return { t: "error", message: "unknown 802.11 type" };
    const v = strToTok(st.text, table[1]);
    if (v === undefined) return { t: "error", message: `unknown 802.11 subtype name "${st.text}"` };
    return { t: "p80211_type", type: type | v, mask: 0xfc };
  }
}

export interface ParseResult {
  /** null for the empty expression (accept every packet). */
  readonly root: Node | null;
  /**
   * Set when the expression is invalid: the syntax (or scanner) error to report, unless generating code for
   * `root` (then the phrases bison had already reduced before the bad token) raises a semantic error first, as
   * libpcap's grammar actions run during parsing.
   */
  readonly error?: BpfError;
}

/** Parses a filter expression; syntax errors carry libpcap's wording. */
export function parseFilter(expr: string): ParseResult {
  const toks = tokenize(expr);
  const p = new Parser(toks);
  try {
    return { root: run(p.prog()) };
  } catch (e) {
    if (e instanceof StackExhausted) return { root: null, error: new BpfError("PARSE", "can't parse filter expression: memory exhausted", { column: 0 }) };
    if (!(e instanceof SyntaxFailure)) throw e;
    const at = Math.min(Math.max(p.furthest, e.at), toks.length - 1);
    let error: BpfError | undefined;
    // The scanner's own error (bad number, bogus address) is set before the parser's syntax error.
    for (let k = 0; k <= at && error === undefined; k++) {
      if (toks[k]!.error) error = new BpfError("PARSE", toks[k]!.error, { column: toks[k]!.pos });
    }
    error ??= new BpfError("PARSE", "can't parse filter expression: syntax error", { column: toks[at]!.pos });
    return { root: reducedPrefix(toks, at), error };
  }
}


/** An ATM or MTP3 field keyword (`vpi`, `vci`, `sio`, `opc`, ...), whose value may be a parenthesized list. */
const isField = (t: Token): boolean => t.kind === "KW" && (t.text === "VPI" || t.text === "VCI" || MTP3FIELDS[t.text] !== undefined);

/** Tokens no phrase can end with: a prefix ending in one never parses, so it is not tried. */
const cannotEnd = (t: Token): boolean =>
  (t.kind === "KW" && (t.text === "AND" || t.text === "OR" || t.text === "NOT"))
  || (t.kind === "OP" && t.text !== ")" && t.text !== "]");
const isArithOp = (t: Token): boolean => t.kind === "OP" && ARITH[t.text] !== undefined;
/** Prefixes actually parsed before giving up: keeps error recovery linear (each try is one linear parse). */
const MAX_PREFIX_TRIES = 32;

/**
 * What bison had reduced before the bad token `at`: the longest prefix that parses once its open brackets are
 * closed. A prefix ending in an operand is first completed as a relation (`… = 0`): bison reduces a trailing number
 * as arithmetic, never as a bare id. The added tokens mark the phrases they complete as unreduced (their actions
 * never ran in libpcap), so only the complete phrases' semantic errors are raised.
 */
function reducedPrefix(toks: readonly Token[], at: number): Node | null {
  const open = openBrackets(toks, at);
  let tries = 0;
  for (let j = at; j > 0 && tries < MAX_PREFIX_TRIES; j--) {
    const last = toks[j - 1]!, next = toks[j]!, brackets = open[j]!;
    // A protocol name followed by an unexpected token is not reduced by bison (its state needs the lookahead).
    if (brackets === false || (last.kind === "KW" && PNAMES[last.text] !== undefined)) continue;
    // bison shifted an operator after the prefix's last operand (which may then be unreduced): the longer prefix,
    // continued after that operator, stands for it.
    if (j < at && isArithOp(next)) continue;
    const operator = isArithOp(last) || (last.kind === "OP" && RELOPS[last.text] !== undefined);
    if (cannotEnd(last) && !operator) continue;
    const pos = next.pos;
    const synth = (kind: "OP" | "NUM", text: string): Token => ({ kind, text, num: 0, pos, error: "" });
    const closers: Token[] = [];
    for (let b: OpenBracket | null = brackets; b !== null; b = b.outer) closers.push(synth("OP", b.closer));
    const zero = synth("NUM", "0");
    const relation = (head: Token[], rel: Token[]): Token[][] => {
      const out: Token[][] = [];
      for (let k = 0; k <= closers.length && k < 4; k++) out.push([...head, ...closers.slice(0, k), ...rel, ...closers.slice(k)]);
      if (closers.length >= 4) out.push([...head, ...closers, ...rel]);
      return out;
    };
    const asRelation = relation([], [synth("OP", "="), zero]);
    let candidates: Token[][];
    if (operator) candidates = isArithOp(last) ? relation([zero], [synth("OP", "="), zero]) : relation([zero], []);
    else if (last.kind === "NUM" || (last.kind === "KW" && last.text === "LEN") || (last.kind === "OP" && (last.text === "]" || last.text === ")"))) {
      const before = j >= 2 ? toks[j - 2]! : null;
      // A number right after and/or/not is an id or an operand: bison lets the next token decide (an id before `)`,
      // `and`, `or` or the end; an operand before an operator; neither, so nothing reduced, before anything else).
      if (last.kind === "NUM" && before !== null && (before.kind === "KW" && (before.text === "AND" || before.text === "OR" || before.text === "NOT") || (before.kind === "OP" && before.text === "!"))) {
        if (next.kind === "EOF" || (next.kind === "OP" && next.text === ")") || (next.kind === "KW" && (next.text === "AND" || next.text === "OR"))) candidates = [closers];
        else if (isArithOp(next) || (next.kind === "OP" && RELOPS[next.text] !== undefined)) candidates = asRelation;
        else continue;
      } else candidates = [...asRelation, closers];
    } else candidates = [closers];
    for (const tail of candidates) {
      if (tries++ >= MAX_PREFIX_TRIES) break;
      const prefix = [...toks.slice(0, j), ...tail, toks[toks.length - 1]!];
      try {
        return run(new Parser(prefix, j).prog());
      } catch (e) {
        if (e instanceof StackExhausted) return null;
        if (!(e instanceof SyntaxFailure)) throw e;
      }
    }
  }
  return null;
}

/** A bracket still open, innermost first: the stacks of successive prefixes share their tails. */
interface OpenBracket { readonly closer: ")" | "]"; readonly outer: OpenBracket | null }

/** open[j]: the brackets open after the first j tokens (j <= at), in one pass; false once a closer mismatched. */
function openBrackets(toks: readonly Token[], at: number): (OpenBracket | null | false)[] {
  const open: (OpenBracket | null | false)[] = [null];
  for (let k = 0; k < at; k++) {
    const b = open[k]!, t = toks[k]!;
    if (b === false || t.kind !== "OP") open.push(b);
    else if (t.text === "(" || t.text === "[") open.push({ closer: t.text === "(" ? ")" : "]", outer: b });
    else if (t.text === ")" || t.text === "]") open.push(b !== null && b.closer === t.text ? b.outer : false);
    else open.push(b);
  }
  return open;
}
