// Stage 4: block graph → classic BPF array (optimize.c icode_to_fcode / convert_code_r). Blocks are laid out
// backwards from the end (false branch first), so offsets are known when a jump is emitted; a branch that does not
// fit in 8 bits gets an extra `ja` and the layout is redone, exactly as libpcap does it.
import { BPF_JMP, BPF_JA, bpfClass, type CbpfInsn } from "../isa/cbpf/insn.ts";
import { type Block, type ICode, type SList, NOP, isMarked, mark, unmarkAll } from "./blocks.ts";
import { fail } from "./state.ts";

interface Slot { code: number; jt: number; jf: number; k: number }

function slength(s: SList | null): number {
  let n = 0;
  for (; s !== null; s = s.next) if (s.s.code !== NOP) n++;
  return n;
}

function countStmts(ic: ICode, root: Block): number {
  let n = 0;
  const stack: (Block | null)[] = [root];
  while (stack.length > 0) {
    const p = stack.pop()!;
    if (p === null || isMarked(ic, p)) continue;
    mark(ic, p);
    n += slength(p.stmts) + 1 + p.longjt + p.longjf;
    stack.push(p.ef.succ, p.et.succ);
  }
  return n;
}

class Converter {
  tail = 0;
  constructor(readonly ic: ICode, readonly out: Slot[]) { this.tail = out.length; }

  /** convert_code_r: postorder (false branch, true branch, block), iteratively; false = redo with a long jump. */
  convert(root: Block): boolean {
    const stack: Array<[Block, number]> = [[root, 0]];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const p = top[0];
      if (top[1] === 0) {
        if (isMarked(this.ic, p)) { stack.pop(); continue; }
        mark(this.ic, p);
        top[1] = 1;
        if (p.ef.succ !== null) stack.push([p.ef.succ, 0]);
      } else if (top[1] === 1) {
        top[1] = 2;
        if (p.et.succ !== null) stack.push([p.et.succ, 0]);
      } else {
        stack.pop();
        if (!this.emit(p)) return false;
      }
    }
    return true;
  }

  private emit(p: Block): boolean {
    const slen = slength(p.stmts);
    this.tail -= slen + 1 + p.longjt + p.longjf;
    let dst = this.tail;
    p.offset = dst;
    const offsets: SList[] = [];
    for (let src = p.stmts; src !== null && offsets.length < slen; src = src.next) offsets.push(src);
    let off = 0;
    for (let src = p.stmts; src !== null; src = src.next) {
      if (src.s.code === NOP) continue;
      const d = this.out[dst]!;
      d.code = src.s.code;
      d.k = src.s.k;
      // Block-local jumps (VLAN, geneve, 802.11 prologues) are resolved against the statement list; libpcap skips the
      // one at slen-2, and indexes its table with NOPs included, which we mirror.
      if (bpfClass(src.s.code) === BPF_JMP && src.s.code !== (BPF_JMP | BPF_JA) && off !== slen - 2) {
        const ljerr = (what: string): never => fail(`${what} for block-local relative jump: off=${off}`);
        if (src.s.jt === null || src.s.jf === null) ljerr("no jmp destination");
        let jt = 0, jf = 0;
        for (let i = 0; i < slen; i++) {
          if (offsets[i] === src.s.jt) {
            if (jt) ljerr("multiple matches");
            if (((i - off - 1) >>> 0) >= 256) ljerr("out-of-range jump");
            d.jt = i - off - 1;
            jt++;
          }
          if (offsets[i] === src.s.jf) {
            if (jf) ljerr("multiple matches");
            if (((i - off - 1) >>> 0) >= 256) ljerr("out-of-range jump");
            d.jf = i - off - 1;
            jf++;
          }
        }
        if (!jt || !jf) ljerr("no destination found");
      }
      dst++;
      off++;
    }
    const d = this.out[dst]!;
    d.code = p.s.code;
    d.k = p.s.k;
    const jt = p.et.succ;
    if (jt !== null) {
      let extrajmps = 0;
      let o = (jt.offset - (p.offset + slen) - 1) >>> 0;
      if (o >= 256) {
        if (p.longjt === 0) { p.longjt++; return false; }
        d.jt = extrajmps;
        extrajmps++;
        const ja = this.out[dst + extrajmps]!;
        ja.code = BPF_JMP | BPF_JA;
        ja.k = (o - extrajmps) >>> 0;
      } else d.jt = o;
      o = (p.ef.succ!.offset - (p.offset + slen) - 1) >>> 0;
      if (o >= 256) {
        if (p.longjf === 0) { p.longjf++; return false; }
        d.jf = extrajmps;
        extrajmps++;
        const ja = this.out[dst + extrajmps]!;
        ja.code = BPF_JMP | BPF_JA;
        ja.k = (o - extrajmps) >>> 0;
      } else d.jf = o;
    }
    return true;
  }
}

/** icode_to_fcode: the final instruction array. */
export function linearize(ic: ICode): CbpfInsn[] {
  for (;;) {
    unmarkAll(ic);
    const n = countStmts(ic, ic.root);
    const out: Slot[] = Array.from({ length: n }, () => ({ code: 0, jt: 0, jf: 0, k: 0 }));
    unmarkAll(ic);
    if (new Converter(ic, out).convert(ic.root)) {
      return out.map((s) => ({ code: s.code, jt: s.jt & 0xff, jf: s.jf & 0xff, k: s.k >>> 0 }));
    }
  }
}
