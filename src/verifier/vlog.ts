// The verifier log buffer with the kernel's mechanics (kernel/bpf/log.c + do_check): an instruction line is printed
// before it runs, the registers and stack slots it touched are appended to that same line afterwards (aligned to a
// tab stop), and at log level 1 popping a branch truncates the log back to where the branch was pushed, so only the
// path that fails survives. Reproducing the truncation is what makes level-1 logs byte-identical.
import type { Env } from "./env.ts";
import { formatReg } from "./format.ts";
import type { State } from "./state.ts";

const BPF_LOG_ALIGNMENT = 40;
const BPF_LOG_MIN_ALIGNMENT = 8;

/** The kernel's vlog_alignment: pad so the `;` lands on a tab stop past column 40. */
function alignment(pos: number): number {
  const want = Math.max(pos + BPF_LOG_MIN_ALIGNMENT / 2, BPF_LOG_ALIGNMENT);
  return Math.ceil(want / BPF_LOG_MIN_ALIGNMENT) * BPF_LOG_MIN_ALIGNMENT - pos - 1;
}

export class VerifierLog {
  /** Written pieces; truncation pops from the end, so removing a trailing newline stays O(1) on a long log. */
  private chunks: string[] = [];
  private length = 0;
  private prevLogPos = 0;
  private prevInsnPrintPos = 0;
  /** Registers (bit i = Ri) and stack slots (spi) touched since the last state print. */
  scratchedRegs = 0;
  scratchedSlots = new Set<number>();
  allScratched = true;

  get end(): number { return this.length; }
  get text(): string { return this.chunks.join(""); }
  write(s: string): void { if (s) { this.chunks.push(s); this.length += s.length; } }
  reset(pos: number): void {
    while (this.length > pos) {
      const last = this.chunks.pop()!;
      this.length -= last.length;
      if (this.length < pos) { this.chunks.push(last.slice(0, pos - this.length)); this.length = pos; }
    }
  }

  scratchAll(): void { this.allScratched = true; }
  get scratched(): boolean { return this.allScratched || this.scratchedRegs !== 0 || this.scratchedSlots.size > 0; }
  clean(): void { this.allScratched = false; this.scratchedRegs = 0; this.scratchedSlots.clear(); }

  /** print_verifier_state: ` R0=... fp-8=...` for the current frame, only what was touched unless `all`. */
  stateText(st: State, env: Env, all: boolean, precise = 0, frame = st.frames.length - 1): string {
    const fi = frame;
    const f = st.frames[fi]!;
    let s = fi > 0 ? ` frame${fi}:` : "";
    f.regs.forEach((r, i) => {
      if (r.type === "not_init") return;
      if (!all && !this.allScratched && !(this.scratchedRegs & (1 << i))) return;
      s += ` R${i}=${formatReg(r, env, fi, (precise & (1 << i)) !== 0)}`;
    });
    f.stack.forEach((slot, i) => {
      if (slot.bytes.every((b) => b === "?")) return;
      if (!all && !this.allScratched && !this.scratchedSlots.has(i)) return;
      const name = ` fp${-(i + 1) * 8}=`;
      if (slot.bytes[0] === "i" && slot.spilled) {
        const it = slot.spilled;
        s += `${name}iter_num(ref_id=${it.refObjId},state=${it.range === 1 ? "active" : "drained"},depth=${it.off})`;
      } else if (slot.bytes[0] === "r" && slot.spilled) {
        // A partial spill prints the plain bytes above it, then the spilled value.
        let n = 0;
        while (n < 8 && slot.bytes[n] === "r") n++;
        s += name + slot.bytes.slice(n).reverse().join("") + formatReg(slot.spilled, env, fi);
      }
      else s += name + slot.bytes.slice().reverse().join("");
    });
    if (st.refs.length) s += ` refs=${st.refs.map((r) => r.id).join(",")}`;
    return s;
  }

  /** print_insn_state: append the touched state to the instruction line just printed, or start a `pc:` line. */
  insnState(st: State, env: Env, pc: number): void {
    if (this.prevLogPos && this.prevLogPos === this.end) {
      this.reset(this.prevLogPos - 1);
      this.write(" ".repeat(alignment(this.prevInsnPrintPos)) + ";");
    } else this.write(`${pc}:`);
    this.write(this.stateText(st, env, false) + "\n");
    this.clean();
  }

  /** `pc: (code) text` for the instruction about to run. */
  insn(pc: number, text: string): void {
    this.prevLogPos = this.end;
    this.write(`${pc}: ${text}\n`);
    this.prevInsnPrintPos = this.end - this.prevLogPos;
    this.prevLogPos = this.end;
  }
}
