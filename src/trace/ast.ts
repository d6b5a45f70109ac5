// bpftrace's syntax tree: probes (attach points, predicate, block), statements and expressions, each with its
// source span (1-based line/column, end column exclusive, as bpftrace's bison locations print them).

export interface Loc {
  readonly line: number;
  readonly col: number;
  readonly endLine: number;
  readonly endCol: number;
}

export const span = (a: Loc, b: Loc): Loc => ({ line: a.line, col: a.col, endLine: b.endLine, endCol: b.endCol });

export type Expr =
  | { kind: "int"; value: bigint; loc: Loc }
  | { kind: "str"; value: string; loc: Loc }
  | { kind: "builtin"; name: string; loc: Loc }
  | { kind: "ident"; name: string; loc: Loc }
  | { kind: "param"; n: number; loc: Loc }
  | { kind: "map"; name: string; keys: Expr[]; loc: Loc }
  | { kind: "var"; name: string; loc: Loc }
  | { kind: "call"; name: string; args: Expr[]; loc: Loc; nameLoc: Loc }
  | { kind: "binop"; op: string; left: Expr; right: Expr; loc: Loc; opLoc: Loc }
  | { kind: "unop"; op: string; operand: Expr; post: boolean; loc: Loc }
  | { kind: "ternary"; cond: Expr; then: Expr; else: Expr; loc: Loc }
  | { kind: "field"; base: Expr; field: string; arrow: boolean; loc: Loc }
  | { kind: "index"; base: Expr; index: Expr; loc: Loc }
  | { kind: "cast"; type: string; ptr: number; operand: Expr; loc: Loc }
  | { kind: "tuple"; elems: Expr[]; loc: Loc };

export type Stmt =
  | { kind: "expr"; expr: Expr; loc: Loc }
  | { kind: "assignMap"; map: Extract<Expr, { kind: "map" }>; value: Expr; compound?: string; loc: Loc }
  | { kind: "assignVar"; v: Extract<Expr, { kind: "var" }>; value: Expr; compound?: string; loc: Loc }
  | { kind: "if"; cond: Expr; then: Stmt[]; else?: Stmt[]; loc: Loc }
  | { kind: "unroll"; count: number; body: Stmt[]; loc: Loc }
  | { kind: "while"; cond: Expr; body: Stmt[]; loc: Loc }
  | { kind: "jump"; which: "break" | "continue" | "return"; loc: Loc };

export interface AttachPoint {
  /** the text as written (bpftrace re-joins the tokens of the attach point) */
  readonly raw: string;
  readonly loc: Loc;
}

export interface Probe {
  readonly attachPoints: AttachPoint[];
  readonly pred?: Expr;
  readonly block: Stmt[];
  readonly loc: Loc;
}

/** A C struct defined in the script (`struct x { int a; char b[8]; struct y *p; }`). */
export interface CStruct {
  readonly name: string;
  readonly fields: readonly { readonly type: string; readonly ptr: number; readonly name: string; readonly count?: number }[];
  readonly loc: Loc;
}

export interface Program {
  readonly probes: Probe[];
  readonly structs?: readonly CStruct[];
}
