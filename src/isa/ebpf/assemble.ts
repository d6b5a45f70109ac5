// assemble(text) → Insn[]: one entry point for three syntaxes, chosen per line.
//   bpf_conformance/uBPF:   `add32 %r0, -3`, `ldxdw %r0, [%r1+8]`, `jeq %r1, 0x5, L1`
//   llvm-objdump:           `r1 = *(u64 *)(r0 + 0x8)`, `if r1 > 0x5 goto +3 <LBB0_2>`, `r0 = 0x123456789 ll`
//   kernel/bpftool xlated:  `   0: (bf) r6 = r1`, `(85) call bpf_map_lookup_elem#1`, `(18) r1 = map[id:5]`
// Labels (`name:`) work in all of them; the prefixes that objdump and bpftool print (pc, raw bytes) are skipped.

import { BpfError } from "../../errors.ts";
import type { Insn } from "./insn.ts";
import type { AsmContext, Token } from "./asm-context.ts";
import { assembleConformanceLine, isConformanceMnemonic } from "./asm-conformance.ts";
import { assembleCLine } from "./asm-c.ts";

interface PendingLabel {
  readonly pc: number;
  readonly field: "off" | "imm";
  readonly label: Token;
  readonly line: number;
}

/** Assembles source text into instruction slots (an lddw is two slots). Throws BpfError("ASSEMBLE", …, {line, column}). */
export function assemble(text: string): Insn[] {
  return assembleWithLabels(text).insns;
}

export interface AssembledProgram {
  readonly insns: Insn[];
  /** Every label (including objdump `<sym>` and bpftool `func(...)` headers) and the slot index it names. */
  readonly labels: ReadonlyMap<string, number>;
}

/** assemble, also returning the label table (function and jump-target names, for listings and symbolisation). */
export function assembleWithLabels(text: string): AssembledProgram {
  const out: Insn[] = [];
  const labels = new Map<string, number>();
  const pending: PendingLabel[] = [];
  let implicitExit = false;
  const lines = text.split(/\r?\n/);

  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const fail = (message: string, column: number): never => {
      throw new BpfError("ASSEMBLE", `line ${lineNo}:${column}: ${message}`, { line: lineNo, column });
    };
    const ctx: AsmContext = {
      line: lineNo,
      fail,
      emit: (x) => void out.push(x),
      emitToLabel: (x, field, label) => {
        pending.push({ pc: out.length, field, label, line: lineNo });
        out.push(x);
      },
    };
    let { body, column, codeHint } = stripDecorations(lines[i]!);
    // Labels: `name:` (several allowed), also objdump's `0000000000000000 <name>:` and bpftool's `int name(...):`.
    for (;;) {
      const m = /^([A-Za-z_.$][\w.$]*):(?!\S)\s*/.exec(body)
        ?? /^[0-9a-f]+ <([^>]+)>:\s*$/.exec(body)
        ?? /^[^=;]*?\b([A-Za-z_]\w*)\s*\([^=]*\):\s*$/.exec(body);
      if (!m) break;
      const name = m[1]!;
      if (labels.has(name)) fail(`duplicate label '${name}'`, column);
      labels.set(name, out.length);
      column += m[0].length;
      body = body.slice(m[0].length);
    }
    if (body === "") continue;
    const word = /^\S+/.exec(body)![0];
    // bpf_conformance: the first `exit` is also the label `exit` (`ja exit`).
    if (word === "exit" && !implicitExit && !labels.has("exit")) {
      labels.set("exit", out.length);
      implicitExit = true;
    }
    if (isConformanceSyntax(body, word)) assembleConformanceLine(ctx, body, column);
    else assembleCLine(ctx, body, column, codeHint);
  }

  for (const p of pending) {
    const target = labels.get(p.label.text);
    if (target === undefined) {
      throw new BpfError("ASSEMBLE", `line ${p.line}:${p.label.column}: unknown label '${p.label.text}'`,
        { line: p.line, column: p.label.column });
    }
    const rel = target - p.pc - 1;
    if (p.field === "off" && (rel < -32768 || rel > 32767)) {
      throw new BpfError("ASSEMBLE", `line ${p.line}:${p.label.column}: jump to '${p.label.text}' is out of 16-bit range`,
        { line: p.line, column: p.label.column });
    }
    out[p.pc] = { ...out[p.pc]!, [p.field]: rel };
  }
  if (implicitExit) labels.delete("exit");
  return { insns: out, labels };
}

/** Removes comments, surrounding blanks and the pc / raw-byte columns of objdump and bpftool listings. */
function stripDecorations(raw: string): { body: string; column: number; codeHint?: number } {
  let s = raw;
  // Comments: `#` at line start or after a blank (not `bpf_map_lookup_elem#1`), `;` (objdump/bpftool source lines), `//`.
  const comment = /(?:^|\s)#|;|\/\//.exec(s);
  if (comment) s = s.slice(0, comment.index);
  let column = 1;
  const skip = (n: number): void => {
    column += n;
    s = s.slice(n);
  };
  const lead = /^\s*/.exec(s)![0].length;
  skip(lead);
  // bpftool: `   0: (bf) r6 = r1`; objdump: `       0:\tb7 01 00 00 00 00 00 00\tr1 = 0x0`.
  const prefix = /^\d+:\s*\([0-9a-f]{2}\)\s*/.exec(s) ?? /^[0-9a-f]+:\s+(?:[0-9a-f]{2} ){7}[0-9a-f]{2}(?: (?:[0-9a-f]{2} ){7}[0-9a-f]{2})?(?:\s+|$)/.exec(s)
    ?? /^\([0-9a-f]{2}\)\s*/.exec(s);
  // bpftool's `(18)` tells an lddw of a small value (`(18) r0 = 0x0`) from a mov (`(b7) r0 = 0`).
  const hint = prefix ? /\(([0-9a-f]{2})\)/.exec(prefix[0]) : null;
  if (prefix) skip(prefix[0].length);
  // A line of raw bytes only (bpftool `opcodes`, objdump's second lddw slot) carries no instruction.
  if (/^(?:[0-9a-f]{2} ){7}[0-9a-f]{2}(?: (?:[0-9a-f]{2} ){7}[0-9a-f]{2})?\s*$/.test(s)) s = "";
  if (/^(?:Disassembly of section |\S+:\s+file format )/.test(s)) s = "";
  return { body: s.trimEnd(), column, ...(hint ? { codeHint: parseInt(hint[1]!, 16) } : {}) };
}

function isConformanceSyntax(body: string, word: string): boolean {
  if (!isConformanceMnemonic(word) || body.includes("=") || body.includes("*(")) return false;
  // `call pc+5`, `call bpf_map_lookup_elem#1`, `call foo` are the kernel's and llvm's; the rest is ours.
  if (word === "call") return !/^call\s+(?:pc[+-]|\S*#|[A-Za-z_][\w.]*$)/.test(body) || /^call\s+%?r\d+$/.test(body);
  if (word === "ja") return !/^ja\s+pc/.test(body);
  return true;
}
