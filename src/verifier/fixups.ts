// The image a verified program becomes inside Linux 6.18 (x86-64, JIT on, loaded by root): bpf_check's rewrites
// after the walk, in the kernel's order — bpf_loop inlining, dead-branch hard-wiring, dead-code and nop removal,
// the tc unclone prologue and context-access conversion, do_misc_fixups (LD_ABS/LD_IND as helper calls, div/mod
// guards, inlined map lookups, map-ops and helper calls as kernel function addresses, tail calls, inlined per-CPU
// id, jiffies and branch snapshot), then jit_subprogs' call form. Every patch moves jumps, line info, func starts
// and per-instruction facts as bpf_patch_insn_data / bpf_remove_insns do, so `bpftool prog dump xlated` of the
// result lines up with the kernel's. x86-64 needs no zero-extension inserts. kfunc calls call the function's address
// (fixup_kfunc_call; none of the kfuncs bpfkit models is inlined). What is not modelled — the trampoline-only inlines
// of BPF_PROG_TYPE_TRACING (get_func_ip/arg/ret/arg_cnt), refused by bpfkit's verifier — is left as loaded and
// listed in `unmodelled`.
import { type Insn, insn } from "../isa/ebpf/insn.ts";
import type { InsnAux } from "./env.ts";
import { MAP_OPS, MAP_OP_OF_HELPER, ctxConverter, ctxFieldSize, genBranchSnapshot, genLdAbs, genLookup, genPrologue, helperFunction, type MapFacts } from "./kernel-tables.ts";

export interface KernelImageOptions {
  readonly progType: number;
  /** The program's maps by index (lddw imm before ids are assigned). */
  readonly maps: readonly MapFacts[];
  /** line_info insn_off values, in record order. */
  readonly lineOffs?: readonly number[];
  /** The call immediate of a kernel function by name: its address minus __bpf_call_base. */
  readonly callImm: (name: string) => number;
  /** The address of a kernel variable (jiffies, cpu_number) as the kernel would embed it. */
  readonly varAddress: (name: string) => bigint;
}

export interface KernelImage {
  readonly insns: Insn[];
  /** For each input line_info record: its new insn_off, or -1 when the kernel dropped it. */
  readonly lineOffs: number[];
  /** Subprogram starts after the rewrites (func_info insn_off); a subprogram removed as dead is dropped. */
  readonly funcStarts: number[];
  /** For each remaining subprogram, its index among the original ones (func_info records follow it). */
  readonly funcOrigin: number[];
  /** Rewrites bpfkit does not model, with the pc (in the loaded program) where the kernel would apply them. */
  readonly unmodelled: string[];
  /** The longest the image was along the way (instructions): the kernel's prog->pages grow with it and never shrink. */
  readonly maxLength: number;
}

interface Slot { insn: Insn; seen: boolean; ctx: boolean; callMap: number; tailKey: number; loopCb: number; kfunc?: string }

const JMP = 0x05, JMP32 = 0x06, CALL = 0x80, EXIT = 0x90, JA = 0x00;
const isJump = (x: Insn): boolean => {
  const cls = x.code & 7, op = x.code & 0xf0;
  return (cls === JMP || cls === JMP32) && op !== CALL && op !== EXIT;
};
const isPseudoCall = (x: Insn): boolean => x.code === (JMP | CALL) && x.src === 1;
const isPseudoFunc = (x: Insn): boolean => x.code === 0x18 && x.src === 4;
const isHelperCall = (x: Insn): boolean => x.code === (JMP | CALL) && x.src === 0;
const isCondJump = (x: Insn): boolean => isJump(x) && (x.code & 0xf0) !== JA;
/** gotol (JMP32|JA) keeps its offset in imm */
const jumpOff = (x: Insn): number => (x.code === (JMP32 | JA) ? x.imm : x.off);
const withJumpOff = (x: Insn, off: number): Insn => (x.code === (JMP32 | JA) ? { ...x, imm: off } : { ...x, off });

class Image {
  slots: Slot[];
  lines: { off: number; rec: number }[];
  /** subprogram starts plus the end sentinel, with their original indexes */
  subs: { start: number; origin: number }[];

  constructor(insns: readonly Insn[], aux: InsnAux, lineOffs: readonly number[]) {
    this.slots = insns.map((insn, pc) => ({
      insn, seen: aux.seen[pc] === 1, ctx: aux.ctxAccess.has(pc), callMap: aux.callMap.get(pc) ?? -2,
      tailKey: aux.tailKey.get(pc) ?? -1, loopCb: aux.loopInline.get(pc) ?? -1, kfunc: aux.kfuncs.get(pc),
    }));
    this.lines = lineOffs.map((off, rec) => ({ off, rec }));
    this.subs = [...aux.subprogs.map((start, origin) => ({ start, origin })), { start: insns.length, origin: -1 }];
    this.maxLength = insns.length;
  }

  get length(): number { return this.slots.length; }

  /** Jump and call targets after `map` renumbers instruction indexes (bpf_adj_branches). */
  private moveBranches(skipFrom: number, skipTo: number, map: (oldTarget: number, forward: boolean) => number, oldIndex: (i: number) => number): void {
    for (let i = 0; i < this.slots.length; i++) {
      if (i >= skipFrom && i < skipTo) continue;
      const s = this.slots[i]!, x = s.insn, oi = oldIndex(i);
      if (isPseudoCall(x) || isPseudoFunc(x)) {
        const t = oi + x.imm + 1;
        s.insn = { ...x, imm: map(t, t > oi) - i - 1 };
      } else if (isJump(x)) {
        const t = oi + jumpOff(x) + 1;
        s.insn = withJumpOff(x, map(t, t > oi) - i - 1);
      }
    }
  }

  /** bpf_patch_insn_data: slot `pos` becomes `repl`; the old slot's facts go with the patchlet's last instruction. */
  patch(pos: number, repl: readonly Insn[]): void {
    const delta = repl.length - 1;
    const old = this.slots[pos]!;
    const fresh: Slot[] = repl.map((insn, k) => (k === repl.length - 1
      ? { ...old, insn }
      : { insn, seen: old.seen, ctx: false, callMap: -2, tailKey: -1, loopCb: -1 }));
    this.slots.splice(pos, 1, ...fresh);
    this.maxLength = Math.max(this.maxLength, this.slots.length);
    if (delta === 0) return;
    this.moveBranches(pos, pos + repl.length, (t) => (t <= pos ? t : t + delta), (i) => (i < pos ? i : i - delta));
    for (const l of this.lines) if (l.off > pos) l.off += delta;
    for (const s of this.subs) if (s.start > pos) s.start += delta;
  }

  /** bpf_remove_insns + verifier_remove_insns: drop [off, off+cnt), moving line info and subprograms as the kernel does. */
  remove(off: number, cnt: number): void {
    this.slots.splice(off, cnt);
    this.moveBranches(-1, -1, (t) => (t < off ? t : t >= off + cnt ? t - cnt : off), (i) => (i < off ? i : i + cnt));
    // bpf_adj_linfo_after_remove: the first live instruction inherits the last removed line if it has none of its own
    const L = this.lines;
    let i = 0;
    while (i < L.length && L[i]!.off < off) i++;
    const lOff = i;
    let lCnt = 0;
    while (i < L.length && L[i]!.off < off + cnt) { lCnt++; i++; }
    if (this.slots.length !== off && lCnt && (i === L.length || L[i]!.off !== off + cnt)) {
      lCnt--;
      L[--i]!.off = off + cnt;
    }
    const dropped = L.splice(lOff, lCnt);
    for (const d of dropped) d.off = -1;
    this.dropped.push(...dropped);
    for (let k = lOff; k < L.length; k++) L[k]!.off -= cnt;
    // adjust_subprog_starts_after_remove: a subprogram entirely removed disappears with its func_info
    const S = this.subs, n = S.length - 1;
    let a = 0;
    while (a < n && S[a]!.start < off) a++;
    let b = a;
    while (b < n && S[b]!.start < off + cnt) b++;
    if (S[b]!.start !== off + cnt) b--;
    if (b > a) S.splice(a, b - a);
    else if (S[a]!.start === off) a++;
    for (let k = a; k < S.length; k++) S[k]!.start -= cnt;
  }

  readonly dropped: { off: number; rec: number }[] = [];
  maxLength = 0;

  subprogOf(pc: number): number {
    let s = 0;
    for (let i = 0; i < this.subs.length - 1; i++) if (this.subs[i]!.start <= pc) s = i;
    return s;
  }
}

/** optimize_bpf_loop / inline_bpf_loop: a bpf_loop call with flags 0 and one known callback becomes a counted loop. */
function inlineLoops(img: Image, stackDepth: readonly number[]): void {
  let cur = 0, depth = stackDepth[0] ?? 0, roundup = Math.ceil(depth / 8) * 8 - depth;
  for (let i = 0; i < img.length; i++) {
    const s = img.slots[i]!;
    if (isHelperCall(s.insn) && s.insn.imm === 181 && s.loopCb >= 0) {
      const cbSub = img.subs.findIndex((x) => x.start === s.loopCb);
      const base = -(depth + 24 + roundup);
      const [r6, r7, r8] = [base, base + 8, base + 16];
      img.patch(i, [
        insn(0xb5, 1, 0, 2, 1 << 23), insn(0xb4, 0, 0, 0, -7), insn(0x05, 0, 0, 16),
        insn(0x7b, 10, 6, r6), insn(0x7b, 10, 7, r7), insn(0x7b, 10, 8, r8),
        insn(0xbf, 6, 1), insn(0xb4, 7, 0, 0, 0), insn(0xbf, 8, 3),
        insn(0x3d, 7, 6, 5), insn(0xbf, 1, 7), insn(0xbf, 2, 8), insn(0x85, 0, 1, 0, 0),
        insn(0x07, 7, 0, 0, 1), insn(0x15, 0, 0, -6, 0), insn(0xbf, 0, 7),
        insn(0x79, 6, 10, r6), insn(0x79, 7, 10, r7), insn(0x79, 8, 10, r8),
      ]);
      const call = i + 12;
      const cbStart = img.subs[cbSub]!.start;
      img.slots[call]!.insn = { ...img.slots[call]!.insn, imm: cbStart - call - 1 };
      // the callback's slot now carries the loop's spills: its subprogram's stack grows by them
      i += 18;
    }
    const next = img.subs[cur + 1];
    if (next && next.start === i + 1) {
      cur++;
      depth = stackDepth[img.subs[cur]!.origin] ?? 0;
      roundup = Math.ceil(depth / 8) * 8 - depth;
    }
  }
}

/** opt_hard_wire_dead_code_branches, opt_remove_dead_code, opt_remove_nops (privileged loads). */
function removeDeadCode(img: Image): void {
  for (let i = 0; i < img.length; i++) {
    const s = img.slots[i]!;
    if (!isCondJump(s.insn)) continue;
    const off = s.insn.off;
    if (!img.slots[i + 1]?.seen) s.insn = insn(0x05, 0, 0, off);
    else if (!img.slots[i + 1 + off]?.seen) s.insn = insn(0x05, 0, 0, 0);
  }
  for (let i = 0; i < img.length; i++) {
    let j = 0;
    while (i + j < img.length && !img.slots[i + j]!.seen) j++;
    if (j) img.remove(i, j);
  }
  for (let i = 0; i < img.length; i++) {
    const x = img.slots[i]!.insn;
    if (x.code === 0x05 && x.dst === 0 && x.src === 0 && x.off === 0 && x.imm === 0) { img.remove(i, 1); i--; }
  }
}

/** convert_ctx_accesses: context loads and stores become reads of the kernel's own structures. */
function convertCtx(img: Image, progType: number, directWrite: boolean, unmodelled: string[]): void {
  const prologue = genPrologue(progType, directWrite);
  if (prologue.length) img.patch(0, [...prologue, img.slots[0]!.insn]);
  const tstampTypeAccess = img.slots.some((s) => s.ctx && (s.insn.code & 7) === 0x01 && s.insn.off === 180);
  const conv = ctxConverter(progType, { tstampTypeAccess });
  if (conv === undefined) {
    if (img.slots.some((s) => s.ctx)) unmodelled.push(`context accesses of program type ${progType}`);
    return;
  }
  for (let i = 0; i < img.length; i++) {
    const s = img.slots[i]!;
    if (!s.ctx) continue;
    const x = s.insn;
    const write = (x.code & 7) !== 0x01;
    const size = [4, 2, 1, 8][(x.code >> 3) & 3]!;
    const fieldSize = ctxFieldSize(progType, x.off);
    const narrow = !write && fieldSize > 0 && size < fieldSize;
    let ldInsn = x;
    if (narrow) {
      const sizeCode = fieldSize === 4 ? 0x00 : fieldSize === 8 ? 0x18 : 0x08;
      ldInsn = { ...x, code: 0x61 | sizeCode, off: x.off & ~(fieldSize - 1) };
    }
    const c = conv(ldInsn, ldInsn.off, write);
    if (c === undefined) {
      if (progType !== 2 && progType !== 5 && progType !== 9 && progType !== 17 && progType !== 26) unmodelled.push(`context field at offset ${x.off} (${write ? "store" : "load"})`);
      continue;
    }
    const out = c.insns.slice();
    if (narrow && size < c.targetSize) {
      const shift = (x.off & (fieldSize - 1)) * 8;
      if (fieldSize <= 4) {
        if (shift) out.push(insn(0x74, x.dst, 0, 0, shift));
        out.push(insn(0x54, x.dst, 0, 0, size * 8 >= 32 ? -1 : (1 << (size * 8)) - 1));
      } else {
        if (shift) out.push(insn(0x77, x.dst, 0, 0, shift));
        out.push(insn(0x54, x.dst, 0, 0, size * 8 >= 32 ? -1 : (1 << (size * 8)) - 1));
      }
    }
    if ((x.code & 0xe0) === 0x80 && (x.code & 7) === 1) out.push(insn(0xbf, x.dst, x.dst, size * 8)); // MEMSX: sign-extend
    img.patch(i, out);
    i += out.length - 1;
  }
}

/** do_misc_fixups for the instructions bpfkit's programs use. */
function miscFixups(img: Image, o: KernelImageOptions, unmodelled: string[]): void {
  for (let i = 0; i < img.length; i++) {
    const s = img.slots[i]!, x = s.insn;
    const cls = x.code & 7, op = x.code & 0xf0;
    if ((cls === 0x04 || cls === 0x07) && (op === 0x30 || op === 0x90) && (x.code & 0x08)) {
      const is64 = cls === 0x07, isDiv = op === 0x30, j = is64 ? JMP : JMP32;
      const signed = x.off === 1;
      let p: Insn[];
      if (signed && isDiv) {
        p = [insn(0xbf, 11, x.src), insn(cls | 0x00, 11, 0, 0, 1), insn(j | 0x20, 11, 0, 4, 1), insn(j | 0x10, 11, 0, 1, 0),
          insn(cls | 0xb0, x.dst, 0, 0, 0), insn(cls | 0x80, x.dst), insn(0x05, 0, 0, 1), x];
      } else if (signed) {
        p = [insn(0xbf, 11, x.src), insn(cls | 0x00, 11, 0, 0, 1), insn(j | 0x20, 11, 0, 3, 1), insn(j | 0x10, 11, 0, 3 + (is64 ? 0 : 1), 1),
          insn(0xb4, x.dst, 0, 0, 0), insn(0x05, 0, 0, 1), x, insn(0x05, 0, 0, 1), insn(0xbc, x.dst, x.dst)];
        if (is64) p = p.slice(0, -2);
      } else if (isDiv) {
        p = [insn(j | 0x50, x.src, 0, 2, 0), insn(0xac, x.dst, x.dst), insn(0x05, 0, 0, 1), x];
      } else {
        p = [insn(j | 0x10, x.src, 0, 1 + (is64 ? 0 : 1), 0), x, insn(0x05, 0, 0, 1), insn(0xbc, x.dst, x.dst)];
        if (is64) p = p.slice(0, 2);
      }
      img.patch(i, p);
      i += p.length - 1;
      continue;
    }
    if ((cls === 0x04 || cls === 0x07) && (op === 0x30 || op === 0x90) && x.off === 1 && x.imm === -1) {
      const p = op === 0x30 ? [insn(cls | 0x80, x.dst)] : [insn(0xb4, x.dst, 0, 0, 0)];
      img.patch(i, p);
      continue;
    }
    if (cls === 0x00 && ((x.code & 0xe0) === 0x20 || (x.code & 0xe0) === 0x40)) {
      const p = genLdAbs(x, (name) => insn(JMP | CALL, 0, 0, 0, o.callImm(name)));
      img.patch(i, p);
      i += p.length - 1;
      continue;
    }
    // fixup_kfunc_call: a kfunc call keeps its source and calls the function's address (x86-64: no far calls)
    if (s.kfunc !== undefined && x.code === (JMP | CALL) && x.src === 2) { s.insn = { ...x, imm: o.callImm(s.kfunc) }; continue; }
    if (!isHelperCall(x)) continue;
    const id = x.imm;
    if (id === 12) {
      // the kernel marks tail calls BPF_TAIL_CALL, and bpf_insn_prepare_dump shows them as call bpf_tail_call#12 again
      continue;
    }
    const mapOp = MAP_OP_OF_HELPER[id];
    if (mapOp !== undefined && s.callMap >= 0) {
      const map = o.maps[s.callMap]!;
      if (id === 1) {
        const gen = genLookup(map, { ...x, imm: o.callImm("__htab_map_lookup_elem") });
        if (gen) { img.patch(i, gen); i += gen.length - 1; continue; }
      }
      const fn = MAP_OPS[map.type]?.[mapOp];
      if (typeof fn === "string") { s.insn = { ...x, imm: o.callImm(fn) }; continue; }
    }
    if (id === 8) {
      // inlined as a per-CPU read of cpu_number (x86-64 JITs per-CPU address moves)
      const p = [insn(0xb7, 0, 0, 0, Number(BigInt.asIntN(32, o.varAddress("cpu_number")))), insn(0xbf, 0, 0, -1), insn(0x61, 0, 0, 0)];
      img.patch(i, p);
      i += p.length - 1;
      continue;
    }
    if (id === 176) {
      const p = genBranchSnapshot(insn(JMP | CALL, 0, 0, 0, o.callImm("__static_call_return0")));
      img.patch(i, p);
      i += p.length - 1;
      continue;
    }
    if (id === 118) {
      const a = o.varAddress("jiffies");
      const p = [insn(0x18, 0, 0, 0, Number(BigInt.asIntN(32, a))), insn(0, 0, 0, 0, Number(BigInt.asIntN(32, a >> 32n))), insn(0x79, 0, 0, 0)];
      img.patch(i, p);
      i += p.length - 1;
      continue;
    }
    s.insn = { ...x, imm: o.callImm(helperFunction(id, o.progType)) };
  }
}

/** jit_subprogs leaves bpf-to-bpf calls as off = relative target, imm = callee index; callback loads likewise. */
function jitCallForm(img: Image): void {
  if (img.subs.length <= 2) return;
  const starts = img.subs.slice(0, -1).map((s) => s.start);
  for (let i = 0; i < img.length; i++) {
    const x = img.slots[i]!.insn;
    if (isPseudoCall(x)) img.slots[i]!.insn = { ...x, off: x.imm, imm: starts.indexOf(i + x.imm + 1) };
    else if (isPseudoFunc(x)) {
      img.slots[i + 1]!.insn = { ...img.slots[i + 1]!.insn, imm: starts.indexOf(i + x.imm + 1) };
    }
  }
}

/** The kernel's xlated image of a program bpfkit's verifier accepted (`aux` from its VerifyResult). */
export function kernelImage(insns: readonly Insn[], aux: InsnAux, o: KernelImageOptions): KernelImage {
  const img = new Image(insns, aux, o.lineOffs ?? []);
  const unmodelled: string[] = [];
  inlineLoops(img, aux.stackDepth);
  removeDeadCode(img);
  convertCtx(img, o.progType, aux.directWrite, unmodelled);
  miscFixups(img, o, unmodelled);
  jitCallForm(img);
  const lineOffs = new Array<number>(o.lineOffs?.length ?? 0).fill(-1);
  for (const l of img.lines) lineOffs[l.rec] = l.off;
  const subs = img.subs.slice(0, -1);
  return { insns: img.slots.map((s) => s.insn), lineOffs, funcStarts: subs.map((s) => s.start), funcOrigin: subs.map((s) => s.origin), unmodelled, maxLength: img.maxLength };
}

/**
 * The instructions of subprogram `k` as jit_subprogs hands them to bpf_prog_calc_tag: calls carry the callee index
 * in off and 1 in imm. (Helper addresses and callback addresses are the kernel's: tags of functions holding them
 * can only match when the addresses do.)
 */
export function subprogForTag(image: KernelImage, k: number): Insn[] {
  const start = image.funcStarts[k]!, end = image.funcStarts[k + 1] ?? image.insns.length;
  return image.insns.slice(start, end).map((x) => (isPseudoCall(x) ? { ...x, off: x.imm, imm: 1 } : x));
}
