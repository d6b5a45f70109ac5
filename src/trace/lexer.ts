// bpftrace 0.17's scanner: longest match over its token classes (builtins, calls, paths `:…`, maps, variables,
// integers with `_` separators and exponents, strings with C escapes, `/` before `{` or `/` as end-of-predicate),
// with bison-style locations. Token names are the ones bison prints in "unexpected X" messages.
import type { Loc } from "./ast.ts";
import { TraceError } from "./errors.ts";

export type TokKind =
  | "END" | "BUILTIN" | "CALL" | "CALL_BUILTIN" | "IDENT" | "PATH" | "STRING" | "MAP" | "VAR" | "PARAM" | "PARAMCOUNT"
  | "INT" | "STACK_MODE" | "CPREPROC" | "ENDPRED" | "OP" | "KEYWORD";

export interface Token {
  readonly kind: TokKind;
  /** the text (operators and keywords: themselves; strings: the decoded value) */
  readonly text: string;
  readonly loc: Loc;
  readonly value?: bigint;
}

const BUILTINS = new Set(["args", "cgroup", "comm", "cpid", "numaid", "cpu", "ctx", "curtask", "elapsed", "func", "gid",
  "nsecs", "pid", "probe", "rand", "retval", "tid", "uid", "username"]);
const CALLS = new Set(["avg", "buf", "cat", "cgroupid", "clear", "count", "delete", "exit", "hist", "join", "kaddr", "kptr",
  "ksym", "lhist", "macaddr", "max", "min", "ntop", "override", "print", "printf", "cgroup_path", "reg", "signal", "sizeof",
  "stats", "str", "strerror", "strftime", "strncmp", "strcontains", "sum", "system", "time", "uaddr", "uptr", "usym", "zero",
  "path", "unwatch", "bswap", "skboutput", "pton", "debugf"]);
const KEYWORDS = new Set(["if", "else", "unroll", "while", "for", "return", "continue", "break"]);
const OPS = ["<<=", ">>=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "==", "!=", "<=", ">=", "<<", ">>", "&&", "||",
  "++", "--", "->", ":", ";", "{", "}", "[", "]", "(", ")", ",", "=", "<", ">", "+", "-", "*", "/", "%", "&", "|", "^", "!",
  "~", ".", "?"];

/** bison's display name of a token, as in "syntax error, unexpected X". */
export function tokenName(t: Token): string {
  switch (t.kind) {
    case "END": return "end of file";
    case "BUILTIN": return "builtin";
    case "CALL": return "call";
    case "CALL_BUILTIN": return "call_builtin";
    case "IDENT": return "identifier";
    case "PATH": return "path";
    case "STRING": return "string";
    case "MAP": return "map";
    case "VAR": return "variable";
    case "PARAM": return "positional parameter";
    case "PARAMCOUNT": return "$#";
    case "INT": return "integer";
    case "STACK_MODE": return "stack_mode";
    case "CPREPROC": return "preprocessor directive";
    case "ENDPRED": return "end predicate";
    default: return t.text;
  }
}

const isIdStart = (c: string) => /[_a-zA-Z]/.test(c);
const isId = (c: string) => /[_a-zA-Z0-9]/.test(c);

/** Scans the whole script; lexical errors are thrown as TraceError with bpftrace's text. */
export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0, line = 1, col = 1;
  const n = src.length;
  const loc = (l0: number, c0: number): Loc => ({ line: l0, col: c0, endLine: line, endCol: col });
  const adv = (k: number) => {
    for (let j = 0; j < k; j++) {
      if (src[i] === "\n") { line++; col = 1; } else col++;
      i++;
    }
  };
  if (src.startsWith("#!")) while (i < n && src[i] !== "\n") adv(1);
  // bpftrace's scanner steps its location only over whitespace and comments, so a token begins where its run of
  // adjacent tokens begins (`print(reg(` puts reg at print's column); bison spans follow from that
  let runLine = -1, runCol = -1;
  while (i < n) {
    const c = src[i]!;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") { adv(1); runLine = -1; continue; }
    if (src.startsWith("//", i)) { while (i < n && src[i] !== "\n") adv(1); runLine = -1; continue; }
    if (src.startsWith("/*", i)) {
      const cl = line, cc = col;
      adv(2);
      while (i < n && !src.startsWith("*/", i)) adv(1);
      if (i >= n) throw new TraceError("end of file during comment", loc(cl, cc));
      adv(2);
      runLine = -1;
      continue;
    }
    if (runLine < 0) { runLine = line; runCol = col; }
    const l0 = runLine, c0 = runCol;
    if (c === '"') {
      adv(1);
      let s = "";
      for (;;) {
        if (i >= n) throw new TraceError("unterminated string", loc(line, col));
        const d = src[i]!;
        if (d === '"') { adv(1); break; }
        if (d === "\n") throw new TraceError("unterminated string", { line, col, endLine: line, endCol: col + 1 });
        if (d === "\\") {
          const e = src[i + 1] ?? "";
          const simple: Record<string, string> = { n: "\n", t: "\t", r: "\r", '"': '"', "\\": "\\" };
          if (simple[e] !== undefined) { s += simple[e]; adv(2); continue; }
          const oct = /^[0-7]{1,3}/.exec(src.slice(i + 1, i + 4));
          if (oct) {
            const v = parseInt(oct[0], 8);
            const start = { line, col };
            adv(1 + oct[0].length);
            if (v > 255) throw new TraceError(`octal escape sequence out of range '\\${oct[0]}'`, { line: start.line, col: start.col, endLine: line, endCol: col });
            s += String.fromCharCode(v);
            continue;
          }
          const hex = /^[xX]([0-9a-fA-F]{1,2})/.exec(src.slice(i + 1, i + 4));
          if (hex) { s += String.fromCharCode(parseInt(hex[1]!, 16)); adv(1 + hex[0].length); continue; }
          const start = { line, col };
          adv(2);
          throw new TraceError(`invalid escape character '\\${e}'`, { line: start.line, col: start.col, endLine: line, endCol: col });
        }
        s += d;
        adv(1);
      }
      out.push({ kind: "STRING", text: s, loc: loc(l0, c0) });
      continue;
    }
    // numbers: int [0-9]([0-9_]*[0-9])?, hex, exponent form int[eE]int; an integer suffix u/l is accepted
    const num = /^(?:0[xX][0-9a-fA-F]+|[0-9](?:[0-9_]*[0-9])?(?:[eE][0-9](?:[0-9_]*[0-9])?)?(?:[uU]|[uU]?[lL]?[lL]?)?)/.exec(src.slice(i, i + 80));
    if (num && /[0-9]/.test(c)) {
      const text = num[0];
      adv(text.length);
      out.push({ kind: "INT", text, value: parseIntLiteral(text, loc(l0, c0)), loc: loc(l0, c0) });
      continue;
    }
    if (c === ":") {
      const m = /^:(?:\\.|[_\-./a-zA-Z0-9#*])+/.exec(src.slice(i));
      if (m) { adv(m[0].length); out.push({ kind: "PATH", text: m[0], loc: loc(l0, c0) }); continue; }
    }
    if (c === "@") {
      const m = /^@[_a-zA-Z][_a-zA-Z0-9]*|^@/.exec(src.slice(i))!;
      adv(m[0].length);
      out.push({ kind: "MAP", text: m[0], loc: loc(l0, c0) });
      continue;
    }
    if (c === "$") {
      const m = /^\$[_a-zA-Z][_a-zA-Z0-9]*/.exec(src.slice(i)) ?? /^\$[0-9]+/.exec(src.slice(i));
      if (m) {
        adv(m[0].length);
        out.push({ kind: /^\$[0-9]/.test(m[0]) ? "PARAM" : "VAR", text: m[0], loc: loc(l0, c0) });
        continue;
      }
      if (src[i + 1] === "#") { adv(2); out.push({ kind: "PARAMCOUNT", text: "$#", loc: loc(l0, c0) }); continue; }
    }
    if (c === "#" && src[i + 1] !== "!") {
      const start = i;
      while (i < n && src[i] !== "\n") adv(1);
      out.push({ kind: "CPREPROC", text: src.slice(start, i), loc: loc(l0, c0) });
      continue;
    }
    if (isIdStart(c)) {
      let j = i;
      while (j < n && isId(src[j]!)) j++;
      const word = src.slice(i, j);
      adv(j - i);
      let kind: TokKind = "IDENT";
      if (word === "bpftrace" || word === "perf") kind = "STACK_MODE";
      else if (BUILTINS.has(word) || /^(s?arg)[0-9]$/.test(word)) kind = "BUILTIN";
      else if (CALLS.has(word)) kind = "CALL";
      else if (word === "kstack" || word === "ustack") kind = "CALL_BUILTIN";
      else if (KEYWORDS.has(word)) kind = "KEYWORD";
      out.push({ kind, text: word, loc: loc(l0, c0) });
      continue;
    }
    if (c === "/" && /^\/[ \t\r\n]*[/{]/.test(src.slice(i, i + 200)) && !src.startsWith("/=", i)) {
      adv(1);
      out.push({ kind: "ENDPRED", text: "/", loc: loc(l0, c0) });
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op) {
      adv(op.length);
      out.push({ kind: KEYWORDS.has(op) ? "KEYWORD" : "OP", text: op, loc: loc(l0, c0) });
      continue;
    }
    adv(1);
    throw new TraceError(`invalid character '${c}'`, loc(l0, c0));
  }
  out.push({ kind: "END", text: "", loc: { line, col, endLine: line, endCol: col } });
  return out;
}

function parseIntLiteral(text: string, l: Loc): bigint {
  const t = text.replace(/_/g, "").replace(/[uUlL]+$/, "");
  let v: bigint;
  if (/^0[xX]/.test(t)) v = BigInt(t);
  else if (/[eE]/.test(t)) {
    const [m, e] = t.split(/[eE]/) as [string, string];
    if (Number(e) > 19) throw new TraceError(`'${text}' is out of range`, l);
    v = BigInt(m) * 10n ** BigInt(e);
  } else if (/^0[0-7]+$/.test(t)) v = BigInt("0o" + t.slice(1));
  else v = BigInt(t);
  if (v >= 1n << 64n) throw new TraceError(`'${text}' is out of range`, l);
  return v;
}
