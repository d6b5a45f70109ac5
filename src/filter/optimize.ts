// Stage 3: libpcap's optimizer (optimize.c), pass for pass: levels, dominators, edge dominators, use/def, value
// numbering with constant folding and peephole rules per block, jump threading through dominating edges (opt_j),
// the or/and pull-ups, then block interning and root skipping. Same passes in the same order give the same program.
import * as cb from "../isa/cbpf/insn.ts";
import { bpfClass, bpfMode, bpfOp, bpfSrc, bpfSize, bpfRval, bpfMiscOp } from "../isa/cbpf/insn.ts";
import { type Block, type Edge, type ICode, type SList, type Stmt, isMarked, mark, unmarkAll, sappend } from "./blocks.ts";
import * as bl from "./blocks.ts";
import { fail } from "./state.ts";

// Local copies of the opcode and atom constants: read once, so the hot loops do not go through module bindings.
const { BPF_LD, BPF_LDX, BPF_ST, BPF_STX, BPF_ALU, BPF_JMP, BPF_RET, BPF_MISC, BPF_ABS, BPF_IND, BPF_MEM, BPF_IMM,
  BPF_LEN, BPF_MSH, BPF_K, BPF_X, BPF_A, BPF_B, BPF_H, BPF_W, BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_MOD, BPF_AND,
  BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH, BPF_NEG, BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_TAX, BPF_TXA } = cb;
const { NOP, A_ATOM, X_ATOM, AX_ATOM, N_ATOMS } = bl;

const JT = (b: Block): Block | null => b.et.succ;
const JF = (b: Block): Block | null => b.ef.succ;
const ATOMMASK = (n: number): number => (1 << n) >>> 0;
const ATOMELEM = (d: number, n: number): boolean => ((d >>> n) & 1) !== 0;
const setMember = (p: Uint32Array, a: number): boolean => ((p[a >>> 5]! >>> (a & 31)) & 1) !== 0;
const setInsert = (p: Uint32Array, a: number): void => { p[a >>> 5] = (p[a >>> 5]! | (1 << (a & 31))) >>> 0; };
const setIntersect = (a: Uint32Array, b: Uint32Array): void => { for (let i = 0; i < a.length; i++) a[i] = a[i]! & b[i]!; };

class Optimizer {
  done = false;
  nonBranchMovement = false;
  blocks: Block[] = [];
  edges: Edge[] = [];
  levels: (Block | null)[] = [];
  nodewords = 0;
  edgewords = 0;
  // value numbering (optimize.c F(), vmap)
  curval = 0;
  hash = new Map<string, number>();
  isConst: number[] = [];
  constVal: number[] = [];

  constructor(readonly ic: ICode) {}

  // ---- setup (opt_init) ----
  init(): void {
    const ic = this.ic;
    unmarkAll(ic);
    // Preorder, true branch first (number_blks_r), with an explicit stack so deep graphs cannot overflow.
    const stack: (Block | null)[] = [ic.root];
    while (stack.length > 0) {
      const p = stack.pop()!;
      if (p === null || isMarked(ic, p)) continue;
      mark(ic, p);
      p.id = this.blocks.length;
      this.blocks.push(p);
      stack.push(JF(p), JT(p));
    }
    const n = this.blocks.length;
    const nEdges = 2 * n;
    this.edgewords = (nEdges >>> 5) + 1;
    this.nodewords = (n >>> 5) + 1;
    this.levels = new Array<Block | null>(n).fill(null);
    this.edges = new Array<Edge>(nEdges);
    for (let i = 0; i < n; i++) {
      const b = this.blocks[i]!;
      b.dom = new Uint32Array(this.nodewords);
      b.et.edom = new Uint32Array(this.edgewords);
      b.ef.edom = new Uint32Array(this.edgewords);
      b.et.id = i;
      this.edges[i] = b.et;
      b.ef.id = n + i;
      this.edges[n + i] = b.ef;
      b.et.pred = b;
      b.ef.pred = b;
    }
  }

  // ---- analyses ----
  findLevels(): void {
    const ic = this.ic;
    this.levels.fill(null);
    unmarkAll(ic);
    // find_levels_r: postorder (true branch, false branch, then the block), iteratively.
    const place = (b: Block, level: number): void => {
      b.level = level;
      b.link = this.levels[level]!;
      this.levels[level] = b;
    };
    const stack: Array<[Block, number]> = [[ic.root, 0]];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const b = top[0];
      if (top[1] === 0) {
        if (isMarked(ic, b)) { stack.pop(); continue; }
        mark(ic, b);
        b.link = null;
        if (JT(b) === null) { place(b, 0); stack.pop(); continue; }
        top[1] = 1;
        stack.push([JT(b)!, 0]);
      } else if (top[1] === 1) {
        top[1] = 2;
        stack.push([JF(b)!, 0]);
      } else {
        place(b, Math.max(JT(b)!.level, JF(b)!.level) + 1);
        stack.pop();
      }
    }
  }

  private *levelBlocks(from: number, to: number, step: number): Generator<Block> {
    for (let level = from; step < 0 ? level >= to : level <= to; level += step) {
      for (let b = this.levels[level] ?? null; b !== null; b = b.link) yield b;
    }
  }

  findDom(): void {
    for (const b of this.blocks) b.dom.fill(0xffffffff);
    const root = this.ic.root;
    root.dom.fill(0);
    for (const b of this.levelBlocks(root.level, 0, -1)) {
      setInsert(b.dom, b.id);
      if (JT(b) === null) continue;
      setIntersect(JT(b)!.dom, b.dom);
      setIntersect(JF(b)!.dom, b.dom);
    }
  }

  findEdom(): void {
    for (const b of this.blocks) { b.et.edom.fill(0xffffffff); b.ef.edom.fill(0xffffffff); }
    const root = this.ic.root;
    root.et.edom.fill(0);
    root.ef.edom.fill(0);
    const propedom = (ep: Edge): void => {
      setInsert(ep.edom, ep.id);
      if (ep.succ !== null) {
        setIntersect(ep.succ.et.edom, ep.edom);
        setIntersect(ep.succ.ef.edom, ep.edom);
      }
    };
    for (const b of this.levelBlocks(root.level, 0, -1)) {
      propedom(b.et);
      propedom(b.ef);
    }
  }

  findUd(): void {
    const maxlevel = this.ic.root.level;
    for (const p of this.levelBlocks(maxlevel, 0, -1)) {
      computeLocalUd(p);
      p.outUse = 0;
    }
    for (const p of this.levelBlocks(1, maxlevel, 1)) {
      p.outUse = (p.outUse | JT(p)!.inUse | JF(p)!.inUse) >>> 0;
      p.inUse = (p.inUse | (p.outUse & ~p.kill)) >>> 0;
    }
  }

  findInedges(): void {
    for (const b of this.blocks) b.inEdges = null;
    const link = (parent: Edge, child: Block): void => { parent.next = child.inEdges; child.inEdges = parent; };
    for (const b of this.levelBlocks(this.ic.root.level, 1, -1)) {
      link(b.et, JT(b)!);
      link(b.ef, JF(b)!);
    }
  }

  // ---- value numbering ----
  initVal(): void {
    this.curval = 0;
    this.hash.clear();
    this.isConst.length = 0;
    this.constVal.length = 0;
  }

  F(code: number, v0: number, v1: number): number {
    const key = `${code},${v0},${v1}`;
    const hit = this.hash.get(key);
    if (hit !== undefined) return hit;
    const val = ++this.curval;
    if (bpfMode(code) === BPF_IMM && (bpfClass(code) === BPF_LD || bpfClass(code) === BPF_LDX)) {
      this.constVal[val] = v0 >>> 0;
      this.isConst[val] = 1;
    }
    this.hash.set(key, val);
    return val;
  }
  K(i: number): number { return this.F(BPF_LD | BPF_IMM | BPF_W, i >>> 0, 0); }
  isK(v: number): boolean { return this.isConst[v] === 1; }
  kv(v: number): number { return this.constVal[v] ?? 0; }
  changed(): void { this.nonBranchMovement = true; this.done = false; }

  vstore(s: Stmt, val: Uint32Array, atom: number, newval: number, alter: boolean): void {
    if (alter && newval !== 0 && val[atom] === newval) s.code = NOP;
    else val[atom] = newval;
  }

  foldOp(s: Stmt, v0: number, v1: number): void {
    let a = this.kv(v0);
    const b = this.kv(v1);
    switch (bpfOp(s.code)) {
      case BPF_ADD: a = (a + b) >>> 0; break;
      case BPF_SUB: a = (a - b) >>> 0; break;
      case BPF_MUL: a = Math.imul(a, b) >>> 0; break;
      case BPF_DIV: if (b === 0) fail("division by zero"); a = Math.floor(a / b) >>> 0; break;
      case BPF_MOD: if (b === 0) fail("modulus by zero"); a = (a % b) >>> 0; break;
      case BPF_AND: a = (a & b) >>> 0; break;
      case BPF_OR: a = (a | b) >>> 0; break;
      case BPF_XOR: a = (a ^ b) >>> 0; break;
      case BPF_LSH: a = b < 32 ? (a << b) >>> 0 : 0; break;
      case BPF_RSH: a = b < 32 ? a >>> b : 0; break;
      default: throw new Error("fold_op: bad op");
    }
    s.k = a;
    s.code = BPF_LD | BPF_IMM;
    this.changed();
  }

  optStmt(s: Stmt, val: Uint32Array, alter: boolean): void {
    const c = s.code;
    if (c === NOP) return;
    if (c === (BPF_LD | BPF_ABS | BPF_W) || c === (BPF_LD | BPF_ABS | BPF_H) || c === (BPF_LD | BPF_ABS | BPF_B)) {
      this.vstore(s, val, A_ATOM, this.F(c, s.k, 0), alter);
      return;
    }
    if (c === (BPF_LD | BPF_IND | BPF_W) || c === (BPF_LD | BPF_IND | BPF_H) || c === (BPF_LD | BPF_IND | BPF_B)) {
      let v = val[X_ATOM]!;
      if (alter && this.isK(v)) {
        s.code = BPF_LD | BPF_ABS | bpfSize(s.code);
        s.k = (s.k + this.kv(v)) >>> 0;
        v = this.F(s.code, s.k, 0);
        this.changed();
      } else v = this.F(s.code, s.k, v);
      this.vstore(s, val, A_ATOM, v, alter);
      return;
    }
    switch (c) {
      case BPF_LD | BPF_LEN: this.vstore(s, val, A_ATOM, this.F(c, 0, 0), alter); return;
      case BPF_LD | BPF_IMM: this.vstore(s, val, A_ATOM, this.K(s.k), alter); return;
      case BPF_LDX | BPF_IMM: this.vstore(s, val, X_ATOM, this.K(s.k), alter); return;
      case BPF_LDX | BPF_MSH | BPF_B: this.vstore(s, val, X_ATOM, this.F(c, s.k, 0), alter); return;
      case BPF_ALU | BPF_NEG:
        if (alter && this.isK(val[A_ATOM]!)) {
          s.code = BPF_LD | BPF_IMM;
          s.k = (0 - this.kv(val[A_ATOM]!)) >>> 0;
          val[A_ATOM] = this.K(s.k);
        } else val[A_ATOM] = this.F(c, val[A_ATOM]!, 0);
        return;
      case BPF_MISC | BPF_TXA: this.vstore(s, val, A_ATOM, val[X_ATOM]!, alter); return;
      case BPF_LD | BPF_MEM: {
        const v = val[s.k]!;
        if (alter && this.isK(v)) {
          s.code = BPF_LD | BPF_IMM;
          s.k = this.kv(v);
          this.changed();
        }
        this.vstore(s, val, A_ATOM, v, alter);
        return;
      }
      case BPF_MISC | BPF_TAX: this.vstore(s, val, X_ATOM, val[A_ATOM]!, alter); return;
      case BPF_LDX | BPF_MEM: {
        const v = val[s.k]!;
        if (alter && this.isK(v)) {
          s.code = BPF_LDX | BPF_IMM;
          s.k = this.kv(v);
          this.changed();
        }
        this.vstore(s, val, X_ATOM, v, alter);
        return;
      }
      case BPF_ST: this.vstore(s, val, s.k, val[A_ATOM]!, alter); return;
      case BPF_STX: this.vstore(s, val, s.k, val[X_ATOM]!, alter); return;
    }
    if (bpfClass(c) !== BPF_ALU) return;
    const op = bpfOp(c);
    if (op === BPF_NEG) return;
    if (bpfSrc(c) === BPF_K) {
      if (alter) {
        if (s.k === 0) {
          if (op === BPF_ADD || op === BPF_LSH || op === BPF_RSH || op === BPF_OR || op === BPF_XOR) { s.code = NOP; return; }
          if (op === BPF_MUL || op === BPF_AND) { s.code = BPF_LD | BPF_IMM; val[A_ATOM] = this.K(s.k); return; }
          if (op === BPF_DIV) fail("division by zero");
          if (op === BPF_MOD) fail("modulus by zero");
        }
        if (this.isK(val[A_ATOM]!)) {
          this.foldOp(s, val[A_ATOM]!, this.K(s.k));
          val[A_ATOM] = this.K(s.k);
          return;
        }
      }
      val[A_ATOM] = this.F(c, val[A_ATOM]!, this.K(s.k));
      return;
    }
    // BPF_X
    if (alter && this.isK(val[X_ATOM]!)) {
      if (this.isK(val[A_ATOM]!)) {
        this.foldOp(s, val[A_ATOM]!, val[X_ATOM]!);
        val[A_ATOM] = this.K(s.k);
      } else {
        s.code = BPF_ALU | BPF_K | op;
        s.k = this.kv(val[X_ATOM]!);
        if ((op === BPF_LSH || op === BPF_RSH) && s.k > 31) fail("shift by more than 31 bits");
        this.changed();
        val[A_ATOM] = this.F(s.code, val[A_ATOM]!, this.K(s.k));
      }
      return;
    }
    if (alter && this.isK(val[A_ATOM]!) && this.kv(val[A_ATOM]!) === 0) {
      if (op === BPF_ADD || op === BPF_OR || op === BPF_XOR) {
        s.code = BPF_MISC | BPF_TXA;
        this.vstore(s, val, A_ATOM, val[X_ATOM]!, alter);
        return;
      }
      if (op === BPF_MUL || op === BPF_DIV || op === BPF_MOD || op === BPF_AND || op === BPF_LSH || op === BPF_RSH) {
        s.code = BPF_LD | BPF_IMM;
        s.k = 0;
        this.vstore(s, val, A_ATOM, this.K(s.k), alter);
        return;
      }
    }
    val[A_ATOM] = this.F(c, val[A_ATOM]!, val[X_ATOM]!);
  }

  optPeep(b: Block): void {
    let s = b.stmts;
    if (s === null) return;
    let last: SList = s;
    for (;;) {
      s = thisOp(s);
      if (s === null) break;
      const next = thisOp(s.next);
      if (next === null) break;
      last = next;
      if (s.s.code === BPF_ST && next.s.code === (BPF_LDX | BPF_MEM) && s.s.k === next.s.k) {
        this.changed();
        next.s.code = BPF_MISC | BPF_TAX;
      }
      if (s.s.code === (BPF_LD | BPF_IMM) && next.s.code === (BPF_MISC | BPF_TAX)) {
        s.s.code = BPF_LDX | BPF_IMM;
        next.s.code = BPF_MISC | BPF_TXA;
        this.changed();
      }
      if (s.s.code === (BPF_LD | BPF_IMM)) {
        if (!ATOMELEM(b.outUse, X_ATOM)) {
          const add = next.s.code !== (BPF_LDX | BPF_MSH | BPF_B) ? next : thisOp(next.next);
          if (add !== null && add.s.code === (BPF_ALU | BPF_ADD | BPF_X)) {
            const tax = thisOp(add.next);
            if (tax !== null && tax.s.code === (BPF_MISC | BPF_TAX)) {
              const ild = thisOp(tax.next);
              if (ild !== null && bpfClass(ild.s.code) === BPF_LD && bpfMode(ild.s.code) === BPF_IND) {
                ild.s.k = (ild.s.k + s.s.k) >>> 0;
                s.s.code = NOP;
                add.s.code = NOP;
                tax.s.code = NOP;
                this.changed();
              }
            }
          }
        }
      }
      s = next;
    }
    if (b.s.code === (BPF_JMP | BPF_JEQ | BPF_K) && !ATOMELEM(b.outUse, A_ATOM)) {
      if (last.s.code === (BPF_ALU | BPF_SUB | BPF_X)) {
        const val = b.val[X_ATOM]!;
        if (this.isK(val)) {
          b.s.k = (b.s.k + this.kv(val)) >>> 0;
          last.s.code = NOP;
          this.changed();
        } else if (b.s.k === 0) {
          last.s.code = NOP;
          b.s.code = BPF_JMP | BPF_JEQ | BPF_X;
          this.changed();
        }
      } else if (last.s.code === (BPF_ALU | BPF_SUB | BPF_K)) {
        last.s.code = NOP;
        b.s.k = (b.s.k + last.s.k) >>> 0;
        this.changed();
      } else if (last.s.code === (BPF_ALU | BPF_AND | BPF_K) && b.s.k === 0) {
        b.s.k = last.s.k;
        b.s.code = BPF_JMP | BPF_K | BPF_JSET;
        last.s.code = NOP;
        this.changed();
        const tmp = b.et.succ;
        b.et.succ = b.ef.succ;
        b.ef.succ = tmp;
      }
    }
    if (b.s.code === (BPF_JMP | BPF_K | BPF_JSET)) {
      if (b.s.k === 0) b.et.succ = b.ef.succ;
      if (b.s.k === 0xffffffff) b.ef.succ = b.et.succ;
    }
    let val = b.val[X_ATOM]!;
    if (this.isK(val) && bpfSrc(b.s.code) === BPF_X) {
      b.s.code &= ~BPF_X;
      b.s.k = this.kv(val);
    }
    val = b.val[A_ATOM]!;
    if (this.isK(val) && bpfSrc(b.s.code) === BPF_K) {
      let v = this.kv(val);
      switch (bpfOp(b.s.code)) {
        case BPF_JEQ: v = v === b.s.k ? 1 : 0; break;
        case BPF_JGT: v = v > b.s.k ? 1 : 0; break;
        case BPF_JGE: v = v >= b.s.k ? 1 : 0; break;
        case BPF_JSET: v = (v & b.s.k) >>> 0; break;
        default: throw new Error("opt_peep: bad jump");
      }
      if (JF(b) !== JT(b)) this.changed();
      if (v) b.ef.succ = b.et.succ;
      else b.et.succ = b.ef.succ;
    }
  }

  optDeadstores(b: Block): void {
    const last: (Stmt | null)[] = new Array<Stmt | null>(N_ATOMS).fill(null);
    const dead = (s: Stmt): void => {
      let atom = atomuse(s);
      if (atom >= 0) {
        if (atom === AX_ATOM) { last[X_ATOM] = null; last[A_ATOM] = null; }
        else last[atom] = null;
      }
      atom = atomdef(s);
      if (atom >= 0) {
        if (last[atom] !== null) {
          this.changed();
          last[atom]!.code = NOP;
        }
        last[atom] = s;
      }
    };
    for (let s = b.stmts; s !== null; s = s.next) dead(s.s);
    dead(b.s);
    for (let atom = 0; atom < N_ATOMS; atom++) {
      if (last[atom] !== null && !ATOMELEM(b.outUse, atom)) {
        last[atom]!.code = NOP;
        this.changed();
      }
    }
  }

  optBlk(b: Block, doStmts: boolean): void {
    let p = b.inEdges;
    if (p === null) b.val.fill(0);
    else {
      b.val.set(p.pred.val);
      while ((p = p.next) !== null) {
        for (let i = 0; i < N_ATOMS; i++) if (b.val[i] !== p.pred.val[i]) b.val[i] = 0;
      }
    }
    const aval = b.val[A_ATOM]!;
    const xval = b.val[X_ATOM]!;
    for (let s = b.stmts; s !== null; s = s.next) this.optStmt(s.s, b.val, doStmts);
    if (doStmts && ((b.outUse === 0 && aval !== 0 && b.val[A_ATOM] === aval && xval !== 0 && b.val[X_ATOM] === xval)
      || bpfClass(b.s.code) === BPF_RET)) {
      if (b.stmts !== null) {
        b.stmts = null;
        this.changed();
      }
    } else {
      this.optPeep(b);
      this.optDeadstores(b);
    }
    b.oval = bpfSrc(b.s.code) === BPF_K ? this.K(b.s.k) : b.val[X_ATOM]!;
    b.et.code = b.s.code;
    b.ef.code = -b.s.code;
  }

  useConflict(b: Block, succ: Block): boolean {
    const use = succ.outUse;
    if (use === 0) return false;
    for (let atom = 0; atom < N_ATOMS; atom++) {
      if (ATOMELEM(use, atom) && b.val[atom] !== succ.val[atom]) return true;
    }
    return false;
  }

  optJ(ep: Edge): void {
    const succ0 = ep.succ!;
    if (JT(succ0) === null) return;
    if (JT(succ0) === JF(succ0)) {
      if (!this.useConflict(ep.pred, JT(succ0)!)) {
        this.changed();
        ep.succ = JT(succ0);
      }
    }
    top: for (;;) {
      for (let i = 0; i < this.edgewords; i++) {
        let x = ep.edom[i]!;
        while (x !== 0) {
          const k0 = 31 - Math.clz32(x & -x);
          x = (x & ~(1 << k0)) >>> 0;
          const k = k0 + i * 32;
          const target = foldEdge(ep.succ!, this.edges[k]!);
          if (target !== null && !this.useConflict(ep.pred, target)) {
            this.done = false;
            ep.succ = target;
            if (JT(target) !== null) continue top;
            return;
          }
        }
      }
      return;
    }
  }

  /** or_pullup (sense=true) and and_pullup (sense=false) differ only in which branch is followed. */
  pullup(b: Block, orSense: boolean): void {
    const same = (x: Block): Edge => (orSense ? x.ef : x.et);
    const other = (x: Block): Block | null => (orSense ? JT(x) : JF(x));
    let ep = b.inEdges;
    if (ep === null) return;
    const val = ep.pred.val[A_ATOM];
    for (ep = ep.next; ep !== null; ep = ep.next) if (val !== ep.pred.val[A_ATOM]) return;
    const first = b.inEdges!.pred;
    let diffp: Edge = JT(first) === b ? first.et : first.ef;
    let atTop = true;
    for (;;) {
      const d = diffp.succ;
      if (d === null) return;
      if (other(d) !== other(b)) return;
      if (!setMember(d.dom, b.id)) return;
      if (d.val[A_ATOM] !== val) break;
      diffp = same(d);
      atTop = false;
    }
    let samep: Edge = same(diffp.succ!);
    for (;;) {
      const sm = samep.succ;
      if (sm === null) return;
      if (other(sm) !== other(b)) return;
      if (!setMember(sm.dom, b.id)) return;
      if (sm.val[A_ATOM] === val) break;
      samep = same(sm);
    }
    const pull = samep.succ!;
    samep.succ = same(pull).succ;
    same(pull).succ = diffp.succ;
    if (atTop) {
      for (ep = b.inEdges; ep !== null; ep = ep.next) {
        if (JT(ep.pred) === b) ep.pred.et.succ = pull;
        else ep.pred.ef.succ = pull;
      }
    } else diffp.succ = pull;
    this.done = false;
  }

  optBlks(doStmts: boolean): void {
    this.initVal();
    const maxlevel = this.ic.root.level;
    this.findInedges();
    for (const p of [...this.levelBlocks(maxlevel, 0, -1)]) this.optBlk(p, doStmts);
    if (doStmts) return;
    for (const p of [...this.levelBlocks(1, maxlevel, 1)]) {
      this.optJ(p.et);
      this.optJ(p.ef);
    }
    this.findInedges();
    for (const p of [...this.levelBlocks(1, maxlevel, 1)]) {
      this.pullup(p, true);
      this.pullup(p, false);
    }
  }

  optLoop(doStmts: boolean): void {
    let loopCount = 0;
    for (;;) {
      this.done = true;
      this.nonBranchMovement = false;
      this.findLevels();
      this.findDom();
      this.findUd();
      this.findEdom();
      this.optBlks(doStmts);
      if (this.done) break;
      if (this.nonBranchMovement) loopCount = 0;
      else if (++loopCount >= 100) { this.done = true; break; }
    }
  }

  internBlocks(): void {
    const ic = this.ic;
    const n = this.blocks.length;
    for (;;) {
      let done1 = true;
      for (const b of this.blocks) b.link = null;
      ic.curMark += 1;
      const stack: Block[] = [ic.root];
      while (stack.length > 0) {
        const p = stack.pop()!;
        if (isMarked(ic, p)) continue;
        mark(ic, p);
        if (bpfClass(p.s.code) !== BPF_RET) stack.push(JF(p)!, JT(p)!);
      }
      for (let i = n - 1; i !== 0;) {
        --i;
        const bi = this.blocks[i]!;
        if (!isMarked(ic, bi)) continue;
        for (let j = i + 1; j < n; j++) {
          const bj = this.blocks[j]!;
          if (!isMarked(ic, bj)) continue;
          if (eqBlk(bi, bj)) {
            bi.link = bj.link !== null ? bj.link : bj;
            break;
          }
        }
      }
      for (const p of this.blocks) {
        if (JT(p) === null) continue;
        if (JT(p)!.link !== null) { done1 = false; p.et.succ = JT(p)!.link; }
        if (JF(p)!.link !== null) { done1 = false; p.ef.succ = JF(p)!.link; }
      }
      if (done1) return;
    }
  }

  optRoot(): void {
    let b = this.ic.root;
    const s = b.stmts;
    b.stmts = null;
    while (bpfClass(b.s.code) === BPF_JMP && JT(b) === JF(b)) b = JT(b)!;
    const tmp = b.stmts;
    let head = s;
    if (tmp !== null) { if (head !== null) sappend(head, tmp); else head = tmp; }
    b.stmts = head;
    if (bpfClass(b.s.code) === BPF_RET) b.stmts = null;
    this.ic.root = b;
  }
}

function thisOp(s: SList | null): SList | null {
  while (s !== null && s.s.code === NOP) s = s.next;
  return s;
}

function atomuse(s: Stmt): number {
  const c = s.code;
  if (c === NOP) return -1;
  switch (bpfClass(c)) {
    case BPF_RET: return bpfRval(c) === BPF_A ? A_ATOM : bpfRval(c) === BPF_X ? X_ATOM : -1;
    case BPF_LD: case BPF_LDX: return bpfMode(c) === BPF_IND ? X_ATOM : bpfMode(c) === BPF_MEM ? s.k : -1;
    case BPF_ST: return A_ATOM;
    case BPF_STX: return X_ATOM;
    case BPF_JMP: case BPF_ALU: return bpfSrc(c) === BPF_X ? AX_ATOM : A_ATOM;
    case BPF_MISC: return bpfMiscOp(c) === BPF_TXA ? X_ATOM : A_ATOM;
  }
  throw new Error("atomuse: bad class");
}

function atomdef(s: Stmt): number {
  if (s.code === NOP) return -1;
  switch (bpfClass(s.code)) {
    case BPF_LD: case BPF_ALU: return A_ATOM;
    case BPF_LDX: return X_ATOM;
    case BPF_ST: case BPF_STX: return s.k;
    case BPF_MISC: return bpfMiscOp(s.code) === BPF_TAX ? X_ATOM : A_ATOM;
  }
  return -1;
}

function computeLocalUd(b: Block): void {
  let def = 0, use = 0, killed = 0;
  const noteUse = (atom: number): void => {
    if (atom < 0) return;
    if (atom === AX_ATOM) {
      if (!ATOMELEM(def, X_ATOM)) use |= ATOMMASK(X_ATOM);
      if (!ATOMELEM(def, A_ATOM)) use |= ATOMMASK(A_ATOM);
    } else if (atom < N_ATOMS) {
      if (!ATOMELEM(def, atom)) use |= ATOMMASK(atom);
    } else throw new Error("compute_local_ud: bad atom");
  };
  for (let s = b.stmts; s !== null; s = s.next) {
    if (s.s.code === NOP) continue;
    noteUse(atomuse(s.s));
    const atom = atomdef(s.s);
    if (atom >= 0) {
      if (!ATOMELEM(use, atom)) killed |= ATOMMASK(atom);
      def |= ATOMMASK(atom);
    }
  }
  if (bpfClass(b.s.code) === BPF_JMP) noteUse(atomuse(b.s));
  b.def = def >>> 0;
  b.kill = killed >>> 0;
  b.inUse = use >>> 0;
}

function foldEdge(child: Block, ep: Edge): Block | null {
  let code = ep.code;
  let sense: boolean;
  if (code < 0) { code = -code; sense = false; } else sense = true;
  if (child.s.code !== code) return null;
  const aval0 = child.val[A_ATOM];
  const oval0 = child.oval;
  const aval1 = ep.pred.val[A_ATOM];
  const oval1 = ep.pred.oval;
  if (aval0 !== aval1) return null;
  if (oval0 === oval1) return sense ? JT(child) : JF(child);
  if (sense && code === (BPF_JMP | BPF_JEQ | BPF_K)) return JF(child);
  return null;
}

function eqSlist(x: SList | null, y: SList | null): boolean {
  for (;;) {
    while (x !== null && x.s.code === NOP) x = x.next;
    while (y !== null && y.s.code === NOP) y = y.next;
    if (x === null) return y === null;
    if (y === null) return false;
    if (x.s.code !== y.s.code || x.s.k !== y.s.k) return false;
    x = x.next;
    y = y.next;
  }
}

function eqBlk(b0: Block, b1: Block): boolean {
  return b0.s.code === b1.s.code && b0.s.k === b1.s.k && b0.et.succ === b1.et.succ && b0.ef.succ === b1.ef.succ
    && eqSlist(b0.stmts, b1.stmts);
}

/** bpf_optimize: rewrites the graph in place; the root may change. */
export function optimizeBlocks(ic: ICode): void {
  const o = new Optimizer(ic);
  o.init();
  o.optLoop(false);
  o.optLoop(true);
  o.internBlocks();
  o.optRoot();
}

