// Semantic analysis: resolves attach points, types every expression (builtins, args->field from the tracepoint
// format, casts, arithmetic), gives each map its key and value types from its uses (bpftrace's two passes: the first
// assignment fixes the type, later ones must agree), checks function arity and printf formats, and reports every
// error with bpftrace's wording and span.
import type { Expr, Loc, Probe, Program, Stmt } from "./ast.ts";
import { span } from "./ast.ts";
import { TraceError, TraceErrors } from "./errors.ts";
import { parseTracepointFormat, resolveAttachPoint, type ProbeEnv, type ResolvedProbe, type TpField } from "./probes.ts";
import { type AggFn, type TType, INT64, NONE, UINT64, intT, sameKind, str, typeName, typeSize, isTextual } from "./types.ts";
import { printfSpecs } from "./printf.ts";
import { CTypes, INT_NAMES } from "./ctypes.ts";

export const STRLEN = 64;
const AGG: readonly string[] = ["count", "sum", "min", "max", "avg", "stats", "hist", "lhist"];

export interface MapInfo {
  readonly name: string;
  readonly index: number;
  keys: TType[];
  value: TType;
  lhist?: { min: number; max: number; step: number };
}

export interface CheckedProbe {
  readonly probe: Probe;
  readonly resolved: ResolvedProbe;
  /** tracepoint fields when the probe is a tracepoint */
  readonly fields?: readonly TpField[];
}

export interface Checked {
  readonly probes: CheckedProbe[];
  readonly maps: MapInfo[];
  readonly types: Map<Expr, TType>;
  /** values known when compiling: kaddr/uaddr addresses, sizeof */
  readonly consts: Map<Expr, bigint>;
  readonly ctypes: CTypes;
  readonly warnings: TraceError[];
  /** the number of attach points bpftrace counts in "Attaching N probes..." */
  readonly attachCount: number;
}

export interface CheckOptions {
  readonly env: ProbeEnv;
  /** -c given: cpid is allowed */
  readonly hasChild?: boolean;
  readonly unsafe?: boolean;
  readonly params?: readonly string[];
}

const USER_KINDS = ["uprobe", "uretprobe", "usdt"];
// x86-64 struct pt_regs member offsets, by the names reg() accepts
export const PT_REGS: Record<string, number> = {
  r15: 0, r14: 8, r13: 16, r12: 24, bp: 32, bx: 40, r11: 48, r10: 56, r9: 64, r8: 72, ax: 80, cx: 88, dx: 96, si: 104,
  di: 112, orig_ax: 120, ip: 128, cs: 136, flags: 144, sp: 152, ss: 160,
};
const SIGNALS: Record<string, number> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9, SIGUSR1: 10,
  SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGSTKFLT: 16, SIGCHLD: 17, SIGCONT: 18, SIGSTOP: 19,
  SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22, SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28,
  SIGIO: 29, SIGPWR: 30, SIGSYS: 31,
};
export function signalNumber(name: string): number | undefined {
  return SIGNALS[name] ?? SIGNALS[`SIG${name}`];
}

export function check(prog: Program, opts: CheckOptions): Checked {
  return new Checker(opts).run(prog);
}

class Checker {
  private readonly errors: TraceError[] = [];
  private readonly warnings: TraceError[] = [];
  private readonly maps = new Map<string, MapInfo>();
  private readonly types = new Map<Expr, TType>();
  private vars = new Map<string, TType>();
  private cur!: CheckedProbe;
  private final = false;
  private ctypes!: CTypes;
  private readonly consts = new Map<Expr, bigint>();
  constructor(private readonly opts: CheckOptions) {}

  private err(msg: string, loc: Loc): void { this.errors.push(new TraceError(msg, loc)); }

  run(prog: Program): Checked {
    this.ctypes = new CTypes(prog.structs ?? [], this.opts.env.btf);
    const probes: CheckedProbe[] = [];
    let attachCount = 0;
    for (const p of prog.probes) {
      for (const ap of p.attachPoints) {
        let rs: ResolvedProbe[];
        try {
          rs = resolveAttachPoint(ap, this.opts.env);
        } catch (e) {
          if (e instanceof TraceError) { this.errors.push(e); continue; }
          throw e;
        }
        attachCount += rs.length;
        for (const r of rs) {
          if ((r.kind === "kprobe" || r.kind === "kretprobe") && this.opts.env.traceable?.(r.func) !== true) {
            this.warnings.push(new TraceError(`${r.func} is not traceable (either non-existing, inlined, or marked as "notrace"); attaching to it will likely fail`, ap.loc, "WARNING"));
          }
        }
        for (const r of rs) {
          let fields: TpField[] | undefined;
          if (r.kind === "tracepoint") {
            const text = this.opts.env.tracepointFormat(r.target, r.func);
            fields = text === undefined ? [] : parseTracepointFormat(text);
          }
          probes.push({ probe: p, resolved: r, fields });
        }
      }
    }
    if (this.errors.length) throw new TraceErrors(this.errors);
    const attachWarnings = [...this.warnings];
    // pass 1 learns map types from every probe; pass 2 (final) reports
    for (const final of [false, true]) {
      this.final = final;
      this.errors.length = 0;
      this.warnings.length = 0;
      const seen = new Set<Probe>();
      for (const cp of probes) {
        // one probe body is checked once per distinct attach-point kind (args differ per tracepoint)
        if (seen.has(cp.probe) && cp.resolved.kind !== "tracepoint") continue;
        seen.add(cp.probe);
        this.cur = cp;
        this.vars = new Map();
        if (cp.probe.pred) this.expr(cp.probe.pred);
        this.stmts(cp.probe.block);
      }
    }
    if (this.errors.length) throw new TraceErrors(this.errors);
    const maps = [...this.maps.values()];
    for (const m of maps) if (m.value.k === "none") this.err(`Undefined map: ${m.name}`, { line: 1, col: 1, endLine: 1, endCol: 1 });
    return { probes, maps, types: this.types, consts: this.consts, ctypes: this.ctypes, warnings: [...attachWarnings, ...this.warnings], attachCount };
  }

  private stmts(ss: readonly Stmt[]): void {
    for (const s of ss) this.stmt(s);
  }

  private mapInfo(name: string): MapInfo {
    let m = this.maps.get(name);
    if (!m) { m = { name, index: this.maps.size, keys: [], value: NONE }; this.maps.set(name, m); }
    return m;
  }

  private keyTypes(map: Extract<Expr, { kind: "map" }>): void {
    const ks: TType[] = [];
    for (const k of map.keys) {
      let t = this.expr(k);
      // bpftrace names a non-negative literal key 'unsigned int64'
      if (t.k === "int") t = intT(64, k.kind === "int" ? k.value < 0n : t.signed);
      if (t.k === "tuple") { this.err("tuple cannot be used as a map key. Try a multi-key associative array instead (eg `@map[$1, $2] = ...)`.", map.loc); t = INT64; }
      if (t.k === "agg" || t.k === "none") { this.err(`${typeName(t)} cannot be used as a map key`, k.loc); t = INT64; }
      ks.push(t);
    }
    const m = this.mapInfo(map.name);
    (m as { keyed?: boolean }).keyed ??= false;
    const known = (m as { keysKnown?: boolean }).keysKnown;
    if (!known) { m.keys = ks; (m as { keysKnown?: boolean }).keysKnown = true; return; }
    let ok = m.keys.length === ks.length;
    if (ok) {
      for (let i = 0; i < ks.length; i++) {
        const a = m.keys[i]!, b = ks[i]!;
        if (a.k === "str" && b.k === "str") m.keys[i] = str(Math.max(a.size, b.size));
        else if (a.k !== b.k && !(isIntLike(a) && isIntLike(b))) { ok = false; break; }
      }
    }
    if (!ok) {
      const list = (ts: TType[]) => `[${ts.map(typeName).join(", ")}]`;
      this.err(`Argument mismatch for ${map.name}: trying to access with arguments: ${list(ks)} when map expects arguments: ${list(m.keys)}`, map.loc);
    }
  }

  private assignMapType(map: Extract<Expr, { kind: "map" }>, t: TType, loc?: Loc): void {
    const m = this.mapInfo(map.name);
    if (m.value.k === "none") {
      m.value = t.k === "int" ? intT(64, t.signed) : t;
      return;
    }
    if (m.value.k === "tuple" && t.k === "tuple" && !sameTuple(m.value, t)) {
      this.err(`Tuple type mismatch: ${typeName(m.value)} != ${typeName(t)}.`, loc ?? map.loc);
      return;
    }
    if (m.value.k === "tuple" && t.k === "tuple") { m.value = widenTuple(m.value, t); return; }
    if (!sameKind(m.value, t)) {
      this.err(`Type mismatch for ${map.name}: trying to assign value of type '${typeName(t)}' when map already contains a value of type '${typeName(m.value)}`, map.loc);
      return;
    }
    if (m.value.k === "str" && t.k === "str" && t.size > m.value.size) m.value = t;
  }

  private stmt(s: Stmt): void {
    switch (s.kind) {
      case "expr": {
        const e = s.expr;
        if (e.kind === "call" && AGG.includes(e.name)) { this.call(e, false); this.err(`${e.name}() should be directly assigned to a map`, e.loc); return; }
        this.expr(e);
        return;
      }
      case "assignMap": {
        this.keyTypes(s.map);
        const v = s.value;
        if (v.kind === "call" && AGG.includes(v.name) && !s.compound) {
          this.call(v, true);
          const fn = v.name as AggFn;
          const argT = v.args[0] ? this.types.get(v.args[0]) : undefined;
          const signed = fn === "count" ? false : argT?.k === "int" ? argT.signed : false;
          this.assignMapType(s.map, { k: "agg", fn, signed });
          if (fn === "lhist") this.lhistArgs(v, this.mapInfo(s.map.name));
          this.types.set(s.map, this.mapInfo(s.map.name).value);
          return;
        }
        let t = this.expr(v);
        if (s.compound) {
          const m = this.mapInfo(s.map.name);
          if (m.value.k === "none") m.value = UINT64;
          t = this.binopType(s.compound, m.value.k === "agg" ? INT64 : m.value, t, v, s.loc);
        }
        if (t.k === "none" && v.kind === "field") {
          if (this.final && this.mapInfo(s.map.name).value.k === "none") this.err(`Undefined map: ${s.map.name}`, s.map.loc);
          this.err("Invalid expression for assignment: none", v.loc);
          return;
        }
        if (t.k === "none") { this.err(`Invalid expression for assignment: ${v.kind === "call" ? v.name : v.kind}`, v.loc); return; }
        if (t.k === "agg") { this.err(`Invalid expression for assignment: ${typeName(t)}`, v.loc); return; }
        this.assignMapType(s.map, t, s.loc);
        this.types.set(s.map, this.mapInfo(s.map.name).value);
        return;
      }
      case "assignVar": {
        let t = this.expr(s.value);
        const old = this.vars.get(s.v.name);
        if (s.compound) {
          if (!old) { this.err(`Undefined or undeclared variable: ${s.v.name}`, s.v.loc); return; }
          t = this.binopType(s.compound, old, t, s.value, s.loc);
        }
        if (t.k === "none" || t.k === "agg") {
          if (s.value.kind === "call" && AGG.includes(s.value.name)) this.err(`${s.value.name}() should be directly assigned to a map`, s.value.loc);
          else this.err(`Invalid expression for assignment: ${typeName(t)}`, s.value.loc);
          return;
        }
        if (old) {
          if (old.k === "str" && t.k === "str") { if (t.size > old.size) this.vars.set(s.v.name, t); }
          else if (old.k === "tuple" && t.k === "tuple") {
            if (!sameTuple(old, t)) this.err(`Tuple type mismatch: ${typeName(old)} != ${typeName(t)}.`, s.loc);
            else this.vars.set(s.v.name, widenTuple(old, t));
          }
          else if (old.k !== t.k) this.err(`Type mismatch for ${s.v.name}: trying to assign value of type '${typeName(t)}' when variable already contains a value of type '${typeName(old)}'`, s.loc);
        } else this.vars.set(s.v.name, t.k === "int" ? intT(64, t.signed) : t);
        this.types.set(s.v, this.vars.get(s.v.name)!);
        return;
      }
      case "if": this.expr(s.cond); this.stmts(s.then); if (s.else) this.stmts(s.else); return;
      case "unroll":
        if (s.count > 100) this.err("unroll maximum value is 100", s.loc);
        else if (s.count < 1) this.err("unroll minimum value is 1", s.loc);
        this.stmts(s.body);
        return;
      case "while": this.expr(s.cond); this.stmts(s.body); return;
      case "jump": return;
    }
  }

  private lhistArgs(c: Extract<Expr, { kind: "call" }>, m: MapInfo): void {
    const lit = (i: number, what: string): number | undefined => {
      const a = c.args[i];
      if (!a || a.kind !== "int") { this.err(`lhist: invalid ${what} value`, c.loc); return undefined; }
      return Number(a.value);
    };
    const min = lit(1, "min"), max = lit(2, "max"), step = lit(3, "step");
    if (min === undefined || max === undefined || step === undefined) return;
    if (step < 1) { this.err(`lhist() step must be >= 1 (${step} provided)`, c.loc); return; }
    const buckets = (max - min) / step;
    if (buckets > 1000) { this.err(`lhist() too many buckets, must be <= 1000 (would need ${buckets})`, c.loc); return; }
    if (min < 0) { this.err(`lhist() min must be non-negative (provided min ${min})`, c.loc); return; }
    if (min > max) { this.err(`lhist() min must be less than max (provided min ${min} and max ${max})`, c.loc); return; }
    if (max - min < step) { this.err(`lhist() step is too large for the given range (provided step ${step} for range ${max - min})`, c.loc); return; }
    const prev = m.lhist;
    if (prev && (prev.min !== min || prev.max !== max || prev.step !== step)) {
      this.err("Different lhist bounds in a single map unsupported", c.loc);
      return;
    }
    m.lhist = { min, max, step };
  }

  private binopType(op: string, l: TType, r: TType, e: Expr, loc: Loc): TType {
    if (l.k === "none" || r.k === "none") return INT64;
    if (isIntLike(l) && isIntLike(r) && (l.k === "ptr" || r.k === "ptr")) {
      if (["==", "!=", "<", ">", "<=", ">="].includes(op)) return INT64;
      if (op === "&&" || op === "||") return UINT64;
      return l.k === "ptr" && (op === "+" || op === "-") ? l : UINT64;
    }
    if (l.k !== r.k || l.k === "agg") {
      this.err(`Type mismatch for '${op}': comparing '${typeName(l)}' with '${typeName(r)}'`, loc);
      return INT64;
    }
    if (l.k === "str") {
      if (op !== "==" && op !== "!=") {
        this.err(`The ${op} operator can not be used on expressions of types ${typeName(l)}, ${typeName(r)}`, e.loc);
      }
      return UINT64;
    }
    const signed = (l as { signed: boolean }).signed && (r as { signed: boolean }).signed;
    if (["==", "!=", "<", ">", "<=", ">=", "&&", "||"].includes(op)) return UINT64;
    return intT(64, signed);
  }

  private builtinType(e: Extract<Expr, { kind: "builtin" }>): TType {
    const kind = this.cur.resolved.kind;
    const n = e.name;
    if (/^arg[0-9]$/.test(n)) {
      if (!["uprobe", "uretprobe", "kprobe", "rawtracepoint", "usdt"].includes(kind)) {
        this.err(`The ${n} builtin can only be used with 'kprobes', 'uprobes' and 'usdt' probes`, e.loc);
      }
      return UINT64;
    }
    switch (n) {
      case "pid": case "tid": case "uid": case "gid": case "cpu": case "nsecs": case "elapsed": case "rand": case "cgroup": case "numaid":
        return UINT64;
      case "cpid":
        if (!this.opts.hasChild) this.err("cpid cannot be used without child command", e.loc);
        return UINT64;
      case "comm": return str(16);
      case "username": return { k: "username" };
      case "probe": return str(STRLEN);
      case "func":
        if (!["uprobe", "uretprobe", "kprobe", "kretprobe", "fentry", "fexit", "usdt"].includes(kind)) {
          this.err(`The func builtin can not be used with '${kind}' probes`, e.loc);
        }
        // a uprobe's func is its instruction pointer, symbolised when printed (an address once the process is gone)
        if (kind === "uprobe" || kind === "uretprobe") return { k: "usym" };
        return str(STRLEN);
      case "retval":
        if (!["uretprobe", "kretprobe", "fexit"].includes(kind)) this.err("The retval builtin can only be used with 'kretprobe' and 'uretprobe' and 'kfunc' probes", e.loc);
        return INT64;
      case "args":
        if (kind !== "tracepoint") this.err(`The args builtin can only be used with tracepoint/kfunc/uprobeprobes (${kind} used here)`, e.loc);
        return NONE;
      case "kstack": case "ustack":
        return { k: "stack", user: n === "ustack", mode: "bpftrace", limit: 127 };
      case "curtask": {
        const r = this.ctypes.record("struct task_struct");
        return r ? { k: "ptr", to: r } : UINT64;
      }
      case "ctx": {
        if (kind === "tracepoint") { this.err("Use args instead of ctx in tracepoint", e.loc); return UINT64; }
        const rec = ["uprobe", "uretprobe", "kprobe", "kretprobe", "usdt"].includes(kind) ? "struct pt_regs"
          : ["profile", "interval", "software", "hardware"].includes(kind) ? "struct bpf_perf_event_data" : undefined;
        if (!rec) { this.err("invalid program type", e.loc); return UINT64; }
        const r = this.ctypes.record(rec);
        return r ? { k: "ptr", to: r } : UINT64;
      }
      default:
        this.err(`Unknown builtin variable: '${n}'`, e.loc);
        return NONE;
    }
  }

  expr(e: Expr): TType {
    const t = this.exprInner(e);
    this.types.set(e, t);
    return t;
  }

  private exprInner(e: Expr): TType {
    switch (e.kind) {
      case "int": return INT64;
      case "str":
        if (e.value.length > STRLEN - 1) this.err(`String is too long (over ${STRLEN} bytes): ${e.value}`, e.loc);
        return str(new TextEncoder().encode(e.value).length + 1);
      case "builtin": return this.builtinType(e);
      case "ident": this.err(`Unknown identifier: '${e.name}'`, e.loc); return NONE;
      case "param": {
        const v = e.n < 0 ? String(this.opts.params?.length ?? 0) : this.opts.params?.[e.n - 1];
        if (v !== undefined && !/^-?\d+$/.test(v)) return str(STRLEN);
        return INT64;
      }
      case "map": {
        if (e.keys.length) this.keyTypes(e);
        else if (!(this.mapInfo(e.name) as { keysKnown?: boolean }).keysKnown) this.keyTypes(e);
        const m = this.mapInfo(e.name);
        if (m.value.k === "none" && this.final) this.err(`Undefined map: ${e.name}`, e.loc);
        if (m.value.k === "agg") return m.value;
        return m.value.k === "none" ? INT64 : m.value;
      }
      case "var": {
        const t = this.vars.get(e.name);
        if (!t) { this.err(`Undefined or undeclared variable: ${e.name}`, e.loc); return INT64; }
        return t;
      }
      case "call": return this.call(e, false);
      case "binop": {
        const l = this.expr(e.left), r = this.expr(e.right);
        if (["==", "!=", "<", ">", "<=", ">="].includes(e.op) && l.k === "int" && r.k === "int" && l.signed !== r.signed && e.left.kind !== "int" && e.right.kind !== "int") {
          this.warn(`comparison of integers of different signs: '${typeName(l)}' and '${typeName(r)}' can lead to undefined behavior`, e.opLoc);
        }
        return this.binopType(e.op, l, r, e, e.loc);
      }
      case "unop": {
        const t = this.expr(e.operand);
        if (e.op === "++" || e.op === "--") {
          if (e.operand.kind === "map") {
            const m = this.mapInfo(e.operand.name);
            if (m.value.k === "none") m.value = INT64;
            this.types.set(e.operand, m.value);
            return m.value.k === "int" ? m.value : INT64;
          }
          if (e.operand.kind === "var" && !this.vars.has(e.operand.name)) {
            this.err(`Undefined or undeclared variable: ${e.operand.name}`, e.operand.loc);
          }
          return INT64;
        }
        if (e.op === "*") {
          if (t.k === "ptr") return t.to.k === "int" ? t.to : t.to.k === "ptr" ? t.to : t.to;
          if (t.k === "int") return UINT64;
          this.err(`The * operator can not be used on expressions of type '${typeName(t)}'`, e.loc);
          return INT64;
        }
        if (t.k === "ptr") return e.op === "!" ? UINT64 : UINT64;
        if (t.k !== "int") { this.err(`The ${e.op} operator can not be used on expressions of type '${typeName(t)}'`, e.loc); return INT64; }
        if (e.op === "!") return UINT64;
        return t;
      }
      case "ternary": {
        this.expr(e.cond);
        const a = this.expr(e.then), b = this.expr(e.else);
        if (a.k !== b.k) { this.err(`Ternary operator must return the same type: have '${typeName(a)}' and '${typeName(b)}'`, e.loc); return a; }
        if (a.k === "str" && b.k === "str") return str(Math.max(a.size, b.size));
        if (a.k === "int" && b.k === "int") return intT(64, a.signed && b.signed);
        return a;
      }
      case "field": {
        if (e.base.kind === "builtin" && e.base.name === "args" && e.arrow) {
          this.expr(e.base);
          const f = this.cur.fields?.find((x) => x.name === e.field);
          if (this.cur.resolved.kind !== "tracepoint") return INT64;
          if (!f) {
            this.err(`Struct/union of type 'struct _tracepoint_${this.cur.resolved.target}_${this.cur.resolved.func}' does not contain a field named '${e.field}'`, e.loc);
            return INT64;
          }
          if (f.kind === "string") return str(f.size);
          if (f.kind === "data_loc") return str(STRLEN);
          if (f.kind === "pointer") return UINT64;
          const bits = (f.size === 1 ? 8 : f.size === 2 ? 16 : f.size === 4 ? 32 : 64) as 8 | 16 | 32 | 64;
          return intT(bits, f.signed);
        }
        const bt = this.expr(e.base);
        if (bt.k === "none") return NONE;
        if (bt.k === "tuple" && !e.arrow && /^\d+$/.test(e.field)) {
          const i = Number(e.field);
          if (i >= bt.elems.length) { this.err(`Invalid tuple index: ${i}. Found ${bt.elems.length} elements in tuple.`, e.loc); return NONE; }
          return bt.elems[i]!;
        }
        const rec = e.arrow ? (bt.k === "ptr" && bt.to.k === "record" ? bt.to : undefined) : bt.k === "record" ? bt : undefined;
        if (e.arrow && bt.k === "record") { this.err(`Can not access field '${e.field}' on type '${typeName(bt)}'. Try dereferencing it first, or using '.'`, e.loc); return INT64; }
        if (!e.arrow && bt.k === "ptr" && bt.to.k === "record") { this.err(`Can not access field '${e.field}' on type '${typeName(bt)}'. Try dereferencing it first, or using '->'`, e.loc); return INT64; }
        if (rec) {
          if (rec.size === 0 && rec.fields.length === 0 && !this.ctypes.record(rec.name)) return INT64; // reported at the cast
          const f = this.ctypes.field(rec, e.field);
          if (!f) { this.err(`Struct/union of type '${rec.name}' does not contain a field named '${e.field}'`, e.loc); return INT64; }
          return f.type.k === "int" ? f.type : f.type;
        }
        this.err(`Can not access field '${e.field}' on expression of type '${typeName(bt)}'`, e.loc);
        return INT64;
      }
      case "index": {
        const bt = this.expr(e.base);
        this.expr(e.index);
        this.err(`The array index operator [] can only be used on arrays and pointers, found ${typeName(bt)}.`, e.loc);
        return INT64;
      }
      case "cast": {
        const t = this.expr(e.operand);
        const target = this.ctypes.castTarget(e.type, e.ptr);
        if (!target) {
          // bpftrace's span for a struct-value cast reaches one column into the operand
          if (e.ptr === 0 && this.ctypes.record(e.type)) { this.err(`Cannot cast to struct type "${e.type}"`, { ...e.loc, endCol: e.loc.endCol + 1 }); return INT64; }
          if (/^(struct|union) /.test(e.type)) { this.err(`Unknown struct/union: '${e.type}'`, e.loc); return { k: "ptr", to: { k: "record", name: e.type, size: 0, fields: [] } }; }
          this.err(`Cannot resolve unknown type "${e.type}${e.ptr ? " " + "*".repeat(e.ptr) : ""}"`, e.loc);
          return INT64;
        }
        if (!isIntLike(t)) { this.err(`Cannot cast from "${typeName(t)}" to "${typeName(target)}"`, e.loc); }
        return target;
      }
      case "tuple": {
        const elems = e.elems.map((x) => {
          const t = this.expr(x);
          if (t.k === "agg" || t.k === "none") this.err(`Invalid expression for assignment: ${typeName(t)}`, x.loc);
          return t.k === "int" && x.kind === "int" ? INT64 : t;
        });
        return { k: "tuple", elems };
      }
    }
  }

  private warn(msg: string, loc: Loc): void { if (this.final) this.warnings.push(new TraceError(msg, loc, "WARNING")); }

  private stackCall(c: Extract<Expr, { kind: "call" }>): TType {
    let mode: "bpftrace" | "perf" = "bpftrace", limit = 127;
    if (!this.nargs(c, 0, 2)) return { k: "stack", user: c.name === "ustack", mode, limit };
    for (const [i, a] of c.args.entries()) {
      if (a.kind === "ident" && (a.name === "bpftrace" || a.name === "perf") && i === 0) mode = a.name;
      else if (a.kind === "int") {
        limit = Number(a.value);
        if (limit < 1) this.err(`${c.name}: limit must be >= 1 (${limit} provided)`, c.loc);
        if (limit > 1024) this.err(`${c.name}: limit must be <= 1024 (${limit} provided)`, c.loc);
      } else if (a.kind === "ident") { this.expr(a); this.err(`${c.name}() expects a integer literal (none provided)`, c.loc); }
      else this.err(`${c.name}: invalid limit value`, c.loc);
    }
    return { k: "stack", user: c.name === "ustack", mode, limit };
  }

  private nargs(c: Extract<Expr, { kind: "call" }>, min: number, max = min): boolean {
    const n = c.args.length;
    if (n >= min && n <= max) return true;
    let msg: string;
    if (min === max) msg = min === 0 ? `${c.name}() requires no arguments` : min === 1 ? `${c.name}() requires one argument` : `${c.name}() requires ${min} arguments`;
    else if (n < min) msg = min === 1 ? `${c.name}() requires at least one argument` : `${c.name}() requires at least ${min} arguments`;
    else msg = max === 0 ? `${c.name}() requires no arguments` : max === 1 ? `${c.name}() takes up to one argument` : `${c.name}() takes up to ${max} arguments`;
    this.err(`${msg} (${n} provided)`, c.loc);
    return false;
  }

  private call(c: Extract<Expr, { kind: "call" }>, assignedToMap: boolean): TType {
    const argTypes = c.args.map((a) => (a.kind === "map" && ["print", "clear", "zero", "delete"].includes(c.name) ? NONE
      : a.kind === "ident" && ["kstack", "ustack", "sizeof"].includes(c.name) ? NONE : this.expr(a)));
    const wantInt = (i: number) => {
      const t = argTypes[i];
      if (t && t.k !== "int") this.err(`${c.name}() only supports integer arguments (${typeName(t)} provided)`, c.loc);
    };
    switch (c.name) {
      case "count": this.nargs(c, 0); break;
      case "sum": case "min": case "max": case "avg": case "stats": case "hist":
        if (this.nargs(c, 1)) wantInt(0);
        break;
      case "lhist": if (this.nargs(c, 4)) wantInt(0); break;
      case "printf": case "system": {
        if (c.name === "system" && !this.opts.unsafe) this.err("system() is an unsafe function being used in safe mode", c.loc);
        if (!this.nargs(c, 1, 128)) return NONE;
        const f = c.args[0]!;
        if (f.kind !== "str") { this.err(`${c.name}() expects a string literal (${typeName(argTypes[0]!)} provided)`, c.loc); return NONE; }
        let specs: ReturnType<typeof printfSpecs>;
        try { specs = printfSpecs(f.value); } catch (e) { this.err(`${c.name}: ${(e as Error).message}`, c.loc); return NONE; }
        const given = c.args.length - 1;
        if (given < specs.length) { this.err(`${c.name}: Not enough arguments for format string (${given} supplied, ${specs.length} expected)`, c.loc); return NONE; }
        if (given > specs.length) { this.err(`${c.name}: Too many arguments for format string (${given} supplied, ${specs.length} expected)`, c.loc); return NONE; }
        specs.forEach((s, i) => {
          const t = argTypes[i + 1]!;
          const want = s.conv === "s" ? "string" : s.conv === "r" ? "buffer" : "integer";
          const have = t.k === "buf" ? (s.conv === "s" ? "string" : "buffer") : isTextual(t) ? "string" : isIntLike(t) || t.k === "agg" ? "integer" : typeName(t);
          if (want !== have) this.err(`${c.name}: %${s.conv} specifier expects a value of type ${want} (${have} supplied)`, c.loc);
        });
        return NONE;
      }
      case "print": {
        if (!this.nargs(c, 1, 3)) return NONE;
        const a = c.args[0]!;
        if (a.kind === "map") {
          if (a.keys.length) this.err(`The map passed to print() should not be indexed by a key`, c.loc);
          else if (!this.maps.has(a.name) && this.final) this.err(`Undefined map: ${a.name}`, a.loc);
        } else if (c.args.length > 1) this.err(`Non-map print() only takes 1 argument, ${c.args.length} found`, c.loc);
        else {
          const t = argTypes[0]!;
          if (t.k === "ptr" || t.k === "record" || t.k === "none") this.err(`${typeName(t)} type passed to print() is not printable`, c.loc);
        }
        return NONE;
      }
      case "clear": case "zero": {
        if (!this.nargs(c, 1)) return NONE;
        const a = c.args[0]!;
        if (a.kind !== "map") this.err(`${c.name}() expects a map to be provided`, c.loc);
        else if (a.keys.length) this.err(`The map passed to ${c.name}() should not be indexed by a key`, c.loc);
        return NONE;
      }
      case "delete": {
        if (!this.nargs(c, 1)) return NONE;
        const a = c.args[0]!;
        if (a.kind !== "map") this.err("delete() expects a map to be provided", c.loc);
        else this.expr(a);
        return NONE;
      }
      case "exit": this.nargs(c, 0); return NONE;
      case "time": this.nargs(c, 0, 1); return NONE;
      case "str": {
        if (!this.nargs(c, 1, 2)) return str(STRLEN);
        const t = argTypes[0]!;
        if (t.k !== "int" && t.k !== "str") this.err(`str() expects an integer or a pointer type as first argument (${typeName(t)} provided)`, c.loc);
        if (c.args[1] && c.args[1].kind === "int") return str(Math.min(STRLEN, Number(c.args[1].value) + 1));
        return t.k === "str" ? t : str(STRLEN);
      }
      case "strncmp": this.nargs(c, 3); return UINT64;
      case "bswap": this.nargs(c, 1); return argTypes[0] ?? INT64;
      case "kstack": case "ustack": return this.stackCall(c);
      case "ksym": case "usym":
        if (this.nargs(c, 1) && !isIntLike(argTypes[0]!)) this.err(`${c.name}() expects an integer or pointer argument`, c.loc);
        return { k: c.name };
      case "kaddr": {
        if (!this.nargs(c, 1)) return UINT64;
        const a = c.args[0]!;
        if (a.kind !== "str") { this.err("kaddr() expects a string literal", c.loc); return UINT64; }
        const addr = this.opts.env.kernelSymbol?.(a.value);
        if (addr === undefined && this.final) this.errors.push(new TraceError(`Failed to compile: Failed to resolve kernel symbol: ${a.value}`, undefined));
        this.consts.set(c, addr ?? 0n);
        return UINT64;
      }
      case "uaddr": {
        if (!this.nargs(c, 1)) return UINT64;
        const a = c.args[0]!;
        if (a.kind !== "str") { this.err("uaddr() expects a string literal", c.loc); return UINT64; }
        const kind = this.cur.resolved.kind;
        if (!USER_KINDS.includes(kind)) { this.err(`uaddr can not be used with "${kind}" probes`, c.loc); return UINT64; }
        const sym = this.opts.env.userSymbol?.(this.cur.resolved.target, a.value);
        if (!sym || sym.address === 0n) { this.err(`Could not resolve symbol: ${this.cur.resolved.target}:${a.value}`, c.loc); return UINT64; }
        this.consts.set(c, sym.address);
        const bits = sym.size === 1 || sym.size === 2 || sym.size === 4 ? sym.size * 8 : 64;
        return { k: "ptr", to: intT(bits as 8 | 16 | 32 | 64, true) };
      }
      case "ntop": {
        if (!this.nargs(c, 1, 2)) return { k: "inet" };
        const at = argTypes[c.args.length - 1]!;
        if (c.args.length === 2 && argTypes[0]!.k !== "int") this.err(`ntop() only supports integer arguments (${typeName(argTypes[0]!)} provided)`, c.loc);
        if (at.k !== "int" && at.k !== "str") this.err(`ntop() expects an integer or array argument, got ${at.k}`, c.loc);
        else if (at.k === "str" && at.size !== 4 && at.size !== 16) this.err("ntop() argument must be 4 or 16 bytes in size", c.loc);
        return { k: "inet" };
      }
      case "buf": {
        if (!this.nargs(c, 1, 2)) return { k: "buf", size: 1 };
        const at = argTypes[0]!;
        if (!isIntLike(at) && at.k !== "str") this.err(`buf() expects an integer, string, or array argument but saw ${at.k === "int" ? "integer" : at.k}`, c.loc);
        let n = STRLEN;
        if (c.args.length === 1) this.err(`buf() expects a length argument for non-array type ${at.k === "str" ? "string" : "integer"}`, c.loc);
        else {
          const l = c.args[1]!;
          if (l.kind === "int") {
            if (l.value < 0n) this.err(`buf cannot use negative length (${l.value})`, c.loc);
            n = Number(l.value);
          }
        }
        if (n > STRLEN) { this.warn(`buf() length is too long and will be shortened to ${STRLEN} bytes (see BPFTRACE_STRLEN)`, c.loc); n = STRLEN; }
        return { k: "buf", size: n + 1 };
      }
      case "cat": {
        if (!this.nargs(c, 1, 128)) return NONE;
        if (c.args[0]!.kind !== "str") this.err(`cat() expects a string literal (${kindName(argTypes[0]!)} provided)`, c.loc);
        return NONE;
      }
      case "join": {
        if (!this.nargs(c, 1, 2)) return NONE;
        if (!isIntLike(argTypes[0]!)) this.err(`() only supports int or pointer arguments (${argTypes[0]!.k} provided)`, c.loc);
        if (c.args[1] && c.args[1].kind !== "str") this.err(`join() expects a string literal (${kindName(argTypes[1]!)} provided)`, c.loc);
        return NONE;
      }
      case "reg": {
        const kind = this.cur.resolved.kind;
        if (!["uprobe", "uretprobe", "kprobe", "kretprobe", "usdt", "profile", "interval", "software", "hardware"].includes(kind)) {
          this.err(`reg can not be used with "${kind}" probes`, c.loc);
          return UINT64;
        }
        if (!this.nargs(c, 1)) return UINT64;
        const a = c.args[0]!;
        if (a.kind !== "str") { this.err("reg() expects a string literal", c.loc); return UINT64; }
        if (PT_REGS[a.value] === undefined) this.err(`'${a.value}' is not a valid register on this architecture (x86_64)`, c.loc);
        return UINT64;
      }
      case "signal": {
        if (!this.opts.unsafe) this.err("signal() is an unsafe function being used in safe mode", c.loc);
        if (!this.nargs(c, 1)) return NONE;
        const kind = this.cur.resolved.kind;
        if (kind === "BEGIN" || kind === "END") this.err(`signal can not be used with "${kind}" probes`, c.loc);
        const a = c.args[0]!;
        if (a.kind === "str" && signalNumber(a.value) === undefined) this.err(`${a.value} is not a valid signal`, c.loc);
        else if (a.kind === "int" && (a.value < 1n || a.value > 64n)) this.err(`${a.value} is not a valid signal, allowed range: [1,64]`, c.loc);
        return NONE;
      }
      case "override": {
        if (!this.opts.unsafe) this.err("override() is an unsafe function being used in safe mode", c.loc);
        const kind = this.cur.resolved.kind;
        if (kind !== "kprobe") this.err("override can only be used with kprobes.", c.loc);
        this.nargs(c, 1);
        return NONE;
      }
      case "sizeof": {
        if (!this.nargs(c, 1)) return UINT64;
        const a = c.args[0]!;
        let n: number | undefined;
        if (a.kind === "ident") {
          n = this.ctypes.sizeOf(a.name);
          if (n === undefined) this.err(`Cannot resolve unknown type "${a.name}"`, a.loc);
        } else n = typeSize(this.types.get(a) ?? INT64);
        this.consts.set(c, BigInt(n ?? 0));
        return UINT64;
      }
      default:
        this.err(`bpfkit trace does not support ${c.name}() yet`, c.loc);
        return NONE;
    }
    if (!assignedToMap && AGG.includes(c.name)) return { k: "agg", fn: c.name as AggFn, signed: false };
    return NONE;
  }
}

export { typeSize };

/** bpftrace's Type names in "expects X (Y provided)" messages */
const kindName = (t: TType): string => (t.k === "int" ? "integer" : t.k === "str" ? "string" : t.k === "ptr" ? "pointer" : t.k);

/** integers and pointers: values held in a register */
export const isIntLike = (t: TType): boolean => t.k === "int" || t.k === "ptr";

function sameTuple(a: Extract<TType, { k: "tuple" }>, b: Extract<TType, { k: "tuple" }>): boolean {
  return a.elems.length === b.elems.length && a.elems.every((x, i) => {
    const y = b.elems[i]!;
    if (x.k === "tuple" && y.k === "tuple") return sameTuple(x, y);
    return x.k === y.k && (x.k !== "int" || (y.k === "int" && x.bits === y.bits));
  });
}

function widenTuple(a: Extract<TType, { k: "tuple" }>, b: Extract<TType, { k: "tuple" }>): Extract<TType, { k: "tuple" }> {
  return { k: "tuple", elems: a.elems.map((x, i) => {
    const y = b.elems[i]!;
    if (x.k === "str" && y.k === "str") return str(Math.max(x.size, y.size));
    if (x.k === "tuple" && y.k === "tuple") return widenTuple(x, y);
    return x;
  }) };
}
