// Kernel function calls (BPF_PSEUDO_KFUNC_CALL: imm is the callee's id in vmlinux BTF), as the kernel's
// add_kfunc_call (before the walk) and check_kfunc_call (on the walk) check them, for the kfuncs bpfkit models
// (src/helpers/kfuncs.ts): the RCU and preemption sections, and the open-coded number iterator with the kernel's
// iterator states — bpf_iter_num_next on an active iterator forks the path: the current one sees it drained (R0 = 0),
// the other gets an element (R0 = 4 readable bytes) one level deeper, with the scalars that changed since the
// previous visit of that call widened to unknown (widen_imprecise_scalars; bpfkit tracks no precision, so every
// scalar counts as imprecise there). A kfunc the kernel has but bpfkit does not model is refused, saying so.
import type { Insn } from "../isa/ebpf/insn.ts";
import type { Btf } from "../btf/parse.ts";
import { BTF_KIND_DECL_TAG, BTF_KIND_FUNC } from "../btf/kinds.ts";
import { KFUNCS, kfuncIndex } from "../helpers/kfuncs.ts";
import { ERRNO } from "../uapi/index.ts";
import { isConst, knownBounds } from "./bounds.ts";
import { ZERO, toNumberS } from "./i64.ts";
import { type Env, EACCES, EINVAL, newId, reject } from "./env.ts";
import { type Frame, type Reg, type State, boundsEqual, copyState, curFrame, notInit, ptrReg, scalarReg, slotAt } from "./state.ts";

/** Iterator states kept in the spilled register of a STACK_ITER slot (`range`); `off` holds the depth. */
export const ITER_ACTIVE = 1, ITER_DRAINED = 2;

const kfuncTags = new WeakMap<Btf, Set<number>>();
/** FUNCs carrying the `bpf_kfunc` declaration tag: the functions some kfunc set registers. */
function taggedKfuncs(btf: Btf): Set<number> {
  let s = kfuncTags.get(btf);
  if (!s) {
    s = new Set();
    for (let id = 1; id < btf.typeCount; id++) {
      const t = btf.type(id);
      if (t.kind === BTF_KIND_DECL_TAG && t.componentIdx === -1 && btf.name(t) === "bpf_kfunc") s.add(t.sizeOrType);
    }
    kfuncTags.set(btf, s);
  }
  return s;
}

/** add_kfunc_call: before the walk, each kfunc call must name a function of the kernel's BTF. */
export function addKfuncCall(env: Env, insn: Insn): void {
  if (env.unpriv) reject(env, "loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN", ERRNO.EPERM);
  if (!env.gplCompatible) reject(env, "cannot call kernel function from non-GPL compatible program", EINVAL);
  if (insn.off !== 0) reject(env, `bpfkit: kernel function calls into module BTF (fd_array index ${insn.off}) are not supported`, ERRNO.EOPNOTSUPP);
  const btf = env.kernelBtf;
  if (!btf) reject(env, "calling kernel functions is not supported", EINVAL);
  const id = insn.imm;
  if (id <= 0 || !btf.hasType(id) || btf.type(id).kind !== BTF_KIND_FUNC) reject(env, `kernel btf_id ${id >>> 0} is not a function`, EINVAL);
  const name = btf.name(id);
  const index = kfuncIndex(name);
  env.kfuncs.set(env.pc, { name, btfId: id, spec: index >= 0 ? KFUNCS[index] : undefined, index });
}

/** Whether the call at `pc` is an iterator's next(): a forced checkpoint, where loops converge. */
export function isIterNextCall(env: Env, pc: number): boolean {
  return env.kfuncs.get(pc)?.spec?.model === "iter_num_next";
}

/** The iterator slot R1 points to, when it is one (the state is valid when this is asked: see verify.ts). */
function iterSlotOf(st: State, r: Reg): { frame: Frame; spi: number } | undefined {
  if (r.type !== "fp" || !isConst(r.b)) return undefined;
  const off = r.off + toNumberS(r.b.varOff.value);
  if (off >= 0 || off % 8 !== 0) return undefined;
  const frame = st.frames[r.frameno];
  return frame ? { frame, spi: (-off - 1) >> 3 } : undefined;
}

/** At an iterator's next(): is the iterator R1 points to still active in `st`? */
export function iterActiveAt(st: State): boolean {
  const at = iterSlotOf(st, curFrame(st).regs[1]!);
  const slot = at?.frame.stack[at.spi];
  return slot?.bytes[0] === "i" && slot.spilled?.range === ITER_ACTIVE;
}

/** widen_imprecise_scalars: scalars of `cur` that differ from the same register or spill in `old` become unknown. */
export function widenScalars(old: State, cur: State): void {
  for (let fi = Math.min(old.frames.length, cur.frames.length) - 1; fi >= 0; fi--) {
    const fo = old.frames[fi]!, fc = cur.frames[fi]!;
    for (let r = 0; r < 10; r++) {
      const w = widened(fo.regs[r]!, fc.regs[r]!);
      if (w) fc.regs[r] = w;
    }
    const n = Math.min(fo.stack.length, fc.stack.length);
    for (let i = 0; i < n; i++) {
      const so = fo.stack[i]!, sc = fc.stack[i]!;
      if (so.bytes[0] !== "r" || sc.bytes[0] !== "r" || !so.spilled || !sc.spilled) continue;
      const w = widened(so.spilled, sc.spilled);
      if (w) sc.spilled = w;
    }
  }
}

function widened(o: Reg, c: Reg): Reg | undefined {
  if (o.type !== "scalar" || c.type !== "scalar") return undefined;
  if (boundsEqual(o.b, c.b) && o.id === c.id) return undefined;
  return scalarReg();
}

const iterTypeName = "num";

/** The iterator argument (R1) of bpf_iter_num_*: a constant, slot-aligned stack offset. */
function iterArg(env: Env): { frame: Frame; frameno: number; spi: number; off: number } {
  const r = curFrame(env.state).regs[1]!;
  if (r.type !== "fp") reject(env, "arg#0 expected pointer to an iterator on stack", EINVAL);
  if (!isConst(r.b)) reject(env, "iter has to be at the constant offset", EINVAL);
  const off = r.off + toNumberS(r.b.varOff.value);
  if (off % 8 !== 0) reject(env, `cannot pass in iter at an offset=${off}`, EINVAL);
  if (off < -512 || off >= 0) reject(env, `invalid write to stack R1 off=${off} size=8`, EACCES);
  return { frame: env.state.frames[r.frameno]!, frameno: r.frameno, spi: (-off - 1) >> 3, off };
}

function scalarArg(env: Env, regno: number): void {
  if (curFrame(env.state).regs[regno]!.type !== "scalar") reject(env, `R${regno} is not a scalar`, EINVAL);
}

/** check_kfunc_call for the kfuncs bpfkit models. */
export function checkKfuncCall(env: Env): void {
  const site = env.kfuncs.get(env.pc)!;
  const spec = site.spec;
  const allowed = spec ? !spec.progTypes || spec.progTypes.includes(env.progType) : taggedKfuncs(env.kernelBtf!).has(site.btfId);
  if (!allowed) reject(env, `calling kernel function ${site.name} is not allowed`, EACCES);
  if (!spec || spec.model === "none") reject(env, `bpfkit: kernel function ${site.name} is not supported by the verifier yet`, ERRNO.EOPNOTSUPP);
  env.aux.kfuncs.set(env.pc, site.name);
  const st = env.state;
  const regs = curFrame(st).regs;
  let r0: Reg = notInit();
  switch (spec.model) {
    case "rcu_read_lock":
      if (st.rcu) reject(env, `nested rcu read lock (kernel function ${site.name})`, EINVAL);
      st.rcu++;
      break;
    case "rcu_read_unlock":
      if (st.rcu === 0) reject(env, `unmatched rcu read unlock (kernel function ${site.name})`, EINVAL);
      st.rcu--;
      break;
    case "preempt_disable": st.preempt++; break;
    case "preempt_enable":
      if (st.preempt === 0) reject(env, `unmatched attempt to enable preemption (kernel function ${site.name})`, EINVAL);
      st.preempt--;
      break;
    case "iter_num_new": {
      const { frame, spi, off } = iterArg(env);
      if (frame.stack[spi]?.bytes.includes("i")) reject(env, `expected uninitialized iter_${iterTypeName} as arg #0`, EINVAL);
      const sp = frame.subprog;
      if (-off > (env.stackDepth[sp] ?? 0)) env.stackDepth[sp] = -off;
      scalarArg(env, 2);
      scalarArg(env, 3);
      const ref = newId(env);
      st.refs.push({ id: ref, insn: env.pc });
      const it = ptrReg("iter");
      it.refObjId = ref; it.range = ITER_ACTIVE;
      const slot = slotAt(frame, spi);
      slot.bytes = ["i", "i", "i", "i", "i", "i", "i", "i"];
      slot.spilled = it;
      env.vlog.scratchedSlots.add(spi);
      r0 = scalarReg();
      break;
    }
    case "iter_num_next": case "iter_num_destroy": {
      const { frame, frameno, spi } = iterArg(env);
      const slot = frame.stack[spi];
      if (slot?.bytes[0] !== "i" || !slot.spilled) reject(env, `expected an initialized iter_${iterTypeName} as arg #0`, EINVAL);
      env.vlog.scratchedSlots.add(spi);
      if (spec.model === "iter_num_destroy") {
        const ref = slot.spilled.refObjId;
        st.refs = st.refs.filter((x) => x.id !== ref);
        // release_reference: what pointed into the iterator (its elements) is invalid now
        for (const f of st.frames) {
          for (let i = 0; i < f.regs.length; i++) if (f.regs[i]!.refObjId === ref) f.regs[i] = env.unpriv ? notInit() : scalarReg();
          for (const s of f.stack) if (s.bytes[0] === "r" && s.spilled?.refObjId === ref) s.spilled = scalarReg();
        }
        slot.bytes = ["?", "?", "?", "?", "?", "?", "?", "?"];
        slot.spilled = undefined;
        break;
      }
      // process_iter_next_call: an active iterator may give one more element (explored later, one level deeper)...
      const wasActive = slot.spilled.range === ITER_ACTIVE;
      const id = newId(env); // KF_RET_NULL: the element's null-check id, tied to the iterator's reference
      for (let r = 1; r <= 5; r++) regs[r] = notInit();
      if (wasActive) {
        const fork = copyState(st);
        const fslot = fork.frames[frameno]!.stack[spi]!;
        fslot.spilled!.off++;
        const elem = ptrReg("mem");
        elem.range = 4; elem.rdonly = true; elem.id = id; elem.refObjId = slot.spilled.refObjId;
        curFrame(fork).regs[0] = elem;
        env.iterFork = fork;
      }
      // ... and this path sees it drained: NULL
      slot.spilled.range = ITER_DRAINED;
      regs[0] = scalarReg(knownBounds(ZERO));
      return;
    }
  }
  for (let r = 1; r <= 5; r++) regs[r] = notInit();
  regs[0] = r0;
}

/** check_resource_leak's section checks at the program's exit (after the reference leak check). */
export function checkSectionsAtExit(env: Env, prefix: string): void {
  if (env.state.rcu) reject(env, `${prefix} cannot be used inside bpf_rcu_read_lock-ed region`, EINVAL);
  if (env.state.preempt) reject(env, `${prefix} cannot be used inside bpf_preempt_disable-ed region`, EINVAL);
}

