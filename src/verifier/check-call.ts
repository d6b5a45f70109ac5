// Helper calls checked against their prototypes (check_helper_call / check_func_arg), bpf-to-bpf calls
// (check_func_call / prepare_func_exit) and program exit (check_return_code, reference leaks).
import type { Insn } from "../isa/ebpf/insn.ts";
import { type ArgType, PRIVILEGED_HELPERS, PROG_TYPE_HELPERS, helperProto } from "../helpers/protos.ts";
import { BPF_MAP_TYPE, HELPER_NAMES } from "../uapi/index.ts";
import { MAX_CALL_FRAMES } from "../isa/ebpf/opcodes.ts";
import { boundsSync, isConst, isConstValue, knownBounds, unknownBounds } from "./bounds.ts";
import { U32_MAX64, ZERO, fromBig, fromNumber, toBigS, toBigU, toNumberS, toNumberU } from "./i64.ts";
import { returnRange } from "./ctx.ts";
import { checkSectionsAtExit } from "./check-kfunc.ts";
import {
  BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PROG_ARRAY,
  type Env, EACCES, EINVAL, ENOTSUPP, newId, reject,
} from "./env.ts";
import { BPF_F_RDONLY_PROG, checkMapAccessType, checkMemAccess, helperStackVarOff, progMapFlags, writeStackByte } from "./check-mem.ts";
import { checkRegRead, regTypeStr } from "./regs.ts";
import { type Reg, type State, copyReg, copyState, curFrame, newFrame, notInit, ptrReg, scalarReg } from "./state.ts";
import { tnumToString } from "./tnum.ts";

const BPF_MAX_VAR_SIZ = 1n << 29n;
/** Helpers whose prototype sets pkt_access: they may be handed packet pointers. */
const PKT_ACCESS: ReadonlySet<number> = new Set([1, 2, 3, 28]);
const MEM_TYPES = "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_";

const helperName = (id: number): string => `bpf_${HELPER_NAMES[id] ?? "unknown"}`;

/** What the argument checks learned (struct bpf_call_arg_meta): the map, the size register, its umax (msize_max_value). */
interface Meta { map: number; rawSizeReg: number; constKey?: bigint; sizeMax: bigint }

/**
 * check_resource_leak: where the program may end (its exit, a tail call, BPF_LD_[ABS|IND]) no reference may be held
 * and no RCU or preemption section open.
 */
export function checkResourceLeak(env: Env, prefix: string): void {
  const r = env.state.refs[0];
  if (r) reject(env, `Unreleased reference id=${r.id} alloc_insn=${r.insn}\n${prefix} would lead to reference leak`, EINVAL);
  checkSectionsAtExit(env, prefix);
}

/** Reads `size` bytes of memory a helper receives (check_helper_mem_access); `write` for ARG_PTR_TO_UNINIT_MEM. */
function helperMemAccess(env: Env, regno: number, size: number, write: boolean, expected: string): void {
  const reg = curFrame(env.state).regs[regno]!;
  switch (reg.type) {
    case "fp": {
      const off = reg.off;
      if (!isConst(reg.b)) return helperStackVarOff(env, regno, reg, size, write);
      const o = off + toNumberS(reg.b.varOff.value);
      if (size === 0) reject(env, "invalid zero-sized read");
      const f0 = env.state.frames[reg.frameno]!;
      if (env.unpriv && !write) {
        // Uninitialized bytes are reported before the range (check_stack_range_initialized walks the bytes first).
        for (let b = Math.max(o, -512); b < Math.min(o + size, 0); b++) {
          const sl = f0.stack[Math.floor((-b - 1) / 8)];
          if (!sl || sl.bytes[((b % 8) + 8) % 8] === "?") reject(env, `invalid read from stack R${regno} off=${o} size=${size}`);
        }
      }
      if (o < -512 || o + size > 0) reject(env, `invalid ${write ? "write to" : "read from"} stack R${regno} off=${o} size=${size}`, EINVAL);
      const f = env.state.frames[reg.frameno]!;
      const sp = f.subprog;
      if (-o > (env.stackDepth[sp] ?? 0)) env.stackDepth[sp] = -o;
      for (let i = 0; i < size; i++) {
        const b = o + i;
        const spi = Math.floor((-b - 1) / 8);
        const slot = f.stack[spi];
        const idx = ((b % 8) + 8) % 8;
        if (write) {
          writeStackByte(slotAtFrame(f, spi), idx);
          continue;
        }
        const t = slot ? slot.bytes[idx] : "?";
        // an iterator's bytes are no memory a helper may read (check_stack_range_initialized)
        if (t === "i") reject(env, `invalid read from stack R${regno} off ${o}+${i} size ${size}`);
        if (t === "?" && env.unpriv) reject(env, `invalid read from stack R${regno} off=${o} size=${size}`);
        if (t === "?") {
          // Privileged programs may pass uninitialized stack (allow_uninit_stack); it becomes plain data.
          slotAtFrame(f, spi).bytes[idx] = "m";
        }
      }
      return;
    }
    case "map_value":
      checkMapAccessType(env, env.maps[reg.map]!, reg.off, size, write);
      checkMemAccess(env, { regno, off: 0, size, write, valueRegno: -1 });
      return;
    case "pkt": case "pkt_meta": case "map_key": case "mem":
      checkMemAccess(env, { regno, off: 0, size, write, valueRegno: -1 });
      return;
    default:
      reject(env, `R${regno} type=${regTypeStr(reg)} expected=${expected}`);
  }
}

function slotAtFrame(f: State["frames"][number], spi: number): State["frames"][number]["stack"][number] {
  while (f.stack.length <= spi) f.stack.push({ bytes: ["?", "?", "?", "?", "?", "?", "?", "?"], spilled: undefined });
  if (f.allocated < spi + 1) f.allocated = spi + 1;
  return f.stack[spi]!;
}

/** The constant key behind a stack pointer, when the kernel can see one (get_constant_map_key): a run of
 * STACK_ZERO bytes covering the key, or a constant scalar spilled with exactly the key's size. */
function constKey(env: Env, reg: Reg, keySize: number): bigint | undefined {
  if (env.unpriv || reg.type !== "fp" || !isConst(reg.b)) return undefined;
  const o = reg.off + toNumberS(reg.b.varOff.value);
  const f = env.state.frames[reg.frameno]!;
  const slot = f.stack[Math.floor((-o - 1) / 8)];
  if (!slot) return undefined;
  const start = ((o % 8) + 8) % 8;
  let zero = 0;
  for (let i = start; i < 8 && slot.bytes[i] === "0"; i++) zero++;
  if (zero >= keySize) return 0n;
  if (!slot.spilled || slot.spilled.type !== "scalar" || slot.bytes[0] !== "r") return undefined;
  let spill = 0;
  for (let i = start; i < 8 && slot.bytes[i] === "r"; i++) spill++;
  if (spill !== keySize || !isConst(slot.spilled.b)) return undefined;
  return toBigU(slot.spilled.b.varOff.value);
}

function checkArg(env: Env, argno: number, type: ArgType, meta: Meta, fnId: number): void {
  const regno = argno + 1;
  const regs = curFrame(env.state).regs;
  checkRegRead(env, regno);
  const reg = regs[regno]!;
  const mapSpec = meta.map >= 0 ? env.maps[meta.map] : undefined;
  if (type === "ARG_ANYTHING") {
    if (env.unpriv && reg.type !== "scalar") reject(env, `R${regno} leaks addr into helper function`);
    return;
  }
  // Any other argument: a packet pointer only reaches helpers whose prototype sets pkt_access (check_func_arg checks
  // this before the argument's type).
  if ((reg.type === "pkt" || reg.type === "pkt_meta") && !PKT_ACCESS.has(fnId)) reject(env, "helper access to the packet is not allowed");
  switch (type) {
    case "ARG_CONST_MAP_PTR":
      if (reg.type !== "map_ptr" || reg.maybeNull) reject(env, `R${regno} type=${regTypeStr(reg)} expected=map_ptr`);
      meta.map = reg.map;
      return;
    case "ARG_PTR_TO_CTX":
      if (reg.type !== "ctx") reject(env, `R${regno} type=${regTypeStr(reg)} expected=ctx`);
      if (reg.off !== 0 || !isConst(reg.b)) reject(env, `dereference of modified ctx ptr R${regno} off=${reg.off} disallowed`);
      return;
    case "ARG_PTR_TO_MAP_KEY": case "ARG_PTR_TO_MAP_VALUE": {
      if (!mapSpec) reject(env, "invalid map_ptr to access map->key", EACCES);
      if (!["fp", "pkt", "pkt_meta", "map_key", "map_value", "mem"].includes(reg.type) || reg.maybeNull) {
        reject(env, `R${regno} type=${regTypeStr(reg)} expected=${MEM_TYPES}`);
      }
      const size = type === "ARG_PTR_TO_MAP_KEY" ? mapSpec.keySize : mapSpec.valueSize;
      helperMemAccess(env, regno, size, false, MEM_TYPES);
      if (type === "ARG_PTR_TO_MAP_KEY") meta.constKey = constKey(env, reg, mapSpec.keySize);
      return;
    }
    case "ARG_PTR_TO_MEM": case "ARG_PTR_TO_UNINIT_MEM": case "ARG_PTR_TO_MEM_WRITE": case "ARG_PTR_TO_MEM_OR_NULL":
      // A NULL (the constant 0) skips the type check; its size must then be zero (check_helper_mem_access). A maybe-NULL
      // pointer is refused (stricter than the kernel, which leaves that NULL to the helper).
      if (type === "ARG_PTR_TO_MEM_OR_NULL" && reg.type === "scalar" && isConstValue(reg.b, 0)) {
        meta.rawSizeReg = regno;
        return;
      }
      if (!["fp", "pkt", "pkt_meta", "map_key", "map_value", "mem"].includes(reg.type) || reg.maybeNull) {
        reject(env, `R${regno} type=${regTypeStr(reg)} expected=${MEM_TYPES}`);
      }
      meta.rawSizeReg = regno;
      return;
    case "ARG_CONST_SIZE": case "ARG_CONST_SIZE_OR_ZERO": {
      if (reg.type !== "scalar") reject(env, `R${regno} type=${regTypeStr(reg)} expected=scalar`);
      const b = { smin: toBigS(reg.b.smin), umin: toBigU(reg.b.umin), umax: toBigU(reg.b.umax) };
      meta.sizeMax = b.umax;
      if (b.smin < 0n) reject(env, `R${regno} min value is negative, either use unsigned or 'var &= const'`);
      if (b.umin === 0n && type === "ARG_CONST_SIZE") reject(env, `R${regno} invalid zero-sized read: u64=[${b.umin},${b.umax}]`);
      if (b.umax >= BPF_MAX_VAR_SIZ) reject(env, `R${regno} unbounded memory access, use 'var &= const' or 'if (var < const)'`);
      const memRegno = regno - 1;
      const memArg = proto(fnId).args[argno - 1];
      if (b.umax > 0n) {
        const memReg = regs[memRegno]!;
        if (memReg.type === "scalar") reject(env, `R${memRegno} type=scalar expected=fp`); // a NULL with a non-zero size
        // MEM_WRITE without MEM_UNINIT: unprivileged programs must have initialized the bytes before they are clobbered.
        if (memArg === "ARG_PTR_TO_MEM_WRITE" && env.unpriv) helperMemAccess(env, memRegno, Number(b.umax), false, MEM_TYPES);
        helperMemAccess(env, memRegno, Number(b.umax), memArg === "ARG_PTR_TO_UNINIT_MEM" || memArg === "ARG_PTR_TO_MEM_WRITE", MEM_TYPES);
      }
      return;
    }
    case "ARG_CONST_ALLOC_SIZE_OR_ZERO":
      if (reg.type !== "scalar") reject(env, `R${regno} type=${regTypeStr(reg)} expected=scalar`);
      if (!isConst(reg.b)) reject(env, `R${regno} is not a known constant'`);
      meta.rawSizeReg = toNumberU(reg.b.varOff.value);
      return;
    case "ARG_PTR_TO_FUNC":
      if (reg.type !== "func") reject(env, `R${regno} type=${regTypeStr(reg)} expected=func`);
      return;
    case "ARG_PTR_TO_STACK_OR_NULL":
      if (reg.type === "scalar" && isConstValue(reg.b, 0)) return;
      if (reg.type !== "fp") reject(env, `R${regno} type=${regTypeStr(reg)} expected=fp`);
      return;
    case "ARG_PTR_TO_RINGBUF_MEM":
      if (reg.type !== "mem" || !reg.ringbuf || reg.maybeNull) reject(env, `R${regno} type=${regTypeStr(reg)} expected=ringbuf_mem`);
      if (reg.off !== 0 || !isConst(reg.b)) reject(env, `R${regno} must have zero offset when passed to release func or trusted arg to kfunc`, EINVAL);
      if (!reg.refObjId) reject(env, `arg ${argno} is an unacquired reference`);
      return;
    default:
      reject(env, `helper argument type ${type} unsupported`, EINVAL);
  }
}

const proto = (id: number) => helperProto(id)!;

const M = BPF_MAP_TYPE;
/**
 * check_map_func_compatibility, from the map's side: the only helpers a map of these types may be passed to. Map types
 * bpfkit does not model a helper for (sockmap, sockhash, storage maps) list none of the modelled helpers, so they are
 * refused rather than assumed compatible.
 */
const MAP_ONLY_FUNCS: ReadonlyMap<number, readonly number[]> = new Map([
  [M.PROG_ARRAY!, [12]],
  [M.PERF_EVENT_ARRAY!, [22, 25, 55, 111, 121]],
  [M.RINGBUF!, [130, 131, 134, 198]],
  [M.USER_RINGBUF!, [209]],
  [M.STACK_TRACE!, [27]],
  [M.CGROUP_ARRAY!, [33, 37]],
  [M.CGROUP_STORAGE!, [81]],
  [M.PERCPU_CGROUP_STORAGE!, [81]],
  [M.DEVMAP!, [51, 1]],
  [M.DEVMAP_HASH!, [51, 1]],
  [M.CPUMAP!, [51]],
  [M.XSKMAP!, [51, 1]],
  [M.ARRAY_OF_MAPS!, [1]],
  [M.HASH_OF_MAPS!, [1]],
  // The kernel also lets sockmaps through map_lookup_elem (returning a referenced socket, not a map value) and, for
  // some program types, update/delete (may_update_sockmap): not modelled, so refused here.
  [M.SOCKMAP!, [52, 53, 60, 82]],
  [M.SOCKHASH!, [72, 70, 71, 82]],
  [M.REUSEPORT_SOCKARRAY!, [82]],
  [M.QUEUE!, [87, 88, 89]],
  [M.STACK!, [87, 88, 89]],
  [M.BLOOM_FILTER!, [87, 89]],
  [M.SK_STORAGE!, [107, 108]],
  [M.INODE_STORAGE!, [99, 100]],
  [M.TASK_STORAGE!, [156, 157]],
  [M.CGRP_STORAGE!, [210, 211]],
] as [number, number[]][]);

/** ... and from the helper's side: the map types it accepts. */
const FUNC_ONLY_MAPS: ReadonlyMap<number, readonly number[]> = new Map([
  [12, [M.PROG_ARRAY!]],
  [22, [M.PERF_EVENT_ARRAY!]], [25, [M.PERF_EVENT_ARRAY!]], [55, [M.PERF_EVENT_ARRAY!]], [111, [M.PERF_EVENT_ARRAY!]], [121, [M.PERF_EVENT_ARRAY!]],
  [130, [M.RINGBUF!]], [131, [M.RINGBUF!]], [134, [M.RINGBUF!]],
  [27, [M.STACK_TRACE!]],
  [33, [M.CGROUP_ARRAY!]], [37, [M.CGROUP_ARRAY!]],
  [51, [M.DEVMAP!, M.DEVMAP_HASH!, M.CPUMAP!, M.XSKMAP!]],
  [87, [M.QUEUE!, M.STACK!, M.BLOOM_FILTER!]], [88, [M.QUEUE!, M.STACK!]], [89, [M.QUEUE!, M.STACK!, M.BLOOM_FILTER!]],
  [195, [M.PERCPU_HASH!, M.PERCPU_ARRAY!, M.LRU_PERCPU_HASH!]],
]);

function mapCompatible(mapType: number, fnId: number): boolean {
  const fns = MAP_ONLY_FUNCS.get(mapType);
  if (fns && !fns.includes(fnId)) return false;
  const maps = FUNC_ONLY_MAPS.get(fnId);
  return !maps || maps.includes(mapType);
}

/** Helpers whose result do_refine_retval_range bounds by the size argument: [-MAX_ERRNO, size]. */
const RET_BOUNDED_BY_SIZE: ReadonlySet<number> = new Set([45, 67, 114, 115]);
const MAX_ERRNO = 4095;

export function checkHelperCall(env: Env, insn: Insn): void {
  const id = insn.imm;
  if (id < 0 || id >= HELPER_NAMES.length) reject(env, `invalid func unknown#${id}`, EINVAL);
  const allowed = PROG_TYPE_HELPERS.get(env.progType);
  const p = helperProto(id);
  if (!p || !allowed?.has(id) || (env.unpriv && PRIVILEGED_HELPERS.has(id))) reject(env, `program of this type cannot use helper ${helperName(id)}#${id}`, EINVAL);
  if (p.gplOnly && !env.gplCompatible) reject(env, "cannot call GPL-restricted function from non-GPL compatible program", EINVAL);
  const meta: Meta = { map: -1, rawSizeReg: -1, sizeMax: 0n };
  for (let i = 0; i < p.args.length; i++) checkArg(env, i, p.args[i]!, meta, id);
  // record_func_map: helpers that modify a map are refused on maps programs may only read (.rodata, devmaps).
  if (meta.map >= 0 && [2, 3, 87, 88].includes(id) && progMapFlags(env.maps[meta.map]!) & BPF_F_RDONLY_PROG) {
    reject(env, "write into map forbidden");
  }
  if (meta.map >= 0) {
    const t = env.maps[meta.map]!.type;
    if (id === 12 && t !== BPF_MAP_TYPE_PROG_ARRAY) reject(env, "expected prog array map for tail call", EINVAL);
    if (!mapCompatible(t, id)) reject(env, `cannot pass map_type ${t} into func ${helperName(id)}#${id}`, EINVAL);
  }
  const st = env.state;
  const regs = curFrame(st).regs;
  recordAux(env, id, meta.map, regs);
  if (id === 181) startCallback(env, regs[2]!.map, regs[3]!);
  if (p.release !== undefined) {
    const ref = regs[p.release + 1]!.refObjId;
    st.refs = st.refs.filter((r) => r.id !== ref);
    for (const f of st.frames) {
      for (let i = 0; i < f.regs.length; i++) if (f.regs[i]!.refObjId === ref) f.regs[i] = env.unpriv ? notInit() : scalarReg();
      for (const s of f.stack) if (s.spilled && s.spilled.refObjId === ref) { s.spilled = scalarReg(); }
    }
  }
  for (let r = 1; r <= 5; r++) regs[r] = notInit();
  // check_get_func_ip: every tracing type has the helper, but only kprobes (and trampolines) can answer it
  if (id === 173 && env.progType !== 2) reject(env, `func ${helperName(id)}#${id} not supported for program type ${env.progType}`, ENOTSUPP);
  switch (p.ret) {
    case "RET_INTEGER":
      regs[0] = scalarReg();
      // do_refine_retval_range: the CPU number is below nr_cpu_ids.
      if (id === 8) { const b = regs[0].b; b.umin = ZERO; b.umax = fromNumber(env.nrCpus - 1); boundsSync(b); }
      // ... and string/stack copies return a negative errno or at most the buffer size they were given.
      if (RET_BOUNDED_BY_SIZE.has(id)) {
        const b = regs[0].b;
        b.smax = fromBig(meta.sizeMax); b.s32max = Number(BigInt.asIntN(32, meta.sizeMax)); b.smin = fromNumber(-MAX_ERRNO); b.s32min = -MAX_ERRNO;
        boundsSync(b);
      }
      break;
    case "RET_VOID": regs[0] = notInit(); break;
    case "RET_PTR_TO_MAP_VALUE_OR_NULL": {
      // A map-in-map's lookup gives the inner map (CONST_PTR_TO_MAP of its inner meta), NULL when the slot is empty.
      const inner = env.innerMeta[meta.map] ?? -1;
      const r = ptrReg(inner >= 0 ? "map_ptr" : "map_value");
      r.map = inner >= 0 ? inner : meta.map;
      const spec = env.maps[meta.map]!;
      // Array lookups with a constant in-range key cannot fail (kernel 6.13+: can_elide_value_nullness).
      const elide = (spec.type === BPF_MAP_TYPE_ARRAY || spec.type === BPF_MAP_TYPE_PERCPU_ARRAY) && id === 1 &&
        meta.constKey !== undefined && meta.constKey < BigInt(spec.maxEntries);
      if (!elide) { r.maybeNull = true; r.id = newId(env); }
      regs[0] = r;
      break;
    }
    case "RET_PTR_TO_RINGBUF_MEM_OR_NULL": {
      const r = ptrReg("mem");
      r.ringbuf = true; r.maybeNull = true; r.range = meta.rawSizeReg;
      newId(env); // the kernel spends one id before acquiring the reference
      const ref = newId(env);
      r.id = ref; r.refObjId = ref;
      st.refs.push({ id: ref, insn: env.pc });
      regs[0] = r;
      break;
    }
  }
  if (p.changesPktData) {
    for (const f of st.frames) {
      for (let i = 0; i < f.regs.length; i++) {
        const t = f.regs[i]!.type;
        if (t === "pkt" || t === "pkt_meta" || t === "pkt_end") f.regs[i] = scalarReg();
      }
      for (const s of f.stack) if (s.spilled && (s.spilled.type === "pkt" || s.spilled.type === "pkt_meta" || s.spilled.type === "pkt_end")) s.spilled = scalarReg();
    }
  }
}

/** insn_aux_data for the rewrites: the call site's map (poisoned when paths differ), tail-call key, bpf_loop inlining. */
function recordAux(env: Env, id: number, map: number, regs: readonly Reg[]): void {
  const pc = env.pc, aux = env.aux;
  if (map >= 0) {
    // An inner map's meta is not one of the program's maps: the rewrites leave such a call as it is (poisoned).
    const m = map < env.innerMeta.length ? map : -1;
    const was = aux.callMap.get(pc);
    aux.callMap.set(pc, was === undefined || was === m ? m : -1);
  }
  if (id === 12) {
    checkResourceLeak(env, "tail_call");
    const k = regs[3]!;
    const key = k.type === "scalar" && isConst(k.b) && k.b.varOff.value.hi === 0 && k.b.varOff.value.lo >= 0 ? k.b.varOff.value.lo : -1;
    const was = aux.tailKey.get(pc);
    aux.tailKey.set(pc, was === undefined || was === key ? key : -1);
  }
  if (id === 181) {
    const f = regs[4]!, cb = regs[2]!;
    const fit = f.type === "scalar" && isConstValue(f.b, 0) && cb.type === "func" ? cb.map : -1;
    const was = aux.loopInline.get(pc);
    aux.loopInline.set(pc, was === undefined || was === fit ? fit : -1);
  }
}

/** What the callback may have written through its context pointer is unknown afterwards: plain data. */
function havocStack(f: State["frames"][number]): void {
  for (const s of f.stack) {
    if (s.bytes.every((b) => b === "?")) continue;
    s.spilled = undefined;
    for (let k = 0; k < 8; k++) if (s.bytes[k] !== "?") s.bytes[k] = "m";
  }
}

/**
 * bpf_loop's callback, soundly but more coarsely than the kernel: it runs with R1 = any u32 index and R2 = the caller's
 * context argument, over a caller stack whose contents are forgotten (any iteration may have changed them); its path
 * ends at its exit, which must return 0 or 1. The caller continues after the call with its stack forgotten likewise.
 */
function startCallback(env: Env, target: number, ctxArg: Reg): void {
  const st = env.state;
  if (st.frames.length >= MAX_CALL_FRAMES) reject(env, `the call stack of ${st.frames.length + 1} frames is too deep`, E2BIG_);
  const cb = copyState(st);
  for (const f of cb.frames) havocStack(f);
  const f = newFrame(env.pc, env.subprogs.indexOf(target), -1);
  f.isCallback = true;
  const idx = scalarReg();
  idx.b.umax = U32_MAX64; boundsSync(idx.b);
  f.regs[1] = idx;
  f.regs[2] = copyReg(ctxArg);
  f.regs[10] = ptrReg("fp");
  f.regs[10]!.frameno = cb.frames.length;
  cb.frames.push(f);
  env.callback = { state: cb, pc: target };
  for (const fr of st.frames) havocStack(fr);
}

/** bpf-to-bpf call: push a frame with R1-R5 passed through. Returns the callee's first pc. */
export function checkPseudoCall(env: Env, insn: Insn): number {
  const st = env.state;
  if (st.frames.length >= MAX_CALL_FRAMES) {
    reject(env, `the call stack of ${st.frames.length + 1} frames is too deep`, E2BIG_);
  }
  const target = env.pc + insn.imm + 1;
  const caller = curFrame(st);
  const sub = env.subprogs.indexOf(target);
  const f = newFrame(env.pc, sub, env.pc + 1);
  for (let r = 1; r <= 5; r++) f.regs[r] = copyReg(caller.regs[r]!);
  f.regs[10] = ptrReg("fp");
  f.regs[10]!.frameno = st.frames.length;
  st.frames.push(f);
  for (let r = 0; r <= 5; r++) caller.regs[r] = notInit();
  return target;
}
const E2BIG_ = 7;

/** BPF_EXIT: leave a subprogram (returns the caller's next pc) or finish the program (returns -1). */
export function checkExit(env: Env): number {
  const st = env.state;
  if (st.frames.length > 1 && curFrame(st).isCallback) {
    checkRegRead(env, 0);
    const r0 = curFrame(st).regs[0]!;
    if (r0.type !== "scalar") reject(env, `At callback return the register R0 is not a known value (${regTypeStr(r0)})`, EINVAL);
    if (toBigS(r0.b.smin) < 0n || toBigS(r0.b.smax) > 1n) reject(env, `At callback return the register R0 has smin=${toBigS(r0.b.smin)} smax=${toBigS(r0.b.smax)} should have been in [0, 1]`, EINVAL);
    return -3;
  }
  if (st.frames.length > 1) {
    const callee = curFrame(st);
    const r0 = callee.regs[0]!;
    // Any stack pointer, even the caller's own, is refused (prepare_func_exit is conservative here).
    if (r0.type === "fp") reject(env, "cannot return stack pointer to the caller", EINVAL);
    st.frames.pop();
    const caller = curFrame(st);
    caller.regs[0] = copyReg(r0);
    return callee.returnPc;
  }
  checkResourceLeak(env, "BPF_EXIT instruction in main prog");
  checkRegRead(env, 0);
  const r0 = curFrame(st).regs[0]!;
  if (env.unpriv && r0.type !== "scalar") reject(env, "R0 leaks addr as return value");
  const range = returnRange(env.progType);
  if (range) {
    if (r0.type !== "scalar") reject(env, `At program exit the register R0 is not a known value (${regTypeStr(r0)})`, EINVAL);
    const b = r0.b;
    if (toBigS(b.smin) < BigInt(range[0]) || toBigS(b.smax) > BigInt(range[1])) {
      const v = isConst(b) ? `R0 has smin=${toBigS(b.smin)} smax=${toBigS(b.smax)}` : `R0 has ${describeRange(b)}`;
      reject(env, `At program exit the register ${v} should have been in [${range[0]}, ${range[1]}]`, EINVAL);
    }
  }
  return -1;
}

function describeRange(b: Reg["b"]): string {
  return `smin=${toBigS(b.smin)} smax=${toBigS(b.smax)}`;
}

export { boundsSync, knownBounds, unknownBounds, tnumToString };
