// 802.11 code generation (gencode.c): data-frame tests, the To-DS/From-DS address logic of `wlan host`, frame
// type/subtype/direction tests, and the prologue that computes the radiotap/Prism/AVS/PPI and 802.11 header lengths
// into scratch registers at the start of the program (the payload offset is only known at run time).
import {
  BPF_LD, BPF_LDX, BPF_ST, BPF_ALU, BPF_JMP, BPF_ABS, BPF_IND, BPF_MEM, BPF_IMM, BPF_K, BPF_X, BPF_B, BPF_W,
  BPF_AND, BPF_ADD, BPF_JEQ, BPF_JSET, BPF_MISC, BPF_TAX, BPF_TXA, BPF_LSH, BPF_OR,
} from "../isa/cbpf/insn.ts";
import { type Block, type SList, newBlock, newStmt, sappend } from "./blocks.ts";
import { type CompilerState, DLT, allocReg, fail } from "./state.ts";
import { OffRel, JMP, genAnd, genOr, genNot, genMcmp, genBcmp, genJset as jset } from "./gen-core.ts";
import { Q_SRC, Q_DST, Q_AND, Q_OR, Q_DEFAULT, Q_ADDR1, Q_ADDR2, Q_ADDR3, Q_ADDR4, Q_RA, Q_TA } from "./ast.ts";

export const swapLong = (y: number): number => (((y & 0xff) << 24) | ((y & 0xff00) << 8) | ((y >>> 8) & 0xff00) | ((y >>> 24) & 0xff)) >>> 0;
export const is80211 = (lt: number): boolean => lt === DLT.IEEE802_11 || lt === DLT.PRISM_HEADER || lt === DLT.IEEE802_11_RADIO_AVS
  || lt === DLT.IEEE802_11_RADIO || lt === DLT.PPI;

export function check80211DataFrame(cs: CompilerState): Block {
  const b0 = jset(cs, OffRel.LINKHDR, 0, 0x08);
  const b1 = jset(cs, OffRel.LINKHDR, 0, 0x04);
  genNot(b1);
  genAnd(b1, b0);
  return b0;
}

/**
 * (bit set && whenSet()) || (bit clear && whenClear()) for a frame-control bit at `off`/`mask` of the 802.11 header,
 * the result in whenSet's block: gencode.c chains these to find an address by the To-DS/From-DS/data bits, and the
 * blocks are made in its order (bit test, whenSet, negated bit test, whenClear), so the program is tcpdump's.
 */
export function genIfFrameBit(cs: CompilerState, off: number, mask: number, whenSet: () => Block, whenClear: () => Block): Block {
  const set = jset(cs, OffRel.LINKHDR, off, mask);
  const b0 = whenSet();
  genAnd(set, b0);
  const clear = jset(cs, OffRel.LINKHDR, off, mask);
  genNot(clear);
  const b1 = whenClear();
  genAnd(clear, b1);
  genOr(b1, b0);
  return b0;
}

function wlanDataHostop(cs: CompilerState, e: Uint8Array, dir: number): Block {
  // Which address field holds the source/destination depends on the To-DS/From-DS bits (tcpdump's 802.11 logic).
  const src = dir === Q_SRC;
  const b0 = genIfFrameBit(cs, 1, 0x01, () => genBcmp(cs, OffRel.LINKHDR, src ? 24 : 16, e),
    () => genBcmp(cs, OffRel.LINKHDR, src ? 16 : 4, e));
  if (src) genIfFrameBit(cs, 1, 0x02, () => b0, () => genBcmp(cs, OffRel.LINKHDR, 10, e));
  genIfFrameBit(cs, 0, 0x08, () => b0, () => genBcmp(cs, OffRel.LINKHDR, src ? 10 : 4, e));
  const b1 = jset(cs, OffRel.LINKHDR, 0, 0x04);
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

