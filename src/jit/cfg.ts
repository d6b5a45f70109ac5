// Control flow for the JIT: basic blocks of one eBPF function (every block reachable from its entry by jumps, so
// code shared between functions is compiled into each), and the stackifier that lays them out as wasm's
// structured `block`/`loop` scopes. Blocks stay in pc order (else reverse postorder, see layout); a back edge opens
// a `loop` at its target, a forward jump a `block` that ends just before its target. Crossing intervals are widened until they nest (a loop's end may
// move later, a block's start earlier); when that is impossible (a jump into a loop's middle from before it: an
// irreducible graph) the function falls back to a dispatch loop over its blocks.

/** One basic block: slots [start, end), `count` instructions (an lddw is one), and its successors by pc. */
export interface BasicBlock {
  readonly start: number;
  readonly end: number;
  readonly count: number;
  /** Jump target (conditional or not), when the last instruction jumps; may be outside the program. */
  readonly target: number | undefined;
  /** Whether control can fall through to `end`. */
  readonly falls: boolean;
}

export interface Scope {
  readonly kind: "block" | "loop";
  open: number;
  close: number;
}

export interface Layout {
  /** Blocks in pc order; positions index this array. */
  readonly blocks: readonly BasicBlock[];
  readonly posOf: ReadonlyMap<number, number>;
  /** Nesting scopes sorted outer-first, or undefined when the graph needs the dispatch loop. */
  readonly scopes: Scope[] | undefined;
}

const isJump = (op: number): boolean => {
  const cls = op & 7;
  if (cls !== 5 && cls !== 6) return false;
  const code = op & 0xf0;
  return code !== 0x80 && code !== 0x90; // call, exit
};
const isExit = (op: number): boolean => op === 0x95;
const isCall = (op: number): boolean => op === 0x85 || op === 0x8d;

/** The jump target of the jump at `pc` (JA32 takes its offset from imm). */
export const jumpTarget = (op: Uint8Array, off: Int32Array, imm: Int32Array, pc: number): number =>
  pc + 1 + (op[pc] === 0x06 ? imm[pc]! : off[pc]!);

/** Is `pc` where an instruction starts (inside the program, not the second slot of an lddw)? */
export function slotStarts(op: Uint8Array): Uint8Array {
  const ok = new Uint8Array(op.length);
  for (let pc = 0; pc < op.length; pc++) { ok[pc] = 1; if (op[pc] === 0x18) pc++; }
  return ok;
}

/**
 * Basic blocks reachable from `entry` by jumps and fallthrough. Calls and helper calls end a block, except those at
 * the pcs in `inlined` (helpers the JIT runs in wasm).
 */
export function functionBlocks(op: Uint8Array, off: Int32Array, imm: Int32Array, entry: number, valid: Uint8Array,
  inlined?: ReadonlyMap<number, unknown>): BasicBlock[] {
  const n = op.length;
  const seen = new Map<number, BasicBlock>();
  const work = [entry];
  const leaders = new Set<number>([entry]);
  // leaders first: every jump target and every slot after a jump/call/exit, over the reachable part
  const visited = new Uint8Array(n);
  while (work.length) {
    let pc = work.pop()!;
    while (pc >= 0 && pc < n && valid[pc] && !visited[pc]) {
      visited[pc] = 1;
      const c = op[pc]!;
      const next = pc + (c === 0x18 ? 2 : 1);
      if (isExit(c)) break;
      if (isJump(c)) {
        const t = jumpTarget(op, off, imm, pc);
        if (t >= 0 && t < n && valid[t]) { leaders.add(t); work.push(t); }
        if (c === 0x05 || c === 0x06) break;
        leaders.add(next);
      } else if (isCall(c) && !inlined?.has(pc)) leaders.add(next);
      pc = next;
    }
  }
  const sorted = [...leaders].filter((l) => l >= 0 && l < n && valid[l] && visited[l]).sort((a, b) => a - b);
  const isLeader = new Uint8Array(n + 2);
  for (const l of sorted) isLeader[l] = 1;
  for (const s of sorted) {
    let pc = s, count = 0, target: number | undefined, falls = true;
    for (;;) {
      const c = op[pc]!;
      const next = pc + (c === 0x18 ? 2 : 1);
      count++;
      if (isExit(c)) { falls = false; pc = next; break; }
      if (isJump(c)) {
        target = jumpTarget(op, off, imm, pc);
        if (c === 0x05 || c === 0x06) falls = false;
        pc = next; break;
      }
      pc = next;
      if ((isCall(c) && !inlined?.has(pc - 1)) || pc >= n || !valid[pc] || isLeader[pc]) break;
    }
    seen.set(s, { start: s, end: pc, count, target, falls });
  }
  return sorted.map((s) => seen.get(s)!);
}

/**
 * Lay out blocks as nested wasm scopes (see the file comment): in pc order first; when that needs the dispatch loop
 * (clang lays out shared tails after the code that jumps back to them, which is no loop), in reverse postorder from
 * the entry, where every edge of an acyclic graph runs forward; the dispatch loop only when neither nests.
 */
export function layout(blocks: readonly BasicBlock[], entry = blocks[0]?.start ?? 0): Layout {
  if (blocks.length === 0 || blocks[0]!.start === entry) {
    const inPcOrder = layoutIn(blocks);
    if (inPcOrder.scopes !== undefined) return inPcOrder;
  }
  // the entry first in either case (the dispatch loop starts at position 0 too)
  return layoutIn(reversePostorder(blocks, entry));
}

/** Blocks in reverse postorder from `entry`; a block's fallthrough successor is visited last, so it tends to follow it. */
function reversePostorder(blocks: readonly BasicBlock[], entry: number): BasicBlock[] {
  const byStart = new Map<number, BasicBlock>();
  for (const b of blocks) byStart.set(b.start, b);
  const post: BasicBlock[] = [];
  const state = new Map<number, number>(); // 1 on the DFS stack, 2 done
  const stack: { b: BasicBlock; next: number }[] = [];
  const push = (start: number | undefined): void => {
    const b = start === undefined ? undefined : byStart.get(start);
    if (b === undefined || state.has(b.start)) return;
    state.set(b.start, 1);
    stack.push({ b, next: 0 });
  };
  push(entry);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const b = top.b;
    if (top.next === 0) { top.next = 1; push(b.target); continue; }
    if (top.next === 1) { top.next = 2; if (b.falls) push(b.end); continue; }
    stack.pop();
    state.set(b.start, 2);
    post.push(b);
  }
  // blocks the entry does not reach (none for functionBlocks' output) keep their pc order at the end
  const order = post.reverse();
  for (const b of blocks) if (!state.has(b.start)) order.push(b);
  return order;
}

/** Scopes for blocks in the given order, or undefined scopes when they cannot nest. */
function layoutIn(blocks: readonly BasicBlock[]): Layout {
  const posOf = new Map<number, number>();
  blocks.forEach((b, i) => posOf.set(b.start, i));
  const loops = new Map<number, Scope>();
  const fwd = new Map<number, Scope>();
  const edge = (u: number, v: number | undefined, adjacentToo = false): void => {
    if (v === undefined) return;
    if (v <= u) {
      const l = loops.get(v);
      if (l) l.close = Math.max(l.close, u); else loops.set(v, { kind: "loop", open: v, close: u });
    } else if (v > u + 1 || adjacentToo) {
      const f = fwd.get(v);
      if (f) f.open = Math.min(f.open, u); else fwd.set(v, { kind: "block", open: u, close: v - 1 });
    }
  };
  blocks.forEach((b, u) => {
    // in pc order the fallthrough is the next block; reordered, it may need a scope of its own, and a conditional
    // jump to the next block whose fallthrough goes elsewhere branches out of a scope around its own block
    const fall = b.falls ? posOf.get(b.end) : undefined;
    if (b.target !== undefined) edge(u, posOf.get(b.target), fall !== undefined && fall !== u + 1);
    edge(u, fall);
  });
  const all = [...fwd.values(), ...loops.values()];
  const order = (a: Scope, b: Scope): number => a.open - b.open || b.close - a.close || (a.kind === "block" ? -1 : 1);
  // Sweep in (open, -close) order with a stack of the scopes still open; a scope that starts inside the top one but
  // ends after it crosses it: widen (a block starts earlier, a loop ends later) and sweep again until none cross.
  for (let changed = true; changed; ) {
    changed = false;
    all.sort(order);
    const stack: Scope[] = [];
    for (const s of all) {
      while (stack.length && stack[stack.length - 1]!.close < s.open) stack.pop();
      const t = stack[stack.length - 1];
      if (t !== undefined && s.close > t.close && t.open < s.open) {
        if (s.kind === "block") s.open = t.open;
        else if (t.kind === "loop") t.close = s.close;
        else return { blocks, posOf, scopes: undefined }; // a block that ends inside a loop it starts before
        changed = true;
      }
      stack.push(s);
    }
  }
  const scopes = all.sort(order);
  return { blocks, posOf, scopes };
}
