// Loads, stores and atomics: the kernel's check_mem_access for each pointer type (stack, ctx, map value,
// packet, ringbuf memory), stack spill/fill, and the access facts handed to the JIT.
import type { Insn } from "../isa/ebpf/insn.ts";
import {
  BPF_ADD, BPF_AND, BPF_ATOMIC, BPF_CMPXCHG, BPF_DW, BPF_FETCH, BPF_MEM, BPF_MEMSX, BPF_OR, BPF_ST, BPF_STX, BPF_W,
  BPF_XCHG, BPF_XOR, bpfClass, bpfMode, bpfSize, sizeBytes,
} from "../isa/ebpf/opcodes.ts";
import { boundsSync, isConst, isConstValue, knownBounds, signExtend, truncate, zext32 } from "./bounds.ts";
import { ZERO, fromBig, fromNumber, toBigS, toNumberS, toNumberU } from "./i64.ts";
import { ctxAccess, canWritePacket } from "./ctx.ts";
import { type AccessFact, type Env, EACCES, EINVAL, reject } from "./env.ts";
import { checkRegRead, regTypeStr } from "./regs.ts";
import { type Frame, type Reg, type SlotByte, copyReg, curFrame, notInit, ptrReg, scalarReg, slotAt } from "./state.ts";
import { tnumAdd, tnumConst, tnumIsAligned, tnumToString } from "./tnum.ts";
import { BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG, MAP_TYPE_NAMES, type MapTypeName } from "../uapi/index.ts";

const MAX_BPF_STACK = 512;
/** The struct a map pointer points to, by map type (each map type's map_btf_id): array-like and hash-like maps. */
const MAP_STRUCT: Readonly<Partial<Record<MapTypeName, string>>> = {
  hash: "bpf_htab", percpu_hash: "bpf_htab", lru_hash: "bpf_htab", lru_percpu_hash: "bpf_htab", hash_of_maps: "bpf_htab",
  array: "bpf_array", prog_array: "bpf_array", perf_event_array: "bpf_array", percpu_array: "bpf_array",
  cgroup_array: "bpf_array", array_of_maps: "bpf_array",
};
const BPF_MAX_VAR_OFF = 1n << 29n;

interface Access {
  regno: number;
  off: number;
  size: number;
  write: boolean;
  /** Register stored (writes) or loaded into (reads); -1 for BPF_ST immediates. */
  valueRegno: number;
  /** BPF_ST immediate. */
  imm?: number;
  /** Sign-extending load. */
  signed?: boolean;
  /** Part of an atomic read-modify-write. */
  atomic?: boolean;
}

function fact(env: Env, kind: AccessFact["kind"], size: number): void {
  if (env.noFact.has(env.pc)) return;
  const old = env.facts.get(env.pc);
  if (old && old.kind !== kind) { env.facts.delete(env.pc); env.noFact.add(env.pc); return; }
  env.facts.set(env.pc, { pc: env.pc, kind, size });
}

/** The frame a stack pointer refers to. */
function stackFrame(env: Env, reg: Reg): Frame {
  return env.state.frames[reg.frameno]!;
}

function checkStackBounds(env: Env, regno: number, reg: Reg, off: number, size: number, write: boolean, extra?: string): void {
  const what = extra ?? (write ? " write to" : " read from");
  if (isConst(reg.b)) {
    const o = off + toNumberS(reg.b.varOff.value);
    if (o < -MAX_BPF_STACK || o + size > 0 || size <= 0) {
      reject(env, `invalid${what} stack R${regno} off=${o} size=${size}`);
    }
  } else {
    const smin = toBigS(reg.b.smin), smax = toBigS(reg.b.smax);
    const minOff = smin + BigInt(off), maxOff = smax + BigInt(off) + BigInt(size);
    if (smax >= BPF_MAX_VAR_OFF || smin <= -BPF_MAX_VAR_OFF || minOff < -BigInt(MAX_BPF_STACK) || maxOff > 0n) {
      reject(env, `invalid variable-offset${what} stack R${regno} var_off=${tnumToString(reg.b.varOff)} off=${off} size=${size}`);
    }
  }
}

function recordDepth(env: Env, reg: Reg, lowest: number): void {
  const f = stackFrame(env, reg);
  const depth = -lowest;
  const sp = f.subprog;
  if (depth > (env.stackDepth[sp] ?? 0)) env.stackDepth[sp] = depth;
}

/** Bytes of a slot that hold a spilled register, counted from the slot's lowest address (the kernel's STACK_SPILL run). */
export function spillSize(slot: { bytes: SlotByte[] }): number {
  let n = 0;
  while (n < 8 && slot.bytes[n] === "r") n++;
  return n;
}

/**
 * One byte written by a variable-offset store or a helper: a spill or an iterator in its slot becomes plain data
 * (check_stack_write_var_off; a helper's bytes go through check_stack_write_fixed_off: is_stack_slot_special).
 */
export function writeStackByte(slot: { bytes: SlotByte[]; spilled: Reg | undefined }, idx: number): void {
  if (slot.bytes[7] === "r" || slot.bytes[0] === "i") { slot.spilled = undefined; slot.bytes.fill("m"); }
  slot.bytes[idx] = "m";
}

/**
 * A helper's memory argument on the stack at a variable offset (check_stack_range_initialized): the whole range
 * within the stack; a write (raw mode: byte stores at the same variable offset) turns every byte it may reach into plain
 * data, destroying the spills and iterators there; a read may not reach an iterator.
 */
export function helperStackVarOff(env: Env, regno: number, reg: Reg, size: number, write: boolean): void {
  checkStackBounds(env, regno, reg, reg.off, size, write);
  const lo = toNumberS(reg.b.smin) + reg.off, hi = toNumberS(reg.b.smax) + reg.off + size;
  recordDepth(env, reg, lo);
  const f = stackFrame(env, reg);
  for (let o = lo; o < hi; o++) {
    const spi = Math.floor((-o - 1) / 8), idx = ((o % 8) + 8) % 8;
    if (write) { writeStackByte(slotAt(f, spi), idx); env.vlog.scratchedSlots.add(spi); }
    else if (f.stack[spi]?.bytes[idx] === "i") reject(env, `invalid read from stack R${regno} var_off ${tnumToString(reg.b.varOff)}+${o - lo} size ${size}`);
  }
}

function scrubSpill(slot: { bytes: SlotByte[]; spilled: Reg | undefined }): void {
  // a plain store into an iterator's slot destroys it (its reference stays acquired)
  if (slot.bytes[0] === "i") { slot.spilled = undefined; slot.bytes.fill("m"); return; }
  if (!slot.bytes.includes("r")) return;
  slot.spilled = undefined;
  for (let k = 0; k < 8; k++) if (slot.bytes[k] === "r") slot.bytes[k] = "m";
}

/** Stack store at a constant offset (check_stack_write_fixed_off). */
function stackWrite(env: Env, reg: Reg, off: number, size: number, value: Reg | undefined, imm: number | undefined): void {
  const f = stackFrame(env, reg);
  const o = off;
  const spi = Math.floor((-o - 1) / 8);
  const slot = slotAt(f, spi);
  recordDepth(env, reg, o);
  const aligned = o % 8 === 0;
  if (value && value.type !== "scalar" && size !== 8) reject(env, "invalid size of register spill");
  if (env.unpriv && size !== 8 && slot.bytes[0] === "r" && slot.spilled && slot.spilled.type !== "scalar") {
    reject(env, "attempt to corrupt spilled pointer on stack");
  }
  // Registers (and, for privileged programs, BPF_ST immediates) stored at a slot start are tracked as spills of
  // `size` bytes; the rest of the slot becomes plain data (save_register_state).
  if (slot.bytes[0] === "i") scrubSpill(slot);
  let spill: Reg | undefined;
  if (value && aligned && (value.type !== "scalar" || !env.unpriv)) spill = copyReg(value);
  else if (!value && imm !== undefined && aligned && !env.unpriv) spill = scalarReg(knownBounds(fromNumber(imm)));
  if (spill) {
    if (size < 8) for (let k = size; k < 8; k++) { const t = slot.bytes[k]!; if (t === "r") slot.bytes[k] = "m"; else if (t !== "0" && t !== "?") slot.bytes[k] = "m"; else if (t === "?") slot.bytes[k] = "m"; }
    for (let k = 0; k < size; k++) slot.bytes[k] = "r";
    slot.spilled = spill;
    return;
  }
  const zero = value ? value.type === "scalar" && isConstValue(value.b, 0) : imm === 0;
  const byteType: SlotByte = zero ? "0" : "m";
  for (let i = 0; i < size; i++) {
    const b = o + i;
    const s = slotAt(f, Math.floor((-b - 1) / 8));
    scrubSpill(s);
    s.bytes[((b % 8) + 8) % 8] = byteType;
  }
}

/** Stack load at a constant offset (check_stack_read_fixed_off). */
function stackRead(env: Env, reg: Reg, off: number, size: number, regno: number): Reg {
  const f = stackFrame(env, reg);
  const spi = Math.floor((-off - 1) / 8);
  const slot = f.stack[spi];
  const start = ((off % 8) + 8) % 8;
  if (slot && slot.bytes[0] === "r" && slot.spilled) {
    const sp = slot.spilled;
    const n = spillSize(slot);
    if (sp.type !== "scalar") {
      if (size !== 8) reject(env, "invalid size of register fill");
      return copyReg(sp);
    }
    if (start === 0 && size === n) return copyReg(sp);
    if (start === 0 && size < n && isConst(sp.b)) { const r = scalarReg(knownBounds(sp.b.varOff.value)); truncate(r.b, size); return r; }
  }
  let allZero = true;
  for (let i = 0; i < size; i++) {
    const b = off + i;
    const s = f.stack[Math.floor((-b - 1) / 8)];
    const t = s ? s.bytes[((b % 8) + 8) % 8]! : "?";
    if (t === "i") reject(env, `invalid read from stack off ${off}+${i} size ${size}`);
    if (t === "?") {
      if (env.unpriv) reject(env, `invalid read from stack R${regno} off=${off} size=${size}`);
      allZero = false;
    } else if (t !== "0") allZero = false;
  }
  return allZero ? scalarReg(knownBounds(ZERO)) : scalarReg();
}

function memRegion(env: Env, regno: number, reg: Reg, off: number, size: number, memSize: number, what: (o: number) => string): void {
  // As numbers: exact within 2^53, and beyond it every check below fails the same way on the rounded value. With
  // |off| < 2^31, a negative smin plus off is non-negative only when it also fits in s32 (check_mem_region_access).
  const lo = toNumberS(reg.b.smin) + off, umax = toNumberU(reg.b.umax);
  if (reg.b.smin.hi < 0 && lo < 0) reject(env, `R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`);
  if (lo < 0 || size === 0 || lo + size > memSize) reject(env, `${what(lo)}\nR${regno} min value is outside of the allowed memory range`);
  if (umax >= Number(BPF_MAX_VAR_OFF)) reject(env, `R${regno} unbounded memory access, make sure to bounds check any such access`);
  const hi = umax + off;
  if (hi < 0 || hi + size > memSize) reject(env, `${what(hi)}\nR${regno} max value is outside of the allowed memory range`);
}

export function checkMemAccess(env: Env, a: Access): void {
  const regs = curFrame(env.state).regs;
  const reg = regs[a.regno]!;
  const { off, size, write } = a;
  const value = a.valueRegno >= 0 && write ? regs[a.valueRegno] : undefined;
  let loaded: Reg | undefined;
  switch (reg.type) {
    case "fp": {
      // Stack accesses are always checked for alignment (check_ptr_alignment, strict for the stack).
      const t = tnumAdd(reg.b.varOff, tnumConst(fromNumber(reg.off + off)));
      if (!tnumIsAligned(t, size)) {
        const v = isConst(reg.b) ? String(toBigS(reg.b.varOff.value)) : tnumToString(reg.b.varOff);
        reject(env, `misaligned stack access off ${v}+${reg.off}+${off} size ${size}`);
      }
      checkStackBounds(env, a.regno, reg, reg.off + off, size, write);
      if (isConst(reg.b)) {
        const lo = reg.off + off + toNumberS(reg.b.varOff.value);
        for (let b = lo; b < lo + size; b += 1) env.vlog.scratchedSlots.add(Math.floor((-b - 1) / 8));
      }
      if (!isConst(reg.b)) {
        const lowest = toNumberS(reg.b.smin) + reg.off + off;
        recordDepth(env, reg, lowest);
        if (env.unpriv && !write) reject(env, `R${a.regno} variable stack access prohibited for !root, var_off=${tnumToString(reg.b.varOff)} off=${off}`);
        if (write) {
          const f = stackFrame(env, reg);
          for (let o = lowest; o < toNumberS(reg.b.smax) + reg.off + off + size; o++) {
            const spi = Math.floor((-o - 1) / 8);
            writeStackByte(slotAt(f, spi), ((o % 8) + 8) % 8);
            env.vlog.scratchedSlots.add(spi);
          }
        } else loaded = scalarReg();
      } else {
        const o = reg.off + off + toNumberS(reg.b.varOff.value);
        if (write) stackWrite(env, reg, o, size, value, a.imm);
        else {
          // reads size the frame too (the kernel grows the stack state in check_stack_access_within_bounds)
          recordDepth(env, reg, o);
          loaded = stackRead(env, reg, o, size, a.regno);
        }
        fact(env, "stack", size);
      }
      break;
    }
    case "ctx": {
      if (reg.off < 0) reject(env, `negative offset ctx ptr R${a.regno} off=${reg.off} disallowed`);
      if (reg.off !== 0) reject(env, `dereference of modified ctx ptr R${a.regno} off=${reg.off} disallowed`);
      if (!isConst(reg.b)) reject(env, `variable ctx access var_off=${tnumToString(reg.b.varOff)} disallowed`);
      if (write && value && value.type !== "scalar" && env.unpriv) reject(env, `R${a.valueRegno} leaks addr into ctx`);
      // Packet pointers of cgroup skb programs need CAP_BPF (cg_skb_is_valid_access).
      const t = env.unpriv && env.progType === 8 && (off === 76 || off === 80) ? undefined : ctxAccess(env.progType, off, size, write);
      if (t === undefined) reject(env, `invalid bpf_context access off=${off} size=${size}`);
      if (!write) loaded = t === "scalar" ? scalarReg() : ptrReg(t);
      fact(env, "ctx", size);
      env.aux.ctxAccess.add(env.pc);
      break;
    }
    case "map_value": case "map_key": {
      if (reg.maybeNull) reject(env, `R${a.regno} invalid mem access '${regTypeStr(reg)}'`);
      const map = env.maps[reg.map]!;
      const memSize = reg.type === "map_value" ? map.valueSize : map.keySize;
      if (write && value && value.type !== "scalar" && env.unpriv) reject(env, `R${a.valueRegno} leaks addr into map`);
      if (reg.type === "map_key" && write) reject(env, `R${a.regno} cannot write into map_key`);
      if (reg.type === "map_value") checkMapAccessType(env, map, off, size, write);
      const o = reg.off + off;
      const label = reg.type === "map_value" ? "map value" : "map key";
      const sizeName = reg.type === "map_value" ? "value_size" : "key_size";
      memRegion(env, a.regno, reg, o, size, memSize, (x) => `invalid access to ${label}, ${sizeName}=${memSize} off=${x} size=${size}`);
      if (!write) loaded = scalarReg();
      // a frozen read-only array's bytes are known: the load is a constant (kernel: bpf_map_direct_read)
      const frozen = reg.type === "map_value" ? (map as { frozenValue?: Uint8Array }).frozenValue : undefined;
      if (!write && frozen && isConst(reg.b) && !a.atomic) {
        const at = o + toNumberS(reg.b.varOff.value);
        if (at >= 0 && at + size <= frozen.length) {
          let v = 0n;
          for (let k = size - 1; k >= 0; k--) v = (v << 8n) | BigInt(frozen[at + k]!);
          if (a.signed) v = BigInt.asUintN(64, BigInt.asIntN(size * 8, v));
          loaded = scalarReg(knownBounds(fromBig(v)));
        }
      }
      fact(env, reg.type, size);
      break;
    }
    case "pkt": case "pkt_meta": {
      if (write && !canWritePacket(env.progType)) reject(env, "cannot write into packet");
      if (write) env.aux.directWrite = true;
      if (write && value && value.type !== "scalar" && env.unpriv) reject(env, `R${a.valueRegno} leaks addr into packet`);
      if (reg.b.smin.hi < 0) reject(env, `R${a.regno} min value is negative, either use unsigned index or do a if (index >=0) check.`);
      const o = reg.off + off;
      if (o < 0 || size === 0 || o + size > reg.range) {
        reject(env, `invalid access to packet, off=${o} size=${size}, R${a.regno}(id=${reg.id},off=${o},r=${reg.range})\nR${a.regno} offset is outside of the packet`);
      }
      if (!write) loaded = scalarReg();
      fact(env, "pkt", size);
      break;
    }
    case "mem": {
      if (reg.maybeNull) reject(env, `R${a.regno} invalid mem access '${regTypeStr(reg)}'`);
      if (write && reg.rdonly) reject(env, `R${a.regno} cannot write into ${regTypeStr(reg)}`);
      const o = reg.off + off;
      memRegion(env, a.regno, reg, o, size, reg.range, (x) => `invalid access to memory, mem_size=${reg.range} off=${x} size=${size}`);
      if (!write) loaded = scalarReg();
      fact(env, "mem", size);
      break;
    }
    case "map_ptr": {
      // Privileged programs may read struct bpf_map fields through the map pointer (BTF-typed access,
      // check_ptr_to_map_access); a maybe-NULL one (an unchecked map-in-map lookup) is no map pointer yet.
      if (reg.maybeNull) reject(env, `R${a.regno} invalid mem access '${regTypeStr(reg)}'`);
      const struct = MAP_STRUCT[MAP_TYPE_NAMES[env.maps[reg.map]?.type ?? 0] ?? "unspec"] ?? "bpf_map";
      if (env.unpriv) reject(env, `'struct ${struct}' access is allowed only to CAP_PERFMON and CAP_SYS_ADMIN`, 1);
      if (write) reject(env, `only read from ${struct} is supported`);
      loaded = scalarReg();
      break;
    }
    default:
      reject(env, `R${a.regno} invalid mem access '${regTypeStr(reg)}'`);
  }
  if (!write && loaded && a.valueRegno >= 0) {
    if (loaded.type === "scalar" && size < 8) {
      if (a.signed) signExtend(loaded.b, size, false);
      else truncate(loaded.b, size);
    }
    regs[a.valueRegno] = loaded;
  }
}

/** BPF_LDX, BPF_STX, BPF_ST (check_load_mem / check_store_reg / the BPF_ST path of do_check). */
export function checkLoadStore(env: Env, insn: Insn): void {
  const cls = bpfClass(insn.code), mode = bpfMode(insn.code), size = sizeBytes(bpfSize(insn.code));
  if (cls === BPF_STX && mode === BPF_ATOMIC) { checkAtomic(env, insn); return; }
  if (cls === BPF_STX) {
    if (mode !== BPF_MEM || insn.imm !== 0) reject(env, "BPF_STX uses reserved fields", EINVAL);
    checkRegRead(env, insn.src);
    checkRegRead(env, insn.dst);
    checkMemAccess(env, { regno: insn.dst, off: insn.off, size, write: true, valueRegno: insn.src });
    return;
  }
  if (cls === BPF_ST) {
    if (mode !== BPF_MEM || insn.src !== 0) reject(env, "BPF_ST uses reserved fields", EINVAL);
    checkRegRead(env, insn.dst);
    checkMemAccess(env, { regno: insn.dst, off: insn.off, size, write: true, valueRegno: -1, imm: insn.imm });
    return;
  }
  // BPF_LDX (encoding validated up front).
  checkRegRead(env, insn.src);
  if (insn.dst === 10) reject(env, "frame pointer is read only");
  if (insn.dst > 10) reject(env, `R${insn.dst} is invalid`, EINVAL);
  checkMemAccess(env, { regno: insn.src, off: insn.off, size, write: false, valueRegno: insn.dst, signed: mode === BPF_MEMSX });
}

function checkAtomic(env: Env, insn: Insn): void {
  const op = insn.imm;
  const ok = [BPF_ADD, BPF_AND, BPF_OR, BPF_XOR].flatMap((x) => [x, x | BPF_FETCH]).concat([BPF_XCHG, BPF_CMPXCHG]);
  if (!ok.includes(op)) reject(env, `BPF_ATOMIC uses invalid atomic opcode ${(op & 0xff).toString(16).padStart(2, "0")}`, EINVAL);
  const sz = bpfSize(insn.code);
  if (sz !== BPF_W && sz !== BPF_DW) reject(env, "invalid atomic operand size", EINVAL);
  const size = sizeBytes(sz);
  checkRegRead(env, insn.src);
  checkRegRead(env, insn.dst);
  if (op === BPF_CMPXCHG) checkRegRead(env, 0);
  const regs = curFrame(env.state).regs;
  const dst = regs[insn.dst]!;
  if (regs[insn.src]!.type !== "scalar") {
    if (env.unpriv) reject(env, `R${insn.src} leaks addr into mem`);
  }
  if (dst.type === "ctx" || dst.type === "pkt" || dst.type === "pkt_meta") {
    reject(env, `BPF_ATOMIC stores into R${insn.dst} ${regTypeStr(dst)} is not allowed`);
  }
  const loadReg = op === BPF_CMPXCHG ? 0 : (op & BPF_FETCH) ? insn.src : -1;
  checkMemAccess(env, { regno: insn.dst, off: insn.off, size, write: false, valueRegno: -1, atomic: true });
  checkMemAccess(env, { regno: insn.dst, off: insn.off, size, write: true, valueRegno: -1, atomic: true });
  if (loadReg >= 0) {
    const r = scalarReg();
    if (size === 4) { zext32(r.b); boundsSync(r.b); }
    regs[loadReg] = r;
  }
}

export { notInit, EACCES };

export { BPF_F_RDONLY_PROG };

/** The map's flags as programs see them: devmaps are made read-only for programs at creation (dev_map_init_map). */
export function progMapFlags(map: { type: number; flags?: number }): number {
  const devmap = map.type === 14 || map.type === 25;
  return (map.flags ?? 0) | (devmap ? BPF_F_RDONLY_PROG : 0);
}

/** check_map_access_type: maps created read-only (libbpf's frozen .rodata) or write-only for programs. */
export function checkMapAccessType(env: Env, map: { type: number; valueSize: number; flags?: number }, off: number, size: number, write: boolean): void {
  const flags = progMapFlags(map);
  if (write && flags & BPF_F_RDONLY_PROG) reject(env, `write into map forbidden, value_size=${map.valueSize} off=${off} size=${size}`);
  if (!write && flags & BPF_F_WRONLY_PROG) reject(env, `read from map forbidden, value_size=${map.valueSize} off=${off} size=${size}`);
}
