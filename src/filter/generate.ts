// Stage 2: syntax tree → block graph. Walks the tree in the order bison reduces grammar.y (operands first, left to
// right), calling the gen_* functions, then finish_parse: prologue for variable offsets, and the two return blocks.
import { BPF_JGE, BPF_JGT } from "../isa/cbpf/insn.ts";
import type { Arth, Node } from "./ast.ts";
import { type Block, type ICode } from "./blocks.ts";
import { type CompilerState, DLT, fail } from "./state.ts";
import {
  type ArthValue, OffRel, genAnd, genOr, genNot, genCmp, genCmpLt, genCmpGt, genRetblk, genLoadi, genLoadlen, genNeg,
  genArth, genRelation, genLen, genBcmp,
} from "./gen-core.ts";
import { BPF_W } from "../isa/cbpf/insn.ts";
import { genBroadcast, genMulticast, genInbound, genIfindex, genLlc } from "./gen-link.ts";
import { genVlan, genMpls, genPppoed, genPppoes, genGeneve } from "./gen-encap.ts";
import { genP80211Type, genP80211Fcdir, insertComputeVloffsets, genPpiDltCheck } from "./gen-wlan.ts";
import { genAcode, genScode, genNcode, genMcode, genMcode6, genEcode, genPort, genPort6 } from "./gen-net.ts";
import { genProtoAbbrev, genLoad } from "./gen-proto.ts";
import { newBlock, newStmt } from "./blocks.ts";
import { BPF_ALU, BPF_OR, BPF_AND, BPF_K, BPF_B, BPF_JEQ } from "../isa/cbpf/insn.ts";
import { JMP } from "./gen-core.ts";
import { IPPROTO } from "./state.ts";
import { Q_DST, Q_LINK } from "./ast.ts";
import { genAtmfield, genAtmtypeAbbrev, genAtmmultiAbbrev, genMtp2typeAbbrev, genMtp3field } from "./gen-atm.ts";

const PF_REASONS: Readonly<Record<string, number>> = {
  match: 0, "bad-offset": 1, fragment: 2, short: 3, normalize: 4, memory: 5, "bad-timestamp": 6, congestion: 7,
  "ip-option": 8, "proto-cksum": 9, "state-mismatch": 10, "state-insert": 11, "state-limit": 12, "src-limit": 13,
  synproxy: 14,
};
const PF_ACTIONS: Readonly<Record<string, number>> = {
  pass: 0, accept: 0, drop: 1, block: 1, scrub: 2, noscrub: 3, nat: 4, nonat: 5, binat: 6, nobinat: 7, rdr: 8,
  nordr: 9, "synproxy-drop": 10,
};

/** OpenBSD pflog header fields (struct pfloghdr). */
function genPf(cs: CompilerState, what: string, arg: string | number): Block {
  const lower = (v: string | number): string => String(v).toLowerCase();
  if (what === "PF_REASON" && typeof arg === "string" && PF_REASONS[lower(arg)] === undefined) fail(`unknown PF reason "${arg}"`);
  if (what === "PF_ACTION" && PF_ACTIONS[lower(arg)] === undefined) fail(`unknown PF action "${arg}"`);
  const name = ({ PF_IFNAME: "ifname", PF_RSET: "ruleset", PF_RNR: "rnr", PF_SRNR: "srnr", PF_REASON: "reason", PF_ACTION: "action" } as Record<string, string>)[what]!;
  if (cs.linktype !== DLT.PFLOG) fail(`${name} supported only on PF linktype`);
  const bytes = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0) & 0xff);
  switch (what) {
    case "PF_IFNAME":
      if (String(arg).length >= 16) fail("ifname interface names can only be 15 characters");
      return genBcmp(cs, OffRel.LINKHDR, 4, bytes(String(arg)));
    case "PF_RSET":
      if (String(arg).length >= 16) fail("ruleset names can only be 15 characters");
      return genBcmp(cs, OffRel.LINKHDR, 20, bytes(String(arg)));
    case "PF_RNR": return genCmp(cs, OffRel.LINKHDR, 36, BPF_W, Number(arg));
    case "PF_SRNR": return genCmp(cs, OffRel.LINKHDR, 40, BPF_W, Number(arg));
    case "PF_REASON": return genCmp(cs, OffRel.LINKHDR, 3, BPF_B, typeof arg === "number" ? arg : PF_REASONS[lower(arg)]!);
    default: return genCmp(cs, OffRel.LINKHDR, 2, BPF_B, PF_ACTIONS[lower(arg)]!);
  }
}

/**
 * Operands first, left to right, then the node (bison's reduction order), on an explicit stack: a tree may be as
 * deep as bison's stack allows (~10,000), far past what recursion in JavaScript holds.
 */
function genArthNode(cs: CompilerState, root: Arth): ArthValue {
  const stack: Arth[] = [root];
  const done: ArthValue[] = [];
  const seen = new Set<Arth>();
  while (stack.length > 0) {
    const a = stack[stack.length - 1]!;
    const kids = a.t === "binary" ? [a.left, a.right] : a.t === "neg" ? [a.operand] : a.t === "load" ? [a.index] : [];
    if (kids.length > 0 && !seen.has(a)) {
      seen.add(a);
      for (let k = kids.length - 1; k >= 0; k--) stack.push(kids[k]!);
      continue;
    }
    stack.pop();
    switch (a.t) {
      case "loadi": done.push(genLoadi(cs, a.v)); break;
      case "len": done.push(genLoadlen(cs)); break;
      case "neg": done.push(genNeg(done.pop()!)); break;
      case "load": {
        const index = done.pop()!;
        if (a.partial) throw UNREDUCED;
        done.push(genLoad(cs, a.proto, index, a.size));
        break;
      }
      case "binary": {
        const r = done.pop()!, l = done.pop()!;
        if (a.partial) throw UNREDUCED;
        done.push(genArth(cs, a.op, l, r));
        break;
      }
    }
  }
  return done[0]!;
}

function genByteop(cs: CompilerState, op: string, idx: number, val: number): Block {
  switch (op) {
    case "=": return genCmp(cs, OffRel.LINKHDR, idx, BPF_B, val);
    case "<": return genCmpLt(cs, OffRel.LINKHDR, idx, BPF_B, val);
    case ">": return genCmpGt(cs, OffRel.LINKHDR, idx, BPF_B, val);
  }
  // `byte N | V` and `byte N & V`: libpcap emits only the ALU op and a jeq #0, reversed (its historical code).
  const b = newBlock(JMP(BPF_JEQ));
  b.stmts = newStmt(BPF_ALU | (op === "|" ? BPF_OR : BPF_AND) | BPF_K, val);
  genNot(b);
  return b;
}

/** and/or/not on an explicit stack (as genArthNode), the other phrases through genPhrase. */
function genNode(cs: CompilerState, root: Node): Block {
  const stack: Node[] = [root];
  const done: Block[] = [];
  const seen = new Set<Node>();
  while (stack.length > 0) {
    const n = stack[stack.length - 1]!;
    if ((n.t === "and" || n.t === "or" || n.t === "not") && !seen.has(n)) {
      seen.add(n);
      if (n.t === "not") stack.push(n.operand);
      else stack.push(n.right, n.left);
      continue;
    }
    stack.pop();
    if (n.t === "and" || n.t === "or") {
      const r = done.pop()!, l = done.pop()!;
      if (n.t === "and") genAnd(l, r); else genOr(l, r);
      done.push(r);
    } else if (n.t === "not") genNot(done[done.length - 1]!);
    else done.push(genPhrase(cs, n));
  }
  return done[0]!;
}

function genPhrase(cs: CompilerState, n: Node): Block {
  switch (n.t) {
    case "and": case "or": case "not": return genNode(cs, n);
    case "scode": return genScode(cs, n.name, n.q);
    case "ncode": return genNcode(cs, n.s, n.v, n.q);
    case "mcode": return genMcode(cs, n.net, n.mask, n.masklen, n.q);
    case "mcode6": return genMcode6(cs, n.addr, n.masklen, n.q);
    case "ecode": return genEcode(cs, n.s, n.q);
    case "acode": return genAcode(cs, n.s, n.q);
    case "abbrev": return genProtoAbbrev(cs, n.proto);
    case "relation": {
      const l = genArthNode(cs, n.left);
      const r = genArthNode(cs, n.right);
      return genRelation(cs, n.code, l, r, n.reversed);
    }
    case "broadcast": return genBroadcast(cs, n.proto);
    case "multicast": return genMulticast(cs, n.proto);
    case "less": { const b = genLen(BPF_JGT, n.n); genNot(b); return b; }
    case "greater": return genLen(BPF_JGE, n.n);
    case "byteop": return genByteop(cs, n.op, n.idx, n.val);
    case "inbound":
      if (cs.linktype === DLT.SLIP) {
        // SLIP's direction byte: libpcap compares link[0] with 0 through the accessor code (operands built right
        // to left, as the C compiler evaluates its arguments).
        const zero = genLoadi(cs, 0);
        const load = genLoad(cs, Q_LINK, genLoadi(cs, 0), 1);
        return genRelation(cs, BPF_JEQ, load, zero, n.outbound);
      }
      return genInbound(cs, n.outbound);
    case "ifindex": return genIfindex(cs, n.n);
    case "vlan": if (n.partial) throw UNREDUCED; return genVlan(cs, n.n);
    case "mpls": if (n.partial) throw UNREDUCED; return genMpls(cs, n.n);
    case "pppoed": return genPppoed(cs);
    case "pppoes": if (n.partial) throw UNREDUCED; return genPppoes(cs, n.n);
    case "geneve": if (n.partial) throw UNREDUCED; return genGeneve(cs, n.n, {
      v4: (port) => genPort(cs, port, IPPROTO.UDP, Q_DST),
      v6: (port) => genPort6(cs, port, IPPROTO.UDP, Q_DST),
    });
    case "llc": return genLlc(cs, n.kind, n.subtype);
    case "p80211_type": return genP80211Type(cs, n.type, n.mask);
    case "p80211_fcdir": return genP80211Fcdir(cs, n.dir);
    case "pf": return genPf(cs, n.what, n.arg);
    case "atmfield": return genAtmfield(cs, n.field, n.value, n.code, n.reversed);
    case "atmtype": return genAtmtypeAbbrev(cs, n.type);
    case "atmmulti": return genAtmmultiAbbrev(cs, n.type);
    case "mtp2type": return genMtp2typeAbbrev(cs, n.type);
    case "mtp3field": return genMtp3field(cs, n.field, n.value, n.code, n.reversed);
    case "error": fail(n.message);
  }
}

/** Thrown on reaching a phrase bison had not reduced when it met a syntax error: nothing after it ran in libpcap. */
export const UNREDUCED = Symbol("unreduced");

/** Builds the block graph for a parsed expression (null = accept everything), ready for the optimizer. */
export function generate(cs: CompilerState, root: Node | null): ICode {
  if (root === null) return { root: genRetblk(cs.snaplen), curMark: 0 };
  const p = genNode(cs, root);
  // finish_parse
  insertComputeVloffsets(cs, p.head);
  const ppi = genPpiDltCheck(cs);
  if (ppi !== null) genAnd(ppi, p);
  genOrBackpatch(cs, p);
  return { root: p.head, curMark: 0 };
}

function genOrBackpatch(cs: CompilerState, p: Block): void {
  backpatchAll(p, genRetblk(cs.snaplen));
  p.sense = !p.sense;
  backpatchAll(p, genRetblk(0));
}

function backpatchAll(list: Block, target: Block): void {
  let l: Block | null = list;
  while (l !== null) {
    let next: Block | null;
    if (!l.sense) { next = l.et.succ; l.et.succ = target; }
    else { next = l.ef.succ; l.ef.succ = target; }
    l = next;
  }
}

export { genOr };
