// bpftrace 0.17's grammar by recursive descent, rule for rule with its bison parser (precedence levels, the
// `expr ; stmt_list` statement rule, attach points re-joined from tokens, casts, tuples), and its error texts:
// "syntax error, unexpected X[, expecting Y]" at the offending token, "Unknown function: F" at the name.
import type { AttachPoint, CStruct, Expr, Loc, Probe, Program, Stmt } from "./ast.ts";
import { span } from "./ast.ts";
import { TraceError } from "./errors.ts";
import { tokenize, tokenName, type Token } from "./lexer.ts";

const COMPOUND: Record<string, string> = {
  "<<=": "<<", ">>=": ">>", "+=": "+", "-=": "-", "*=": "*", "/=": "/", "%=": "%", "&=": "&", "|=": "|", "^=": "^",
};

export function parse(src: string): Program {
  return new Parser(tokenize(src)).program();
}

class Parser {
  private p = 0;
  constructor(private readonly toks: Token[]) {}

  private get t(): Token { return this.toks[this.p]!; }
  private peek(k = 1): Token { return this.toks[Math.min(this.p + k, this.toks.length - 1)]!; }
  private next(): Token { const t = this.t; if (t.kind !== "END") this.p++; return t; }
  private is(text: string, t = this.t): boolean { return (t.kind === "OP" || t.kind === "KEYWORD") && t.text === text; }

  private fail(t: Token, expecting?: string): never {
    throw new TraceError(`syntax error, unexpected ${tokenName(t)}${expecting ? `, expecting ${expecting}` : ""}`, t.loc);
  }
  private expect(text: string, expecting = text): Token {
    if (!this.is(text)) this.fail(this.t, expecting);
    return this.next();
  }

  program(): Program {
    const structs: CStruct[] = [];
    for (;;) {
      if (this.t.kind === "CPREPROC") { this.next(); continue; }
      if (this.t.kind === "IDENT" && (this.t.text === "struct" || this.t.text === "union") && this.peek().kind === "IDENT" && this.is("{", this.peek(2))) {
        structs.push(this.cStruct());
        continue;
      }
      break;
    }
    const probes: Probe[] = [];
    do probes.push(this.probe()); while (this.t.kind !== "END");
    return { probes, structs };
  }

  /** `struct NAME { TYPE [*...]FIELD[[N]]; ... } [;]` — the C definitions bpftrace hands to clang */
  private cStruct(): CStruct {
    const kw = this.next(), name = this.next();
    this.expect("{");
    const fields: { type: string; ptr: number; name: string; count?: number }[] = [];
    while (!this.is("}")) {
      const words: string[] = [];
      while (isIdentLike(this.t) && !(this.is(";", this.peek()) || this.is("[", this.peek()))) words.push(this.next().text);
      let ptr = 0;
      while (this.is("*")) { this.next(); ptr++; }
      if (!isIdentLike(this.t)) this.fail(this.t);
      const fname = this.next().text;
      let count: number | undefined;
      if (this.is("[")) { this.next(); const n = this.t; if (n.kind !== "INT") this.fail(n); this.next(); count = Number(n.value); this.expect("]"); }
      this.expect(";");
      if (words.length === 0) this.fail(this.t);
      fields.push({ type: words.join(" "), ptr, name: fname, count });
    }
    const close = this.next();
    if (this.is(";")) this.next();
    return { name: `${name.text}`, fields, loc: span(kw.loc, close.loc), ...(kw.text === "union" ? {} : {}) };
  }

  private probe(): Probe {
    const aps: AttachPoint[] = [this.attachPoint()];
    while (this.is(",")) { this.next(); aps.push(this.attachPoint()); }
    let pred: Expr | undefined;
    if (this.is("/")) {
      this.next();
      pred = this.expr();
      if (this.t.kind !== "ENDPRED") this.fail(this.t);
      this.next();
    }
    if (this.t.kind === "END" && !pred) {
      const first = aps[0]!.loc, last = aps[aps.length - 1]!.loc;
      throw new TraceError("unexpected end of file, expected {", span(first, last));
    }
    const start = this.t;
    if (!this.is("{")) this.fail(this.t, "{");
    const block = this.block();
    return { attachPoints: aps, pred, block, loc: span(aps[0]!.loc, start.loc) };
  }

  private attachPoint(): AttachPoint {
    let raw = "";
    let first: Token | undefined, last: Token | undefined;
    for (;;) {
      const t = this.t;
      let piece: string | undefined;
      if (t.kind === "IDENT" || t.kind === "BUILTIN" || t.kind === "CALL" || t.kind === "CALL_BUILTIN" || t.kind === "STACK_MODE" || t.kind === "PATH") piece = t.text;
      else if (t.kind === "STRING") piece = `"${t.text.replace(/"/g, '\\"')}"`;
      else if (t.kind === "INT") piece = String(t.value);
      else if (t.kind === "PARAM") piece = t.text;
      else if (t.kind === "OP" && [":", ".", "+", "*", "[", "]"].includes(t.text)) piece = t.text;
      if (piece === undefined) break;
      raw += piece;
      first ??= t;
      last = t;
      this.next();
    }
    const loc = first && last ? span(first.loc, last.loc) : { ...this.t.loc, endCol: this.t.loc.col, endLine: this.t.loc.line };
    return { raw, loc };
  }

  private block(): Stmt[] {
    this.expect("{");
    const stmts = this.stmtList();
    this.expect("}");
    return stmts;
  }

  private stmtList(): Stmt[] {
    const out: Stmt[] = [];
    for (;;) {
      if (this.is("}")) return out;
      if (this.is("if") || this.is("unroll") || this.is("while")) { out.push(this.blockStmt()); continue; }
      out.push(this.exprStmt());
      if (this.is(";")) { this.next(); continue; }
      if (!this.is("}")) this.fail(this.t, "}");
      return out;
    }
  }

  private blockStmt(): Stmt {
    const kw = this.next();
    if (kw.text === "if") return this.ifRest(kw);
    this.expect("(");
    if (kw.text === "unroll") {
      const t = this.t;
      let count: number;
      if (t.kind === "INT") { count = Number(t.value); this.next(); }
      else if (this.is("-") && this.peek().kind === "INT") { this.next(); count = -Number(this.next().value); }
      else if (t.kind === "PARAM") { this.next(); count = 0; }
      else this.fail(t);
      const close = this.expect(")");
      const body = this.block();
      return { kind: "unroll", count, body, loc: span(kw.loc, close.loc) };
    }
    const cond = this.expr();
    this.expect(")", ")");
    const body = this.block();
    return { kind: "while", cond, body, loc: kw.loc };
  }

  private ifRest(kw: Token): Stmt {
    const open = this.expect("(");
    let cond = this.expr();
    // bpftrace's location of a binary condition starts at the if's "("
    if (cond.kind === "binop") cond = { ...cond, loc: span(open.loc, cond.loc) };
    this.expect(")", ")");
    const then = this.block();
    let els: Stmt[] | undefined;
    if (this.is("else")) {
      this.next();
      if (this.is("if")) els = [this.ifRest(this.next())];
      else if (this.is("{")) els = this.block();
      else this.fail(this.t);
    }
    return { kind: "if", cond, then, else: els, loc: kw.loc };
  }

  private exprStmt(): Stmt {
    const t = this.t;
    if (this.is("break") || this.is("continue") || this.is("return")) {
      this.next();
      return { kind: "jump", which: t.text as "break", loc: t.loc };
    }
    const e = this.expr();
    const op = this.t;
    if (this.is("=") || (op.kind === "OP" && COMPOUND[op.text])) {
      if (e.kind === "field" && /^\d+$/.test(e.field)) {
        this.next();
        const rhs = this.expr();
        throw new TraceError("Tuples are immutable once created. Consider creating a new tuple and assigning it instead.", span(e.loc, rhs.loc));
      }
      if (e.kind !== "map" && e.kind !== "var") this.fail(op, "}");
      this.next();
      const value = this.expr();
      const compound = op.text === "=" ? undefined : COMPOUND[op.text];
      const loc = compound ? span(e.loc, value.loc) : op.loc;
      if (e.kind === "map") return { kind: "assignMap", map: e, value, compound, loc };
      return { kind: "assignVar", v: e, value, compound, loc };
    }
    return { kind: "expr", expr: e, loc: e.loc };
  }

  expr(): Expr {
    const c = this.logicalOr();
    if (this.is("?")) {
      this.next();
      const a = this.expr();
      this.expect(":", ":");
      const b = this.conditional();
      return { kind: "ternary", cond: c, then: a, else: b, loc: span(c.loc, b.loc) };
    }
    return c;
  }
  private conditional(): Expr { return this.expr(); }

  private binary(next: () => Expr, ops: readonly string[]): Expr {
    let l = next();
    while (this.t.kind === "OP" && ops.includes(this.t.text)) {
      const op = this.next();
      const r = next();
      l = { kind: "binop", op: op.text, left: l, right: r, loc: span(l.loc, r.loc), opLoc: op.loc };
    }
    return l;
  }
  private logicalOr = (): Expr => this.binary(this.logicalAnd, ["||"]);
  private logicalAnd = (): Expr => this.binary(this.bor, ["&&"]);
  private bor = (): Expr => this.binary(this.bxor, ["|"]);
  private bxor = (): Expr => this.binary(this.band, ["^"]);
  private band = (): Expr => this.binary(this.equality, ["&"]);
  private equality = (): Expr => this.binary(this.relational, ["==", "!="]);
  private relational = (): Expr => this.binary(this.shift, ["<=", ">=", "<", ">"]);
  private shift = (): Expr => this.binary(this.additive, ["<<", ">>"]);
  private additive = (): Expr => this.binary(this.multiplicative, ["+", "-"]);
  private multiplicative = (): Expr => this.binary(() => this.cast(), ["*", "/", "%"]);

  private cast(): Expr {
    if (this.is("(") && this.peek().kind === "IDENT" && (this.peek().text === "struct" || this.peek().text === "union") && this.peek(2).kind === "IDENT") {
      let k = 3, ptr = 0;
      while (this.is("*", this.peek(k))) { k++; ptr++; }
      if (this.is(")", this.peek(k))) {
        const open = this.next();
        const type = `${this.next().text} ${this.next().text}`;
        for (let i = 0; i < ptr; i++) this.next();
        const close = this.next();
        const operand = this.cast();
        return { kind: "cast", type, ptr, operand, loc: span(open.loc, close.loc) };
      }
    }
    if (this.is("(") && this.peek().kind === "IDENT") {
      let k = 2, ptr = 0;
      while (this.is("*", this.peek(k)) && ptr < 2) { k++; ptr++; }
      if (this.is(")", this.peek(k))) {
        const open = this.next();
        const type = this.next().text;
        for (let i = 0; i < ptr; i++) this.next();
        const close = this.next();
        const operand = this.cast();
        return { kind: "cast", type, ptr, operand, loc: span(open.loc, close.loc) };
      }
    }
    return this.unary();
  }

  private unary(): Expr {
    const t = this.t;
    if (t.kind === "OP" && (t.text === "*" || t.text === "~" || t.text === "!" || t.text === "-")) {
      if (t.text === "-" && this.peek().kind === "INT") {
        this.next();
        const i = this.next();
        const v = BigInt.asIntN(64, -(i.value!));
        return this.postfixFrom({ kind: "int", value: v, loc: span(t.loc, i.loc) });
      }
      this.next();
      const operand = this.cast();
      return { kind: "unop", op: t.text, operand, post: false, loc: span(t.loc, operand.loc) };
    }
    if (t.kind === "OP" && (t.text === "++" || t.text === "--")) {
      this.next();
      const m = this.t;
      if (m.kind === "MAP" || m.kind === "VAR") {
        const operand = this.primary();
        return { kind: "unop", op: t.text, operand, post: false, loc: t.loc };
      }
      if (m.kind === "IDENT" || m.kind === "BUILTIN" || m.kind === "CALL" || m.kind === "CALL_BUILTIN" || m.kind === "STACK_MODE") {
        throw new TraceError(`The ${t.text} operator must be applied to a map or variable`, t.loc);
      }
      this.fail(m);
    }
    if ((t.kind === "IDENT" || t.kind === "BUILTIN" || t.kind === "CALL_BUILTIN" || t.kind === "STACK_MODE") && this.peek().kind === "OP" &&
      (this.peek().text === "++" || this.peek().text === "--")) {
      throw new TraceError(`The ${this.peek().text} operator must be applied to a map or variable`, t.loc);
    }
    return this.postfix();
  }

  private postfix(): Expr {
    return this.postfixFrom(this.primary());
  }

  private postfixFrom(e0: Expr): Expr {
    let e = e0;
    for (;;) {
      const t = this.t;
      if (this.is(".")) {
        this.next();
        const f = this.t;
        if (f.kind === "INT") { this.next(); e = { kind: "field", base: e, field: String(f.value), arrow: false, loc: f.loc }; continue; }
        if (!isIdentLike(f)) this.fail(f);
        this.next();
        e = { kind: "field", base: e, field: f.text, arrow: false, loc: t.loc };
        continue;
      }
      if (this.is("->")) {
        this.next();
        const f = this.t;
        if (!isIdentLike(f)) this.fail(f);
        this.next();
        e = { kind: "field", base: e, field: f.text, arrow: true, loc: span(e.loc, f.loc) };
        continue;
      }
      if (this.is("[")) {
        this.next();
        const index = this.expr();
        const close = this.expect("]", "]");
        e = { kind: "index", base: e, index, loc: span(t.loc, close.loc) };
        continue;
      }
      if ((this.is("++") || this.is("--")) && (e.kind === "map" || e.kind === "var")) {
        this.next();
        e = { kind: "unop", op: t.text, operand: e, post: true, loc: t.loc };
        continue;
      }
      return e;
    }
  }

  private primary(): Expr {
    const t = this.t;
    switch (t.kind) {
      case "INT": this.next(); return { kind: "int", value: t.value!, loc: t.loc };
      case "STRING": this.next(); return { kind: "str", value: t.text, loc: t.loc };
      case "PARAM": this.next(); return { kind: "param", n: Number(t.text.slice(1)), loc: t.loc };
      case "PARAMCOUNT": this.next(); return { kind: "param", n: -1, loc: t.loc };
      case "VAR": this.next(); return { kind: "var", name: t.text, loc: t.loc };
      case "MAP": {
        this.next();
        if (!this.is("[")) return { kind: "map", name: t.text, keys: [], loc: t.loc };
        this.next();
        const keys = this.vargs();
        const close = this.expect("]", "] or ,");
        return { kind: "map", name: t.text, keys, loc: span(t.loc, close.loc) };
      }
      case "CALL":
      case "CALL_BUILTIN":
      case "IDENT":
      case "BUILTIN":
      case "STACK_MODE": {
        if (this.is("(", this.peek())) {
          this.next();
          this.next();
          let args: Expr[];
          if (t.text === "sizeof" && this.t.kind === "IDENT" && (this.t.text === "struct" || this.t.text === "union") && this.peek().kind === "IDENT") {
            const a = this.next(), b = this.next();
            args = [{ kind: "ident", name: `${a.text} ${b.text}`, loc: span(a.loc, b.loc) }];
          } else if (t.kind !== "CALL" && t.kind !== "CALL_BUILTIN") {
            // an unknown function is reported even when its arguments would not parse (offsetof(struct x, f))
            try { if (!this.is(")")) this.vargs(); this.expect(")", ") or ,"); } catch { /* reported below */ }
            throw new TraceError(`Unknown function: ${t.text}`, t.loc);
          } else args = this.is(")") ? [] : this.vargs();
          const close = this.expect(")", ") or ,");
          return { kind: "call", name: t.text, args, loc: span(t.loc, close.loc), nameLoc: t.loc };
        }
        if (t.kind === "CALL") this.fail(this.peek(), "(");
        this.next();
        if (t.kind === "IDENT" || t.kind === "STACK_MODE") return { kind: "ident", name: t.text, loc: t.loc };
        return { kind: "builtin", name: t.text, loc: t.loc };
      }
      case "OP":
        if (t.text === "(") {
          this.next();
          const e = this.expr();
          if (this.is(",")) {
            this.next();
            const rest = this.vargs();
            const close = this.expect(")", ") or ,");
            return { kind: "tuple", elems: [e, ...rest], loc: span(t.loc, close.loc) };
          }
          this.expect(")", ")");
          return e;
        }
        this.fail(t);
      // fallthrough
      default:
        this.fail(t);
    }
  }

  private vargs(): Expr[] {
    const out = [this.expr()];
    while (this.is(",")) { this.next(); out.push(this.expr()); }
    return out;
  }
}

function isIdentLike(t: Token): boolean {
  return t.kind === "IDENT" || t.kind === "BUILTIN" || t.kind === "CALL" || t.kind === "CALL_BUILTIN" || t.kind === "STACK_MODE";
}

export type { Loc };
