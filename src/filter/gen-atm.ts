// SunATM and SS7/MTP code generation (gencode.c): VPI/VCI and cell-type tests on the SunATM pseudo-header,
// the LANE encapsulation switch, UNI 3.1 signalling message types, and MTP2 frame types / MTP3 fields.
import { BPF_B, BPF_H, BPF_W, BPF_JEQ, BPF_JGT } from "../isa/cbpf/insn.ts";
import type { Block } from "./blocks.ts";
import { type CompilerState, DLT, OFFSET_NOT_SET, fail, pushLinkhdr } from "./state.ts";
import { OffRel, genAnd, genOr, genNcmp } from "./gen-core.ts";

export const A_VPI = 51, A_VCI = 52, A_PROTOTYPE = 53, A_MSGTYPE = 54;
const PT_LANE = 0x01, PT_LLC = 0x02;
const MSG_TYPE_POS = 5;
// UNI 3.1 message types (atmuni31.h).
const SETUP = 0x05, CALL_PROCEED = 0x02, CONNECT = 0x07, CONNECT_ACK = 0x0f, RELEASE = 0x4d, RELEASE_DONE = 0x5a;

export function genAtmfield(cs: CompilerState, field: number, value: number, jtype: number, reverse: boolean): Block {
  switch (field) {
    case A_VPI:
      if (!cs.isAtm) fail("'vpi' supported only on raw ATM");
      return genNcmp(cs, OffRel.LINKHDR, cs.offVpi, BPF_B, 0xffffffff, jtype, reverse, value);
    case A_VCI:
      if (!cs.isAtm) fail("'vci' supported only on raw ATM");
      return genNcmp(cs, OffRel.LINKHDR, cs.offVci, BPF_H, 0xffffffff, jtype, reverse, value);
    case A_PROTOTYPE:
      return genNcmp(cs, OffRel.LINKHDR, cs.offProto, BPF_B, 0x0f, jtype, reverse, value);
    case A_MSGTYPE:
      return genNcmp(cs, OffRel.LINKHDR, cs.offPayload + MSG_TYPE_POS, BPF_B, 0xffffffff, jtype, reverse, value);
  }
  throw new Error(`bad ATM field ${field}`);
}

const vpiVci = (cs: CompilerState, vci: number): Block => {
  const b0 = genAtmfield(cs, A_VPI, 0, BPF_JEQ, false);
  const b1 = genAtmfield(cs, A_VCI, vci, BPF_JEQ, false);
  genAnd(b0, b1);
  return b1;
};

/** SunATM LLC: the pseudo-header's protocol type; the link layer goes back to the one before LANE. */
export function genAtmtypeLlc(cs: CompilerState): Block {
  const b0 = genAtmfield(cs, A_PROTOTYPE, PT_LLC, BPF_JEQ, false);
  cs.linktype = cs.prevlinktype;
  return b0;
}

const ATMTYPE_NAMES: Readonly<Record<number, string>> = { 22: "metac", 23: "bcc", 24: "oam4sc", 25: "oam4ec", 26: "sc", 27: "ilmic", 30: "lane", 31: "llc" };

export function genAtmtypeAbbrev(cs: CompilerState, type: number): Block {
  if (!cs.isAtm) fail(`'${ATMTYPE_NAMES[type]}' supported only on raw ATM`);
  switch (type) {
    case 22: return vpiVci(cs, 1);
    case 23: return vpiVci(cs, 2);
    case 24: return vpiVci(cs, 3);
    case 25: return vpiVci(cs, 4);
    case 26: return vpiVci(cs, 5);
    case 27: return vpiVci(cs, 16);
    case 30: {
      const b1 = genAtmfield(cs, A_PROTOTYPE, PT_LANE, BPF_JEQ, false);
      // LANE: an Ethernet frame follows a 2-byte LE header after the SunATM pseudo-header.
      pushLinkhdr(cs, DLT.EN10MB, false, cs.offPayload + 2, -1);
      cs.offLinktype.constantPart = cs.offLinkhdr.constantPart + 12;
      cs.offLinkpl.constantPart = cs.offLinkhdr.constantPart + 14;
      cs.offNl = 0;
      cs.offNlNosnap = 3;
      return b1;
    }
    case 31: return genAtmtypeLlc(cs);
  }
  throw new Error(`bad ATM type ${type}`);
}

const msg = (cs: CompilerState, t: number): Block => genAtmfield(cs, A_MSGTYPE, t, BPF_JEQ, false);

export function genAtmmultiAbbrev(cs: CompilerState, type: number): Block {
  const names: Record<number, string> = { 28: "oam", 29: "oamf4", 70: "connectmsg", 71: "metaconnect" };
  if (!cs.isAtm) fail(`'${names[type]}' supported only on raw ATM`);
  if (type === 28 || type === 29) {
    let b0 = genAtmfield(cs, A_VCI, 3, BPF_JEQ, false);
    const b1 = genAtmfield(cs, A_VCI, 4, BPF_JEQ, false);
    genOr(b0, b1);
    b0 = genAtmfield(cs, A_VPI, 0, BPF_JEQ, false);
    genAnd(b0, b1);
    return b1;
  }
  const types = type === 70 ? [SETUP, CALL_PROCEED, CONNECT, CONNECT_ACK, RELEASE, RELEASE_DONE]
    : [SETUP, CALL_PROCEED, CONNECT, RELEASE, RELEASE_DONE];
  let b0 = msg(cs, types[0]!);
  const b1 = msg(cs, types[1]!);
  genOr(b0, b1);
  for (const t of types.slice(2)) { b0 = msg(cs, t); genOr(b0, b1); }
  b0 = vpiVci(cs, type === 70 ? 5 : 1);
  genAnd(b0, b1);
  return b1;
}

/** MTP2 offsets per link type: [li, li_hsl, sio, opc, dpc, sls]. */
function mtpOffsets(cs: CompilerState): readonly number[] | null {
  switch (cs.linktype) {
    case DLT.MTP2: return [2, 4, 3, 4, 4, 7];
    case DLT.MTP2_WITH_PHDR: return [6, 8, 7, 8, 8, 11];
    case DLT.ERF: return [22, 24, 23, 24, 24, 27];
  }
  return null;
}

export function genMtp2typeAbbrev(cs: CompilerState, type: number): Block {
  const names: Record<number, string> = { 22: "fisu", 23: "lssu", 24: "msu", 25: "hfisu", 26: "hlssu", 27: "hmsu" };
  const o = mtpOffsets(cs);
  if (o === null) fail(`'${names[type]}' supported only on ${type >= 25 ? "MTP2_HSL" : "MTP2"}`);
  const [li, liHsl] = [o[0]!, o[1]!];
  switch (type) {
    case 22: return genNcmp(cs, OffRel.PACKET, li, BPF_B, 0x3f, BPF_JEQ, false, 0);
    case 23: {
      const b0 = genNcmp(cs, OffRel.PACKET, li, BPF_B, 0x3f, BPF_JGT, true, 2);
      const b1 = genNcmp(cs, OffRel.PACKET, li, BPF_B, 0x3f, BPF_JGT, false, 0);
      genAnd(b1, b0);
      return b0;
    }
    case 24: return genNcmp(cs, OffRel.PACKET, li, BPF_B, 0x3f, BPF_JGT, false, 2);
    case 25: return genNcmp(cs, OffRel.PACKET, liHsl, BPF_H, 0xff80, BPF_JEQ, false, 0);
    case 26: {
      const b0 = genNcmp(cs, OffRel.PACKET, liHsl, BPF_H, 0xff80, BPF_JGT, true, 0x0100);
      const b1 = genNcmp(cs, OffRel.PACKET, liHsl, BPF_H, 0xff80, BPF_JGT, false, 0);
      genAnd(b1, b0);
      return b0;
    }
    default: return genNcmp(cs, OffRel.PACKET, liHsl, BPF_H, 0xff80, BPF_JGT, false, 0x0100);
  }
}

export function genMtp3field(cs: CompilerState, field: number, value: number, jtype: number, reverse: boolean): Block {
  const o = mtpOffsets(cs);
  const hsl = field >= 5 ? 3 : 0;
  const base = field >= 5 ? field - 4 : field;
  const names = ["", "sio", "opc", "dpc", "sls"];
  if (o === null || o[2] === OFFSET_NOT_SET) fail(`'${names[base]}' supported only on SS7`);
  switch (base) {
    case 1:
      if (value > 255) fail(`sio value ${value} too big; max value = 255`);
      return genNcmp(cs, OffRel.PACKET, o[2]! + hsl, BPF_B, 0xffffffff, jtype, reverse, value);
    case 2: {
      if (value > 16383) fail(`opc value ${value} too big; max value = 16383`);
      const v = ((value & 0x3c00) >>> 10) + ((value & 0x3fc) << 6) + ((value & 0x3) << 22);
      return genNcmp(cs, OffRel.PACKET, o[3]! + hsl, BPF_W, 0x00c0ff0f, jtype, reverse, v);
    }
    case 3: {
      if (value > 16383) fail(`dpc value ${value} too big; max value = 16383`);
      const v = (((value & 0xff) << 24) >>> 0) + ((value & 0x3f00) << 8);
      return genNcmp(cs, OffRel.PACKET, o[4]! + hsl, BPF_W, 0xff3f0000, jtype, reverse, v >>> 0);
    }
    default:
      if (value > 15) fail(`sls value ${value} too big; max value = 15`);
      return genNcmp(cs, OffRel.PACKET, o[5]! + hsl, BPF_B, 0xf0, jtype, reverse, value << 4);
  }
}
