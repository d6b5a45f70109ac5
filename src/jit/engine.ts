// The JIT engine: the interpreter's interface (load, run, unload over one address space) with each program compiled
// to WebAssembly on first run. It owns what compiled code calls out to: helpers (through the same HelperCall the
// interpreter passes), region resolution on a cache miss, faults and budget exhaustion worded as the interpreter
// words them, tail calls (a shared function table, 33 at most), LD_IND and callbacks into compiled subprograms.
import { BpfError } from "../errors.ts";
import { helperName } from "../uapi/index.ts";
import type { HelperEnv } from "../helpers/env.ts";
import { hostEnv } from "../helpers/env.ts";
import { defaultHelpers } from "../helpers/index.ts";
import type { HelperCall, HelperTable, PacketAccess, ProgramMap } from "../helpers/types.ts";
import { functionAt, packetLoadAddress } from "../vm/packet-load.ts";
import { MAX_BPF_STACK, MAX_CALL_FRAMES, MAX_TAIL_CALL_CNT } from "../isa/ebpf/opcodes.ts";
import type { Insn } from "../isa/ebpf/insn.ts";
import { mapFromAddress } from "../maps/registry.ts";
import type { AddressSpace, Region } from "../vm/memory.ts";
import { loadProgram, type LoadedProgram, type LoadOptions } from "../vm/program.ts";
import { CALLBACK_COST, RunResult, Vm, type RunOptions, type VmOptions } from "../vm/vm.ts";
import { toU64 } from "../vm/alu64.ts";
import type { AccessFact } from "../verifier/env.ts";
import {
  type ArrayLayout, type HashLayout, compileModule, type CompiledModule, type CompileOptions, FAULT_DEPTH, FAULT_JUMP_OUT, FAULT_KFUNC, mayStop, BUDGET_REPLAY, BUDGET_SPILLED, SCRATCH_BUDGET, SCRATCH_CACHE, SCRATCH_REGS, SCRATCH_SIZE,
  SCRATCH_STACKS,
} from "./compile.ts";

export interface JitLoadOptions extends LoadOptions {
  /** The verifier's access facts for this program (src/verifier verify().facts): proven accesses run unchecked. */
  readonly facts?: readonly AccessFact[];
}

interface Unit {
  readonly module: CompiledModule;
  readonly instance: WebAssembly.Instance;
  /** Table slot of the unit's entry function. */
  readonly slot: number;
  readonly invoke: (slot: number) => void;
  /** run(ctx, budget): a whole run from r1 = ctx, returning r0's low half (compile.ts runEntry). */
  readonly run: (ctx: number, budget: number) => number;
}

interface ProgState {
  readonly prog: LoadedProgram;
  readonly proven: Set<number>;
  readonly verified: boolean;
  readonly units: Map<number, Unit>;
}

const TWO32 = 4294967296;
// module-local alias: an imported class can cost a getter per use under tsx
const Result = RunResult;
// Facts the JIT trusts: the region kind is the same at run time as the verifier modelled it. ctx accesses stay
// checked (the context a run passes may differ from the type's layout).
const TRUSTED = new Set(["stack", "map_value", "map_key", "pkt", "mem"]);

export class JitVm {
  readonly space: AddressSpace;
  private readonly helpers: HelperTable;
  private readonly programOf: (entry: unknown) => LoadedProgram | undefined;
  private readonly defaultBudget: number;
  private readonly defaultCpu: number;
  private readonly call: HelperCall;
  private readonly stackRegions: Region[] = [];
  /** The helper call's r0-r10 (lo then hi) saved per callback depth while a callback runs. */
  private readonly callbackSaved = new Int32Array(MAX_CALL_FRAMES * 22);
  private readonly scratch: Region;
  private readonly states = new WeakMap<LoadedProgram, ProgState>();
  private readonly codeOwners = new Map<number, LoadedProgram>();
  private readonly table = new WebAssembly.Table({ element: "anyfunc", initial: 0 });
  private readonly gDepth = new WebAssembly.Global({ value: "i32", mutable: true }, 0);
  private readonly gPdata = new WebAssembly.Global({ value: "i32", mutable: true }, 0);
  private readonly gPlen = new WebAssembly.Global({ value: "i32", mutable: true }, 0);
  /** The run's CPU, for inlined per-CPU lookups and bpf_get_smp_processor_id. */
  private readonly gCpu = new WebAssembly.Global({ value: "i32", mutable: true }, 0);
  private cpu = 0;
  private readonly shared: boolean;
  private i32 = new Int32Array(0);
  private viewGeneration = -1;
  // Int32 indices into the scratch area, computed once (imported constants cost a getter call under tsx)
  private readonly regIdx: number;
  private readonly budgetIdx: number;
  private readonly cacheIdx: number;
  private tailCalls = 0;
  /** The budget the last run started with (its instruction count is that minus what is left). */
  private lastBudget = 0;
  private depthDirty = true;
  private lastProg: LoadedProgram | undefined;
  private lastUnit: Unit | undefined;
  /** The space's layoutVersion when the region cache was last cleared. */
  private cacheLayout = -1;
  /** The interpreter a block is handed to when the budget runs out inside it (made on first need). */
  private interp: Vm | undefined;
  private get budgetLeft(): number { return this.view()[this.budgetIdx]!; }
  private set budgetLeft(b: number) { this.view()[this.budgetIdx] = b; }
  private packet: PacketAccess | undefined;
  private pdata = 0;
  private plen = 0;
  private ctxRegion: Region | undefined;
  private ctxWritable: Uint8Array | undefined;
  private readonly imports: Record<string, unknown>;

  constructor(space: AddressSpace, opts: VmOptions = {}) {
    this.space = space;
    this.helpers = opts.helpers ?? [];
    this.defaultBudget = opts.budget ?? 1 << 28;
    this.defaultCpu = opts.cpu ?? 0;
    this.shared = typeof SharedArrayBuffer !== "undefined" && space.memory.buffer instanceof SharedArrayBuffer;
    for (let i = 0; i < MAX_CALL_FRAMES; i++) {
      this.stackRegions.push(space.alloc(MAX_BPF_STACK, { kind: "stack", name: `stack frame ${i}`, align: 16 }));
    }
    this.scratch = space.alloc(SCRATCH_SIZE, { kind: "scratch", name: "jit scratch", writable: false, align: 8 });
    this.regIdx = (this.scratch.start + SCRATCH_REGS) >> 2;
    this.budgetIdx = (this.scratch.start + SCRATCH_BUDGET) >> 2;
    this.cacheIdx = (this.scratch.start + SCRATCH_CACHE) >> 2;
    const v = this.view();
    for (let i = 0; i < MAX_CALL_FRAMES; i++) {
      v[(this.scratch.start + SCRATCH_STACKS) / 4 + 2 * i] = this.stackRegions[i]!.start + MAX_BPF_STACK;
    }
    this.programOf = opts.programOf ?? ((e) => (isLoadedProgram(e) ? e : undefined));
    const mapAt = opts.mapAt ?? ((addr: number) => mapFromAddress(space, addr) as ProgramMap | undefined);
    const self = this;
    this.call = {
      space, env: opts.env ?? hostEnv(), lo: new Int32Array(11), hi: new Int32Array(11), pc: 0, id: 0, ctx: 0,
      cpu: this.defaultCpu, packet: undefined, mapAt,
      callback: (fn, a1, a2, a3, a4, a5) => self.callback(fn, a1, a2, a3, a4, a5),
    };
    this.imports = {
      helper: (id: number, pc: number) => this.helper(id, pc),
      access: (lo: number, hi: number, size: number, write: number, pc: number) => this.access(lo, hi, size, write !== 0, pc),
      tail: (pc: number, mlo: number, mhi: number, index: number) => this.tail(pc, mlo, mhi, index >>> 0),
      ldaddr: (k: number, size: number) => this.packetAddress(k, size),
      // bpf_ktime_get_ns inlined (default helper table only): the env's clock, its bigint taken as an i64
      ktime: () => this.call.env.ktimeNs(),
      mem: space.memory, table: this.table,
      budget: new WebAssembly.Global({ value: "i32", mutable: true }, 0), depth: this.gDepth, pdata: this.gPdata, plen: this.gPlen, cpu: this.gCpu,
    };
  }

  /** Check and pre-decode a program (as the interpreter does); it is compiled on its first run. */
  load(insns: readonly Insn[], opts: JitLoadOptions = {}): LoadedProgram {
    const p = loadProgram(this.space, insns, opts);
    this.codeOwners.set(p.code.id, p);
    const proven = new Set<number>();
    for (const f of opts.facts ?? []) if (TRUSTED.has(f.kind)) proven.add(f.pc);
    this.states.set(p, { prog: p, proven, verified: opts.facts !== undefined, units: new Map() });
    return p;
  }

  unload(p: LoadedProgram): void {
    this.codeOwners.delete(p.code.id);
    this.space.release(p.code);
    this.states.delete(p);
    if (this.lastProg === p) { this.lastProg = undefined; this.lastUnit = undefined; }
  }

  /** Compile now (else on first run); returns the module of the program's entry. */
  compile(p: LoadedProgram, entry = 0, listing = false): CompiledModule {
    if (listing) return compileModule(p, entry, this.compileOptions(this.state(p), true));
    return this.unit(p, entry).module;
  }

  /** Address of the top of call frame `i`'s stack (r10 in that frame), as the interpreter's Vm.stackTop. */
  stackTop(frame = 0): number {
    return this.stackRegions[frame]!.start + MAX_BPF_STACK;
  }

  run(prog: LoadedProgram, opts: RunOptions = {}): RunResult {
    const lo = this.run32(prog, opts);
    return new Result(lo, this.view()[this.regIdx + 1]! >>> 0, this.lastBudget - this.budgetLeft);
  }

  /**
   * Runs `prog` and returns r0's low 32 bits, unsigned (a filter's or XDP program's verdict, test_run's retval),
   * allocating nothing: the hot path of filters and `repeat` loops. lastRun() gives the full result afterwards.
   */
  run32(prog: LoadedProgram, opts: RunOptions = {}): number {
    let unit = this.lastUnit;
    if (prog !== this.lastProg || unit === undefined) { unit = this.unit(prog, 0); this.lastProg = prog; this.lastUnit = unit; }
    const ctx = opts.ctx ?? 0;
    const budget = opts.budget ?? this.defaultBudget;
    this.lastBudget = budget;
    // the read cache holds a region, valid while the layout stands (a ctx read then costs no engine call a run); the
    // write cache is dropped every run (by the module's run entry, or below)
    if (this.cacheLayout !== this.space.layoutVersion) { this.resetCache(this.view()); this.cacheLayout = this.space.layoutVersion; }
    if (this.depthDirty) { this.gDepth.value = 0; this.depthDirty = false; }
    this.tailCalls = 0;
    // object fields written only when they change (a run over the same context, as in a repeat loop, writes none)
    const packet = opts.packet, call = this.call;
    if (packet !== this.packet) { this.packet = packet; call.packet = packet; }
    this.syncPacket();
    if (opts.ctxRegion !== this.ctxRegion) this.ctxRegion = opts.ctxRegion;
    if (opts.ctxWritable !== this.ctxWritable) this.ctxWritable = opts.ctxWritable;
    call.ctx = ctx;
    const cpu = opts.cpu ?? this.defaultCpu;
    call.cpu = cpu;
    if (cpu !== this.cpu) { this.cpu = cpu; this.gCpu.value = cpu; }
    try {
      // the common case, r1 = a context address: the module's run entry passes the registers as constants
      if (opts.r1 === undefined && opts.r2 === undefined && opts.r3 === undefined && opts.r4 === undefined && opts.r5 === undefined
        && ctx >= 0 && ctx < TWO32) return unit.run(ctx, budget) >>> 0;
      this.invokeWith(unit, ctx, opts, budget);
      return this.view()[this.regIdx]! >>> 0;
    } catch (e) {
      this.depthDirty = true;
      throw asBpfError(e);
    }
  }

  /** The result of the last run or run32 (r0 and the instructions it executed). */
  lastRun(): RunResult {
    const v = this.view(), r = this.regIdx;
    return new Result(v[r]! >>> 0, v[r + 1]! >>> 0, this.lastBudget - v[this.budgetIdx]!);
  }

  /** A run with explicit r1-r5 (or a context address outside u32): registers through scratch, then invoke. */
  private invokeWith(unit: Unit, ctx: number, opts: RunOptions, budget: number): void {
    const v = this.view(), r = this.regIdx;
    zeroRegs(v, r);
    setReg(v, r, 1, ctx);
    setReg(v, r, 1, opts.r1); setReg(v, r, 2, opts.r2); setReg(v, r, 3, opts.r3); setReg(v, r, 4, opts.r4); setReg(v, r, 5, opts.r5);
    const c = this.cacheIdx;
    v[c + 4] = 0; v[c + 5] = 0; v[c + 6] = 0; v[c + 7] = 0;
    v[this.budgetIdx] = budget;
    unit.invoke(unit.slot);
  }

  private compileOptions(s: ProgState, listing: boolean): CompileOptions {
    return {
      scratch: this.scratch.start, proven: s.proven, sharedMemory: this.shared, listing, verified: s.verified,
      arrayAt: (addr) => arrayLayout(this.call.mapAt(addr)),
      hashAt: (addr) => (this.call.mapAt(addr) as { lookupLayout?: () => HashLayout | undefined } | undefined)?.lookupLayout?.(),
      defaultHelper: (id) => this.helpers[id] !== undefined && this.helpers[id] === defaultHelpers[id],
    };
  }

  private state(p: LoadedProgram): ProgState {
    let s = this.states.get(p);
    if (s === undefined) {
      // loaded elsewhere (a prog-array slot filled by the interpreter's load): compile it all checked
      s = { prog: p, proven: new Set(), verified: false, units: new Map() };
      this.states.set(p, s);
      this.codeOwners.set(p.code.id, p);
    }
    return s;
  }

  private unit(p: LoadedProgram, entry: number): Unit {
    const s = this.state(p);
    let u = s.units.get(entry);
    if (u !== undefined) return u;
    const module = compileModule(p, entry, this.compileOptions(s, false));
    const imports = {
      ...this.imports,
      budget_out: (start: number, count: number) => this.budgetOut(p, s.proven, start, count),
      fault: (kind: number, pc: number) => this.fault(p, kind, pc),
      atomic: (pc: number, code: number, off: number, imm: number, d: number, s: number) => this.atomic(pc, code, off, imm, d, s),
      callx: (pc: number, reg: number) => this.callx(p, pc, reg),
    };
    const instance = new WebAssembly.Instance(new WebAssembly.Module(module.bytes as BufferSource), { env: imports });
    const slot = this.table.length;
    this.table.grow(1);
    this.table.set(slot, instance.exports.f0 as () => void);
    u = { module, instance, slot, invoke: instance.exports.invoke as (slot: number) => void, run: instance.exports.run as (ctx: number, budget: number) => number };
    s.units.set(entry, u);
    return u;
  }

  private view(): Int32Array {
    // the space re-creates its views when the memory grows and bumps `generation`; follow it
    if (this.viewGeneration !== this.space.generation) {
      this.i32 = new Int32Array(this.space.memory.buffer);
      this.viewGeneration = this.space.generation;
    }
    return this.i32;
  }

  private resetCache(v: Int32Array): void {
    const c = this.cacheIdx;
    v[c] = 0; v[c + 1] = 0; v[c + 2] = 0; v[c + 3] = 0; v[c + 4] = 0; v[c + 5] = 0; v[c + 6] = 0; v[c + 7] = 0;
  }

  private syncPacket(): void {
    const pk = this.packet;
    const data = pk?.data ?? 0, len = pk?.len ?? 0;
    if (data !== this.pdata || len !== this.plen) {
      this.pdata = data; this.plen = len;
      this.gPdata.value = data; this.gPlen.value = len;
    }
  }

  private helper(id: number, pc: number): void {
    const fn = this.helpers[id];
    if (fn === undefined) {
      throw new BpfError("UNSUPPORTED", `pc ${pc}: helper ${helperName(id) ?? "unknown"}#${id} is not available`, { pc });
    }
    const v = this.view(), r = this.regIdx, call = this.call, L = call.lo, H = call.hi;
    for (let i = 1; i <= 5; i++) { L[i] = v[r + 2 * i]!; H[i] = v[r + 2 * i + 1]!; }
    call.pc = pc; call.id = id;
    const layout = this.space.layoutVersion;
    fn(call);
    const w = this.view();
    w[r] = L[0]!; w[r + 1] = H[0]!;
    if (this.space.layoutVersion !== layout) this.resetCache(w);
    if (this.packet !== undefined) this.syncPacket();
  }

  /** A cache miss: resolve the region of [addr, addr+size) or throw the interpreter's fault. */
  private access(lo: number, hi: number, size: number, write: boolean, pc: number): void {
    if (hi !== 0) {
      const hex = (hi >>> 0).toString(16) + (lo >>> 0).toString(16).padStart(8, "0");
      throw new BpfError("FAULT", `pc ${pc}: invalid ${write ? "write" : "read"} of ${size} bytes at 0x${hex}: unmapped address`, { pc });
    }
    const a = lo >>> 0;
    const reg = this.space.find(a);
    if (reg !== undefined && a + size <= reg.start + reg.size && (!write || reg.writable)) {
      if (reg.size >= 8 && reg !== this.scratch) {
        const v = this.view(), base = this.cacheIdx + (write ? 4 : 0);
        v[base] = reg.start; v[base + 1] = 0; v[base + 2] = reg.size - 7; v[base + 3] = 0;
      }
      if (reg !== this.scratch) return;
    }
    const ctx = this.ctxRegion, mask = this.ctxWritable;
    if (write && ctx !== undefined && mask !== undefined && a >= ctx.start && a + size <= ctx.start + ctx.size) {
      let ok = true;
      for (let i = 0; i < size; i++) if (!mask[a - ctx.start + i]) ok = false;
      if (ok) return;
    }
    if (reg === this.scratch) throw new BpfError("FAULT", `pc ${pc}: invalid ${write ? "write" : "read"} of ${size} bytes at 0x${a.toString(16)}: unmapped address`, { pc });
    throw this.space.fault(a, size, write, pc);
  }

  /**
   * A block's budget check failed: the run ends inside it, at the exhaustion or at a fault before it. With nothing
   * before that pc that can fault, it is the exhaustion; otherwise the interpreter runs the block from the registers
   * the code spilled (mayStop decides both sides) and reports what it meets first, or exits the frame (LD_ABS out
   * of bounds): then the registers go back to scratch and 1 tells the code to return. A block that stores to memory
   * before the exhaustion (flagged replay) runs on the interpreter too, which makes the stores and then runs out.
   */
  private budgetOut(p: LoadedProgram, proven: ReadonlySet<number>, start: number, flaggedCount: number): number {
    const spilled = (flaggedCount & BUDGET_SPILLED) !== 0, replay = (flaggedCount & BUDGET_REPLAY) !== 0;
    const count = flaggedCount & ~(BUDGET_SPILLED | BUDGET_REPLAY);
    const before = this.budgetLeft + count;
    let pc = start;
    let risky = false;
    for (let i = 0; i < before; i++) { if (spilled && mayStop(p, pc, proven)) risky = true; pc += p.op[pc] === 0x18 ? 2 : 1; }
    this.budgetLeft = 0;
    if (!risky && !replay) throw new BpfError("BUDGET", `pc ${pc}: instruction budget exhausted`, { pc });
    const vm = this.interp ??= new Vm(this.space, { helpers: this.helpers, stackRegions: this.stackRegions });
    const v = this.view(), r = this.regIdx;
    for (let i = 0; i <= 10; i++) { vm.lo[i] = v[r + 2 * i]!; vm.hi[i] = v[r + 2 * i + 1]!; }
    const res = vm.resume(p, start, this.gDepth.value as number, before, {
      ctx: this.call.ctx, cpu: this.call.cpu, ...(this.packet ? { packet: this.packet } : {}),
      ...(this.ctxRegion ? { ctxRegion: this.ctxRegion } : {}), ...(this.ctxWritable ? { ctxWritable: this.ctxWritable } : {}),
    });
    const w = this.view();
    for (let i = 0; i <= 10; i++) { w[r + 2 * i] = vm.lo[i]!; w[r + 2 * i + 1] = vm.hi[i]!; }
    w[this.budgetIdx] = before - res.insns;
    return 1;
  }

  private fault(p: LoadedProgram, kind: number, pc: number): void {
    if (kind === FAULT_DEPTH) throw new BpfError("FAULT", `pc ${pc}: call exceeds the maximum depth of ${MAX_CALL_FRAMES} frames`, { pc });
    if (kind === FAULT_KFUNC) throw new BpfError("UNSUPPORTED", `pc ${pc}: kfunc calls are not supported by the interpreter`, { pc });
    // a jump to `pc` that is no instruction: the interpreter counts it, then faults
    const b = this.budgetLeft - 1;
    this.budgetLeft = Math.max(b, 0);
    if (b < 0) throw new BpfError("BUDGET", `pc ${pc}: instruction budget exhausted`, { pc });
    if (kind === FAULT_JUMP_OUT || pc < 0 || pc >= p.length) {
      throw new BpfError("FAULT", `pc ${pc}: jump out of the program (${p.length} instructions)`, { pc });
    }
    throw new BpfError("FAULT", `pc ${pc}: jump into the middle of an lddw or to an invalid opcode 0x${p.op[pc]!.toString(16)}`, { pc });
  }

  private tail(pc: number, mlo: number, mhi: number, index: number): number {
    void pc;
    if (mhi !== 0) return -1;
    const map = this.call.mapAt(mlo >>> 0);
    if (map?.getProgram === undefined) return -1;
    if (map.maxEntries !== undefined && index >= map.maxEntries) return -1;
    if (this.tailCalls >= MAX_TAIL_CALL_CNT) return -1;
    const next = this.programOf(map.getProgram(index));
    if (next === undefined) return -1;
    this.tailCalls++;
    return this.unit(next, 0).slot;
  }

  private packetAddress(k: number, size: number): number { return packetLoadAddress(this.packet, k, size); }


  /** Checked address of register `reg` (from scratch) + off. */
  private ea(v: Int32Array, reg: number, off: number, size: number, write: boolean, pc: number): number {
    const r = (this.regIdx) + 2 * reg;
    const s = (v[r]! >>> 0) + off;
    const lo = s >>> 0;
    const hi = (v[r + 1]! + Math.floor(s / TWO32)) | 0;
    this.access(lo, hi, size, write, pc);
    return lo;
  }

  /** BPF_ATOMIC the compiled code left to the engine (unverified or misaligned): the interpreter's semantics. */
  private atomic(pc: number, code: number, off: number, imm: number, d: number, s: number): void {
    let v = this.view();
    const size = (code & 0x18) === 0x18 ? 8 : (code & 0x18) === 0 ? 4 : (code & 0x18) === 0x08 ? 2 : 1;
    const R = this.regIdx;
    if (imm === 0x100) {
      const a = this.ea(v, s, off, size, false, pc);
      v = this.view();
      const dv = this.space.dv;
      v[R + 2 * d] = size === 8 || size === 4 ? dv.getInt32(a, true) : size === 2 ? dv.getUint16(a, true) : dv.getUint8(a);
      v[R + 2 * d + 1] = size === 8 ? dv.getInt32(a + 4, true) : 0;
      return;
    }
    const a = this.ea(v, d, off, size, true, pc);
    v = this.view();
    const dv = this.space.dv;
    const sl = v[R + 2 * s]!, shFull = v[R + 2 * s + 1]!;
    if (imm === 0x110) {
      if (size === 8) { dv.setInt32(a, sl, true); dv.setInt32(a + 4, shFull, true); }
      else if (size === 4) dv.setInt32(a, sl, true);
      else if (size === 2) dv.setInt16(a, sl, true);
      else dv.setUint8(a, sl);
      return;
    }
    const oldLo = dv.getInt32(a, true), oldHi = size === 8 ? dv.getInt32(a + 4, true) : 0;
    const sh = size === 8 ? shFull : 0;
    let nl: number, nh: number;
    switch (imm & ~1) {
      case 0x00: { const r = (oldLo >>> 0) + (sl >>> 0); nl = r | 0; nh = (oldHi + sh + (r >= TWO32 ? 1 : 0)) | 0; break; }
      case 0x40: nl = oldLo | sl; nh = oldHi | sh; break;
      case 0x50: nl = oldLo & sl; nh = oldHi & sh; break;
      case 0xa0: nl = oldLo ^ sl; nh = oldHi ^ sh; break;
      case 0xe0: nl = sl; nh = sh; break;
      case 0xf0: {
        const eq = oldLo === v[R]! && (size === 4 || oldHi === v[R + 1]!);
        if (eq) { dv.setInt32(a, sl, true); if (size === 8) dv.setInt32(a + 4, sh, true); }
        v[R] = oldLo; v[R + 1] = oldHi;
        return;
      }
      default: throw new BpfError("FAULT", `pc ${pc}: invalid atomic operation 0x${imm.toString(16)}`, { pc });
    }
    dv.setInt32(a, nl, true);
    if (size === 8) dv.setInt32(a + 4, nh, true);
    if (imm & 1) { v[R + 2 * s] = oldLo; v[R + 2 * s + 1] = oldHi; }
  }

  /** callx: a BPF function of this program (its table slot), else a helper id: -2 for a tail call, -1 when done. */
  private callx(p: LoadedProgram, pc: number, reg: number): number {
    if (reg > 10 || reg < 0) throw new BpfError("FAULT", `pc ${pc}: callx through r${reg}, which is not a register`, { pc });
    const v = this.view(), R = this.regIdx;
    const lo = v[R + 2 * reg]!, hi = v[R + 2 * reg + 1]!;
    const fn = hi === 0 ? this.functionAt(lo >>> 0) : undefined;
    if (fn !== undefined && fn.prog === p) return this.unit(p, fn.pc).slot;
    if (lo === 12) return -2;
    this.helper(lo, pc);
    return -1;
  }

  /** The program whose code holds `addr`, and the slot it points at. */
  functionAt(addr: number): { prog: LoadedProgram; pc: number } | undefined {
    return functionAt(this.space, this.codeOwners, addr);
  }

  private callback(fn: number, a1: bigint | number, a2: bigint | number, a3: bigint | number, a4: bigint | number, a5: bigint | number): bigint {
    const call = this.call;
    const target = this.functionAt(fn);
    if (target === undefined) {
      throw new BpfError("FAULT", `pc ${call.pc}: callback address 0x${fn.toString(16)} is not a BPF function`, { pc: call.pc });
    }
    const depth = this.gDepth.value as number;
    if (depth + 1 >= MAX_CALL_FRAMES) {
      throw new BpfError("FAULT", `pc ${call.pc}: callback exceeds the call depth of ${MAX_CALL_FRAMES} frames`, { pc: call.pc });
    }
    // charged as the interpreter charges it (Vm CALLBACK_COST, the kernel's inlined bpf_loop), from the budget the
    // compiled caller handed over in scratch before the helper call
    const left = this.budgetLeft - CALLBACK_COST;
    if (left < 0) {
      this.budgetLeft = 0;
      throw new BpfError("BUDGET", `pc ${call.pc}: instruction budget exhausted`, { pc: call.pc });
    }
    this.budgetLeft = left;
    const unit = this.unit(target.prog, target.pc);
    // a callback runs once per bpf_loop iteration: save the helper's registers in preallocated per-depth rows
    const L = call.lo, H = call.hi, save = this.callbackSaved, base = depth * 22;
    for (let i = 0; i < 11; i++) { save[base + i] = L[i]!; save[base + 11 + i] = H[i]!; }
    const packet = this.packet;
    const v = this.view(), R = this.regIdx;
    zeroRegs(v, R);
    setReg(v, R, 1, a1); setReg(v, R, 2, a2); setReg(v, R, 3, a3); setReg(v, R, 4, a4); setReg(v, R, 5, a5);
    this.gDepth.value = depth + 1;
    try {
      unit.invoke(unit.slot);
      const w = this.view();
      return toU64(w[R]!, w[R + 1]!);
    } finally {
      this.gDepth.value = depth;
      this.packet = packet;
      for (let i = 0; i < 11; i++) { L[i] = save[base + i]!; H[i] = save[base + 11 + i]!; }
    }
  }
}

/** An array or per-CPU array map's value layout, recognised by shape (src/maps ArrayMap). */
function arrayLayout(m: ProgramMap | undefined): ArrayLayout | undefined {
  const a = m as (ProgramMap & { percpu?: boolean; nCpus?: number; values?: Region; valueAddress?: (i: number, cpu?: number) => number }) | undefined;
  if (a === undefined || typeof a.percpu !== "boolean" || a.values === undefined) return undefined;
  if (a.type !== (a.percpu ? 6 : 2) && a.type !== (a.percpu ? "percpu_array" : "array")) return undefined;
  if (typeof a.valueAddress !== "function" || a.maxEntries === undefined) return undefined;
  if (a.valueAddress(0) !== a.values.start) return undefined;
  const stride = a.maxEntries > 1 ? a.valueAddress(1) - a.valueAddress(0) : a.values.size;
  if (!a.percpu) return { base: a.values.start, stride, maxEntries: a.maxEntries };
  const nCpus = a.nCpus;
  if (typeof nCpus !== "number" || nCpus < 1) return undefined;
  const valueStride = nCpus > 1 ? a.valueAddress(0, 1) - a.valueAddress(0, 0) : stride;
  return { base: a.values.start, stride, maxEntries: a.maxEntries, percpu: { valueStride, nCpus } };
}

/** r0-r10 in scratch to 0 (unrolled: TypedArray.fill costs ~20 ns a call, more than a short filter's run). */
function zeroRegs(v: Int32Array, r: number): void {
  v[r] = 0; v[r + 1] = 0; v[r + 2] = 0; v[r + 3] = 0; v[r + 4] = 0; v[r + 5] = 0; v[r + 6] = 0; v[r + 7] = 0;
  v[r + 8] = 0; v[r + 9] = 0; v[r + 10] = 0; v[r + 11] = 0; v[r + 12] = 0; v[r + 13] = 0; v[r + 14] = 0; v[r + 15] = 0;
  v[r + 16] = 0; v[r + 17] = 0; v[r + 18] = 0; v[r + 19] = 0; v[r + 20] = 0; v[r + 21] = 0;
}

function setReg(v: Int32Array, base: number, r: number, x: number | bigint | undefined): void {
  if (x === undefined) return;
  if (typeof x === "bigint") {
    const u = BigInt.asUintN(64, x);
    v[base + 2 * r] = Number(u & 0xffffffffn); v[base + 2 * r + 1] = Number(u >> 32n);
  } else {
    v[base + 2 * r] = x; v[base + 2 * r + 1] = Math.floor(x / TWO32);
  }
}

function asBpfError(e: unknown): unknown {
  if (e instanceof WebAssembly.RuntimeError) return new BpfError("FAULT", `jit: ${e.message}`);
  if (e instanceof RangeError && /call stack/.test(e.message)) return new BpfError("FAULT", `jit: ${e.message}`);
  return e;
}

function isLoadedProgram(e: unknown): e is LoadedProgram {
  return typeof e === "object" && e !== null && "op" in e && "code" in e && "imm" in e;
}
