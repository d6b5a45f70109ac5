// Whole-program structure checks before any path is explored, in the kernel's order: encodings and ld_imm64
// (resolve_pseudo_ldimm64), subprogram boundaries and jump ranges (check_subprogs), reachability and
// back-edges (check_cfg); plus a static register liveness used for state pruning.
import type { Insn } from "../isa/ebpf/insn.ts";
import {
  BPF_ABS, BPF_ALU, BPF_ALU64, BPF_ATOMIC, BPF_CALL, BPF_DW, BPF_END, BPF_EXIT, BPF_IMM, BPF_IND, BPF_JA, BPF_JMP, BPF_JMP32,
  BPF_JSLE, BPF_LD, BPF_LDX, BPF_MEM, BPF_MEMSX, BPF_NEG, BPF_PSEUDO_CALL, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_IDX,
  BPF_PSEUDO_MAP_IDX_VALUE, BPF_PSEUDO_MAP_VALUE, BPF_PSEUDO_FUNC, BPF_PSEUDO_KFUNC_CALL, BPF_ST, BPF_STX, BPF_X, bpfClass, bpfMode, bpfOp, bpfSize, bpfSrc,
} from "../isa/ebpf/opcodes.ts";
import { type Env, E2BIG, EINVAL, reject } from "./env.ts";
import { addKfuncCall } from "./check-kfunc.ts";
import { helperProto } from "../helpers/protos.ts";

/** may_goto (BPF_JMP | BPF_JCOND): a bounded escape the kernel may take at any time. */
export const BPF_JCOND = 0xe0;

/** Whether `code` is an instruction the kernel knows (bpf_opcode_in_insntable). */
export function opcodeKnown(code: number): boolean {
  const cls = bpfClass(code), op = bpfOp(code), src = bpfSrc(code);
  switch (cls) {
    case BPF_ALU: case BPF_ALU64:
      if (op > BPF_END) return false;
      if (op === BPF_NEG) return src === 0;
      if (op === BPF_END && cls === BPF_ALU64) return src === 0;
      return true;
    case BPF_JMP:
      if (op === BPF_JA || op === BPF_CALL || op === BPF_EXIT || op === BPF_JCOND) return src === 0;
      return op <= BPF_JSLE;
    case BPF_JMP32:
      if (op === BPF_JA) return src === 0;
      if (op === BPF_CALL || op === BPF_EXIT) return false;
      return op <= BPF_JSLE;
    case BPF_LD: {
      const m = bpfMode(code), s = bpfSize(code);
      if (m === BPF_IMM) return s === BPF_DW;
      return (m === BPF_ABS || m === BPF_IND) && s !== BPF_DW;
    }
    case BPF_LDX: return bpfMode(code) === BPF_MEM || (bpfMode(code) === BPF_MEMSX && bpfSize(code) !== BPF_DW);
    case BPF_ST: return bpfMode(code) === BPF_MEM;
    case BPF_STX: return bpfMode(code) === BPF_MEM || bpfMode(code) === BPF_ATOMIC;
  }
  return false;
}

export const isLdImm64 = (i: Insn): boolean => i.code === (BPF_LD | BPF_IMM | BPF_DW);

/** MAX_USED_MAPS: distinct maps one program may reference (kernel: include/linux/bpf.h). */
const MAX_USED_MAPS = 64;

function resolveLdImm64(env: Env): void {
  const insns = env.insns;
  const used = new Set<object>();
  for (let i = 0; i < insns.length; i++) {
    const insn = insns[i]!;
    env.pc = i;
    if (bpfClass(insn.code) === BPF_LDX && ((bpfMode(insn.code) !== BPF_MEM && bpfMode(insn.code) !== BPF_MEMSX) || insn.imm !== 0)) {
      reject(env, "BPF_LDX uses reserved fields", EINVAL);
    }
    if (isLdImm64(insn)) {
      const next = insns[i + 1];
      if (!next || next.code !== 0 || next.dst !== 0 || next.src !== 0 || next.off !== 0) reject(env, "invalid bpf_ld_imm64 insn", EINVAL);
      if (insn.src === 0) { i++; continue; }
      if (insn.src === BPF_PSEUDO_MAP_FD || insn.src === BPF_PSEUDO_MAP_VALUE || insn.src === BPF_PSEUDO_MAP_IDX || insn.src === BPF_PSEUDO_MAP_IDX_VALUE) {
        const map = env.maps[insn.imm];
        if (!map) reject(env, `fd ${insn.imm} is not pointing to valid bpf_map`, 9);
        if (insn.src === BPF_PSEUDO_MAP_VALUE || insn.src === BPF_PSEUDO_MAP_IDX_VALUE) {
          // Direct value access: only single-element arrays (array_map_direct_value_addr).
          const off = next.imm >>> 0;
          if (map.type !== 2) reject(env, "no direct value access support for this map type", EINVAL);
          if (map.maxEntries !== 1) reject(env, `invalid access to map value pointer, value_size=${map.valueSize} off=${off}`, 524);
          if (off >= map.valueSize) reject(env, `invalid access to map value pointer, value_size=${map.valueSize} off=${off}`, EINVAL);
        }
        if (!used.has(map)) {
          if (used.size >= MAX_USED_MAPS) reject(env, `The total number of maps per program has reached the limit of ${MAX_USED_MAPS}`, E2BIG);
          used.add(map);
        }
        i++;
        continue;
      }
      if (insn.src === BPF_PSEUDO_FUNC) {
        if (env.unpriv) reject(env, "loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN", 1);
        i++;
        continue;
      }
      reject(env, "unrecognized bpf_ld_imm64 insn", EINVAL);
    }
    if (!opcodeKnown(insn.code)) reject(env, `unknown opcode ${insn.code.toString(16).padStart(2, "0")}`, EINVAL);
  }
}

const isPseudoCall = (i: Insn): boolean => i.code === (BPF_JMP | BPF_CALL) && i.src === BPF_PSEUDO_CALL;

/** Jump target of a jump instruction at `pc` (gotol uses imm). */
export function jumpTarget(insn: Insn, pc: number): number {
  return insn.code === (BPF_JMP32 | BPF_JA) ? pc + insn.imm + 1 : pc + insn.off + 1;
}

function checkSubprogs(env: Env): void {
  const insns = env.insns;
  const starts = new Set<number>([0]);
  for (let i = 0; i < insns.length; i++) {
    const insn = insns[i]!;
    if (isLdImm64(insn) && insn.src === BPF_PSEUDO_FUNC) {
      // A callback's address (bpf_loop and friends): its target starts a subprogram too.
      env.pc = i;
      const t = i + insn.imm + 1;
      if (t < 0 || t >= insns.length) reject(env, "call to invalid destination", EINVAL);
      starts.add(t);
    }
    if (isLdImm64(insn)) { i++; continue; }
    if (isPseudoCall(insn)) {
      env.pc = i;
      if (env.unpriv) reject(env, "loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN", 1);
      const t = i + insn.imm + 1;
      if (t < 0 || t >= insns.length) reject(env, "call to invalid destination", EINVAL);
      starts.add(t);
    }
    if (insn.code === (BPF_JMP | BPF_CALL) && insn.src === BPF_PSEUDO_KFUNC_CALL) { env.pc = i; addKfuncCall(env, insn); }
  }
  env.subprogs = [...starts].sort((a, b) => a - b);
  env.stackDepth = env.subprogs.map(() => 0);
  let sub = 0;
  let end = env.subprogs[1] ?? insns.length;
  for (let i = 0; i < insns.length; i++) {
    const insn = insns[i]!;
    const cls = bpfClass(insn.code);
    env.pc = i;
    if ((cls === BPF_JMP || cls === BPF_JMP32) && bpfOp(insn.code) !== BPF_EXIT && bpfOp(insn.code) !== BPF_CALL) {
      const t = jumpTarget(insn, i);
      if (t < env.subprogs[sub]! || t >= end) reject(env, `jump out of range from insn ${i} to ${t}`, EINVAL);
    }
    if (i === end - 1) {
      if (insn.code !== (BPF_JMP | BPF_EXIT) && insn.code !== (BPF_JMP32 | BPF_JA) && insn.code !== (BPF_JMP | BPF_JA)) {
        reject(env, "last insn is not an exit or jmp", EINVAL);
      }
      sub++;
      end = env.subprogs[sub + 1] ?? insns.length;
    }
  }
}

/** Successors of the insn at pc for the CFG walk (calls continue after the call; the callee is its own root). */
export function successors(insns: readonly Insn[], pc: number): number[] {
  const insn = insns[pc]!;
  const cls = bpfClass(insn.code), op = bpfOp(insn.code);
  if (isLdImm64(insn)) return insn.src === BPF_PSEUDO_FUNC ? [pc + 2, pc + insn.imm + 1] : [pc + 2];
  if (cls === BPF_JMP || cls === BPF_JMP32) {
    if (op === BPF_EXIT) return [];
    if (op === BPF_CALL) return isPseudoCall(insn) ? [pc + 1, pc + insn.imm + 1] : [pc + 1];
    if (op === BPF_JA) return [jumpTarget(insn, pc)];
    return [pc + 1, jumpTarget(insn, pc)];
  }
  return [pc + 1];
}

function checkCfg(env: Env): void {
  const insns = env.insns;
  const n = insns.length;
  const state = new Uint8Array(n); // 0 unvisited, 1 discovered, 2 explored
  const stack: number[] = [0];
  const nextIdx = new Int32Array(n);
  state[0] = 1;
  while (stack.length) {
    const t = stack[stack.length - 1]!;
    const succ = successors(insns, t);
    const k = nextIdx[t]!;
    if (k >= succ.length) { state[t] = 2; stack.pop(); continue; }
    nextIdx[t] = k + 1;
    const w = succ[k]!;
    env.pc = t;
    if (w < 0 || w >= n) reject(env, `jump out of range from insn ${t} to ${w}`, EINVAL);
    if (state[w] === 0) { state[w] = 1; stack.push(w); }
    else if (state[w] === 1) {
      if (env.unpriv) reject(env, `back-edge from insn ${t} to ${w}`, EINVAL);
    }
  }
  for (let i = 0; i < n; i++) {
    env.pc = i;
    if (state[i] !== 2) reject(env, `unreachable insn ${i}`, EINVAL);
    if (isLdImm64(insns[i]!)) {
      if (state[i + 1] !== 0) reject(env, `jump into the middle of ldimm64 insn ${i}`, EINVAL);
      i++;
    }
  }
}

/** Runs the structural passes; rejects with the kernel's message on the first problem. */
export function checkStructure(env: Env): void {
  resolveLdImm64(env);
  checkSubprogs(env);
  checkCfg(env);
}

/** Registers read and written by one instruction, as bit masks (for the liveness pass). */
export function liveUseDef(insn: Insn): [number, number] {
  return useDef(insn);
}

function useDef(insn: Insn): [number, number] {
  const cls = bpfClass(insn.code), op = bpfOp(insn.code), x = bpfSrc(insn.code) === BPF_X;
  const bit = (r: number): number => (r < 11 ? 1 << r : 0);
  const ARGS = 0b111110, CALLER = 0b111111;
  switch (cls) {
    case BPF_ALU: case BPF_ALU64:
      if (op === 0xb0) return [x ? bit(insn.src) : 0, bit(insn.dst)];
      return [bit(insn.dst) | (x && op !== BPF_END && op !== BPF_NEG ? bit(insn.src) : 0), bit(insn.dst)];
    case BPF_LDX: return [bit(insn.src), bit(insn.dst)];
    case BPF_ST: return [bit(insn.dst), 0];
    case BPF_STX:
      if (bpfMode(insn.code) === BPF_ATOMIC) return [bit(insn.dst) | bit(insn.src) | 1, bit(insn.src) | 1];
      return [bit(insn.dst) | bit(insn.src), 0];
    case BPF_LD:
      if (isLdImm64(insn)) return [0, bit(insn.dst)];
      return [bit(6) | (bpfMode(insn.code) === BPF_IND ? bit(insn.src) : 0), CALLER];
    case BPF_JMP: case BPF_JMP32:
      if (op === BPF_EXIT) return [1, 0];
      if (op === BPF_CALL) {
        // A helper reads only its declared arguments; other calls may read all five.
        const proto = insn.src === 0 ? helperProto(insn.imm) : undefined;
        return [proto ? ((1 << (proto.args.length + 1)) - 2) : ARGS, CALLER];
      }
      if (op === BPF_JA) return [0, 0];
      return [bit(insn.dst) | (x ? bit(insn.src) : 0), 0];
  }
  return [0, 0];
}

/** Live-in register mask per instruction (backward dataflow to a fixed point). R10 is always live. */
export function liveRegisters(insns: readonly Insn[]): Uint16Array {
  const n = insns.length;
  const live = new Uint16Array(n);
  const ud = insns.map(useDef);
  let changed = true;
  while (changed) {
    changed = false;
    for (let pc = n - 1; pc >= 0; pc--) {
      const insn = insns[pc]!;
      if (pc > 0 && isLdImm64(insns[pc - 1]!)) continue;
      let out = 0;
      const cls = bpfClass(insn.code);
      const isCall = (cls === BPF_JMP) && bpfOp(insn.code) === BPF_CALL && insn.src === BPF_PSEUDO_CALL;
      for (const s of successors(insns, pc)) {
        if (s < n) out |= live[s]!;
      }
      if (isCall) out = live[pc + 1] ?? 0; // the callee's liveness is its own
      const [use, def] = ud[pc]!;
      const v = (use | (out & ~def)) & 0x3ff;
      if (v !== live[pc]) { live[pc] = v; changed = true; }
    }
  }
  return live;
}
