// Assembler for the Linux bpf_asm syntax (tools/bpf/bpf_exp.l + bpf_exp.y): case-insensitive mnemonics, labels,
// `ld [12]`, `ldh [x + 2]`, `ldb [%x + 2]`, `ld #len`, `ldx 4*([14]&0xf)`, `st M[3]`, `jeq #0x800, l1, l2`,
// `jneq/jlt/jle #k, lf`, `ja label`, `ret #-1`/`ret a`, ancillary loads (`ld proto`, `ld #poff`, `ld vlan_tci` ...),
// comments `/* */`, `;` and lines starting with `#`. Output formats of bpf_asm (default and -c) are provided too.

import { BpfError } from "../../errors.ts";
import {
  BPF_A, BPF_ABS, BPF_ADD, BPF_ALU, BPF_AND, BPF_B, BPF_DIV, BPF_H, BPF_IMM, BPF_IND, BPF_JA, BPF_JEQ, BPF_JGE,
  BPF_JGT, BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_LDX, BPF_LEN, BPF_LSH, BPF_MAXINSNS, BPF_MEM, BPF_MISC, BPF_MOD,
  BPF_MSH, BPF_MUL, BPF_NEG, BPF_OR, BPF_RET, BPF_RSH, BPF_ST, BPF_STX, BPF_SUB, BPF_TAX, BPF_TXA, BPF_W, BPF_X,
  BPF_XOR, SKF_AD_CPU, SKF_AD_HATYPE, SKF_AD_IFINDEX, SKF_AD_MARK, SKF_AD_NLATTR, SKF_AD_NLATTR_NEST, SKF_AD_OFF,
  SKF_AD_PAY_OFFSET, SKF_AD_PKTTYPE, SKF_AD_PROTOCOL, SKF_AD_QUEUE, SKF_AD_RANDOM, SKF_AD_RXHASH, SKF_AD_VLAN_TAG,
  SKF_AD_VLAN_TAG_PRESENT, SKF_AD_VLAN_TPID,
} from "./insn.ts";
import type { CbpfInsn } from "./insn.ts";

const MNEMONICS = [
  "ldb", "ldh", "ld", "ldi", "ldx", "ldxi", "ldxb", "st", "stx", "jmp", "ja", "jeq", "jneq", "jne", "jlt", "jle", "jgt",
  "jge", "jset", "add", "sub", "mul", "div", "mod", "neg", "and", "xor", "or", "lsh", "rsh", "ret", "tax", "txa",
] as const;

/** Ancillary names (with or without '#') → SKF_AD_* offset, as bpf_exp.l lists them. */
export const CBPF_EXTENSIONS: ReadonlyMap<string, number> = new Map([
  ["proto", SKF_AD_PROTOCOL], ["type", SKF_AD_PKTTYPE], ["poff", SKF_AD_PAY_OFFSET], ["ifidx", SKF_AD_IFINDEX],
  ["nla", SKF_AD_NLATTR], ["nlan", SKF_AD_NLATTR_NEST], ["mark", SKF_AD_MARK], ["queue", SKF_AD_QUEUE],
  ["hatype", SKF_AD_HATYPE], ["rxhash", SKF_AD_RXHASH], ["cpu", SKF_AD_CPU], ["vlan_tci", SKF_AD_VLAN_TAG],
  ["vlan_pr", SKF_AD_VLAN_TAG_PRESENT], ["vlan_avail", SKF_AD_VLAN_TAG_PRESENT], ["vlan_tpid", SKF_AD_VLAN_TPID],
  ["rand", SKF_AD_RANDOM],
]);

type TokKind = "op" | "len" | "ext" | "punct" | "number" | "label";
interface Token {
  readonly kind: TokKind;
  /** Lower-cased mnemonic or punctuation ('x', 'a', 'm' lower-cased), label text as written. */
  readonly text: string;
  readonly value: number;
  readonly line: number;
  readonly column: number;
}

// Lexer rules in bpf_exp.l order: the longest match wins, the earliest rule on a tie (flex semantics).
const RULES: readonly { re: RegExp; kind: TokKind | "skip"; value?: (s: string) => number }[] = [
  ...MNEMONICS.map((m) => ({ re: new RegExp(m, "iy"), kind: "op" as const })),
  { re: /#?len/iy, kind: "len" },
  ...[...CBPF_EXTENSIONS].map(([name, off]) => ({ re: new RegExp(`#?${name}`, "iy"), kind: "ext" as const, value: () => off })),
  { re: /[:,#%[\]()xa+M*&]/iy, kind: "punct" },
  { re: /0x[a-f0-9]+/iy, kind: "number", value: (s) => cInteger(BigInt(s), false) },
  { re: /0b[01]+/iy, kind: "number", value: (s) => cInteger(BigInt("0b" + s.slice(2)), true) },
  { re: /0|[-+]?[1-9][0-9]*/y, kind: "number", value: (s) => cInteger(BigInt(s), true) },
  { re: /0[0-7]+/y, kind: "number", value: (s) => cInteger(BigInt("0o" + s.slice(1)), true) },
  { re: /[a-z_][a-z0-9_]+/iy, kind: "label" },
  { re: /\/\*([^*]|\*[^/])*\*\//y, kind: "skip" },
  { re: /;[^\n]*/y, kind: "skip" },
  { re: /[ \t\n\r]+/y, kind: "skip" },
];

// strtol/strtoul saturate at the 64-bit limits; the result is then stored in a uint32_t.
function cInteger(v: bigint, signed: boolean): number {
  const max = signed ? (1n << 63n) - 1n : (1n << 64n) - 1n;
  const min = signed ? -(1n << 63n) : 0n;
  const clamped = v > max ? max : v < min ? min : v;
  return Number(BigInt.asUintN(32, clamped));
}

function fail(line: number, column: number, message: string): never {
  throw new BpfError("ASSEMBLE", `line ${line}:${column}: ${message}`, { line, column });
}

function tokenize(source: string): Token[] {
  const out: Token[] = [];
  let pos = 0;
  let line = 1;
  let lineStart = 0;
  while (pos < source.length) {
    // `^#.*`: a line whose first character is '#' is a comment.
    if (pos === lineStart && source[pos] === "#") {
      while (pos < source.length && source[pos] !== "\n") pos++;
      continue;
    }
    let best = -1;
    let bestLen = 0;
    RULES.forEach((rule, i) => {
      rule.re.lastIndex = pos;
      const m = rule.re.exec(source);
      if (m && m[0].length > bestLen) { best = i; bestLen = m[0].length; }
    });
    const column = pos - lineStart + 1;
    if (best < 0) fail(line, column, `unknown character '${source[pos]}'`);
    const rule = RULES[best]!;
    const text = source.slice(pos, pos + bestLen);
    if (rule.kind !== "skip") {
      const norm = rule.kind === "label" ? text : text.toLowerCase();
      out.push({ kind: rule.kind, text: norm, value: rule.value ? rule.value(text) : 0, line, column });
    }
    for (let i = pos; i < pos + bestLen; i++) if (source[i] === "\n") { line++; lineStart = i + 1; }
    pos += bestLen;
  }
  return out;
}

/** One assembled instruction's pending label references. */
interface Pending { jt?: Token; jf?: Token; k?: Token }

/** Assembles bpf_asm source into classic instructions; errors carry the line and column. */
export function assembleCbpf(source: string): CbpfInsn[] {
  const toks = tokenize(source);
  let i = 0;
  const insns: { code: number; jt: number; jf: number; k: number }[] = [];
  const labels: (string | undefined)[] = [];
  const pending: Pending[] = [];
  const eof = (): Token => {
    const last = toks[toks.length - 1];
    return { kind: "punct", text: "end of input", value: 0, line: last?.line ?? 1, column: (last?.column ?? 0) + (last?.text.length ?? 0) };
  };
  const peek = (n = 0): Token | undefined => toks[i + n];
  const syntax = (t: Token | undefined): never => {
    const at = t ?? eof();
    return fail(at.line, at.column, `syntax error near '${t ? t.text : "end of input"}'`);
  };
  const expect = (text: string): Token => {
    const t = peek();
    if (!t || t.kind === "label" || t.text !== text) syntax(t);
    i++;
    return t!;
  };
  const isPunct = (t: Token | undefined, text: string) => t !== undefined && t.kind === "punct" && t.text === text;
  const number = (): number => {
    const t = peek();
    if (!t || t.kind !== "number") syntax(t);
    i++;
    return t!.value;
  };
  const label = (): Token => {
    const t = peek();
    if (!t || t.kind !== "label") syntax(t);
    i++;
    return t!;
  };
  const emit = (code: number, k = 0, refs: Pending = {}): void => {
    insns.push({ code, jt: 0, jf: 0, k: k >>> 0 });
    pending.push(refs);
  };
  // `x` or `%x`
  const isX = (): boolean => {
    if (isPunct(peek(), "x")) { i++; return true; }
    if (isPunct(peek(), "%") && isPunct(peek(1), "x")) { i += 2; return true; }
    return false;
  };
  // `[x + k]`, `[%x + k]` or `[k]` after the '[': returns [mode, k]
  const bracket = (): [number, number] => {
    expect("[");
    if (isX()) {
      expect("+");
      const k = number();
      expect("]");
      return [BPF_IND, k];
    }
    const k = number();
    expect("]");
    return [BPF_ABS, k];
  };
  const memSlot = (): number => { expect("m"); expect("["); const k = number(); expect("]"); return k; };
  const immediate = (): number => { if (isPunct(peek(), "#")) i++; return number(); };

  while (i < toks.length) {
    let t = toks[i]!;
    if (t.kind === "label") {
      if (!isPunct(peek(1), ":")) syntax(peek(1) ?? undefined);
      if (insns.length >= BPF_MAXINSNS) fail(t.line, t.column, `only max ${BPF_MAXINSNS} insns allowed!`);
      labels[insns.length] ??= t.text;
      i += 2;
      t = toks[i] ?? syntax(undefined);
    }
    if (t.kind !== "op") syntax(t);
    if (insns.length >= BPF_MAXINSNS) fail(t.line, t.column, `only max ${BPF_MAXINSNS} insns allowed!`);
    i++;
    const op = t.text;
    switch (op) {
      case "ldb":
      case "ldh": {
        const size = op === "ldb" ? BPF_B : BPF_H;
        if (peek()?.kind === "ext") { emit(BPF_LD | size | BPF_ABS, SKF_AD_OFF + peek()!.value); i++; break; }
        const [mode, k] = bracket();
        emit(BPF_LD | size | mode, k);
        break;
      }
      case "ldi": emit(BPF_LD | BPF_IMM, immediate()); break;
      case "ldxi": emit(BPF_LDX | BPF_IMM, immediate()); break;
      case "ld": {
        const n = peek();
        if (isPunct(n, "#")) { i++; emit(BPF_LD | BPF_IMM, number()); }
        else if (n?.kind === "len") { i++; emit(BPF_LD | BPF_W | BPF_LEN); }
        else if (n?.kind === "ext") { i++; emit(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + n.value); }
        else if (isPunct(n, "m")) emit(BPF_LD | BPF_MEM, memSlot());
        else { const [mode, k] = bracket(); emit(BPF_LD | BPF_W | mode, k); }
        break;
      }
      case "ldx":
      case "ldxb": {
        const n = peek();
        if (op === "ldx" && isPunct(n, "#")) { i++; emit(BPF_LDX | BPF_IMM, number()); break; }
        if (op === "ldx" && n?.kind === "len") { i++; emit(BPF_LDX | BPF_W | BPF_LEN); break; }
        if (op === "ldx" && isPunct(n, "m")) { emit(BPF_LDX | BPF_MEM, memSlot()); break; }
        // 4*([k]&0xf)
        const at = peek();
        const four = number();
        expect("*"); expect("("); expect("[");
        const k = number();
        expect("]"); expect("&");
        const mask = number();
        expect(")");
        if (four !== 4 || mask !== 0xf) fail(at!.line, at!.column, "ldxb offset not supported!");
        emit(BPF_LDX | BPF_MSH | BPF_B, k);
        break;
      }
      case "st": emit(BPF_ST, memSlot()); break;
      case "stx": emit(BPF_STX, memSlot()); break;
      case "jmp":
      case "ja": emit(BPF_JMP | BPF_JA, 0, { k: label() }); break;
      case "jeq": case "jgt": case "jge": case "jset":
      case "jneq": case "jne": case "jlt": case "jle": {
        const base = op === "jeq" || op === "jneq" || op === "jne" ? BPF_JEQ : op === "jgt" || op === "jle" ? BPF_JGT
          : op === "jge" || op === "jlt" ? BPF_JGE : BPF_JSET;
        let src = BPF_K;
        let k = 0;
        if (isX()) src = BPF_X;
        else { expect("#"); k = number(); }
        expect(",");
        const first = label();
        const inverted = op === "jneq" || op === "jne" || op === "jlt" || op === "jle";
        if (inverted) { emit(BPF_JMP | base | src, k, { jf: first }); break; }
        let second: Token | undefined;
        // A second label only when ", label" follows and is not the start of a labelled next line.
        if (isPunct(peek(), ",")) { i++; second = label(); }
        emit(BPF_JMP | base | src, k, second ? { jt: first, jf: second } : { jt: first });
        break;
      }
      case "add": case "sub": case "mul": case "div": case "mod": case "and": case "or": case "xor": case "lsh":
      case "rsh": {
        const aluOp = { add: BPF_ADD, sub: BPF_SUB, mul: BPF_MUL, div: BPF_DIV, mod: BPF_MOD, and: BPF_AND, or: BPF_OR,
          xor: BPF_XOR, lsh: BPF_LSH, rsh: BPF_RSH }[op];
        if (isX()) emit(BPF_ALU | aluOp | BPF_X);
        else { expect("#"); emit(BPF_ALU | aluOp | BPF_K, number()); }
        break;
      }
      case "neg": emit(BPF_ALU | BPF_NEG); break;
      case "ret": {
        if (isPunct(peek(), "%")) i++;
        const n = peek();
        if (isPunct(n, "a")) { i++; emit(BPF_RET | BPF_A); }
        else if (isPunct(n, "x")) { i++; emit(BPF_RET | BPF_X); }
        else { expect("#"); emit(BPF_RET | BPF_K, number()); }
        break;
      }
      case "tax": emit(BPF_MISC | BPF_TAX); break;
      case "txa": emit(BPF_MISC | BPF_TXA); break;
    }
  }

  // Stage 2: resolve labels (the first definition of a name wins, as bpf_find_insns_offset's linear search).
  const find = (t: Token): number => {
    const at = labels.indexOf(t.text);
    if (at < 0) fail(t.line, t.column, `no such label '${t.text}'!`);
    return at;
  };
  pending.forEach((p, pc) => {
    const insn = insns[pc]!;
    if (p.k) insn.k = (find(p.k) - pc - 1) >>> 0;
    for (const which of ["jt", "jf"] as const) {
      const t = p[which];
      if (!t) continue;
      const target = find(t);
      const delta = target - pc - 1;
      if (delta < 0 || delta > 255) {
        fail(t.line, t.column, `error: insn #${pc} jumps to insn #${target}, which is out of range`);
      }
      insn[which] = delta;
    }
  });
  return insns;
}

/** bpf_asm's default output: "N,code jt jf k,code jt jf k,...," on one line. */
export function formatBpfAsm(insns: readonly CbpfInsn[]): string {
  return `${insns.length},${insns.map((n) => `${n.code} ${n.jt} ${n.jf} ${n.k >>> 0},`).join("")}\n`;
}

/** bpf_asm -c: `{ 0x28,  0,  0, 0x0000000c },` per instruction (C printf "%#04x, %2u, %2u, %#010x"). */
export function formatBpfAsmC(insns: readonly CbpfInsn[]): string {
  const hex = (v: number, width: number) => (v === 0 ? "0".padStart(width, "0") : "0x" + v.toString(16).padStart(width - 2, "0"));
  return insns.map((n) => `{ ${hex(n.code, 4)}, ${String(n.jt).padStart(2)}, ${String(n.jf).padStart(2)}, ${hex(n.k >>> 0, 10)} },\n`).join("");
}
