// Encapsulations that move the offsets for the rest of the expression (gencode.c): VLAN tags, MPLS labels,
// PPPoE sessions (the link layer becomes PPP) and Geneve (the link layer becomes the inner Ethernet frame, at an
// offset computed at run time).
import {
  BPF_LD, BPF_LDX, BPF_ST, BPF_STX, BPF_ALU, BPF_JMP, BPF_IND, BPF_MEM, BPF_IMM, BPF_K, BPF_X, BPF_B, BPF_H,
  BPF_W, BPF_AND, BPF_ADD, BPF_MUL, BPF_JEQ, BPF_MISC, BPF_TAX, BPF_TXA,
} from "../isa/cbpf/insn.ts";
import { type Block, type SList, newBlock, newStmt, sappend } from "./blocks.ts";
import { type CompilerState, DLT, ETHERTYPE, PPP, allocReg, describe, fail, pushLinkhdr } from "./state.ts";
import { OffRel, JMP, genAnd, genOr, genMcmp, genTrue, loadxIpHdrLen, absOffsetVarpart } from "./gen-core.ts";
import { genLinktype, isEthernet } from "./gen-link.ts";

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
