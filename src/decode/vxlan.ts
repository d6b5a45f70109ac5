// VXLAN (RFC 7348) and Geneve (RFC 8926): the header, then the inner frame.

import { type Ctx } from "./context.ts";
import { ETHERTYPES } from "./names.ts";
import { etherPrint, ethertypePrint } from "./ether.ts";

export function vxlanPrint(ctx: Ctx, bp: number, len: number): void {
  ctx.proto = "vxlan";
  ctx.out += "VXLAN";
  if (len < 8) { ctx.out += " (invalid)"; return; }
  const flags = ctx.u8(bp);
  ctx.out += `, flags [${flags & 0x08 ? "I" : "invalid"}] (0x${flags.toString(16).padStart(2, "0")}), `;
  ctx.out += `vni ${ctx.u24(bp + 4)}\n`;
  ctx.u8(bp + 7);
  etherPrint(ctx, bp + 8, len - 8);
}

export function genevePrint(ctx: Ctx, bp: number, len: number): void {
  ctx.proto = "geneve";
  ctx.out += "Geneve";
  if (len < 8) { ctx.out += ` [length ${len} < 8] (invalid)`; return; }
  ctx.need(bp, 8);
  const verOpt = ctx.u8(bp);
  if (verOpt >> 6 !== 0) { ctx.out += ` ERROR: unknown-version ${verOpt >> 6}`; return; }
  const flags = ctx.u8(bp + 1);
  const prot = ctx.u16(bp + 2);
  const vni = ctx.u24(bp + 4);
  const rsvd = ctx.u8(bp + 7);
  let f = "";
  if (flags & 0x80) f += "O";
  if (flags & 0x40) f += "C";
  ctx.out += `, Flags [${f || "none"}], vni 0x${vni.toString(16)}`;
  if (rsvd) ctx.out += `, rsvd 0x${rsvd.toString(16)}`;
  if (ctx.o.eflag) ctx.out += `, proto ${ETHERTYPES.get(prot) ?? "unknown"} (0x${prot.toString(16).padStart(4, "0")})`;
  const optsLen = (verOpt & 0x3f) * 4;
  len -= 8;
  bp += 8;
  if (len < optsLen) { ctx.out += ` truncated-geneve - ${optsLen - len} bytes missing`; return; }
  ctx.need(bp, optsLen);
  if (optsLen > 0) {
    ctx.out += ", options [";
    if (ctx.o.vflag) geneveOptions(ctx, bp, optsLen);
    else ctx.out += `${optsLen} bytes`;
    ctx.out += "]";
  }
  bp += optsLen;
  len -= optsLen;
  ctx.out += ctx.o.vflag < 1 ? ": " : "\n\t";
  if (!ethertypePrint(ctx, prot, bp, len)) {
    if (prot === 0x6558) etherPrint(ctx, bp, len);
    else ctx.out += `geneve-proto-0x${prot.toString(16)}`;
  }
}

/** Who defines a Geneve option class (the IANA registry's names). */
function optionClass(c: number): string {
  const named = GENEVE_CLASSES.get(c);
  if (named !== undefined) return named;
  return c <= 0x00ff ? "Standard" : c >= 0xfff0 ? "Experimental" : "Unknown";
}
const GENEVE_CLASSES: ReadonlyMap<number, string> = new Map([
  [0x0100, "Linux"], [0x0101, "Open vSwitch"], [0x0102, "Open Virtual Networking (OVN)"],
  [0x0103, "In-band Network Telemetry (INT)"], [0x0104, "VMware"],
]);

/** -v: each option's class, type (critical bit as "(C)") and length; -vv adds the data words. */
function geneveOptions(ctx: Ctx, bp: number, len: number): void {
  let sep = "";
  while (len > 0) {
    ctx.out += sep;
    sep = ", ";
    const cls = ctx.u16(bp);
    const type = ctx.u8(bp + 2);
    const olen = 4 + (ctx.u8(bp + 3) & 0x1f) * 4;
    ctx.out += `class ${optionClass(cls)} (0x${cls.toString(16)}) type 0x${type.toString(16)}${type & 0x80 ? "(C)" : ""} len ${olen}`;
    if (olen > len) { ctx.out += " [bad length]"; return; }
    if (ctx.o.vflag > 1 && olen > 4) {
      ctx.out += " data";
      for (let i = 4; i < olen; i += 4) ctx.out += ` ${ctx.u32(bp + i).toString(16).padStart(8, "0")}`;
    }
    bp += olen;
    len -= olen;
  }
}
