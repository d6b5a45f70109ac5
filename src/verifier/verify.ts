// The path walk (the kernel's do_check): explore every path from the entry, one instruction at a time, splitting at
// branches, pruning at prune points when an explored state covers the current one, and rejecting on the first
// violation with the kernel's message. Returns the verdict, the kernel-format log and the facts for the JIT.
import type { Insn } from "../isa/ebpf/insn.ts";
import {
  BPF_ABS, BPF_ALU, BPF_ALU64, BPF_CALL, BPF_DW, BPF_EXIT, BPF_IMM, BPF_IND, BPF_JA, BPF_JMP, BPF_JMP32, BPF_LD, BPF_LDX,
  BPF_PSEUDO_CALL, BPF_PSEUDO_KFUNC_CALL, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE, BPF_ST, BPF_STX,
  BPF_COMPLEXITY_LIMIT_INSNS, bpfClass, bpfMode, bpfOp, bpfSize,
} from "../isa/ebpf/opcodes.ts";
import { formatInsnKernel } from "../isa/ebpf/disasm-kernel.ts";
import { knownBounds } from "./bounds.ts";
import { i64 } from "./i64.ts";
import { checkAlu } from "./check-alu.ts";
import { checkExit, checkHelperCall, checkPseudoCall, checkResourceLeak } from "./check-call.ts";
import { checkCondJmp } from "./check-jmp.ts";
import { checkLoadStore } from "./check-mem.ts";
import { BPF_JCOND, checkStructure, isLdImm64, jumpTarget, liveRegisters } from "./cfg.ts";
import { isKnownProgType } from "./ctx.ts";
import { type AccessFact, type Env, type InsnAux, type VerifierMapSpec, E2BIG, EINVAL, Reject, reject } from "./env.ts";
import { formatState } from "./format.ts";
import { VerifierLog } from "./vlog.ts";
import type { Btf } from "../btf/parse.ts";
import { checkKfuncCall, isIterNextCall, iterActiveAt, widenScalars } from "./check-kfunc.ts";
import { liveUseDef } from "./cfg.ts";
import { checkRegRead } from "./regs.ts";
import { type State, copyState, curFrame, newFrame, notInit, ptrReg, scalarReg, statesEqual } from "./state.ts";
import { PROG_TYPES, licenseIsGplCompatible } from "../helpers/protos.ts";
import { BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_HASH_OF_MAPS, ERRNO, PROG_TYPE_NAMES } from "../uapi/index.ts";

export interface VerifyOptions {
  /** enum bpf_prog_type number, or a name such as "socket_filter", "xdp", "kprobe". */
  readonly progType: number | string;
  readonly maps?: readonly VerifierMapSpec[];
  /** Verify as an unprivileged user (no CAP_BPF/CAP_PERFMON): no pointer leaks, no loops, initialized stack. */
  readonly unpriv?: boolean;
  /** 0: no log; 1: the failing path; 2: every instruction with state. */
  readonly logLevel?: number;
  /** Possible CPUs (nr_cpu_ids); default: the host's hardware concurrency when known, else 1. */
  readonly nrCpus?: number;
  /** The program comes with BTF func_info (ELF objects from clang): callbacks such as bpf_loop's are allowed. */
  readonly btfFuncInfo?: boolean;
  /** The kernel's BTF (vmlinux): kfunc calls (BPF_PSEUDO_KFUNC_CALL) name their callee by its id there. */
  readonly kernelBtf?: Btf;
  /** The program's license string (the ELF "license" section); GPL-only helpers need a GPL-compatible one. Default "GPL". */
  readonly license?: string;
}

export interface VerifyError {
  readonly pc: number;
  /** The kernel's error line (the last line before `processed ...`). */
  readonly message: string;
  /** Negative errno the kernel's bpf(BPF_PROG_LOAD) returns, as a positive number (13 = EACCES, 22 = EINVAL, 7 = E2BIG). */
  readonly errno: number;
  /** All lines of the failure (some checks print context before the error line). */
  readonly lines: readonly string[];
}

export interface VerifyStats {
  readonly processed: number;
  readonly maxStatesPerInsn: number;
  readonly totalStates: number;
  readonly peakStates: number;
}

export interface VerifyResult {
  readonly accepted: boolean;
  readonly error?: VerifyError;
  readonly log: string;
  readonly processed: number;
  readonly stats: VerifyStats;
  /** Memory accesses proven in bounds on every path, by pc (for the JIT to drop its checks). */
  readonly facts: readonly AccessFact[];
  /** Per-instruction facts for the kernel's load-time rewrites (accepted programs). */
  readonly aux?: InsnAux;
  /** The path from the entry to the failing instruction (pcs), for explanations. */
  readonly failingPath?: readonly number[];
}

interface Checkpoint { state: State; branches: number; parent: Checkpoint | undefined; pc: number; hit: number; miss: number }
/**
 * A branch still to explore. The walk is depth-first, so the path prefix a branch was pushed with is still the
 * current path's prefix when it is popped: it keeps only its length (a copy per branch made long loops quadratic).
 */
interface Pending { state: State; pc: number; from: number; cp: Checkpoint | undefined; pathLen: number; logPos: number }

export function progTypeNumber(t: number | string): number {
  if (typeof t === "number") return t;
  const n = PROG_TYPES[t.toLowerCase().replace(/^bpf_prog_type_/, "")];
  if (n === undefined) throw new Reject(`unknown program type ${t}`, EINVAL, 0);
  return n;
}

function pruneFlags(insns: readonly Insn[], env: Env): Uint8Array {
  const f = new Uint8Array(insns.length + 1);
  for (let pc = 0; pc < insns.length; pc++) {
    const insn = insns[pc]!;
    if (isLdImm64(insn)) { pc++; continue; }
    const cls = bpfClass(insn.code), op = bpfOp(insn.code);
    if (cls !== BPF_JMP && cls !== BPF_JMP32) continue;
    if (op === BPF_EXIT) continue;
    if (op === BPF_CALL) {
      f[pc + 1] = 1;
      if (insn.src === BPF_PSEUDO_CALL) f[pc] = 1;
      if (insn.src === BPF_PSEUDO_KFUNC_CALL && isIterNextCall(env, pc)) f[pc] = 3; // a forced checkpoint where iterator loops converge
      continue;
    }
    if (op === BPF_JCOND) { f[pc + insn.off + 1] = 1; f[pc] = 2; continue; } // may_goto: a forced checkpoint
    // Branch edges mark their targets (push_insn with BRANCH); conditional jumps are prune points themselves.
    const t = jumpTarget(insn, pc);
    if (t >= 0 && t < insns.length) f[t] = 1;
    if (op !== BPF_JA) f[pc] = 1;
  }
  return f;
}

/** Loop heads (targets of back-edges in a DFS from the entry): states are always recorded there. */
function loopHeads(insns: readonly Insn[], subprogs: readonly number[]): Uint8Array {
  const n = insns.length;
  const heads = new Uint8Array(n);
  const state = new Uint8Array(n);
  for (const root of subprogs) {
    if (state[root]) continue;
    const stack: [number, number][] = [[root, 0]];
    state[root] = 1;
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [t, k] = top;
      const insn = insns[t]!;
      const cls = bpfClass(insn.code), op = bpfOp(insn.code);
      let succ: number[];
      if (isLdImm64(insn)) succ = [t + 2];
      else if (cls === BPF_JMP || cls === BPF_JMP32) {
        succ = op === BPF_EXIT ? [] : op === BPF_CALL ? [t + 1] : op === BPF_JA ? [jumpTarget(insn, t)] : [t + 1, jumpTarget(insn, t)];
      } else succ = [t + 1];
      if (k >= succ.length) { state[t] = 2; stack.pop(); continue; }
      top[1] = k + 1;
      const w = succ[k]!;
      if (w >= n) continue;
      if (state[w] === 0) { state[w] = 1; stack.push([w, 0]); } else if (state[w] === 1) heads[w] = 1;
    }
  }
  return heads;
}

/** Registers a conditional jump reads: the kernel has marked them precise by the time it reports a loop. */
function condRegs(insn: Insn): number {
  const cls = bpfClass(insn.code);
  if (cls !== BPF_JMP && cls !== BPF_JMP32) return 0;
  return (1 << insn.dst) | ((insn.code & 0x08) ? 1 << insn.src : 0);
}

function processedLine(p: number, s: { max: number; total: number; peak: number }): string {
  return `processed ${p} insns (limit 1000000) max_states_per_insn ${s.max} total_states ${s.total} peak_states ${s.peak} mark_read 0`;
}

export function verify(insns: readonly Insn[], options: VerifyOptions): VerifyResult {
  const progType = progTypeNumber(options.progType);
  // The kernel's log_level is a bit set: 1 and 2 are the levels, 4 (BPF_LOG_STATS) adds the time and stack depth
  // (each frame's depth in whole 8-byte slots, as grow_stack_state allocates it).
  const fullLevel = options.logLevel ?? 0;
  const logLevel = fullLevel & 3;
  const startedAt = performance.now();
  const statsText = (): string => fullLevel & 4
    ? `verification time ${Math.round((performance.now() - startedAt) * 1000)} usec\nstack depth ${env.stackDepth.map((d) => Math.ceil(d / 8) * 8).join("+")}\n` : "";
  const { maps, innerMeta } = withInnerMetas(options.maps ?? []);
  const env: Env = {
    insns, progType, maps, innerMeta, unpriv: options.unpriv ?? false, logLevel, log: [],
    vlog: new VerifierLog(),
    aluSanitation: new Map(),
    btfFuncInfo: options.btfFuncInfo ?? false,
    gplCompatible: licenseIsGplCompatible(options.license ?? "GPL"),
    nrCpus: options.nrCpus ?? (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1, idGen: 0, pc: 0,
    state: { frames: [], refs: [], parentPc: -1, rcu: 0, preempt: 0 }, kernelBtf: options.kernelBtf, kfuncs: new Map(), subprogs: [0], stackDepth: [0], facts: new Map(), noFact: new Set(),
    aux: { seen: new Uint8Array(insns.length), ctxAccess: new Set(), callMap: new Map(), tailKey: new Map(), loopInline: new Map(), kfuncs: new Map(), directWrite: false, subprogs: [], stackDepth: [] },
  };
  const stats = { max: 0, total: 0, peak: 0 };
  let processed = 0;
  const path: number[] = [];
  const fmtInsn = (pc: number): string => formatInsnKernel(insns, pc, {
    mapRef: mapRef(env), callTarget: (at, x) => (x.src === BPF_PSEUDO_KFUNC_CALL ? env.kfuncs.get(at)?.name : undefined),
  });
  try {
    if (insns.length === 0 || insns.length > (env.unpriv ? 4096 : BPF_COMPLEXITY_LIMIT_INSNS)) {
      throw new Reject("", E2BIG, 0);
    }
    if (!isKnownProgType(progType)) {
      // Linux refuses a type it does not know with EINVAL and an empty log; a type Linux has but bpfkit's verifier
      // does not model yet says so instead of pretending the kernel would refuse it.
      const linuxName = progType > 0 ? PROG_TYPE_NAMES[progType] : undefined;
      if (linuxName === undefined) throw new Reject("", EINVAL, 0);
      throw new Reject(`bpfkit: program type ${linuxName} is not supported by the verifier yet`, ERRNO.EOPNOTSUPP, 0);
    }
    const vlog = env.vlog;
    checkStructure(env);
    const live = liveRegisters(insns);
    if (logLevel >= 2) {
      // The level-2 prelude: subprogram starts and the registers live before each instruction (compute_live_registers).
      env.subprogs.forEach((s, i) => vlog.write(`func#${i} @${s}\n`));
      vlog.write("Live regs before insn:\n");
      for (let p = 0; p < insns.length; p++) {
        let mask = "";
        for (let r = 0; r < 10; r++) mask += live[p]! & (1 << r) ? String(r) : ".";
        vlog.write(`${String(p).padStart(7)}: ${mask} ${fmtInsn(p)}\n`);
        if (isLdImm64(insns[p]!)) p++;
      }
    }
    const prune = pruneFlags(insns, env);
    const visited = new Map<number, Checkpoint[]>();
    let live_states = 0;
    const f0 = newFrame(-1, 0, -1);
    f0.regs[1] = ptrReg("ctx");
    f0.regs[10] = ptrReg("fp");
    let cur: State = { frames: [f0], refs: [], parentPc: -1, rcu: 0, preempt: 0 };
    let pc = 0;
    let cp: Checkpoint | undefined;
    const pending: Pending[] = [];
    let jmps = 0, prevJmps = 0, prevInsns = 0;
    let doPrintState = false;
    let fromPc = -1;

    const endPath = (): boolean => {
      let c = cp;
      while (c) { c.branches--; if (c.branches > 0) break; c = c.parent; }
      const next = pending.pop();
      if (!next) return false;
      cur = next.state; pc = next.pc; cp = next.cp; path.length = next.pathLen;
      // Level 1 keeps only the failing path: the log goes back to where this branch was pushed.
      if (logLevel === 1) vlog.reset(next.logPos);
      vlog.scratchAll();
      doPrintState = true;
      fromPc = next.from;
      return true;
    };

    for (;;) {
      env.pc = pc;
      env.state = cur;
      if (++processed > BPF_COMPLEXITY_LIMIT_INSNS) {
        reject(env, `BPF program is too large. Processed ${processed} insn`, ENOSPC);
      }
      if (prune[pc]) {
        // is_state_visited: compare with the states recorded here, maybe record this one.
        const list = visited.get(pc) ?? [];
        let pruned = false;
        const force = prune[pc]! >= 2;
        const iterNext = prune[pc] === 3;
        let addNew = force || (jmps - prevJmps >= 2 && processed - prevInsns >= 8);
        for (let i = 0; i < list.length; i++) {
          const old = list[i]!;
          if (old.branches > 0 && iterNext) {
            // An iterator loop: the body's state within the one it entered with, the iterator still active, converges.
            if (statesEqual(old.state, cur, live[pc]!, false) && iterActiveAt(cur)) { old.hit++; pruned = true; break; }
          } else if (old.branches > 0) {
            // A state still being explored: only good for catching loops that never change anything.
            if (statesEqual(old.state, cur, live[pc]!, true)) {
              const p = condRegs(insns[pc]!);
              reject(env, `infinite loop detected at insn ${pc}\ncur state:${env.vlog.stateText(cur, env, true)}\nold state:${env.vlog.stateText(old.state, env, true, p)}`, EINVAL);
            }
            if (!force && jmps - prevJmps < 20 && processed - prevInsns < 100) addNew = false;
          } else if (statesEqual(old.state, cur, live[pc]!, false)) { old.hit++; pruned = true; break; }
          if (addNew) old.miss++;
          // States that keep missing are dropped from the search list (miss_cnt > hit_cnt * n + n).
          const n = force && old.branches > 0 ? 64 : 3;
          if (old.miss > old.hit * n + n) { list.splice(i, 1); i--; if (old.branches === 0) live_states--; }
        }
        if (!pruned && list.length > stats.max) stats.max = list.length;
        if (pruned) {
          if (logLevel >= 1) vlog.write(doPrintState ? `\nfrom ${fromPc} to ${pc}: safe\n` : `${pc}: safe\n`);
          if (!endPath()) break;
          continue;
        }
        if (addNew) {
          const c: Checkpoint = { state: copyState(cur), branches: 1, parent: cp, pc, hit: 0, miss: 0 };
          cp = c;
          list.push(c);
          visited.set(pc, list);
          stats.total++;
          live_states++;
          if (live_states > stats.peak) stats.peak = live_states;
          prevJmps = jmps; prevInsns = processed;
        }
      }
      path.push(pc);
      env.aux.seen[pc] = 1;
      const insn = insns[pc]!;
      const cls = bpfClass(insn.code);
      if (logLevel >= 2 && doPrintState) vlog.write(`\nfrom ${fromPc} to ${pc}:${vlog.stateText(cur, env, true)}\n`);
      doPrintState = false;
      if (logLevel >= 1) {
        if (vlog.scratched) vlog.insnState(cur, env, pc);
        vlog.insn(pc, fmtInsn(pc));
        const [use, def] = liveUseDef(insn);
        vlog.scratchedRegs |= use | def;
      }
      if (cls === BPF_ALU || cls === BPF_ALU64) { checkAlu(env, insn); pc++; continue; }
      if (cls === BPF_LDX || cls === BPF_STX || cls === BPF_ST) { checkLoadStore(env, insn); pc++; continue; }
      if (cls === BPF_LD) { if (isLdImm64(insn)) env.aux.seen[pc + 1] = 1; pc = checkLd(env, insn, pc); continue; }
      // Jumps, calls and exit.
      jmps++;
      const op = bpfOp(insn.code);
      if (op === BPF_CALL) {
        if (cls === BPF_JMP32 || (insn.off !== 0 && insn.src !== BPF_PSEUDO_KFUNC_CALL) || insn.dst !== 0 || (insn.src !== 0 && insn.src !== BPF_PSEUDO_CALL && insn.src !== BPF_PSEUDO_KFUNC_CALL)) {
          reject(env, "BPF_CALL uses reserved fields", EINVAL);
        }
        if (insn.src === BPF_PSEUDO_KFUNC_CALL) {
          checkKfuncCall(env);
          const fork = env.iterFork;
          if (fork) {
            // the element path of an iterator's next(), explored after this (drained) one; scalars that changed since
            // the previous visit of this call on the current path are widened (find_prev_entry, widen_imprecise_scalars)
            env.iterFork = undefined;
            for (let c = cp?.parent; c; c = c.parent) {
              if (c.pc === pc && c.branches > 0 && c.state.frames.length === fork.frames.length) { widenScalars(c.state, fork); break; }
            }
            if (pending.length >= 8192) reject(env, `The sequence of ${pending.length + 1} jumps is too complex.`, E2BIG);
            if (cp) cp.branches++;
            pending.push({ state: fork, pc: pc + 1, from: pc, cp, pathLen: path.length, logPos: vlog.end });
          }
          pc++;
          continue;
        }
        if (insn.src === BPF_PSEUDO_CALL) {
          pc = checkPseudoCall(env, insn);
          if (logLevel >= 1) {
            const n = cur.frames.length;
            vlog.write(`caller:\n${vlog.stateText(cur, env, true, 0, n - 2)}\ncallee:\n${vlog.stateText(cur, env, true, 0, n - 1)}\n`);
            vlog.scratchAll();
          }
          continue;
        }
        checkHelperCall(env, insn);
        const cb = env.callback;
        if (cb) {
          // bpf_loop: the callback is explored as its own path from the call (see checkHelperCall).
          env.callback = undefined;
          if (cp) cp.branches++;
          pending.push({ state: cb.state, pc: cb.pc, from: pc, cp, pathLen: path.length, logPos: vlog.end });
        }
        pc++;
        continue;
      }
      if (op === BPF_EXIT) {
        if (insn.src !== 0 || insn.dst !== 0 || insn.off !== 0 || insn.imm !== 0 || cls === BPF_JMP32) reject(env, "BPF_EXIT uses reserved fields", EINVAL);
        const n = cur.frames.length;
        const calleeText = logLevel >= 1 && n > 1 ? vlog.stateText(cur, env, true, 0, n - 1) : "";
        const next = checkExit(env);
        if (next === -3) { if (!endPath()) break; continue; } // a callback returned: its path ends here
        if (next >= 0) {
          if (logLevel >= 1) {
            vlog.write(`returning from callee:\n${calleeText}\nto caller at ${next}:\n${vlog.stateText(cur, env, true)}\n`);
            vlog.clean();
            doPrintState = true;
            fromPc = pc;
          }
          pc = next;
          continue;
        }
        if (!endPath()) break;
        continue;
      }
      if (op === BPF_JCOND && cls === BPF_JMP) {
        // may_goto: either continue or take the jump (the kernel bounds the loop with a hidden counter).
        // Loops through may_goto converge in the kernel only thanks to precision tracking, which bpfkit lacks.
        if (pending.length >= 8192) reject(env, `The sequence of ${pending.length + 1} jumps is too complex.`, E2BIG); // push_stack counts the new one
        if (cp) cp.branches++;
        pending.push({ state: copyState(cur), pc: pc + insn.off + 1, from: pc, cp, pathLen: path.length, logPos: vlog.end });
        pc++;
        continue;
      }
      if (op === BPF_JA) {
        if (cls === BPF_JMP ? insn.src !== 0 || insn.dst !== 0 || insn.imm !== 0 : insn.src !== 0 || insn.dst !== 0 || insn.off !== 0) {
          reject(env, "BPF_JA uses reserved fields", EINVAL);
        }
        pc = jumpTarget(insn, pc);
        continue;
      }
      const res = checkCondJmp(env, insn, copyState);
      const target = jumpTarget(insn, pc);
      if (res.taken && res.fallthrough) {
        if (pending.length >= 8192) reject(env, `The sequence of ${pending.length + 1} jumps is too complex.`, E2BIG); // push_stack counts the new one
        if (cp) cp.branches++;
        pending.push({ state: res.taken, pc: target, from: pc, cp, pathLen: path.length, logPos: vlog.end });
        if (logLevel >= 1) vlog.insnState(cur, env, pc);
        pc++;
      } else {
        if (logLevel >= 1) vlog.insnState(res.taken ?? cur, env, pc);
        pc = res.taken ? target : pc + 1;
      }
    }
    const depthErr = checkStackDepth(env);
    if (depthErr) throw new Reject(depthErr, EACCES_, 0);
    // Level 1 shows nothing of a successful verification but the statistics.
    if (logLevel === 1) vlog.reset(0);
    vlog.write(statsText() + processedLine(processed, stats) + "\n");
    return {
      accepted: true, log: fullLevel ? vlog.text : "", processed,
      stats: { processed, maxStatesPerInsn: stats.max, totalStates: stats.total, peakStates: stats.peak },
      facts: [...env.facts.values()].sort((a, b) => a.pc - b.pc),
      aux: { ...env.aux, subprogs: env.subprogs, stackDepth: env.stackDepth },
    };
  } catch (e) {
    if (!(e instanceof Reject)) throw e;
    const lines = e.message === "" ? [] : e.message.split("\n");
    const vlog = env.vlog;
    // One kernel message lacks its newline, so the statistics run on from it.
    for (const l of lines) vlog.write(l === "expected prog array map for tail call" ? l : l + "\n");
    if (e.message !== "") vlog.write(statsText() + processedLine(processed, stats) + "\n");
    return {
      accepted: false,
      error: { pc: e.pc, message: lines[lines.length - 1] ?? "", errno: e.errno, lines },
      log: fullLevel && e.message !== "" ? vlog.text : "",
      processed, stats: { processed, maxStatesPerInsn: stats.max, totalStates: stats.total, peakStates: stats.peak },
      facts: [], failingPath: path,
    };
  }
}
const EACCES_ = 13;
const ENOSPC = ERRNO.ENOSPC;

/**
 * The maps a program sees, with one more entry per ARRAY_OF_MAPS / HASH_OF_MAPS for its inner map's meta (the
 * kernel's bpf_map_meta_alloc: the inner map's type, sizes, flags and max_entries, no name), which a lookup's result
 * points to once checked for NULL.
 */
function withInnerMetas(programMaps: readonly VerifierMapSpec[]): { maps: VerifierMapSpec[]; innerMeta: number[] } {
  const maps = [...programMaps];
  const innerMeta = programMaps.map((m) => {
    if ((m.type !== BPF_MAP_TYPE_ARRAY_OF_MAPS && m.type !== BPF_MAP_TYPE_HASH_OF_MAPS) || !m.innerMap) return -1;
    const i = m.innerMap;
    maps.push({ type: i.type, keySize: i.keySize, valueSize: i.valueSize, maxEntries: i.maxEntries, flags: i.flags, name: "" });
    return maps.length - 1;
  });
  return { maps, innerMeta };
}

function mapRef(env: Env) {
  return (_pc: number, insn: Insn, next: Insn | undefined): string | undefined => {
    if (insn.src === BPF_PSEUDO_MAP_FD || insn.src === BPF_PSEUDO_MAP_IDX) return `map[id:${insn.imm}]`;
    if (insn.src === 2 || insn.src === BPF_PSEUDO_MAP_IDX_VALUE) return `map[id:${insn.imm}][0]+${next?.imm ?? 0}`;
    void env;
    return undefined;
  };
}

/** LD_IMM64 and the legacy packet loads LD_ABS / LD_IND (check_ld_imm, check_ld_abs). */
function checkLd(env: Env, insn: Insn, pc: number): number {
  const regs = curFrame(env.state).regs;
  const mode = bpfMode(insn.code);
  if (mode === BPF_IMM) {
    if (bpfSize(insn.code) !== BPF_DW) reject(env, "invalid BPF_LD_IMM insn", EINVAL);
    if (insn.dst > 9) reject(env, insn.dst === 10 ? "frame pointer is read only" : `R${insn.dst} is invalid`, insn.dst === 10 ? 13 : EINVAL);
    const next = env.insns[pc + 1]!;
    if (insn.src === 0) {
      regs[insn.dst] = scalarReg(knownBounds(i64(next.imm, insn.imm)));
    } else if (insn.src === 4) {
      // Callbacks need BTF func_info to be known static functions (check_ld_imm); raw programs have none.
      if (!env.btfFuncInfo) reject(env, "missing btf func_info", EINVAL);
      const r = ptrReg("func"); r.map = pc + insn.imm + 1; regs[insn.dst] = r;
    } else if (insn.src === BPF_PSEUDO_MAP_FD || insn.src === BPF_PSEUDO_MAP_IDX) {
      const r = ptrReg("map_ptr"); r.map = insn.imm; regs[insn.dst] = r;
    } else {
      const r = ptrReg("map_value"); r.map = insn.imm; r.off = next.imm; regs[insn.dst] = r;
    }
    return pc + 2;
  }
  if (mode !== BPF_ABS && mode !== BPF_IND) reject(env, `unknown opcode ${insn.code.toString(16)}`, EINVAL);
  if (![1, 3, 4].includes(env.progType)) reject(env, "BPF_LD_[ABS|IND] instructions not allowed for this program type", EINVAL);
  if (insn.dst !== 0 || insn.off !== 0 || bpfSize(insn.code) === BPF_DW || (mode === BPF_ABS && insn.src !== 0)) {
    reject(env, "BPF_LD_[ABS|IND] uses reserved fields", EINVAL);
  }
  checkRegRead(env, 6);
  checkResourceLeak(env, "BPF_LD_[ABS|IND]");
  if (regs[6]!.type !== "ctx") reject(env, "at the time of BPF_LD_ABS|IND R6 != pointer to skb", EINVAL);
  if (mode === BPF_IND) checkRegRead(env, insn.src);
  for (let r = 1; r <= 5; r++) regs[r] = notInit();
  regs[0] = scalarReg();
  return pc + 1;
}

/** The kernel's check_max_stack_depth: each frame rounded up to 16 (JIT), summed along the deepest call chain. */
function checkStackDepth(env: Env): string | undefined {
  const calls = new Map<number, number[]>();
  const subOf = (pc: number): number => {
    let s = 0;
    for (let i = 0; i < env.subprogs.length; i++) if (env.subprogs[i]! <= pc) s = i;
    return s;
  };
  env.insns.forEach((insn, pc) => {
    if (insn.code === (BPF_JMP | BPF_CALL) && insn.src === BPF_PSEUDO_CALL) {
      const from = subOf(pc), to = env.subprogs.indexOf(pc + insn.imm + 1);
      calls.set(from, [...(calls.get(from) ?? []), to]);
    }
  });
  const round = (d: number): number => Math.ceil(d / 16) * 16;
  let err: string | undefined;
  const walk = (sub: number, depth: number, frames: number, seen: number[]): void => {
    if (err) return;
    const d = depth + round(env.stackDepth[sub] ?? 0);
    if (d > 512) { err = `combined stack size of ${frames} calls is ${d}. Too large`; return; }
    for (const c of calls.get(sub) ?? []) if (!seen.includes(c)) walk(c, d, frames + 1, [...seen, c]);
  };
  walk(0, 0, 1, [0]);
  return err;
}

export type { Env };
