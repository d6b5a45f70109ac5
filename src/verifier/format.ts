// Register and stack state rendered as the kernel's verifier log prints it (kernel/bpf/log.c print_verifier_state):
// `R0=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R1=ctx() R10=fp0 fp-8=mmmmmmmm`.
import { S32_MAX, S32_MIN, U32_MAX } from "./bounds.ts";
import { S64_MAX, S64_MIN, U64_MAX, eq, isZero, toBigS, toBigU } from "./i64.ts";
import type { Env } from "./env.ts";
import { regTypeStr } from "./regs.ts";
import type { Reg, State } from "./state.ts";
import { tnumIsConst, tnumIsUnknown, tnumToString } from "./tnum.ts";

const unum = (n: bigint): string => (n <= 0xffffn ? n.toString() : "0x" + n.toString(16));
function snum(n: bigint): string {
  if (n >= -0x8000n && n <= 0x7fffn) return n.toString();
  return "0x" + BigInt.asUintN(64, n).toString(16);
}

function scalarRanges(r: Reg): string[] {
  const b = r.b;
  const m = [
    { name: "smin", val: toBigS(b.smin), omit: eq(b.smin, S64_MIN) },
    { name: "smax", val: toBigS(b.smax), omit: eq(b.smax, S64_MAX) },
    { name: "umin", val: toBigU(b.umin), omit: isZero(b.umin) },
    { name: "umax", val: toBigU(b.umax), omit: eq(b.umax, U64_MAX) },
    { name: "smin32", val: BigInt(b.s32min), omit: b.s32min === S32_MIN },
    { name: "smax32", val: BigInt(b.s32max), omit: b.s32max === S32_MAX },
    { name: "umin32", val: BigInt(b.u32min), omit: b.u32min === 0 },
    { name: "umax32", val: BigInt(b.u32max), omit: b.u32max === U32_MAX },
  ];
  const out: string[] = [];
  for (let i = 0; i < m.length; i++) {
    const a = m[i]!;
    if (a.omit) continue;
    const neg1 = a.name[0] === "s" && a.val < 0n;
    let s = `${a.name}=`;
    for (let j = i + 2; j < m.length; j += 2) {
      const c = m[j]!;
      // Values compare as u64 in the kernel: a signed -1 equals an unsigned 0xffff...
      if (c.omit || BigInt.asUintN(64, c.val) !== BigInt.asUintN(64, a.val)) continue;
      const neg2 = c.name[0] === "s" && c.val < 0n;
      if (neg1 !== neg2) continue;
      c.omit = true;
      s += `${c.name}=`;
    }
    s += a.name[0] === "s" ? snum(a.val) : unum(a.val);
    out.push(s);
  }
  return out;
}

/** One register as print_reg_state renders it. */
export function formatReg(r: Reg, env: Env, frameno: number, precise = false): string {
  const p = precise && r.type === "scalar" ? "P" : "";
  if (r.type === "scalar" && tnumIsConst(r.b.varOff)) return p + snum(toBigS(r.b.varOff.value));
  let s = p + regTypeStr(r);
  if (r.type === "fp") {
    if (r.frameno !== frameno) s += `[${r.frameno}]`;
    if (tnumIsConst(r.b.varOff)) return s + snum(BigInt.asIntN(64, toBigU(r.b.varOff.value) + BigInt(r.off)));
  }
  const parts: string[] = [];
  if (r.id) parts.push(`id=${r.id}`);
  if (r.refObjId) parts.push(`ref_obj_id=${r.refObjId}`);
  if (r.type === "map_ptr" || r.type === "map_value" || r.type === "map_key") {
    const m = env.maps[r.map];
    if (m) { if (m.name) parts.push(`map=${m.name}`); parts.push(`ks=${m.keySize},vs=${m.valueSize}`); }
  }
  if (r.type !== "scalar" && r.off) parts.push(`off=${r.off}`);
  if (r.type === "pkt" || r.type === "pkt_meta") parts.push(`r=${r.range}`);
  if (r.type === "mem") parts.push(`sz=${r.range}`);
  if (tnumIsConst(r.b.varOff)) {
    if (!isZero(r.b.varOff.value)) parts.push(`imm=${toBigU(r.b.varOff.value).toString(16)}`);
  } else {
    parts.push(...scalarRanges(r));
    if (!tnumIsUnknown(r.b.varOff)) parts.push(`var_off=${tnumToString(r.b.varOff)}`);
  }
  return `${s}(${parts.join(",")})`;
}

/** The whole state of the current frame: registers then stack slots. */
export function formatState(st: State, env: Env, precise = 0): string {
  const fi = st.frames.length - 1;
  const f = st.frames[fi]!;
  const out: string[] = [];
  if (fi > 0) out.push(`frame${fi}:`);
  f.regs.forEach((r, i) => { if (r.type !== "not_init") out.push(`R${i}=${formatReg(r, env, fi, (precise & (1 << i)) !== 0)}`); });
  f.stack.forEach((slot, i) => {
    if (slot.bytes.every((b) => b === "?")) return;
    const name = `fp-${(i + 1) * 8}`;
    if (slot.bytes[7] === "r" && slot.spilled) out.push(`${name}=${formatReg(slot.spilled, env, fi)}`);
    else out.push(`${name}=${slot.bytes.slice().reverse().join("").replace(/\?/g, "?")}`);
  });
  return out.join(" ");
}
