// eBPF → WebAssembly: one wasm function per eBPF function (the entry and every bpf-to-bpf call target reachable from
// it), registers r0-r10 as i64 locals, the address space imported as the module's memory. A function takes r0-r9 and
// returns r0-r5 (what the interpreter's shared register file leaves the caller); its r10 is the top of the frame of
// the current call depth. Memory accesses the verifier proved (its facts), and r10-relative stack accesses when r10 is
// never written, run unchecked; the others test a cached region (two globals per direction) and call out to the
// engine on a miss, which resolves the region or throws the interpreter's fault. Each block subtracts its
// instruction count from the budget global on entry; running out calls the engine, which names the exact pc.
import { BpfError } from "../errors.ts";
import { MAX_CALL_FRAMES } from "../isa/ebpf/opcodes.ts";
import { type BasicBlock, functionBlocks, layout, slotStarts } from "./cfg.ts";
import { Code, type ListingLine } from "./code.ts";
import { emitInlined, HASH_LOCALS, type Inlined, inlinedCalls, type InlineOptions } from "./inline.ts";
import { emitSlotAccess, flushSlots as flushSlotsOf, loadSlots as loadSlotsOf, NO_SLOTS, planSlots, type SlotPlan } from "./slots.ts";
export type { ListingLine } from "./code.ts";
import { ATOMIC as ATOMIC_, Bytes, encodeModule, I32 as I32_, I64 as I64_, opName, OP as OP_, type FuncBody, type Import } from "./wasm.ts";

// Module-local copies: imported bindings can cost a getter per use under tsx, and the compiler reads them per op.
const OP = OP_, ATOMIC = ATOMIC_, I32 = I32_, I64 = I64_;

/** What the compiler needs of a loaded program (src/vm LoadedProgram satisfies it). */
export interface CompileInput {
  readonly length: number;
  readonly op: Uint8Array;
  readonly dst: Uint8Array;
  readonly src: Uint8Array;
  readonly off: Int32Array;
  readonly imm: Int32Array;
}

export interface CompileOptions extends InlineOptions {
  /** Address of the engine's scratch area (registers r0-r10 as i64, then the stack top of each call depth). */
  readonly scratch: number;
  /** pcs whose memory access the verifier proved in bounds (checks dropped). */
  readonly proven?: ReadonlySet<number>;
  readonly sharedMemory?: boolean;
  /** Record wasm text per eBPF pc (for `prog dump jited`). */
  readonly listing?: boolean;
}

export type { ArrayLayout, HashLayout } from "./inline.ts";


export interface CompiledModule {
  readonly bytes: Uint8Array;
  /** eBPF entry pc of each exported function `f<i>`; f0 is the entry. */
  readonly entries: readonly number[];
  /** Per function: wasm text lines grouped under the eBPF pc they came from (when `listing`). */
  readonly listing?: readonly { readonly entry: number; readonly lines: readonly ListingLine[] }[];
}

// scratch layout
export const SCRATCH_REGS = 0;
export const SCRATCH_STACKS = 88;
/** The last region a read and a write hit: start and size - 7 as i64 each (read at +0/+8, write at +16/+24). */
export const SCRATCH_CACHE = SCRATCH_STACKS + 8 * MAX_CALL_FRAMES;
/** The instruction budget left (i32), kept in memory so a run sets it without touching a wasm global. */
export const SCRATCH_BUDGET = SCRATCH_CACHE + 32;
export const SCRATCH_SIZE = SCRATCH_BUDGET + 8;

// imported functions
const F_HELPER = 0, F_ACCESS = 1, F_BUDGET = 2, F_FAULT = 3, F_TAIL = 4, F_LDADDR = 5, F_ATOMIC = 6, F_CALLX = 7, F_KTIME = 8;
const N_IMPORTED_FUNCS = 9;
// imported globals
const G_DEPTH = 1, G_PDATA = 2, G_PLEN = 3, G_CPU = 4;
/** Fault kinds passed to the engine's `fault` import. */
export const FAULT_JUMP_OUT = 0, FAULT_LDDW_MIDDLE = 1, FAULT_DEPTH = 2, FAULT_KFUNC = 3;

// types
const T_FUNC = 0, T_HELPER = 1, T_ACCESS = 2, T_I32I32 = 3, T_TAIL = 4, T_LDADDR = 5, T_ATOMIC = 6, T_INVOKE = 7, T_CALLX = 8, T_RUN = 9, T_KTIME = 10;
const TYPES = [
  { params: Array(10).fill(I64), results: Array(6).fill(I64) },
  { params: [I32, I32], results: [] },
  { params: [I32, I32, I32, I32, I32], results: [] },
  { params: [I32, I32], results: [] },
  { params: [I32, I32, I32, I32], results: [I32] },
  { params: [I32, I32], results: [I32] },
  { params: [I32, I32, I32, I32, I32, I32], results: [] },
  { params: [I32], results: [] },
  { params: [I32, I32], results: [I32] },
  { params: [I32, I32], results: [I32] },
  { params: [], results: [I64] },
];

// locals: r0-r9 params, then r10, two i64 temps, an i32 temp, the dispatch label, the frame bottom, the budget, and
// the block start and flagged count a budget exit hands to the engine, then the i32 locals of inlined helpers
const R10 = 10, T64 = 11, T64B = 12, T32 = 13, LBL = 14, FP = 15, BUD = 16, OUT_PC = 17, OUT_COUNT = 18, INLINE0 = 19;

function imports(shared: boolean): Import[] {
  const f = (name: string, type: number): Import => ({ module: "env", name, kind: "func", type });
  const g = (name: string, valtype: number): Import => ({ module: "env", name, kind: "global", valtype, mutable: true });
  return [
    f("helper", T_HELPER), f("access", T_ACCESS), f("budget_out", T_LDADDR), f("fault", T_I32I32), f("tail", T_TAIL),
    f("ldaddr", T_LDADDR), f("atomic", T_ATOMIC), f("callx", T_CALLX), f("ktime", T_KTIME),
    { module: "env", name: "mem", kind: "memory", shared, ...(shared ? { max: 65536 } : {}) },
    { module: "env", name: "table", kind: "table", min: 0 },
    g("budget", I32), g("depth", I32), g("pdata", I32), g("plen", I32), g("cpu", I32),
  ];
}

interface FnState {
  readonly code: Code;
  /** Open scopes, innermost last: [kind, label position]. A block's label is its target position, a loop's its header. */
  readonly stack: { kind: "block" | "loop" | "other"; pos: number }[];
  readonly dispatch: boolean;
  readonly blocks: readonly BasicBlock[];
  readonly posOf: ReadonlyMap<number, number>;
  readonly r10Fixed: boolean;
  readonly scratch: number;
  readonly inlined: ReadonlyMap<number, Inlined>;
  /** Whether some block may resume on the interpreter and return (see emitBudgetExit). */
  risky: boolean;
}

const SIZE_OF = [4, 2, 1, 8];
/** Natural alignment (log2) per size code. */
const ALIGN = [2, 1, 0, 3];

/** Compile the eBPF function starting at `entry` (and the subprograms it calls) into one module. */
export function compileModule(p: CompileInput, entry: number, opts: CompileOptions): CompiledModule {
  scratchBase = opts.scratch;
  const valid = slotStarts(p.op);
  // the functions of this module: entry first, then call targets in discovery order
  const entries = [entry];
  const index = new Map<number, number>([[entry, 0]]);
  const bodies: FuncBody[] = [];
  const listing: { entry: number; lines: ListingLine[] }[] = [];
  for (let i = 0; i < entries.length; i++) {
    let blocks = functionBlocks(p.op, p.off, p.imm, entries[i]!, valid);
    // inlined helper calls do not end a block
    const inlined = inlinedCalls(p, blocks, opts);
    if (inlined.size) blocks = functionBlocks(p.op, p.off, p.imm, entries[i]!, valid, inlined);
    for (const b of blocks) {
      for (let pc = b.start; pc < b.end; pc++) {
        if (p.op[pc] === 0x85 && p.src[pc] === 1) {
          const t = pc + p.imm[pc]! + 1;
          if (t >= 0 && t < p.length && valid[t] && !index.has(t)) { index.set(t, entries.length); entries.push(t); }
        }
        if (p.op[pc] === 0x18) pc++;
      }
    }
    const code = new Code(opts.listing ?? false);
    const nSlots = compileFunction(p, blocks, inlined, entries[i]!, code, index, opts);
    bodies.push({ type: T_FUNC, locals: nSlots ? [[3, I64], [6 + HASH_LOCALS, I32], [nSlots, I64]] : [[3, I64], [6 + HASH_LOCALS, I32]], code: code.b });
    if (code.lines) listing.push({ entry: entries[i]!, lines: code.lines });
  }
  // invoke(idx): registers from scratch, call through the table, r0-r5 back to scratch
  const inv = new Code(false);
  for (let r = 0; r < 10; r++) { inv.i32(opts.scratch + 8 * r); inv.mem(OP.i64_load, 3, 0); }
  inv.get(0); inv.callIndirect(T_FUNC);
  for (let r = 5; r >= 0; r--) { inv.set(1 + r); }
  for (let r = 0; r <= 5; r++) { inv.i32(opts.scratch + 8 * r); inv.get(1 + r); inv.mem(OP.i64_store, 3, 0); }
  inv.op(OP.end);
  bodies.push({ type: T_INVOKE, locals: [[6, I64]], code: inv.b });
  bodies.push({ type: T_RUN, locals: [[1, I64]], code: runEntry(opts.scratch) });
  const exports = entries.map((_, i) => ({ name: `f${i}`, func: N_IMPORTED_FUNCS + i }));
  exports.push({ name: "invoke", func: N_IMPORTED_FUNCS + entries.length }, { name: "run", func: N_IMPORTED_FUNCS + entries.length + 1 });
  const bytes = encodeModule({ types: TYPES, imports: imports(opts.sharedMemory ?? false), funcs: bodies, exports });
  return { bytes, entries, ...(opts.listing ? { listing } : {}) };
}

/**
 * run(ctx, budget) -> r0's low half: a whole run with registers passed as constants (r1 = ctx zero-extended, the rest
 * 0) to a direct call of f0, r0 stored to scratch for its high half. The engine's per-run path: nothing goes through
 * scratch from JavaScript, whose 32-bit stores under the code's 64-bit loads cost a store-forwarding stall each.
 */
function runEntry(scratch: number): Bytes {
  const c = new Code(false);
  c.i32(0); c.get(1); c.mem(OP.i32_store, 2, scratch + SCRATCH_BUDGET);
  // a run starts with the write cache empty (the read cache is kept while the layout stands)
  c.i32(0); c.i64(0, 0); c.mem(OP.i64_store, 3, scratch + SCRATCH_CACHE + 16);
  c.i32(0); c.i64(0, 0); c.mem(OP.i64_store, 3, scratch + SCRATCH_CACHE + 24);
  c.i64(0, 0); c.get(0); c.op(OP.i64_extend_i32_u);
  for (let r = 2; r < 10; r++) c.i64(0, 0);
  c.opu(OP.call, N_IMPORTED_FUNCS);
  for (let r = 5; r >= 1; r--) c.op(OP.drop);
  c.set(2);
  c.i32(0); c.get(2); c.mem(OP.i64_store, 3, scratch + SCRATCH_REGS);
  c.get(2); c.op(OP.i32_wrap_i64);
  c.op(OP.end);
  return c.b;
}

/** Returns the number of stack slots promoted to locals (extra i64 locals after the fixed ones). */
function compileFunction(p: CompileInput, pcOrder: readonly BasicBlock[], inlined: ReadonlyMap<number, Inlined>, entry: number, code: Code,
  index: ReadonlyMap<number, number>, opts: CompileOptions): number {
  const lay = layout(pcOrder, entry);
  // positions index the layout's order (pc order, or reverse postorder when that nests and pc order does not)
  const blocks = lay.blocks;
  // r10 is the frame pointer unless some reachable instruction writes it
  let r10Fixed = true;
  for (const b of blocks) for (let pc = b.start; pc < b.end; pc++) {
    const c = p.op[pc]!, cls = c & 7;
    if (p.dst[pc] === 10 && (cls === 4 || cls === 7 || cls === 1 || cls === 0 || (cls === 3 && c >= 0xc3 && (p.imm[pc] === 0x100)))) r10Fixed = false;
    if (c === 0xc3 || c === 0xdb) { if (p.src[pc] === 10 && (p.imm[pc]! & 1)) r10Fixed = false; }
    if (c === 0x18) pc++;
  }
  code.at(entry);
  // r10 = stack top of the current depth
  code.opu(OP.global_get, G_DEPTH); code.i32(3); code.op(OP.i32_shl);
  code.mem(OP.i64_load, 3, opts.scratch + SCRATCH_STACKS); code.set(R10);
  // the frame's bottom as an i32, so r10-relative stack accesses are one load/store with a constant offset
  code.get(R10); code.op(OP.i32_wrap_i64); code.i32(512); code.op(OP.i32_sub); code.set(FP);
  // the budget lives in a local while this function runs; it is written back before anything that reads it
  code.i32(0); code.mem(OP.i32_load, 2, opts.scratch + SCRATCH_BUDGET); code.set(BUD);
  slots = r10Fixed ? planSlots(p, pcOrder, SLOT0) : NO_SLOTS;
  loadSlots(code);
  // every block's budget check branches out to this scope's end, past the body: the call to the engine sits outside
  // all loops, so no register is live across it there and V8 keeps loop values in registers instead of spilling them
  code.scope(OP.block, 0x40);
  const st: FnState = { code, stack: [], dispatch: lay.scopes === undefined, blocks, posOf: lay.posOf, r10Fixed, scratch: opts.scratch, inlined, risky: false };
  if (lay.scopes === undefined) {
    // dispatch loop: loop { block_{B-1} ... block_0 { br_table } code_0 ... } with a label local
    const B = blocks.length;
    code.i32(0); code.set(LBL);
    code.scope(OP.loop, 0x40);
    for (let i = B - 1; i >= 0; i--) code.scope(OP.block, 0x40);
    code.get(LBL); code.brTable([...Array(B).keys()], 0);
    for (let pos = 0; pos < B; pos++) {
      code.op(OP.end);
      st.stack.length = 0;
      // inside: blocks pos+1..B-1 remain open, then the loop
      st.stack.push({ kind: "loop", pos: -1 });
      for (let i = B - 1; i > pos; i--) st.stack.push({ kind: "other", pos: -2 });
      emitBlock(p, st, pos, index, opts);
    }
    code.op(OP.end);
  } else {
    const scopes = lay.scopes;
    let si = 0;
    const open: { close: number }[] = [];
    for (let pos = 0; pos < blocks.length; pos++) {
      while (si < scopes.length && scopes[si]!.open === pos) {
        const s = scopes[si++]!;
        if (s.kind === "loop") { code.scope(OP.loop, 0x40); st.stack.push({ kind: "loop", pos: s.open }); }
        else { code.scope(OP.block, 0x40); st.stack.push({ kind: "block", pos: s.close + 1 }); }
        open.push({ close: s.close });
      }
      emitBlock(p, st, pos, index, opts);
      while (open.length && open[open.length - 1]!.close === pos) { open.pop(); st.stack.pop(); code.op(OP.end); }
    }
    if (open.length) throw new BpfError("UNSUPPORTED", "jit: scopes did not nest");
  }
  code.op(OP.unreachable);
  code.op(OP.end);
  emitBudgetExit(code, opts.scratch, st.risky);
  code.op(OP.end);
  const n = slots.pieces.length;
  slots = NO_SLOTS;
  return n;
}

// Stack slots as locals (slots.ts): the plan of the function being compiled, numbered after the fixed locals.
const SLOT0 = INLINE0 + HASH_LOCALS;
let slots: SlotPlan = NO_SLOTS;
const loadSlots = (c: Code): void => { if (slots.pieces.length) loadSlotsOf(c, slots, FP); };
const flushSlots = (c: Code): void => { if (slots.pieces.length) flushSlotsOf(c, slots, FP); };

/** Branch to block position `to` from position `from` (nothing when it is the fallthrough). */
function branch(st: FnState, from: number, to: number, cond: boolean): void {
  const c = st.code;
  if (st.dispatch) {
    if (cond) c.scope(OP.if, 0x40);
    c.i32(to); c.set(LBL);
    const extra = cond ? 1 : 0;
    let depth = -1;
    for (let k = st.stack.length - 1; k >= 0; k--) if (st.stack[k]!.kind === "loop") { depth = st.stack.length - 1 - k; break; }
    c.opu(OP.br, depth + extra);
    if (cond) c.op(OP.end);
    return;
  }
  if (to === from + 1) {
    if (!cond) return;
    // a conditional jump to the next block: nothing to branch to, unless its fallthrough goes elsewhere (reverse
    // postorder); then the layout gave it a scope around its own block to branch out of
    const b = st.blocks[from]!;
    if (!b.falls || st.posOf.get(b.end) === to) { c.op(OP.drop); return; }
  }
  for (let k = st.stack.length - 1; k >= 0; k--) {
    const s = st.stack[k]!;
    if ((to <= from && s.kind === "loop" && s.pos === to) || (to > from && s.kind === "block" && s.pos === to)) {
      c.opu(cond ? OP.br_if : OP.br, st.stack.length - 1 - k);
      return;
    }
  }
  throw new BpfError("UNSUPPORTED", `jit: no scope for a branch from block ${from} to ${to}`);
}

/** Jump (or fall) to slot `t`: a block of this function, or a fault for targets outside the program. */
function jumpTo(p: CompileInput, st: FnState, from: number, t: number, cond: boolean): void {
  const to = st.posOf.get(t);
  if (to !== undefined) { branch(st, from, to, cond); return; }
  const c = st.code;
  if (cond) c.scope(OP.if, 0x40);
  spillBudget(c, st.scratch); flushSlots(c);
  c.i32(t < 0 || t >= p.length ? FAULT_JUMP_OUT : FAULT_LDDW_MIDDLE); c.i32(t); c.opu(OP.call, F_FAULT);
  c.op(OP.unreachable);
  if (cond) c.op(OP.end);
}

/** A block that loops to itself runs twice per wasm loop trip when at most this long (see emitBlock). */
const UNROLL_MAX = 48;

function emitBlock(p: CompileInput, st: FnState, pos: number, index: ReadonlyMap<number, number>, opts: CompileOptions): void {
  const b = st.blocks[pos]!, c = st.code;
  c.comment(`block ${b.start}..${b.end - 1}`);
  let risky = false, stores = false;
  let lastPc = b.start;
  for (let pc = b.start; pc < b.end; pc++) {
    lastPc = pc;
    if (pc + (p.op[pc] === 0x18 ? 2 : 1) < b.end) {
      if (mayStop(p, pc, opts.proven) && !inFrame(p, st, pc)) risky = st.risky = true;
      const cls = p.op[pc]! & 7;
      if (cls === 2 || cls === 3) stores = true;
    }
    if (p.op[pc] === 0x18) pc++;
  }
  // Budget exhaustion inside a block that may fault or exit before it (risky) hands the block to the interpreter
  // from all registers; one that stores to memory first (replay) needs only the registers the block reads, so the
  // interpreter makes the same stores before it reports the exhaustion.
  const spill = risky ? ALL_REGS : stores ? liveIn(p, b.start, lastPc) : 0;
  const flags = (risky ? BUDGET_SPILLED : 0) | (stores ? BUDGET_REPLAY : 0);
  // A conditional jump back to its own block: the body is emitted twice, `loop { body; if (cond) { body; br_if
  // loop(cond) } }`, so V8's per-iteration loop header (its stack/interrupt check, register moves) runs once for two
  // trips. Each copy keeps its own budget check, so counts and exhaustion are unchanged.
  const unroll = !st.dispatch && b.falls && b.target === b.start && b.count <= UNROLL_MAX && (p.op[lastPc]! & 0xf0) !== 0x00;
  emitBudgetCheck(st, b, flags, spill);
  emitInsns(p, st, pos, b.start, unroll ? lastPc : b.end, index, opts);
  if (unroll) {
    c.at(lastPc);
    emitCond(c, p.op[lastPc]!, p.dst[lastPc]!, p.src[lastPc]!, p.imm[lastPc]!);
    c.scope(OP.if, 0x40);
    st.stack.push({ kind: "other", pos: -2 });
    emitBudgetCheck(st, b, flags, spill);
    emitInsns(p, st, pos, b.start, b.end, index, opts);
    st.stack.pop();
    c.op(OP.end);
  }
  if (b.falls) { c.at(b.end); jumpTo(p, st, pos, b.end, false); }
}

const ALL_REGS = 0x7ff;

/** Registers (bit mask) instructions [start, last) may read before writing them, and r10. */
function liveIn(p: CompileInput, start: number, last: number): number {
  let read = 1 << 10, written = 0;
  for (let pc = start; pc < last; pc++) {
    const c = p.op[pc]!, cls = c & 7, d = p.dst[pc]!, s = p.src[pc]!;
    let uses = 0, defs = 0;
    if (cls === 4 || cls === 7) { uses = ((c & 0xf0) !== 0xb0 ? 1 << d : 0) | (c & 8 ? 1 << s : 0); defs = 1 << d; }
    else if (cls === 1) { uses = 1 << s; defs = 1 << d; }
    else if (c === 0x18) { defs = 1 << d; pc++; }
    else if (c === 0x85) { uses = 0x3e; defs = 1; } // an inlined helper: r0 = f(r1-r5)
    else uses = (1 << d) | (1 << s) | 1 | (1 << 6); // stores, atomics, packet loads: what they may read
    read |= uses & ~written;
    written |= defs;
  }
  return read & ALL_REGS;
}

/**
 * budget -= count; if (budget < 0) leave for the budget exit with (start, flagged count), storing the registers in
 * `spill` (bit mask) to scratch first for the engine's interpreter. The stores sit in the cold branch: they keep no
 * register live that the block does not read anyway.
 */
function emitBudgetCheck(st: FnState, b: BasicBlock, flags: number, spill: number): void {
  const c = st.code;
  c.at(b.start);
  c.get(BUD); c.i32(b.count); c.op(OP.i32_sub); c.opu(OP.local_tee, BUD); c.i32(0); c.op(OP.i32_lt_s);
  c.scope(OP.if, 0x40);
  for (let r = 0; r <= 10; r++) if (spill & (1 << r)) { c.i32(st.scratch + SCRATCH_REGS + 8 * r); c.get(r); c.mem(OP.i64_store, 3, 0); }
  c.i32(b.start); c.set(OUT_PC); c.i32(b.count | flags); c.set(OUT_COUNT);
  c.opu(OP.br, st.stack.length + 1);
  c.op(OP.end);
}

function emitInsns(p: CompileInput, st: FnState, pos: number, from: number, to: number, index: ReadonlyMap<number, number>,
  opts: CompileOptions): void {
  for (let pc = from; pc < to; pc++) {
    st.code.at(pc);
    emitInsn(p, st, pos, pc, index, opts);
    if (p.op[pc] === 0x18) pc++;
  }
}

/**
 * The budget exit, after the function's body: the budget and slots to memory, then the engine, which throws the
 * exhaustion (replaying the block's stores on the interpreter first), or for a risky block runs it on the
 * interpreter, which may instead fault, or exit the frame and return: its r0-r5 and frame are then the result.
 * Registers went to scratch in each block's cold branch, so none is live here.
 */
function emitBudgetExit(c: Code, scratch: number, risky: boolean): void {
  c.comment("budget exit");
  spillBudget(c, scratch); flushSlots(c);
  c.get(OUT_PC); c.get(OUT_COUNT); c.opu(OP.call, F_BUDGET); c.op(OP.drop);
  if (!risky) { c.op(OP.unreachable); return; }
  for (let r = 0; r <= 5; r++) { c.i32(scratch + SCRATCH_REGS + 8 * r); c.mem(OP.i64_load, 3, 0); c.set(r); }
  loadSlots(c); // the interpreter may have stored to the frame
  reloadBudget(c, scratch); ret(c);
}

/**
 * May the instruction at `pc` end a run before the next one (a fault, or LD_ABS/LD_IND's exit)? Memory accesses the
 * verifier did not prove, and packet loads. The budget slow path and the engine's budget_out decide with this alone.
 */
export function mayStop(p: CompileInput, pc: number, proven: ReadonlySet<number> | undefined): boolean {
  const c = p.op[pc]!, cls = c & 7;
  if (cls === 0) return (c & 0xe0) === 0x20 || (c & 0xe0) === 0x40;
  return (cls === 1 || cls === 2 || cls === 3) && !(proven?.has(pc) ?? false);
}

/** budget_out's count carries this bit when the registers were spilled (the block has an access that may fault). */
export const BUDGET_SPILLED = 0x40000000;
/** ... and this one when the block stores to memory before its last instruction: the interpreter replays it. */
export const BUDGET_REPLAY = 0x20000000;

/** A load/store at r10 + off inside the frame, with r10 never written: it cannot fault (and runs unchecked). */
function inFrame(p: CompileInput, st: FnState, pc: number): boolean {
  const c = p.op[pc]!, cls = c & 7;
  if (!st.r10Fixed || (cls !== 1 && cls !== 2 && cls !== 3) || (c & 0xe0) === 0xc0) return false;
  const reg = cls === 1 ? p.src[pc]! : p.dst[pc]!, off = p.off[pc]!;
  return reg === 10 && off >= -512 && off + SIZE_OF[(c >> 3) & 3]! <= 0;
}

let scratchBase = 0; // the scratch address of the module being compiled (for ret)
const spillBudget = (c: Code, scratch: number): void => { c.i32(0); c.get(BUD); c.mem(OP.i32_store, 2, scratch + SCRATCH_BUDGET); };
const reloadBudget = (c: Code, scratch: number): void => { c.i32(0); c.mem(OP.i32_load, 2, scratch + SCRATCH_BUDGET); c.set(BUD); };
const ret = (c: Code): void => { spillBudget(c, scratchBase); flushSlots(c); for (let r = 0; r <= 5; r++) c.get(r); c.op(OP.return); };

function emitInsn(p: CompileInput, st: FnState, pos: number, pc: number,
  index: ReadonlyMap<number, number>, opts: CompileOptions): void {
  const c = st.code;
  const code = p.op[pc]!, d = p.dst[pc]!, s = p.src[pc]!, off = p.off[pc]!, k = p.imm[pc]!;
  const cls = code & 7;
  switch (cls) {
    case 7: case 4: emitAlu(c, code, d, s, off, k); return;
    case 5: case 6: {
      if (code === 0x95) { ret(c); return; }
      if (code === 0x85 || code === 0x8d) { emitCall(p, st, pc, index, opts); return; }
      const t = pc + 1 + (code === 0x06 ? k : off);
      if (code === 0x05 || code === 0x06) { jumpTo(p, st, pos, t, false); return; }
      emitCond(c, code, d, s, k);
      jumpTo(p, st, pos, t, true);
      return;
    }
    case 0: case 1: case 2: case 3: {
      if (code === 0x18) { c.i64(k, p.imm[pc + 1]!); c.set(d); return; } // lddw
      const mode = code & 0xe0;
      if (mode === 0x20 || mode === 0x40) { emitLdAbs(c, code, s, k); return; }
      if (mode === 0xc0) { emitAtomic(c, code, d, s, off, k, pc, opts); return; }
      emitMem(p, st, pc, opts);
      return;
    }
  }
}

// per-width opcode tables (module constants: emitAlu/emitCond run once per instruction and allocate nothing)
interface AluOps { add: number; sub: number; mul: number; or: number; and: number; xor: number; shl: number; shr: number;
  sar: number; divu: number; divs: number; remu: number; rems: number; eqz: number; type: number }
const ALU_T64: AluOps = {
  add: OP.i64_add, sub: OP.i64_sub, mul: OP.i64_mul, or: OP.i64_or, and: OP.i64_and, xor: OP.i64_xor, shl: OP.i64_shl,
  shr: OP.i64_shr_u, sar: OP.i64_shr_s, divu: OP.i64_div_u, divs: OP.i64_div_s, remu: OP.i64_rem_u, rems: OP.i64_rem_s,
  eqz: OP.i64_eqz, type: I64,
};
const ALU_T32: AluOps = {
  add: OP.i32_add, sub: OP.i32_sub, mul: OP.i32_mul, or: OP.i32_or, and: OP.i32_and, xor: OP.i32_xor, shl: OP.i32_shl,
  shr: OP.i32_shr_u, sar: OP.i32_shr_s, divu: OP.i32_div_u, divs: OP.i32_div_s, remu: OP.i32_rem_u, rems: OP.i32_rem_s,
  eqz: OP.i32_eqz, type: I32,
};
const CMP64 = [OP.i64_eq, OP.i64_gt_u, OP.i64_ge_u, OP.i64_ne, OP.i64_gt_s, OP.i64_ge_s, OP.i64_lt_u, OP.i64_le_u, OP.i64_lt_s, OP.i64_le_s, OP.i64_and, OP.i64_ne];
const CMP32 = [OP.i32_eq, OP.i32_gt_u, OP.i32_ge_u, OP.i32_ne, OP.i32_gt_s, OP.i32_ge_s, OP.i32_lt_u, OP.i32_le_u, OP.i32_lt_s, OP.i32_le_s, OP.i32_and, OP.i32_ne];

// Operand pushes of one ALU instruction (64-bit registers, or their low halves for ALU32).
let aluC: Code, alu64 = false, aluUseSrc = false, aluD = 0, aluS = 0, aluK = 0;
function srcVal(): void {
  const c = aluC;
  if (alu64) { if (aluUseSrc) c.get(aluS); else c.i64(aluK, aluK >> 31); }
  else if (aluUseSrc) { c.get(aluS); c.op(OP.i32_wrap_i64); } else c.i32(aluK);
}
function dstVal(): void { aluC.get(aluD); if (!alu64) aluC.op(OP.i32_wrap_i64); }
function finish(): void { if (!alu64) aluC.op(OP.i64_extend_i32_u); aluC.set(aluD); }
function zero(): void { if (alu64) aluC.i64(0, 0); else aluC.i32(0); }
function minus1(): void { if (alu64) aluC.i64(-1, -1); else aluC.i32(-1); }
function simple(o: number): void { dstVal(); srcVal(); aluC.op(o); finish(); }

function emitAlu(c: Code, code: number, d: number, s: number, off: number, k: number): void {
  const is64 = (code & 7) === 7, useSrc = (code & 8) !== 0, op = code & 0xf0;
  aluC = c; alu64 = is64; aluUseSrc = useSrc; aluD = d; aluS = s; aluK = k;
  const T = is64 ? ALU_T64 : ALU_T32;
  switch (op) {
    case 0x00: simple(T.add); return;
    case 0x10: simple(T.sub); return;
    case 0x20: simple(T.mul); return;
    case 0x40: simple(T.or); return;
    case 0x50: simple(T.and); return;
    case 0xa0: simple(T.xor); return;
    case 0x60: simple(T.shl); return;
    case 0x70: simple(T.shr); return;
    case 0xc0: simple(T.sar); return;
    case 0x80: zero(); dstVal(); c.op(T.sub); finish(); return;
    case 0x30: case 0x90: {
      const signed = off === 1, div = op === 0x30;
      if (!useSrc) {
        // constant divisor (kernel fixups: x/0 = 0, x%0 = x, signed x/-1 = -x, x%-1 = 0)
        if (k === 0) { if (div) { zero(); finish(); } else if (!is64) { dstVal(); finish(); } return; }
        if (signed && k === -1) { if (div) { zero(); dstVal(); c.op(T.sub); } else zero(); finish(); return; }
        dstVal(); srcVal(); c.op(div ? (signed ? T.divs : T.divu) : (signed ? T.rems : T.remu)); finish(); return;
      }
      // divisor in a register: test it at run time
      srcVal(); c.op(T.eqz);
      c.scope(OP.if, T.type);
      if (div) zero(); else dstVal();
      c.op(OP.else);
      if (signed) {
        srcVal(); minus1(); c.op(is64 ? OP.i64_eq : OP.i32_eq);
        c.scope(OP.if, T.type);
        if (div) { zero(); dstVal(); c.op(T.sub); } else zero();
        c.op(OP.else);
        dstVal(); srcVal(); c.op(div ? T.divs : T.rems);
        c.op(OP.end);
      } else { dstVal(); srcVal(); c.op(div ? T.divu : T.remu); }
      c.op(OP.end);
      finish();
      return;
    }
    case 0xb0: // mov, movsx
      if (is64) {
        if (!useSrc) { c.i64(k, k >> 31); c.set(d); return; }
        c.get(s);
        if (off === 8) c.op(OP.i64_extend8_s); else if (off === 16) c.op(OP.i64_extend16_s); else if (off !== 0) c.op(OP.i64_extend32_s);
        c.set(d);
        return;
      }
      srcVal();
      if (useSrc && off === 8) c.op(OP.i32_extend8_s); else if (useSrc && off === 16) c.op(OP.i32_extend16_s);
      finish();
      return;
    case 0xd0: { // le/be/bswap
      const w = k, swap = code === 0xdc || code === 0xd7;
      if (!swap) {
        if (w === 16) { c.get(d); c.i64(0xffff, 0); c.op(OP.i64_and); c.set(d); }
        else if (w === 32) { c.get(d); c.i64(-1, 0); c.op(OP.i64_and); c.set(d); }
        return;
      }
      if (w === 16) {
        c.get(d); c.op(OP.i32_wrap_i64); c.set(T32);
        c.get(T32); c.i32(8); c.op(OP.i32_shl); c.i32(0xff00); c.op(OP.i32_and);
        c.get(T32); c.i32(8); c.op(OP.i32_shr_u); c.i32(0xff); c.op(OP.i32_and); c.op(OP.i32_or);
        c.op(OP.i64_extend_i32_u); c.set(d);
      } else if (w === 32) {
        c.get(d); c.op(OP.i32_wrap_i64); bswap32(c); c.op(OP.i64_extend_i32_u); c.set(d);
      } else {
        // swap bytes within halves, then the halves
        c.get(d); c.op(OP.i32_wrap_i64); bswap32(c); c.op(OP.i64_extend_i32_u); c.i64(32, 0); c.op(OP.i64_shl);
        c.get(d); c.i64(32, 0); c.op(OP.i64_shr_u); c.op(OP.i32_wrap_i64); bswap32(c); c.op(OP.i64_extend_i32_u);
        c.op(OP.i64_or); c.set(d);
      }
      return;
    }
  }
  throw new BpfError("UNSUPPORTED", `jit: ALU opcode 0x${code.toString(16)}`);
}

/** i32 on the stack → byte-swapped (uses T32). */
function bswap32(c: Code): void {
  c.set(T32);
  c.get(T32); c.i32(0x00ff00ff); c.op(OP.i32_and); c.i32(24); c.op(OP.i32_rotl);
  c.get(T32); c.i32(0xff00ff00 | 0); c.op(OP.i32_and); c.i32(8); c.op(OP.i32_rotl);
  c.op(OP.i32_or);
}

/** Push the i32 condition of a conditional jump. */
function emitCond(c: Code, code: number, d: number, s: number, k: number): void {
  const is64 = (code & 7) === 5, useSrc = (code & 8) !== 0, op = code & 0xf0;
  const O = is64 ? CMP64 : CMP32;
  c.get(d); if (!is64) c.op(OP.i32_wrap_i64);
  if (useSrc) { c.get(s); if (!is64) c.op(OP.i32_wrap_i64); } else if (is64) c.i64(k, k >> 31); else c.i32(k);
  switch (op) {
    case 0x10: c.op(O[0]!); return;
    case 0x20: c.op(O[1]!); return;
    case 0x30: c.op(O[2]!); return;
    case 0x40: c.op(O[10]!); if (is64) { c.i64(0, 0); c.op(OP.i64_ne); } return; // jset: (d & s) != 0
    case 0x50: c.op(O[3]!); return;
    case 0x60: c.op(O[4]!); return;
    case 0x70: c.op(O[5]!); return;
    case 0xa0: c.op(O[6]!); return;
    case 0xb0: c.op(O[7]!); return;
    case 0xc0: c.op(O[8]!); return;
    case 0xd0: c.op(O[9]!); return;
  }
  throw new BpfError("UNSUPPORTED", `jit: jump opcode 0x${code.toString(16)}`);
}

/** Leaves the checked i32 address of `reg + off` on the stack (T64 holds the 64-bit address). */
function address(c: Code, st: FnState, reg: number, off: number, size: number, write: boolean, pc: number, proven: boolean): number {
  if (reg === 10 && st.r10Fixed && off >= -512 && off + size <= 0) { c.get(FP); return off + 512; }
  if (proven) {
    c.get(reg); c.op(OP.i32_wrap_i64);
    if (off < 0) { c.i32(off); c.op(OP.i32_add); return 0; }
    return off;
  }
  c.get(reg); if (off !== 0) { c.i64(off, off >> 31); c.op(OP.i64_add); }
  c.opu(OP.local_tee, T64);
  // in the cached region [S, S+n) when a + (8 - size) - S <u n - 7 (n - 7 is stored; 0 means no region cached)
  const cache = st.scratch + SCRATCH_CACHE + (write ? 16 : 0);
  if (size !== 8) { c.i64(8 - size, 0); c.op(OP.i64_add); }
  c.i32(0); c.mem(OP.i64_load, 3, cache); c.op(OP.i64_sub);
  c.i32(0); c.mem(OP.i64_load, 3, cache + 8);
  c.op(OP.i64_ge_u);
  c.scope(OP.if, 0x40);
  c.get(T64); c.op(OP.i32_wrap_i64); c.get(T64); c.i64(32, 0); c.op(OP.i64_shr_u); c.op(OP.i32_wrap_i64);
  flushSlots(c);
  c.i32(size); c.i32(write ? 1 : 0); c.i32(pc); c.opu(OP.call, F_ACCESS);
  c.op(OP.end);
  c.get(T64); c.op(OP.i32_wrap_i64);
  return 0;
}

function emitMem(p: CompileInput, st: FnState, pc: number, opts: CompileOptions): void {
  const c = st.code;
  const code = p.op[pc]!, d = p.dst[pc]!, s = p.src[pc]!, off = p.off[pc]!, k = p.imm[pc]!;
  const cls = code & 7, mode = code & 0xe0, sz = (code >> 3) & 3, size = SIZE_OF[sz]!;
  const proven = opts.proven?.has(pc) ?? false;
  if (slots.pieces.length && (cls === 1 ? s : d) === 10 && mode === 0x60) { emitSlotAccess(c, slots, cls, size, off, d, s, k); return; }
  const align = ALIGN[sz]!;
  if (cls === 1) {
    const o = address(c, st, s, off, size, false, pc, proven);
    const signed = mode === 0x80;
    const ld = signed ? [OP.i64_load32_s, OP.i64_load16_s, OP.i64_load8_s, OP.i64_load][sz]!
      : [OP.i64_load32_u, OP.i64_load16_u, OP.i64_load8_u, OP.i64_load][sz]!;
    c.mem(ld, align, o); c.set(d);
    return;
  }
  const o = address(c, st, d, off, size, true, pc, proven);
  if (cls === 2) c.i64(k, k >> 31); else c.get(s);
  c.mem([OP.i64_store32, OP.i64_store16, OP.i64_store8, OP.i64_store][sz]!, align, o);
}

function emitLdAbs(c: Code, code: number, s: number, k: number): void {
  const size = SIZE_OF[(code >> 3) & 3]!;
  const fail = (): void => { c.i64(0, 0); c.set(0); ret(c); };
  if ((code & 0xe0) === 0x20 && k >= 0) {
    // LD_ABS with a non-negative constant offset: inline bounds test against the packet length
    c.opu(OP.global_get, G_PLEN); c.i32((k + size) >>> 0); c.op(OP.i32_lt_u);
    c.scope(OP.if, 0x40); fail(); c.op(OP.end);
    c.opu(OP.global_get, G_PDATA); c.i32(k); c.op(OP.i32_add);
  } else if ((code & 0xe0) === 0x40) {
    // LD_IND: a non-negative offset is tested against the packet length in wasm; negative ones (SKF_NET_OFF,
    // SKF_LL_OFF) go to the engine. Either yields the address or -1.
    c.get(s); c.op(OP.i32_wrap_i64); c.i32(k); c.op(OP.i32_add); c.opu(OP.local_tee, T32);
    c.i32(0); c.op(OP.i32_lt_s);
    c.scope(OP.if, 0x7f);
    c.get(T32); c.i32(size); c.opu(OP.call, F_LDADDR);
    c.op(OP.else);
    c.get(T32); c.i32(size); c.op(OP.i32_add); c.opu(OP.global_get, G_PLEN); c.op(OP.i32_gt_u);
    c.scope(OP.if, 0x7f); c.i32(-1); c.op(OP.else); c.opu(OP.global_get, G_PDATA); c.get(T32); c.op(OP.i32_add); c.op(OP.end);
    c.op(OP.end);
    c.opu(OP.local_tee, T32);
    c.i32(-1); c.op(OP.i32_eq);
    c.scope(OP.if, 0x40); fail(); c.op(OP.end);
    c.get(T32);
  } else {
    c.i32(k);
    c.i32(size); c.opu(OP.call, F_LDADDR); c.opu(OP.local_tee, T32);
    c.i32(-1); c.op(OP.i32_eq);
    c.scope(OP.if, 0x40); fail(); c.op(OP.end);
    c.get(T32);
  }
  // network byte order
  if (size === 1) c.mem(OP.i32_load8_u, 0, 0);
  else if (size === 2) { c.mem(OP.i32_load16_u, 0, 0); c.set(T32); c.get(T32); c.i32(8); c.op(OP.i32_shl); c.get(T32); c.i32(8); c.op(OP.i32_shr_u); c.op(OP.i32_or); c.i32(0xffff); c.op(OP.i32_and); }
  else { c.mem(OP.i32_load, 0, 0); bswap32(c); }
  c.op(OP.i64_extend_i32_u); c.set(0);
}

function emitAtomic(c: Code, code: number, d: number, s: number, off: number, k: number, pc: number, opts: CompileOptions): void {
  const size = SIZE_OF[(code >> 3) & 3]!;
  const proven = opts.proven?.has(pc) ?? false;
  const native = proven && (size === 4 || size === 8) && [0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1].includes(k);
  const slow = (): void => {
    // registers through scratch; the engine does the access, the checks and the operation
    for (const r of new Set([0, d, s])) { c.i32(opts.scratch + 8 * r); c.get(r); c.mem(OP.i64_store, 3, 0); }
    c.i32(pc); c.i32(code); c.i32(off); c.i32(k); c.i32(d); c.i32(s); c.opu(OP.call, F_ATOMIC);
    for (const r of new Set([0, d, s])) { c.i32(opts.scratch + 8 * r); c.mem(OP.i64_load, 3, 0); c.set(r); }
  };
  if (!native) { slow(); return; }
  // proven in bounds: wasm atomics, unless misaligned (wasm would trap)
  c.get(d); c.op(OP.i32_wrap_i64); if (off !== 0) { c.i32(off); c.op(OP.i32_add); } c.set(T32);
  c.get(T32); c.i32(size - 1); c.op(OP.i32_and);
  c.scope(OP.if, 0x40); slow(); c.op(OP.else);
  const w = size === 8;
  const a = w ? 3 : 2;
  const base = k & ~1;
  if (base === 0xf0) {
    c.get(T32); c.get(0); c.get(s); c.atomic(w ? ATOMIC.i64_cmpxchg : ATOMIC.i64_cmpxchg32, a); c.set(0);
  } else {
    const o = base === 0x00 ? (w ? ATOMIC.i64_add : ATOMIC.i64_add32) : base === 0x40 ? (w ? ATOMIC.i64_or : ATOMIC.i64_or32)
      : base === 0x50 ? (w ? ATOMIC.i64_and : ATOMIC.i64_and32) : base === 0xa0 ? (w ? ATOMIC.i64_xor : ATOMIC.i64_xor32)
      : (w ? ATOMIC.i64_xchg : ATOMIC.i64_xchg32);
    c.get(T32); c.get(s); c.atomic(o, a);
    if (k & 1) c.set(s); else c.op(OP.drop);
  }
  c.op(OP.end);
}

function emitCall(p: CompileInput, st: FnState, pc: number, index: ReadonlyMap<number, number>, opts: CompileOptions): void {
  const how = st.inlined.get(pc);
  if (how !== undefined) { emitInlined(st.code, how, INLINE0, G_CPU, F_KTIME); return; }
  // helpers (callbacks), subprograms and tail-called programs count against the same budget: hand it over and back
  spillBudget(st.code, st.scratch);
  emitCallInner(p, st, pc, index, opts);
  reloadBudget(st.code, st.scratch);
}

function emitCallInner(p: CompileInput, st: FnState, pc: number, index: ReadonlyMap<number, number>, opts: CompileOptions): void {
  const c = st.code;
  const code = p.op[pc]!, s = p.src[pc]!, k = p.imm[pc]!;
  const storeArgs = (): void => { for (let r = 1; r <= 5; r++) { c.i32(opts.scratch + 8 * r); c.get(r); c.mem(OP.i64_store, 3, 0); } };
  const loadR0 = (): void => { c.i32(opts.scratch); c.mem(OP.i64_load, 3, 0); c.set(0); };
  const depthCheck = (): void => {
    c.opu(OP.global_get, G_DEPTH); c.i32(MAX_CALL_FRAMES - 2); c.op(OP.i32_gt_s);
    c.scope(OP.if, 0x40); c.i32(FAULT_DEPTH); c.i32(pc); c.opu(OP.call, F_FAULT); c.op(OP.end);
    c.opu(OP.global_get, G_DEPTH); c.i32(1); c.op(OP.i32_add); c.opu(OP.global_set, G_DEPTH);
  };
  const afterCall = (): void => {
    for (let r = 5; r >= 0; r--) c.set(r);
    c.opu(OP.global_get, G_DEPTH); c.i32(1); c.op(OP.i32_sub); c.opu(OP.global_set, G_DEPTH);
  };
  const tail = (): void => {
    c.i32(pc); c.get(2); c.op(OP.i32_wrap_i64); c.get(2); c.i64(32, 0); c.op(OP.i64_shr_u); c.op(OP.i32_wrap_i64);
    c.get(3); c.op(OP.i32_wrap_i64); c.opu(OP.call, F_TAIL); c.opu(OP.local_tee, T32);
    c.i32(0); c.op(OP.i32_ge_s);
    c.scope(OP.if, 0x40);
    for (let r = 0; r < 10; r++) c.get(r);
    c.get(T32); c.callIndirect(T_FUNC); c.op(OP.return);
    c.op(OP.end);
  };
  if (code === 0x8d) {
    // callx: the engine decides between a BPF function (table index) and a helper id (done already, or a tail call)
    storeArgs();
    const reg = p.dst[pc] !== 0 ? p.dst[pc]! : k;
    if (reg >= 0 && reg <= 10) { c.i32(opts.scratch + 8 * reg); c.get(reg); c.mem(OP.i64_store, 3, 0); }
    c.i32(pc); c.i32(reg); c.opu(OP.call, F_CALLX); c.opu(OP.local_tee, T32);
    c.i32(0); c.op(OP.i32_ge_s);
    c.scope(OP.if, 0x40);
    depthCheck();
    for (let r = 0; r < 10; r++) c.get(r);
    c.get(T32); c.callIndirect(T_FUNC);
    afterCall();
    c.op(OP.else);
    c.get(T32); c.i32(-2); c.op(OP.i32_eq);
    c.scope(OP.if, 0x40); tail(); c.op(OP.else); loadR0(); c.op(OP.end);
    c.op(OP.end);
    return;
  }
  // a pseudo call to a negative target is no call for the interpreter: it treats imm as a helper id
  if (s === 1 && pc + k + 1 >= 0) {
    const t = pc + k + 1;
    const fi = index.get(t);
    if (fi === undefined) { jumpToFault(c, t < 0 || t >= p.length ? FAULT_JUMP_OUT : FAULT_LDDW_MIDDLE, t, () => depthCheck()); return; }
    depthCheck();
    for (let r = 0; r < 10; r++) c.get(r);
    c.opu(OP.call, N_IMPORTED_FUNCS + fi);
    afterCall();
    return;
  }
  if (s !== 0 && s !== 1) { c.i32(FAULT_KFUNC); c.i32(pc); c.opu(OP.call, F_FAULT); return; }
  if (k === 12) { tail(); return; }
  storeArgs();
  c.i32(k); c.i32(pc); c.opu(OP.call, F_HELPER);
  loadR0();
}

/** A call whose target is not an instruction: the depth check, then the interpreter's fault for that pc. */
function jumpToFault(c: Code, kind: number, t: number, pre: () => void): void {
  pre();
  c.i32(kind); c.i32(t); c.opu(OP.call, F_FAULT); c.op(OP.unreachable);
}
