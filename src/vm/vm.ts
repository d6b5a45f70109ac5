// The eBPF interpreter: kernel/bpf/core.c ___bpf_prog_run semantics over the checked address space.
// Registers are 32-bit halves in two Int32Arrays; the loop is one flat switch on the opcode with no allocation and
// no BigInt except in 64-bit mul/div/mod slow paths. Call frames, callbacks and tail calls share preallocated state.
import { BpfError } from "../errors.ts";
import { helperName } from "../uapi/index.ts";
import type { HelperEnv } from "../helpers/env.ts";
import { hostEnv } from "../helpers/env.ts";
import type { HelperCall, HelperTable, PacketAccess, ProgramMap } from "../helpers/types.ts";
import { functionAt, packetLoadAddress } from "./packet-load.ts";
import { MAX_BPF_STACK, MAX_CALL_FRAMES, MAX_TAIL_CALL_CNT } from "../isa/ebpf/opcodes.ts";
import type { Insn } from "../isa/ebpf/insn.ts";
import {
  arsh64, bswap16, bswap32, lsh64, mul64, rsh64, sdiv32, sdiv64, sge, sgt, smod32, smod64, toU64, udiv32, udiv64, uge, ugt,
  umod32, umod64,
} from "./alu64.ts";
import type { AddressSpace, Region } from "./memory.ts";
import { loadProgram } from "./program.ts";
import { mapFromAddress } from "../maps/registry.ts";
import type { LoadedProgram, LoadOptions } from "./program.ts";

export interface VmOptions {
  /** Helper implementations by Linux id (see src/helpers). Missing ids fault when called. */
  readonly helpers?: HelperTable;
  readonly env?: HelperEnv;
  /** Map pointer → map (default: the maps registry of this address space, src/maps mapFromAddress). */
  readonly mapAt?: (addr: number) => ProgramMap | undefined;
  /** What a PROG_ARRAY slot holds → the program to tail-call (default: the slot value itself if it is a LoadedProgram). */
  readonly programOf?: (entry: unknown) => LoadedProgram | undefined;
  /** Default instruction budget per run (default 2^28). */
  readonly budget?: number;
  /** CPU number reported to helpers (default 0). */
  readonly cpu?: number;
  /** Stack frames to use instead of allocating MAX_CALL_FRAMES new ones (the JIT lends its own to the interpreter). */
  readonly stackRegions?: readonly Region[];
}

export interface RunOptions {
  /** Context address, passed in r1 (the kernel's BPF_PROG_RUN(prog, ctx)). */
  readonly ctx?: number;
  /** Explicit argument registers (r1 overrides ctx). */
  readonly r1?: number | bigint;
  readonly r2?: number | bigint;
  readonly r3?: number | bigint;
  readonly r4?: number | bigint;
  readonly r5?: number | bigint;
  /** Instruction budget for this run. */
  readonly budget?: number;
  /** The packet of an skb/xdp context: LD_ABS/LD_IND and packet helpers read it. */
  readonly packet?: PacketAccess;
  /** Region of the context and a per-byte mask of the fields programs may write (kernel: ctx write access). */
  readonly ctxRegion?: Region;
  readonly ctxWritable?: Uint8Array;
  readonly cpu?: number;
}

/** r0 on exit, as 32-bit halves (unsigned), plus the number of instructions executed. */
export class RunResult {
  constructor(readonly lo: number, readonly hi: number, readonly insns: number) {}
  /** r0 as an unsigned 64-bit bigint. */
  get value(): bigint { return toU64(this.lo, this.hi); }
  /** r0 as unsigned 64-bit decimal, as `bpftool prog run` prints the return value. */
  toString(): string { return this.value.toString(); }
}

const TWO32 = 4294967296;

/** Instructions charged per callback invocation (bpf_loop, for_each_map_elem) on top of what the callback runs. */
export const CALLBACK_COST = 7;

export class Vm {
  readonly space: AddressSpace;
  readonly lo = new Int32Array(11);
  readonly hi = new Int32Array(11);
  private readonly helpers: HelperTable;
  private readonly stackRegions: Region[] = [];
  private readonly frameRetPc = new Int32Array(MAX_CALL_FRAMES + 1);
  private readonly frameProg: (LoadedProgram | undefined)[] = new Array(MAX_CALL_FRAMES + 1).fill(undefined);
  private readonly frameSaved = new Int32Array((MAX_CALL_FRAMES + 1) * 10);
  private readonly callbackSaved = new Int32Array((MAX_CALL_FRAMES + 1) * 22);
  private readonly codeOwners = new Map<number, LoadedProgram>();
  private readonly programOf: (entry: unknown) => LoadedProgram | undefined;
  private readonly defaultBudget: number;
  private readonly defaultCpu: number;
  private readonly call: HelperCall;
  private budget = 0;
  /** The budget the last run started with. */
  private runBudget = 0;
  private depth = 0;
  // The last region a read / a write hit, so the hot loop checks an access with two compares (reset after helpers).
  private readStart = 0;
  private readEnd = 0;
  private writeStart = 0;
  private writeEnd = 0;
  // The region hit before that (programs alternate between the stack and a map value or the packet).
  private altReadStart = 0;
  private altReadEnd = 0;
  private altWriteStart = 0;
  private altWriteEnd = 0;
  /** The address space layout these four cached regions belong to. */
  private cacheLayout = -1;
  private tailCalls = 0;
  private packet: PacketAccess | undefined;
  private ctxRegion: Region | undefined;
  private ctxWritable: Uint8Array | undefined;

  constructor(space: AddressSpace, opts: VmOptions = {}) {
    this.space = space;
    this.helpers = opts.helpers ?? [];
    this.defaultBudget = opts.budget ?? 1 << 28;
    this.defaultCpu = opts.cpu ?? 0;
    for (let i = 0; i < MAX_CALL_FRAMES; i++) {
      this.stackRegions.push(opts.stackRegions?.[i] ?? space.alloc(MAX_BPF_STACK, { kind: "stack", name: `stack frame ${i}`, align: 16 }));
    }
    this.programOf = opts.programOf ?? ((e) => (isLoadedProgram(e) ? e : undefined));
    const mapAt = opts.mapAt ?? ((addr: number) => mapFromAddress(space, addr) as ProgramMap | undefined);
    const vm = this;
    this.call = {
      space, env: opts.env ?? hostEnv(), lo: this.lo, hi: this.hi, pc: 0, id: 0, ctx: 0, cpu: opts.cpu ?? 0,
      packet: undefined,
      mapAt,
      callback: (fn, a1, a2, a3, a4, a5) => vm.callback(fn, a1, a2, a3, a4, a5),
    };
  }

  /** Pre-decode and check a program (lddw pseudo sources resolved through `opts.resolve`). */
  load(insns: readonly Insn[], opts: LoadOptions = {}): LoadedProgram {
    const p = loadProgram(this.space, insns, opts);
    this.codeOwners.set(p.code.id, p);
    return p;
  }

  /** Registers a program another thread loaded over this space's (shared) memory, rebuilt here, as this VM's own. */
  adopt(p: LoadedProgram): void {
    this.codeOwners.set(p.code.id, p);
  }

  /** Free a program's code region. */
  unload(p: LoadedProgram): void {
    this.codeOwners.delete(p.code.id);
    this.space.release(p.code);
  }

  /** Run to exit; returns r0. Throws BpfError FAULT / BUDGET / UNSUPPORTED naming the pc. */
  run(prog: LoadedProgram, opts: RunOptions = {}): RunResult {
    const lo = this.run32(prog, opts);
    return new RunResult(lo, this.hi[0]! >>> 0, this.runBudget - this.budget);
  }

  /** Run to exit; returns r0's low 32 bits, unsigned, allocating nothing (lastRun() gives the whole result). */
  run32(prog: LoadedProgram, opts: RunOptions = {}): number {
    const L = this.lo, H = this.hi;
    L.fill(0); H.fill(0);
    if (opts.ctx !== undefined) L[1] = opts.ctx;
    setReg(L, H, 1, opts.r1); setReg(L, H, 2, opts.r2); setReg(L, H, 3, opts.r3);
    setReg(L, H, 4, opts.r4); setReg(L, H, 5, opts.r5);
    L[10] = this.stackRegions[0]!.start + MAX_BPF_STACK;
    const budget = opts.budget ?? this.defaultBudget;
    this.runBudget = budget;
    this.enter(budget, 0, opts);
    this.exec(prog, 0, 0);
    return L[0]! >>> 0;
  }

  /** The result of the last run or run32 (r0 and the instructions it executed). */
  lastRun(): RunResult {
    return new RunResult(this.lo[0]! >>> 0, this.hi[0]! >>> 0, this.runBudget - this.budget);
  }

  /** The per-run state run() and resume() both start from. */
  private enter(budget: number, depth: number, opts: RunOptions): void {
    this.budget = budget;
    this.depth = depth;
    this.tailCalls = 0;
    // object fields written only when they change: a run over the same context (a repeat loop) writes none
    const call = this.call, packet = opts.packet;
    if (packet !== this.packet) this.packet = packet;
    if (packet !== call.packet) call.packet = packet;
    if (opts.ctxRegion !== this.ctxRegion) this.ctxRegion = opts.ctxRegion;
    if (opts.ctxWritable !== this.ctxWritable) this.ctxWritable = opts.ctxWritable;
    call.ctx = opts.ctx ?? 0;
    call.cpu = opts.cpu ?? this.defaultCpu;
  }

  /**
   * Runs `prog` from `pc` with the registers already in `lo`/`hi`, in call frame `depth`, with `budget` instructions
   * left: until the frame exits, a fault, or the budget runs out. The JIT hands the rest of a block over this way when
   * its budget runs out inside the block, so whichever comes first, a fault or the exhaustion, is reported as here.
   */
  resume(prog: LoadedProgram, pc: number, depth: number, budget: number, opts: RunOptions = {}): RunResult {
    this.enter(budget, depth, opts);
    this.exec(prog, pc, depth);
    return new RunResult(this.lo[0]! >>> 0, this.hi[0]! >>> 0, budget - this.budget);
  }

  /** Address of the top of call frame `i`'s stack (r10 in that frame). */
  stackTop(frame = 0): number {
    return this.stackRegions[frame]!.start + MAX_BPF_STACK;
  }

  /** The program whose code holds `addr`, and the slot it points at. */
  functionAt(addr: number): { prog: LoadedProgram; pc: number } | undefined {
    return functionAt(this.space, this.codeOwners, addr);
  }

  private callback(fn: number, a1: bigint | number, a2: bigint | number, a3: bigint | number, a4: bigint | number, a5: bigint | number): bigint {
    const target = this.functionAt(fn);
    if (target === undefined) {
      throw new BpfError("FAULT", `pc ${this.call.pc}: callback address 0x${fn.toString(16)} is not a BPF function`, { pc: this.call.pc });
    }
    const depth = this.depth;
    if (depth + 1 >= MAX_CALL_FRAMES) {
      throw new BpfError("FAULT", `pc ${this.call.pc}: callback exceeds the call depth of ${MAX_CALL_FRAMES} frames`, { pc: this.call.pc });
    }
    // The call itself is charged as the kernel's inlined bpf_loop runs it (inline_bpf_loop: ~7 insns per iteration),
    // so nested callbacks that run almost nothing still exhaust the budget in proportion to their calls.
    this.budget -= CALLBACK_COST;
    if (this.budget < 0) {
      this.budget = 0;
      throw new BpfError("BUDGET", `pc ${this.call.pc}: instruction budget exhausted`, { pc: this.call.pc });
    }
    const L = this.lo, H = this.hi, save = this.callbackSaved, base = depth * 22;
    for (let i = 0; i < 11; i++) { save[base + i] = L[i]!; save[base + 11 + i] = H[i]!; }
    setReg(L, H, 1, a1); setReg(L, H, 2, a2); setReg(L, H, 3, a3); setReg(L, H, 4, a4); setReg(L, H, 5, a5);
    L[10] = this.stackRegions[depth + 1]!.start + MAX_BPF_STACK; H[10] = 0;
    const packet = this.packet;
    this.depth = depth + 1;
    try {
      this.exec(target.prog, target.pc, depth + 1);
      return toU64(L[0]!, H[0]!);
    } finally {
      this.depth = depth;
      this.packet = packet;
      for (let i = 0; i < 11; i++) { L[i] = save[base + i]!; H[i] = save[base + 11 + i]!; }
    }
  }

  /** Checked effective address of `reg + off` for an access of `size` bytes; faults otherwise. */
  private ea(reg: number, off: number, size: number, write: boolean, pc: number): number {
    const a = (this.lo[reg]! >>> 0) + off;
    if (this.cacheLayout !== this.space.layoutVersion) {
      // a region was mapped or unmapped since these bounds were cached
      this.readStart = this.readEnd = this.writeStart = this.writeEnd = 0;
      this.altReadStart = this.altReadEnd = this.altWriteStart = this.altWriteEnd = 0;
      this.cacheLayout = this.space.layoutVersion;
    }
    if (this.hi[reg] === 0) {
      // the second-to-last region first: swap it in without a lookup
      if (write && a >= this.altWriteStart && a + size <= this.altWriteEnd) {
        const s = this.writeStart, e = this.writeEnd;
        this.writeStart = this.altWriteStart; this.writeEnd = this.altWriteEnd; this.altWriteStart = s; this.altWriteEnd = e;
        return a;
      }
      if (!write && a >= this.altReadStart && a + size <= this.altReadEnd) {
        const s = this.readStart, e = this.readEnd;
        this.readStart = this.altReadStart; this.readEnd = this.altReadEnd; this.altReadStart = s; this.altReadEnd = e;
        return a;
      }
    }
    const r = this.hi[reg] === 0 && a >= 0 && a < TWO32 ? this.space.find(a) : undefined;
    if (r !== undefined && a + size <= r.start + r.size && (!write || r.writable)) {
      if (write) {
        this.altWriteStart = this.writeStart; this.altWriteEnd = this.writeEnd;
        this.writeStart = r.start; this.writeEnd = r.start + r.size;
      } else {
        this.altReadStart = this.readStart; this.altReadEnd = this.readEnd;
        this.readStart = r.start; this.readEnd = r.start + r.size;
      }
      return a;
    }
    return this.slowAccess(reg, off, size, write, pc);
  }

  private slowAccess(reg: number, off: number, size: number, write: boolean, pc: number): number {
    const addr = BigInt.asUintN(64, toU64(this.lo[reg]!, this.hi[reg]!) + BigInt(off));
    if (addr >= BigInt(TWO32)) {
      throw new BpfError("FAULT", `pc ${pc}: invalid ${write ? "write" : "read"} of ${size} bytes at 0x${addr.toString(16)}: unmapped address`, { pc });
    }
    const a = Number(addr);
    const ctx = this.ctxRegion, mask = this.ctxWritable;
    if (write && ctx !== undefined && mask !== undefined && a >= ctx.start && a + size <= ctx.start + ctx.size) {
      let ok = true;
      for (let i = 0; i < size; i++) if (!mask[a - ctx.start + i]) ok = false;
      if (ok) return a;
    }
    throw this.space.fault(a, size, write, pc);
  }

  private exec(prog: LoadedProgram, startPc: number, baseDepth: number): void {
    const L = this.lo, H = this.hi, space = this.space;
    let u8 = space.u8, dv = space.dv;
    let p = prog;
    let op = p.op, W = p.word, OFF = p.off, IMM = p.imm;
    let pc = startPc;
    let depth = baseDepth;
    let budget = this.budget;
    let rS = 0, rE = 0, wS = 0, wE = 0;
    for (;;) {
      if (--budget < 0) {
        this.budget = 0;
        throw new BpfError("BUDGET", `pc ${pc}: instruction budget exhausted`, { pc });
      }
      const w = W[pc]!;
      const d = (w >> 8) & 15, s = w >> 12;
      switch (w & 255) {
        // ---- ALU64 ----
        case 0x07: { const k = IMM[pc]!; const r = (L[d]! >>> 0) + (k >>> 0); L[d] = r; H[d] = H[d]! + (k >> 31) + (r >= TWO32 ? 1 : 0); break; }
        case 0x0f: { const r = (L[d]! >>> 0) + (L[s]! >>> 0); H[d] = H[d]! + H[s]! + (r >= TWO32 ? 1 : 0); L[d] = r; break; }
        case 0x17: { const k = IMM[pc]!; const r = (L[d]! >>> 0) - (k >>> 0); L[d] = r; H[d] = H[d]! - (k >> 31) - (r < 0 ? 1 : 0); break; }
        case 0x1f: { const r = (L[d]! >>> 0) - (L[s]! >>> 0); H[d] = H[d]! - H[s]! - (r < 0 ? 1 : 0); L[d] = r; break; }
        case 0x27: { const k = IMM[pc]!; mul64(L, H, d, k, k >> 31); break; }
        case 0x2f: mul64(L, H, d, L[s]!, H[s]!); break;
        case 0x37: {
          const k = IMM[pc]!;
          if (OFF[pc] === 1) sdiv64(L, H, d, k, k >> 31); else udiv64(L, H, d, k, k >> 31);
          break;
        }
        case 0x3f:
          if (OFF[pc] === 1) sdiv64(L, H, d, L[s]!, H[s]!); else udiv64(L, H, d, L[s]!, H[s]!);
          break;
        case 0x47: { const k = IMM[pc]!; L[d] = L[d]! | k; H[d] = H[d]! | (k >> 31); break; }
        case 0x4f: L[d] = L[d]! | L[s]!; H[d] = H[d]! | H[s]!; break;
        case 0x57: { const k = IMM[pc]!; L[d] = L[d]! & k; H[d] = H[d]! & (k >> 31); break; }
        case 0x5f: L[d] = L[d]! & L[s]!; H[d] = H[d]! & H[s]!; break;
        case 0x67: lsh64(L, H, d, IMM[pc]! & 63); break;
        case 0x6f: lsh64(L, H, d, L[s]! & 63); break;
        case 0x77: rsh64(L, H, d, IMM[pc]! & 63); break;
        case 0x7f: rsh64(L, H, d, L[s]! & 63); break;
        case 0x87: { const l = L[d]!; L[d] = -l; H[d] = ~H[d]! + (l === 0 ? 1 : 0); break; }
        case 0x97: {
          const k = IMM[pc]!;
          if (OFF[pc] === 1) smod64(L, H, d, k, k >> 31); else umod64(L, H, d, k, k >> 31);
          break;
        }
        case 0x9f:
          if (OFF[pc] === 1) smod64(L, H, d, L[s]!, H[s]!); else umod64(L, H, d, L[s]!, H[s]!);
          break;
        case 0xa7: { const k = IMM[pc]!; L[d] = L[d]! ^ k; H[d] = H[d]! ^ (k >> 31); break; }
        case 0xaf: L[d] = L[d]! ^ L[s]!; H[d] = H[d]! ^ H[s]!; break;
        case 0xb7: { const k = IMM[pc]!; L[d] = k; H[d] = k >> 31; break; }
        case 0xbf: {
          // movsx (cpu v4): off 8/16/32 sign-extends the low bits of src
          const o = OFF[pc]!;
          if (o === 0) { L[d] = L[s]!; H[d] = H[s]!; }
          else { const v = o === 8 ? (L[s]! << 24) >> 24 : o === 16 ? (L[s]! << 16) >> 16 : L[s]!; L[d] = v; H[d] = v >> 31; }
          break;
        }
        case 0xc7: arsh64(L, H, d, IMM[pc]! & 63); break;
        case 0xcf: arsh64(L, H, d, L[s]! & 63); break;
        case 0xd7: {
          const w = IMM[pc]!;
          if (w === 16) { L[d] = bswap16(L[d]!); H[d] = 0; }
          else if (w === 32) { L[d] = bswap32(L[d]!); H[d] = 0; }
          else { const l = L[d]!; L[d] = bswap32(H[d]!); H[d] = bswap32(l); }
          break;
        }
        // ---- ALU32: results zero-extended (kernel: DST = (u32) ...) ----
        case 0x04: L[d] = L[d]! + IMM[pc]!; H[d] = 0; break;
        case 0x0c: L[d] = L[d]! + L[s]!; H[d] = 0; break;
        case 0x14: L[d] = L[d]! - IMM[pc]!; H[d] = 0; break;
        case 0x1c: L[d] = L[d]! - L[s]!; H[d] = 0; break;
        case 0x24: L[d] = Math.imul(L[d]!, IMM[pc]!); H[d] = 0; break;
        case 0x2c: L[d] = Math.imul(L[d]!, L[s]!); H[d] = 0; break;
        case 0x34: L[d] = OFF[pc] === 1 ? sdiv32(L[d]!, IMM[pc]!) : udiv32(L[d]!, IMM[pc]!); H[d] = 0; break;
        case 0x3c: L[d] = OFF[pc] === 1 ? sdiv32(L[d]!, L[s]!) : udiv32(L[d]!, L[s]!); H[d] = 0; break;
        case 0x44: L[d] = L[d]! | IMM[pc]!; H[d] = 0; break;
        case 0x4c: L[d] = L[d]! | L[s]!; H[d] = 0; break;
        case 0x54: L[d] = L[d]! & IMM[pc]!; H[d] = 0; break;
        case 0x5c: L[d] = L[d]! & L[s]!; H[d] = 0; break;
        case 0x64: L[d] = L[d]! << (IMM[pc]! & 31); H[d] = 0; break;
        case 0x6c: L[d] = L[d]! << (L[s]! & 31); H[d] = 0; break;
        case 0x74: L[d] = L[d]! >>> (IMM[pc]! & 31); H[d] = 0; break;
        case 0x7c: L[d] = L[d]! >>> (L[s]! & 31); H[d] = 0; break;
        case 0x84: L[d] = -L[d]!; H[d] = 0; break;
        case 0x94: L[d] = OFF[pc] === 1 ? smod32(L[d]!, IMM[pc]!) : umod32(L[d]!, IMM[pc]!); H[d] = 0; break;
        case 0x9c: L[d] = OFF[pc] === 1 ? smod32(L[d]!, L[s]!) : umod32(L[d]!, L[s]!); H[d] = 0; break;
        case 0xa4: L[d] = L[d]! ^ IMM[pc]!; H[d] = 0; break;
        case 0xac: L[d] = L[d]! ^ L[s]!; H[d] = 0; break;
        case 0xb4: L[d] = IMM[pc]!; H[d] = 0; break;
        case 0xbc: {
          const o = OFF[pc]!;
          L[d] = o === 8 ? (L[s]! << 24) >> 24 : o === 16 ? (L[s]! << 16) >> 16 : L[s]!; H[d] = 0; break;
        }
        case 0xc4: L[d] = L[d]! >> (IMM[pc]! & 31); H[d] = 0; break;
        case 0xcc: L[d] = L[d]! >> (L[s]! & 31); H[d] = 0; break;
        case 0xd4: { const w = IMM[pc]!; if (w === 16) L[d] = L[d]! & 0xffff; if (w !== 64) H[d] = 0; break; }
        case 0xdc: {
          const w = IMM[pc]!;
          if (w === 16) { L[d] = bswap16(L[d]!); H[d] = 0; }
          else if (w === 32) { L[d] = bswap32(L[d]!); H[d] = 0; }
          else { const l = L[d]!; L[d] = bswap32(H[d]!); H[d] = bswap32(l); }
          break;
        }
        // ---- JMP (64-bit compares; K is sign-extended) ----
        case 0x05: pc += OFF[pc]!; break;
        case 0x15: { const k = IMM[pc]!; if (L[d] === k && H[d] === k >> 31) pc += OFF[pc]!; break; }
        case 0x1d: if (L[d] === L[s] && H[d] === H[s]) pc += OFF[pc]!; break;
        case 0x25: { const k = IMM[pc]!; if (ugt(L[d]!, H[d]!, k, k >> 31)) pc += OFF[pc]!; break; }
        case 0x2d: if (ugt(L[d]!, H[d]!, L[s]!, H[s]!)) pc += OFF[pc]!; break;
        case 0x35: { const k = IMM[pc]!; if (uge(L[d]!, H[d]!, k, k >> 31)) pc += OFF[pc]!; break; }
        case 0x3d: if (uge(L[d]!, H[d]!, L[s]!, H[s]!)) pc += OFF[pc]!; break;
        case 0x45: { const k = IMM[pc]!; if ((L[d]! & k) !== 0 || (H[d]! & (k >> 31)) !== 0) pc += OFF[pc]!; break; }
        case 0x4d: if ((L[d]! & L[s]!) !== 0 || (H[d]! & H[s]!) !== 0) pc += OFF[pc]!; break;
        case 0x55: { const k = IMM[pc]!; if (L[d] !== k || H[d] !== k >> 31) pc += OFF[pc]!; break; }
        case 0x5d: if (L[d] !== L[s] || H[d] !== H[s]) pc += OFF[pc]!; break;
        case 0x65: { const k = IMM[pc]!; if (sgt(L[d]!, H[d]!, k, k >> 31)) pc += OFF[pc]!; break; }
        case 0x6d: if (sgt(L[d]!, H[d]!, L[s]!, H[s]!)) pc += OFF[pc]!; break;
        case 0x75: { const k = IMM[pc]!; if (sge(L[d]!, H[d]!, k, k >> 31)) pc += OFF[pc]!; break; }
        case 0x7d: if (sge(L[d]!, H[d]!, L[s]!, H[s]!)) pc += OFF[pc]!; break;
        case 0xa5: { const k = IMM[pc]!; if (ugt(k, k >> 31, L[d]!, H[d]!)) pc += OFF[pc]!; break; }
        case 0xad: if (ugt(L[s]!, H[s]!, L[d]!, H[d]!)) pc += OFF[pc]!; break;
        case 0xb5: { const k = IMM[pc]!; if (uge(k, k >> 31, L[d]!, H[d]!)) pc += OFF[pc]!; break; }
        case 0xbd: if (uge(L[s]!, H[s]!, L[d]!, H[d]!)) pc += OFF[pc]!; break;
        case 0xc5: { const k = IMM[pc]!; if (sgt(k, k >> 31, L[d]!, H[d]!)) pc += OFF[pc]!; break; }
        case 0xcd: if (sgt(L[s]!, H[s]!, L[d]!, H[d]!)) pc += OFF[pc]!; break;
        case 0xd5: { const k = IMM[pc]!; if (sge(k, k >> 31, L[d]!, H[d]!)) pc += OFF[pc]!; break; }
        case 0xdd: if (sge(L[s]!, H[s]!, L[d]!, H[d]!)) pc += OFF[pc]!; break;
        // ---- JMP32 (low halves only); JA32 takes its offset from imm ----
        case 0x06: pc += IMM[pc]!; break;
        case 0x16: if (L[d] === IMM[pc]) pc += OFF[pc]!; break;
        case 0x1e: if (L[d] === L[s]) pc += OFF[pc]!; break;
        case 0x26: if ((L[d]! >>> 0) > (IMM[pc]! >>> 0)) pc += OFF[pc]!; break;
        case 0x2e: if ((L[d]! >>> 0) > (L[s]! >>> 0)) pc += OFF[pc]!; break;
        case 0x36: if ((L[d]! >>> 0) >= (IMM[pc]! >>> 0)) pc += OFF[pc]!; break;
        case 0x3e: if ((L[d]! >>> 0) >= (L[s]! >>> 0)) pc += OFF[pc]!; break;
        case 0x46: if ((L[d]! & IMM[pc]!) !== 0) pc += OFF[pc]!; break;
        case 0x4e: if ((L[d]! & L[s]!) !== 0) pc += OFF[pc]!; break;
        case 0x56: if (L[d] !== IMM[pc]) pc += OFF[pc]!; break;
        case 0x5e: if (L[d] !== L[s]) pc += OFF[pc]!; break;
        case 0x66: if (L[d]! > IMM[pc]!) pc += OFF[pc]!; break;
        case 0x6e: if (L[d]! > L[s]!) pc += OFF[pc]!; break;
        case 0x76: if (L[d]! >= IMM[pc]!) pc += OFF[pc]!; break;
        case 0x7e: if (L[d]! >= L[s]!) pc += OFF[pc]!; break;
        case 0xa6: if ((L[d]! >>> 0) < (IMM[pc]! >>> 0)) pc += OFF[pc]!; break;
        case 0xae: if ((L[d]! >>> 0) < (L[s]! >>> 0)) pc += OFF[pc]!; break;
        case 0xb6: if ((L[d]! >>> 0) <= (IMM[pc]! >>> 0)) pc += OFF[pc]!; break;
        case 0xbe: if ((L[d]! >>> 0) <= (L[s]! >>> 0)) pc += OFF[pc]!; break;
        case 0xc6: if (L[d]! < IMM[pc]!) pc += OFF[pc]!; break;
        case 0xce: if (L[d]! < L[s]!) pc += OFF[pc]!; break;
        case 0xd6: if (L[d]! <= IMM[pc]!) pc += OFF[pc]!; break;
        case 0xde: if (L[d]! <= L[s]!) pc += OFF[pc]!; break;
        // ---- memory ----
        case 0x61: { let a = (L[s]! >>> 0) + OFF[pc]!; if (H[s] !== 0 || a < rS || a + 4 > rE) { a = this.ea(s, OFF[pc]!, 4, false, pc); rS = this.readStart; rE = this.readEnd; } L[d] = dv.getInt32(a, true); H[d] = 0; break; }
        case 0x69: { let a = (L[s]! >>> 0) + OFF[pc]!; if (H[s] !== 0 || a < rS || a + 2 > rE) { a = this.ea(s, OFF[pc]!, 2, false, pc); rS = this.readStart; rE = this.readEnd; } L[d] = dv.getUint16(a, true); H[d] = 0; break; }
        case 0x71: { let a = (L[s]! >>> 0) + OFF[pc]!; if (H[s] !== 0 || a < rS || a + 1 > rE) { a = this.ea(s, OFF[pc]!, 1, false, pc); rS = this.readStart; rE = this.readEnd; } L[d] = u8[a]!; H[d] = 0; break; }
        case 0x79: { let a = (L[s]! >>> 0) + OFF[pc]!; if (H[s] !== 0 || a < rS || a + 8 > rE) { a = this.ea(s, OFF[pc]!, 8, false, pc); rS = this.readStart; rE = this.readEnd; } L[d] = dv.getInt32(a, true); H[d] = dv.getInt32(a + 4, true); break; }
        case 0x81: { let a = (L[s]! >>> 0) + OFF[pc]!; if (H[s] !== 0 || a < rS || a + 4 > rE) { a = this.ea(s, OFF[pc]!, 4, false, pc); rS = this.readStart; rE = this.readEnd; } const v = dv.getInt32(a, true); L[d] = v; H[d] = v >> 31; break; }
        case 0x89: { let a = (L[s]! >>> 0) + OFF[pc]!; if (H[s] !== 0 || a < rS || a + 2 > rE) { a = this.ea(s, OFF[pc]!, 2, false, pc); rS = this.readStart; rE = this.readEnd; } const v = dv.getInt16(a, true); L[d] = v; H[d] = v >> 31; break; }
        case 0x91: { let a = (L[s]! >>> 0) + OFF[pc]!; if (H[s] !== 0 || a < rS || a + 1 > rE) { a = this.ea(s, OFF[pc]!, 1, false, pc); rS = this.readStart; rE = this.readEnd; } const v = dv.getInt8(a); L[d] = v; H[d] = v >> 31; break; }
        case 0x62: { let a = (L[d]! >>> 0) + OFF[pc]!; if (H[d] !== 0 || a < wS || a + 4 > wE) { a = this.ea(d, OFF[pc]!, 4, true, pc); wS = this.writeStart; wE = this.writeEnd; } dv.setInt32(a, IMM[pc]!, true); break; }
        case 0x6a: { let a = (L[d]! >>> 0) + OFF[pc]!; if (H[d] !== 0 || a < wS || a + 2 > wE) { a = this.ea(d, OFF[pc]!, 2, true, pc); wS = this.writeStart; wE = this.writeEnd; } dv.setInt16(a, IMM[pc]!, true); break; }
        case 0x72: { let a = (L[d]! >>> 0) + OFF[pc]!; if (H[d] !== 0 || a < wS || a + 1 > wE) { a = this.ea(d, OFF[pc]!, 1, true, pc); wS = this.writeStart; wE = this.writeEnd; } u8[a] = IMM[pc]!; break; }
        case 0x7a: { let a = (L[d]! >>> 0) + OFF[pc]!; if (H[d] !== 0 || a < wS || a + 8 > wE) { a = this.ea(d, OFF[pc]!, 8, true, pc); wS = this.writeStart; wE = this.writeEnd; } const k = IMM[pc]!; dv.setInt32(a, k, true); dv.setInt32(a + 4, k >> 31, true); break; }
        case 0x63: { let a = (L[d]! >>> 0) + OFF[pc]!; if (H[d] !== 0 || a < wS || a + 4 > wE) { a = this.ea(d, OFF[pc]!, 4, true, pc); wS = this.writeStart; wE = this.writeEnd; } dv.setInt32(a, L[s]!, true); break; }
        case 0x6b: { let a = (L[d]! >>> 0) + OFF[pc]!; if (H[d] !== 0 || a < wS || a + 2 > wE) { a = this.ea(d, OFF[pc]!, 2, true, pc); wS = this.writeStart; wE = this.writeEnd; } dv.setInt16(a, L[s]!, true); break; }
        case 0x73: { let a = (L[d]! >>> 0) + OFF[pc]!; if (H[d] !== 0 || a < wS || a + 1 > wE) { a = this.ea(d, OFF[pc]!, 1, true, pc); wS = this.writeStart; wE = this.writeEnd; } u8[a] = L[s]!; break; }
        case 0x7b: { let a = (L[d]! >>> 0) + OFF[pc]!; if (H[d] !== 0 || a < wS || a + 8 > wE) { a = this.ea(d, OFF[pc]!, 8, true, pc); wS = this.writeStart; wE = this.writeEnd; } dv.setInt32(a, L[s]!, true); dv.setInt32(a + 4, H[s]!, true); break; }
        case 0xc3: case 0xcb: case 0xd3: case 0xdb: this.atomic(pc, op[pc]!, d, s, OFF[pc]!, IMM[pc]!); break;
        case 0x18: L[d] = IMM[pc]!; H[d] = IMM[pc + 1]!; pc++; break;
        // ---- LD_ABS / LD_IND: packet bytes in network order; out of bounds exits with r0 = 0 ----
        case 0x20: case 0x28: case 0x30: case 0x40: case 0x48: case 0x50: {
          const c = op[pc]!;
          const size = (c & 0x18) === 0 ? 4 : (c & 0x18) === 0x08 ? 2 : 1;
          const offset = (c & 0x40) !== 0 ? (L[s]! + IMM[pc]!) | 0 : IMM[pc]!;
          const a = this.packetAddress(offset, size);
          if (a < 0) {
            L[0] = 0; H[0] = 0;
            if (depth === baseDepth) { this.budget = budget; return; }
            op = exitOnly; W = exitOnlyWord; pc = 0; // an exit in this subprogram frame
            continue;
          }
          L[0] = size === 4 ? dv.getInt32(a, false) : size === 2 ? dv.getUint16(a, false) : u8[a]!;
          H[0] = 0;
          break;
        }
        // ---- calls ----
        case 0x85: case 0x8d: {
          let target = -1, id = IMM[pc]!;
          if (op[pc] === 0x8d) {
            // callx (bpf_conformance): the register holds a function address or a helper id
            const reg = d !== 0 ? d : IMM[pc]!;
            if (reg > 10 || reg < 0) throw new BpfError("FAULT", `pc ${pc}: callx through r${reg}, which is not a register`, { pc });
            const fn = H[reg] === 0 ? this.functionAt(L[reg]! >>> 0) : undefined;
            if (fn !== undefined && fn.prog === p) target = fn.pc; else id = L[reg]!;
          } else if (s === 1) target = pc + IMM[pc]! + 1;
          else if (s !== 0) throw new BpfError("UNSUPPORTED", `pc ${pc}: kfunc calls are not supported by the interpreter`, { pc });
          if (target >= 0) {
            if (depth + 1 >= MAX_CALL_FRAMES) {
              throw new BpfError("FAULT", `pc ${pc}: call exceeds the maximum depth of ${MAX_CALL_FRAMES} frames`, { pc });
            }
            const fs = this.frameSaved, b = depth * 10;
            for (let r = 0; r < 5; r++) { fs[b + r] = L[6 + r]!; fs[b + 5 + r] = H[6 + r]!; }
            this.frameRetPc[depth] = pc + 1;
            this.frameProg[depth] = p;
            depth++;
            L[10] = this.stackRegions[depth]!.start + MAX_BPF_STACK; H[10] = 0;
            pc = target;
            continue;
          }
          if (id === 12) {
            // bpf_tail_call(ctx, prog_array, index): on success jump to the target's first insn, same frame
            const next = this.tailCallTarget(L[2]!, H[2]!, L[3]! >>> 0);
            if (next !== undefined) {
              p = next; op = p.op; W = p.word; OFF = p.off; IMM = p.imm;
              pc = 0;
              continue;
            }
            break;
          }
          const fn = this.helpers[id];
          if (fn === undefined) {
            throw new BpfError("UNSUPPORTED", `pc ${pc}: helper ${helperName(id) ?? "unknown"}#${id} is not available`, { pc });
          }
          const call = this.call;
          call.pc = pc; call.id = id;
          this.budget = budget; this.depth = depth;
          const layout = space.layoutVersion;
          fn(call);
          budget = this.budget;
          u8 = space.u8; dv = space.dv;
          if (space.layoutVersion !== layout) rS = rE = wS = wE = 0; // the helper mapped or unmapped regions
          break;
        }
        case 0x95: {
          if (depth === baseDepth) { this.budget = budget; return; }
          depth--;
          const fs = this.frameSaved, b = depth * 10;
          for (let r = 0; r < 5; r++) { L[6 + r] = fs[b + r]!; H[6 + r] = fs[b + 5 + r]!; }
          p = this.frameProg[depth]!; op = p.op; W = p.word; OFF = p.off; IMM = p.imm;
          pc = this.frameRetPc[depth]!;
          continue;
        }
        default:
          if (pc < 0 || pc >= p.length) {
            throw new BpfError("FAULT", `pc ${pc}: jump out of the program (${p.length} instructions)`, { pc });
          }
          throw new BpfError("FAULT", `pc ${pc}: jump into the middle of an lddw or to an invalid opcode 0x${op[pc]!.toString(16)}`, { pc });
      }
      pc++;
    }
  }

  private packetAddress(k: number, size: number): number { return packetLoadAddress(this.packet, k, size); }


  private tailCallTarget(mlo: number, mhi: number, index: number): LoadedProgram | undefined {
    if (mhi !== 0) return undefined;
    const map = this.call.mapAt(mlo >>> 0);
    if (map?.getProgram === undefined) return undefined;
    if (map.maxEntries !== undefined && index >= map.maxEntries) return undefined;
    if (this.tailCalls >= MAX_TAIL_CALL_CNT) return undefined;
    const next = this.programOf(map.getProgram(index));
    if (next === undefined) return undefined;
    this.tailCalls++;
    return next;
  }

  /**
   * BPF_STX | BPF_ATOMIC: add/or/and/xor (± fetch), xchg, cmpxchg, load-acquire, store-release. Aligned 32- and
   * 64-bit operations are Atomics on the memory, so CPUs sharing it (worker threads) never lose an update; a 64-bit
   * add without fetch is two word-sized atomic adds with the carry (exact: each carry comes from the low word the add
   * itself replaced), the other 64-bit read-modify-writes go through BigInt64Array Atomics. Unaligned ones (the
   * verifier refuses them) take the plain path.
   */
  private atomic(pc: number, code: number, d: number, s: number, off: number, imm: number): void {
    const size = (code & 0x18) === 0x18 ? 8 : (code & 0x18) === 0 ? 4 : (code & 0x18) === 0x08 ? 2 : 1;
    if (size >= 4) {
      const a = this.ea(imm === 0x100 ? s : d, off, size, imm !== 0x100, pc);
      if ((a & (size - 1)) === 0) { this.realAtomic(a, size, d, s, imm); return; }
    }
    this.plainAtomic(pc, size, d, s, off, imm);
  }

  private realAtomic(a: number, size: number, d: number, s: number, imm: number): void {
    const L = this.lo, H = this.hi, i32 = this.space.i32, w = a >> 2;
    if (size === 4) {
      const v = L[s]!;
      switch (imm) {
        case 0x100: L[d] = Atomics.load(i32, w); H[d] = 0; return;
        case 0x110: Atomics.store(i32, w, v); return;
        case 0x00: Atomics.add(i32, w, v); return;
        case 0x01: L[s] = Atomics.add(i32, w, v); H[s] = 0; return;
        case 0x40: Atomics.or(i32, w, v); return;
        case 0x41: L[s] = Atomics.or(i32, w, v); H[s] = 0; return;
        case 0x50: Atomics.and(i32, w, v); return;
        case 0x51: L[s] = Atomics.and(i32, w, v); H[s] = 0; return;
        case 0xa0: Atomics.xor(i32, w, v); return;
        case 0xa1: L[s] = Atomics.xor(i32, w, v); H[s] = 0; return;
        case 0xe1: L[s] = Atomics.exchange(i32, w, v); H[s] = 0; return;
        // cmpxchg compares the low 32 bits of r0; r0 gets the old value, zero-extended
        case 0xf1: L[0] = Atomics.compareExchange(i32, w, L[0]!, v); H[0] = 0; return;
      }
      return;
    }
    const sl = L[s]!, sh = H[s]!;
    switch (imm) {
      case 0x00: {
        const old = Atomics.add(i32, w, sl);
        const carry = (old >>> 0) + (sl >>> 0) >= TWO32 ? 1 : 0;
        if (sh !== 0 || carry !== 0) Atomics.add(i32, w + 1, sh + carry);
        return;
      }
      // bitwise operations act on each word independently
      case 0x40: Atomics.or(i32, w, sl); Atomics.or(i32, w + 1, sh); return;
      case 0x50: Atomics.and(i32, w, sl); Atomics.and(i32, w + 1, sh); return;
      case 0xa0: Atomics.xor(i32, w, sl); Atomics.xor(i32, w + 1, sh); return;
    }
    const i64 = this.i64View();
    const v = toU64(sl, sh), x = a >> 3;
    let old: bigint;
    switch (imm) {
      case 0x100: old = Atomics.load(i64, x); setReg(L, H, d, old); return;
      case 0x110: Atomics.store(i64, x, v); return;
      case 0x01: old = Atomics.add(i64, x, v); break;
      case 0x41: old = Atomics.or(i64, x, v); break;
      case 0x51: old = Atomics.and(i64, x, v); break;
      case 0xa1: old = Atomics.xor(i64, x, v); break;
      case 0xe1: old = Atomics.exchange(i64, x, v); break;
      case 0xf1: old = Atomics.compareExchange(i64, x, toU64(L[0]!, H[0]!), v); setReg(L, H, 0, old); return;
      default: return;
    }
    setReg(L, H, s, old);
  }

  private i64: BigInt64Array | undefined;
  private i64Gen = -1;
  private i64View(): BigInt64Array {
    const sp = this.space;
    if (this.i64 === undefined || this.i64Gen !== sp.generation || this.i64.buffer !== sp.u8.buffer) {
      this.i64 = new BigInt64Array(sp.u8.buffer, 0, sp.u8.length >> 3);
      this.i64Gen = sp.generation;
    }
    return this.i64;
  }

  /** The non-atomic path: byte and half-word acquire/release, and unaligned accesses. */
  private plainAtomic(pc: number, size: number, d: number, s: number, off: number, imm: number): void {
    const L = this.lo, H = this.hi, dv = this.space.dv;
    if (imm === 0x100) {
      const a = this.ea(s, off, size, false, pc);
      L[d] = size === 8 || size === 4 ? dv.getInt32(a, true) : size === 2 ? dv.getUint16(a, true) : dv.getUint8(a);
      H[d] = size === 8 ? dv.getInt32(a + 4, true) : 0;
      return;
    }
    const a = this.ea(d, off, size, true, pc);
    if (imm === 0x110) {
      if (size === 8) { dv.setInt32(a, L[s]!, true); dv.setInt32(a + 4, H[s]!, true); }
      else if (size === 4) dv.setInt32(a, L[s]!, true);
      else if (size === 2) dv.setInt16(a, L[s]!, true);
      else dv.setUint8(a, L[s]!);
      return;
    }
    const oldLo = dv.getInt32(a, true), oldHi = size === 8 ? dv.getInt32(a + 4, true) : 0;
    const sl = L[s]!, sh = size === 8 ? H[s]! : 0;
    let nl: number, nh: number;
    switch (imm & ~1) {
      case 0x00: {
        const r = (oldLo >>> 0) + (sl >>> 0);
        nl = r | 0; nh = (oldHi + sh + (r >= TWO32 ? 1 : 0)) | 0; break;
      }
      case 0x40: nl = oldLo | sl; nh = oldHi | sh; break;
      case 0x50: nl = oldLo & sl; nh = oldHi & sh; break;
      case 0xa0: nl = oldLo ^ sl; nh = oldHi ^ sh; break;
      case 0xe0: nl = sl; nh = sh; break;
      case 0xf0: {
        // cmpxchg compares r0 (its low 32 bits for BPF_W) with memory; r0 gets the old value, zero-extended
        const eq = oldLo === L[0] && (size === 4 || oldHi === H[0]);
        if (eq) { dv.setInt32(a, sl, true); if (size === 8) dv.setInt32(a + 4, sh, true); }
        L[0] = oldLo; H[0] = oldHi;
        return;
      }
      default: throw new BpfError("FAULT", `pc ${pc}: invalid atomic operation 0x${imm.toString(16)}`, { pc });
    }
    dv.setInt32(a, nl, true);
    if (size === 8) dv.setInt32(a + 4, nh, true);
    if (imm & 1) { L[s] = oldLo; H[s] = oldHi; }
  }
}

// The one instruction a failed LD_ABS/LD_IND executes in a subprogram frame: exit (kernel: r0 = 0; exit).
const exitOnly = new Uint8Array([0x95]);
const exitOnlyWord = new Int32Array([0x95]);

function setReg(L: Int32Array, H: Int32Array, r: number, v: number | bigint | undefined): void {
  if (v === undefined) return;
  if (typeof v === "bigint") {
    const u = BigInt.asUintN(64, v);
    L[r] = Number(u & 0xffffffffn); H[r] = Number(u >> 32n);
  } else {
    L[r] = v; H[r] = Math.floor(v / TWO32);
  }
}

function isLoadedProgram(e: unknown): e is LoadedProgram {
  return typeof e === "object" && e !== null && "op" in e && "code" in e && "imm" in e;
}
