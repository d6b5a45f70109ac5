// ALU instructions: operand checks, scalar arithmetic, and pointer arithmetic rules
// (the kernel's check_alu_op, adjust_reg_min_max_vals, adjust_ptr_min_max_vals).
import type { Insn } from "../isa/ebpf/insn.ts";
import {
  BPF_ADD, BPF_ALU, BPF_ALU64, BPF_AND, BPF_ARSH, BPF_DIV, BPF_END, BPF_K, BPF_LSH, BPF_MOD, BPF_MOV, BPF_MUL, BPF_NEG,
  BPF_OR, BPF_RSH, BPF_SUB, BPF_TO_BE, BPF_X, BPF_XOR, bpfClass, bpfOp, bpfSrc,
} from "../isa/ebpf/opcodes.ts";
import { type Bounds, boundsSync, copyBounds, isConst, knownBounds, mark32Unbounded, signExtend, truncate, unknownBounds, zext32 } from "./bounds.ts";
import { S64_MIN, ZERO, eq, fromS32, fromU32, toBigS, toBigU, toNumberS, toNumberU } from "./i64.ts";
import { type Env, EINVAL, newId, reject } from "./env.ts";
import { scalarAlu } from "./scalar-alu.ts";
import { type Reg, type RegType, copyReg, curFrame, isPktPointer, scalarReg } from "./state.ts";
import { tnumAdd, tnumSub, tnumToString } from "./tnum.ts";
import { checkRegRead, regTypeStr } from "./regs.ts";

const ALU_STR = ["+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=", "endian"];
const BPF_MAX_VAR_OFF = 1 << 29;

function reservedFields(env: Env, insn: Insn, cls: number): never {
  void insn; void cls;
  reject(env, "BPF_ALU uses reserved fields", EINVAL);
}

/** Validates the encoding of an ALU instruction (check_alu_op's reserved-field rules). */
function checkAluEncoding(env: Env, insn: Insn): void {
  const cls = bpfClass(insn.code), op = bpfOp(insn.code), src = bpfSrc(insn.code);
  if (op === BPF_END || op === BPF_NEG) {
    if (op === BPF_NEG) {
      if (src !== BPF_K || insn.src !== 0 || insn.off !== 0 || insn.imm !== 0) reject(env, "BPF_NEG uses reserved fields", EINVAL);
    } else if (insn.src !== 0 || insn.off !== 0 || (insn.imm !== 16 && insn.imm !== 32 && insn.imm !== 64) || (cls === BPF_ALU64 && src !== BPF_K)) {
      reject(env, "BPF_END uses reserved fields", EINVAL);
    }
    return;
  }
  if (op === BPF_MOV) {
    if (src === BPF_X) {
      if (cls === BPF_ALU) {
        if ((insn.off !== 0 && insn.off !== 8 && insn.off !== 16) || insn.imm) reject(env, "BPF_MOV uses reserved fields", EINVAL);
      } else if (insn.off === 32 ? insn.imm !== 0 : (insn.off !== 0 && insn.off !== 8 && insn.off !== 16 && insn.off !== 32) || insn.imm !== 0) {
        reject(env, "BPF_MOV uses reserved fields", EINVAL);
      }
    } else if (insn.src !== 0 || insn.off !== 0) reject(env, "BPF_MOV uses reserved fields", EINVAL);
    return;
  }
  if (op > BPF_END) reject(env, `invalid BPF_ALU opcode ${op.toString(16)}`, EINVAL);
  if (src === BPF_X) {
    if (insn.imm !== 0 || (insn.off !== 0 && insn.off !== 1) || ((op !== BPF_DIV && op !== BPF_MOD) && insn.off !== 0)) reservedFields(env, insn, cls);
  } else if (insn.src !== 0 || (insn.off !== 0 && insn.off !== 1) || ((op !== BPF_DIV && op !== BPF_MOD) && insn.off !== 0)) {
    reservedFields(env, insn, cls);
  }
}

export function checkAlu(env: Env, insn: Insn): void {
  checkAluEncoding(env, insn);
  const regs = curFrame(env.state).regs;
  const cls = bpfClass(insn.code), op = bpfOp(insn.code), alu32 = cls === BPF_ALU, srcX = bpfSrc(insn.code) === BPF_X;
  if (insn.dst > 10) reject(env, `R${insn.dst} is invalid`, EINVAL);
  if (srcX && op !== BPF_END && op !== BPF_NEG && insn.src > 10) reject(env, `R${insn.src} is invalid`, EINVAL);

  if (op === BPF_END || op === BPF_NEG) {
    checkRegRead(env, insn.dst);
    if (insn.dst === 10) reject(env, "frame pointer is read only", EACCES_);
    const d = regs[insn.dst]!;
    if (d.type !== "scalar") {
      if (env.unpriv) reject(env, `R${insn.dst} pointer arithmetic prohibited`);
      regs[insn.dst] = scalarReg();
      return;
    }
    if (op === BPF_NEG) { scalarAlu(BPF_NEG, d.b, knownBounds(ZERO), alu32); d.id = 0; return; }
    // Byte swaps: truncation is tracked for to-le, anything else is unknown.
    d.id = 0;
    if (bpfSrc(insn.code) !== BPF_TO_BE && cls === BPF_ALU) {
      if (insn.imm < 64) truncate(d.b, insn.imm / 8);
    } else if (!isConst(d.b) || true) {
      d.b = unknownBounds();
      if (insn.imm < 64) truncate(d.b, insn.imm / 8);
    }
    return;
  }

  if (op === BPF_MOV) {
    if (srcX) checkRegRead(env, insn.src);
    if (insn.dst === 10) reject(env, "frame pointer is read only", EACCES_);
    if (srcX) {
      const s = regs[insn.src]!;
      if (!alu32) {
        if (insn.off === 0) {
          // Linked scalars share an id so that a bound learned on one applies to the other (find_equal_scalars).
          if (s.type === "scalar" && s.id === 0 && !isConst(s.b)) s.id = newId(env);
          regs[insn.dst] = copyReg(s);
        } else {
          if (s.type !== "scalar") {
            if (env.unpriv) reject(env, `R${insn.src} sign-extension part of pointer`);
            regs[insn.dst] = scalarReg();
          } else {
            const r = scalarReg(copyBounds(s.b)); signExtend(r.b, insn.off / 8, false); regs[insn.dst] = r;
          }
        }
      } else {
        if (s.type !== "scalar") {
          if (env.unpriv) reject(env, `R${insn.src} partial copy of pointer`);
          regs[insn.dst] = scalarReg(); zext32(regs[insn.dst]!.b); boundsSync(regs[insn.dst]!.b);
        } else if (insn.off === 0) {
          // kernel (check_alu_op, BPF_MOV 32): copy, then zext_32_to_64 — the 64-bit bounds come from the 32-bit
          // ones, not from the tnum (after `if w7 > 16`, `w7 = w7` keeps umax 16). A source that fits in 32 bits is
          // the same value afterwards, so the two stay linked (assign_scalar_id_before_mov).
          const fits = s.b.umax.hi === 0;
          if (fits && s.id === 0 && !isConst(s.b)) s.id = newId(env);
          const r = fits ? copyReg(s) : scalarReg(copyBounds(s.b));
          zext32(r.b); boundsSync(r.b);
          regs[insn.dst] = r;
        } else {
          const r = scalarReg(copyBounds(s.b)); signExtend(r.b, insn.off / 8, true); regs[insn.dst] = r;
        }
      }
    } else {
      regs[insn.dst] = scalarReg(knownBounds(alu32 ? fromU32(insn.imm) : fromS32(insn.imm)));
    }
    return;
  }

  if (srcX) checkRegRead(env, insn.src);
  checkRegRead(env, insn.dst);
  if (insn.dst === 10) reject(env, "frame pointer is read only", EACCES_);
  if ((op === BPF_DIV || op === BPF_MOD) && !srcX && insn.imm === 0) reject(env, "div by zero", EINVAL);
  if ((op === BPF_LSH || op === BPF_RSH || op === BPF_ARSH) && !srcX) {
    const size = alu32 ? 32 : 64;
    if (insn.imm < 0 || insn.imm >= size) reject(env, `invalid shift ${insn.imm}`, EINVAL);
  }
  const dst = regs[insn.dst]!;
  const src: Reg = srcX ? regs[insn.src]! : scalarReg(knownBounds(alu32 ? fromU32(insn.imm) : fromS32(insn.imm)));
  adjustRegMinMax(env, insn, dst, src, op, alu32);
}

const EACCES_ = 13;

function adjustRegMinMax(env: Env, insn: Insn, dst: Reg, src: Reg, op: number, alu32: boolean): void {
  const regs = curFrame(env.state).regs;
  const dstPtr = dst.type !== "scalar", srcPtr = src.type !== "scalar";
  if (dstPtr && srcPtr) {
    if (op === BPF_SUB && !env.unpriv) { regs[insn.dst] = scalarReg(); return; }
    reject(env, `R${insn.dst} pointer ${ALU_STR[op >> 4]} pointer prohibited`);
  }
  if (dstPtr) { adjustPtr(env, insn, dst, src, op, alu32, insn.dst); return; }
  if (srcPtr) {
    // scalar OP pointer: checked as pointer arithmetic with the operands' roles swapped (the result lands in dst).
    adjustPtr(env, insn, copyReg(src), dst, op, alu32, insn.src);
    return;
  }
  const d = regs[insn.dst]!;
  scalarAlu(op, d.b, src.b, alu32);
  d.id = 0;
}

function ptrTypeName(r: Reg): string {
  return regTypeStr(r);
}

/** Pointer arithmetic (adjust_ptr_min_max_vals): only += / -= of a scalar, on types that allow it. */
function adjustPtr(env: Env, insn: Insn, ptr: Reg, off: Reg, op: number, alu32: boolean, ptrRegno: number): void {
  const regs = curFrame(env.state).regs;
  const dstno = insn.dst;
  if (alu32) {
    // 32-bit ALU on a pointer gives a meaningless scalar; only SUB is allowed, and only when pointers may leak.
    if (op === BPF_SUB && !env.unpriv) { regs[dstno] = scalarReg(); zext32(regs[dstno]!.b); boundsSync(regs[dstno]!.b); return; }
    reject(env, `R${dstno} 32-bit pointer arithmetic prohibited`);
  }
  if (ptr.maybeNull) reject(env, `R${dstno} pointer arithmetic on ${ptrTypeName(ptr)} prohibited, null-check it first`);
  const forbidden: RegType[] = ["map_ptr", "pkt_end"];
  if (forbidden.includes(ptr.type)) reject(env, `R${dstno} pointer arithmetic on ${ptrTypeName(ptr)} prohibited`);
  // check_reg_sane_offset on the offset register, before the operator is looked at.
  const o = off.b;
  if (isConst(o)) {
    const v = toBigS(o.varOff.value);
    if (v >= BigInt(BPF_MAX_VAR_OFF) || v <= -BigInt(BPF_MAX_VAR_OFF)) {
      reject(env, `math between ${ptrTypeName(ptr)} pointer and ${v} is not allowed`, EINVAL);
    }
  } else if (eq(o.smin, S64_MIN)) {
    reject(env, `math between ${ptrTypeName(ptr)} pointer and register with unbounded min value is not allowed`, EINVAL);
  } else if (toBigS(o.smin) >= BigInt(BPF_MAX_VAR_OFF) || toBigS(o.smin) <= -BigInt(BPF_MAX_VAR_OFF)) {
    reject(env, `value ${toBigS(o.smin)} makes ${ptrTypeName(ptr)} pointer be out of bounds`, EINVAL);
  }
  // Spectre v1 hardening for unprivileged programs (sanitize_ptr_alu): register offsets only on stack and map values.
  const offRegno = ptrRegno === insn.dst ? insn.src : insn.dst;
  if (env.unpriv && (op === BPF_ADD || op === BPF_SUB) && bpfSrc(insn.code) === BPF_X && !isConst(o) && (o.smin.hi < 0) !== (o.smax.hi < 0)) {
    reject(env, `R${offRegno} has unknown scalar with mixed signed bounds, pointer arithmetic with it prohibited for !root`);
  }
  if (env.unpriv && (op === BPF_ADD || op === BPF_SUB) && bpfSrc(insn.code) === BPF_X && ptr.type !== "fp" && ptr.type !== "map_value") {
    reject(env, `R${ptrRegno} has pointer with unsupported alu operation, pointer arithmetic with it prohibited for !root`);
  }
  if (op === BPF_SUB && ptrRegno !== dstno) reject(env, `R${dstno} tried to subtract pointer from scalar`);
  // JITs may not cope with subtraction from the frame pointer (kernel: test "invalid fp arithmetic").
  if (op === BPF_SUB && ptr.type === "fp") reject(env, `R${dstno} subtraction from stack pointer prohibited`);
  if (op === BPF_AND || op === BPF_OR || op === BPF_XOR) reject(env, `R${dstno} bitwise operator ${ALU_STR[op >> 4]} on pointer prohibited`);
  if (op !== BPF_ADD && op !== BPF_SUB) reject(env, `R${dstno} pointer arithmetic with ${ALU_STR[op >> 4]} operator prohibited`);
  const res = copyReg(ptr);
  if (isConst(o)) {
    const v = toNumberS(o.varOff.value);
    res.off = op === BPF_ADD ? ptr.off + v : ptr.off - v;
    if (Math.abs(res.off) >= BPF_MAX_VAR_OFF) reject(env, `value ${res.off} makes ${ptrTypeName(ptr)} pointer be out of bounds`, EINVAL);
  } else {
    const vb: Bounds = copyBounds(ptr.b);
    const ob = copyBounds(o);
    scalarAlu(op, vb, ob, false);
    vb.varOff = op === BPF_ADD ? tnumAdd(ptr.b.varOff, o.varOff) : tnumSub(ptr.b.varOff, o.varOff);
    // Pointers carry no 32-bit bounds of their own: only what the 64-bit result and the tnum imply.
    mark32Unbounded(vb);
    boundsSync(vb);
    res.b = vb;
    if (isPktPointer(res)) { res.id = newId(env); res.range = 0; }
  }
  if (env.unpriv && (res.type === "map_value" || res.type === "fp")) {
    // Speculative-execution hardening (retrieve_ptr_limit): unprivileged variable offsets must stay in bounds.
  }
  const sanitize = env.unpriv && bpfSrc(insn.code) === BPF_X && (ptr.type === "fp" || ptr.type === "map_value");
  if (sanitize) sanitizePaths(env, ptr, res, o, op, ptrRegno === dstno, dstno, false);
  if (env.unpriv) checkUnprivPointer(env, res, dstno);
  if (sanitize) sanitizePaths(env, ptr, res, o, op, ptrRegno === dstno, dstno, true);
  regs[dstno] = res;
}

/**
 * sanitize_ptr_alu's bookkeeping: the JIT masks the offset with one limit per instruction, so every path through an
 * unprivileged pointer += register must agree on the offset's sign, constness and the distance the pointer moves.
 */
function sanitizePaths(env: Env, before: Reg, after: Reg, off: Bounds, op: number, ptrIsDst: boolean, dstno: number, commit: boolean): void {
  const offNeg = off.smin.hi < 0;
  const maskLeft = (op === BPF_ADD && offNeg) || (op === BPF_SUB && !offNeg);
  const opName = op === BPF_ADD ? "add" : "sub";
  const limitOf = (r: Reg): number => r.type === "fp"
    ? -(toNumberS(r.b.varOff.value) + r.off)
    : (maskLeft ? toNumberS(r.b.smin) : toNumberU(r.b.umax)) + r.off;
  const max = before.type === "fp" ? 512 + (maskLeft ? 1 : 0) : (env.maps[before.map]?.valueSize ?? 0);
  const l1 = limitOf(before), l2 = limitOf(after);
  // The limit of the pointer before the operation is checked first, the one after it in the commit phase.
  if (commit ? l2 >= max || l2 < 0 : l1 >= max || l1 < 0) {
    reject(env, `R${dstno} tried to ${opName} beyond pointer bounds, pointer arithmetic with it prohibited for !root`);
  }
  if (!commit) return;
  const state = (offNeg ? 1 : 0) | (isConst(off) ? 2 : 0) | (ptrIsDst ? 4 : 8);
  const limit = Math.abs(l1 - l2);
  const seen = env.aluSanitation.get(env.pc);
  if (seen && (seen.state !== state || seen.limit !== limit)) {
    reject(env, `R${dstno} tried to ${opName} from different maps, paths or scalars, pointer arithmetic with it prohibited for !root`);
  }
  env.aluSanitation.set(env.pc, { state, limit });
}

/** sanitize_check_bounds: an unprivileged pointer must stay inside its object after arithmetic. */
function checkUnprivPointer(env: Env, r: Reg, regno: number): void {
  if (r.type === "fp") {
    if (!isConst(r.b)) reject(env, `R${regno} variable stack access prohibited for !root, var_off=${tnumToString(r.b.varOff)} off=${r.off}`);
    const off = r.off + toNumberS(r.b.varOff.value);
    if (off >= 0 || off < -512) reject(env, `R${regno} stack pointer arithmetic goes out of range, prohibited for !root; off=${off}`);
  } else if (r.type === "map_value") {
    const size = env.maps[r.map]?.valueSize ?? 0;
    const smin = toBigS(r.b.smin), umax = toBigU(r.b.umax);
    const lo = smin + BigInt(r.off), hi = umax + BigInt(r.off);
    if (smin < 0n || lo < 0n || umax >= 1n << 29n || hi + 1n > BigInt(size)) {
      reject(env, `R${regno} pointer arithmetic of map value goes out of range, prohibited for !root`);
    }
  }
}

export { unknownBounds };
