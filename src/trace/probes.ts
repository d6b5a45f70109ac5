// Attach points: bpftrace's provider names and aliases, the parts of each kind (tracepoint:CAT:NAME,
// uprobe:BIN:SYM, profile:hz:N, interval:ms:N, software:EVENT:N, ...), wildcard expansion against what the backend
// lists, and tracepoint format files parsed into typed `args` fields. Pure: the backend supplies the listings.
import type { AttachPoint } from "./ast.ts";
import { TraceError } from "./errors.ts";
import type { UsdtArg } from "../object/usdt.ts";

export type ProviderKind =
  | "BEGIN" | "END" | "tracepoint" | "rawtracepoint" | "uprobe" | "uretprobe" | "usdt" | "profile" | "interval"
  | "software" | "hardware" | "kprobe" | "kretprobe" | "fentry" | "fexit" | "watchpoint";

const ALIASES: Record<string, ProviderKind> = {
  BEGIN: "BEGIN", END: "END", tracepoint: "tracepoint", t: "tracepoint", rawtracepoint: "rawtracepoint", rt: "rawtracepoint",
  uprobe: "uprobe", u: "uprobe", uretprobe: "uretprobe", ur: "uretprobe", usdt: "usdt", U: "usdt", profile: "profile",
  p: "profile", interval: "interval", i: "interval", software: "software", s: "software", hardware: "hardware",
  h: "hardware", kprobe: "kprobe", k: "kprobe", kretprobe: "kretprobe", kr: "kretprobe", fentry: "fentry", f: "fentry",
  kfunc: "fentry", fexit: "fexit", fr: "fexit", kretfunc: "fexit", watchpoint: "watchpoint", w: "watchpoint",
};

/** One concrete attach point after expansion. */
export interface ResolvedProbe {
  readonly kind: ProviderKind;
  /** the probe's full name as bpftrace prints it (`probe` builtin): "tracepoint:syscalls:sys_enter_read" */
  readonly name: string;
  /** tracepoint category, binary path, unit (hz/s/ms/us), software/hardware event */
  readonly target: string;
  /** tracepoint name, symbol, raw tracepoint name */
  readonly func: string;
  /** profile/interval/software/hardware: the rate or period */
  readonly freq: number;
  readonly loc: AttachPoint["loc"];
  /** usdt probes of a binary's notes: each argument's spec (undefined: a form bpfkit cannot read) */
  readonly usdtArgs?: readonly (UsdtArg | undefined)[];
}

/** What a backend can list (tracefs, BTF, ELF symbols on Linux; the VM's attach points elsewhere). */
export interface ProbeEnv {
  tracepoints(): readonly string[];
  tracepointFormat(category: string, name: string): string | undefined;
  /** function symbols of a binary, for uprobe wildcards */
  symbols?(binary: string): readonly string[];
  /** resolves a binary name ("bash") to a path as bpftrace does through $PATH */
  resolveBinary?(name: string): string | undefined;
  /** kprobes: whether a kernel function is in available_filter_functions (undefined: unknown) */
  traceable?(func: string): boolean | undefined;
  /** kaddr(): the first /proc/kallsyms address of a kernel symbol */
  kernelSymbol?(name: string): bigint | undefined;
  /** uaddr(): a data symbol of a binary (address as in the ELF file, size in bytes) */
  userSymbol?(binary: string, name: string): { address: bigint; size: number } | undefined;
  /** the kernel's BTF, for struct casts and curtask (loaded on first use) */
  btf?(): import("../btf/index.ts").Btf | undefined;
  /** the USDT notes of a binary (Linux); without it usdt:TARGET:NAME names an event the VM fires by name */
  usdt?(binary: string): readonly UsdtProbeInfo[];
}

/** A USDT probe site as a backend lists it. */
export interface UsdtProbeInfo {
  readonly provider: string;
  readonly name: string;
  readonly args: readonly (UsdtArg | undefined)[];
}

function globToRegExp(glob: string): RegExp {
  return new RegExp("^" + glob.replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$");
}

/** Splits on ':' outside quotes, as bpftrace's attach point parser does. */
function splitParts(raw: string): string[] {
  const out: string[] = [];
  let cur = "", quoted = false;
  for (const c of raw) {
    if (c === '"') { quoted = !quoted; continue; }
    if (c === ":" && !quoted) { out.push(cur); cur = ""; continue; }
    cur += c;
  }
  out.push(cur);
  return out;
}

const SOFTWARE_EVENTS = ["cpu-clock", "cpu", "task-clock", "page-faults", "faults", "context-switches", "cs",
  "cpu-migrations", "minor-faults", "major-faults", "alignment-faults", "emulation-faults", "dummy", "bpf-output"];
const HARDWARE_EVENTS = ["cpu-cycles", "cycles", "instructions", "cache-references", "cache-misses",
  "branch-instructions", "branches", "branch-misses", "bus-cycles", "frontend-stalls", "backend-stalls", "ref-cycles"];

/** Expands one attach point into concrete probes (wildcards against the env). Errors carry bpftrace's text. */
export function resolveAttachPoint(ap: AttachPoint, env: ProbeEnv): ResolvedProbe[] {
  const parts = splitParts(ap.raw);
  const prov = ALIASES[parts[0]!];
  const err = (m: string): never => { throw new TraceError(m, ap.loc); };
  // Debian's bpftrace 0.17 has no fentry/fexit here; like unknown providers they end with this message.
  // (rawtracepoint, also missing there, is kept as a bpfkit extension.)
  if (prov === undefined || prov === "fentry" || prov === "fexit") {
    throw new TraceError("Invalid probe type made it to attachpoint parser", undefined, "FATAL");
  }
  const mk = (kind: ProviderKind, target: string, func: string, freq = 0, name?: string): ResolvedProbe =>
    ({ kind, target, func, freq, loc: ap.loc, name: name ?? [kind, target, func].filter((x) => x !== "").join(":") });
  switch (prov!) {
    case "BEGIN": case "END":
      if (parts.length !== 1) err(`${prov} probe type requires 0 arguments`);
      return [mk(prov!, "", "", 0, prov)];
    case "tracepoint": {
      if (parts.length !== 3) err("tracepoint probe type requires 2 arguments");
      const [, cat, name] = parts as [string, string, string];
      if (cat.includes("*") || name.includes("*") || cat.includes("?") || name.includes("?")) {
        const rc = globToRegExp(cat), rn = globToRegExp(name);
        const found = env.tracepoints().filter((t) => { const [c, n] = t.split(":") as [string, string]; return rc.test(c) && rn.test(n); });
        if (found.length === 0) err(`tracepoint not found: ${cat}:${name}`);
        return found.sort().map((t) => { const [c, n] = t.split(":") as [string, string]; return mk("tracepoint", c, n); });
      }
      if (env.tracepointFormat(cat, name) === undefined) err(`tracepoint not found: ${cat}:${name}`);
      return [mk("tracepoint", cat, name)];
    }
    case "rawtracepoint":
      if (parts.length !== 2) err("rawtracepoint probe type requires 1 argument");
      return [mk("rawtracepoint", "", parts[1]!)];
    case "uprobe": case "uretprobe": {
      if (parts.length !== 3) err(`${prov} probe type requires 2 arguments`);
      let [, bin, sym] = parts as [string, string, string];
      if (!bin.includes("/")) bin = env.resolveBinary?.(bin) ?? bin;
      if (sym.includes("*")) {
        const re = globToRegExp(sym);
        const found = (env.symbols?.(bin) ?? []).filter((s) => re.test(s));
        if (found.length === 0) err(`No probes to attach: ${prov}:${bin}:${sym}`);
        return [...new Set(found)].sort().map((s) => mk(prov!, bin, s));
      }
      return [mk(prov!, bin, sym)];
    }
    case "usdt": {
      if (parts.length < 3) err("usdt probe type requires 2 or 3 arguments");
      if (!env.usdt) return [mk("usdt", parts[1]!, parts.slice(2).join(":"))];
      if (parts.length > 4) err("usdt probe type requires 2 or 3 arguments");
      let bin = parts[1]!;
      if (!bin.includes("/")) bin = env.resolveBinary?.(bin) ?? bin;
      const [prov, name] = parts.length === 4 ? [parts[2]!, parts[3]!] : ["*", parts[2]!];
      const rp = globToRegExp(prov), rn = globToRegExp(name);
      // one program serves every location of a probe: an argument whose spec differs between locations is unreadable
      const byName = new Map<string, { n: UsdtProbeInfo; args: (UsdtArg | undefined)[] }>();
      for (const n of env.usdt(bin)) {
        if (!rp.test(n.provider) || !rn.test(n.name)) continue;
        const seen = byName.get(`${n.provider}:${n.name}`);
        if (!seen) { byName.set(`${n.provider}:${n.name}`, { n, args: [...n.args] }); continue; }
        seen.args.forEach((a, i) => { if (JSON.stringify(a, (_k, v) => (typeof v === "bigint" ? String(v) : v)) !== JSON.stringify(n.args[i], (_k, v) => (typeof v === "bigint" ? String(v) : v))) seen.args[i] = undefined; });
      }
      return [...byName.values()].map(({ n, args }) => ({ ...mk("usdt", bin, `${n.provider}:${n.name}`), usdtArgs: args }));
    }
    case "profile": case "interval": {
      if (parts.length !== 3) err(`${prov} probe type requires 2 arguments`);
      const unit = parts[1]!;
      const units = prov === "profile" ? ["hz", "s", "ms", "us"] : ["s", "ms", "us", "hz"];
      if (!units.includes(unit)) err(`${unit} is not an accepted unit`);
      const n = Number(parts[2]);
      if (!/^\d+$/.test(parts[2]!) || n <= 0) err(`${prov} rate must be a positive integer`);
      return [mk(prov!, unit, String(n), n)];
    }
    case "software": case "hardware": {
      if (parts.length < 2 || parts.length > 3) err(`${prov} probe type requires 1 or 2 arguments`);
      const ev = parts[1]!;
      const known = prov === "software" ? SOFTWARE_EVENTS : HARDWARE_EVENTS;
      if (!known.includes(ev)) err(`Unknown ${prov} event: ${ev}`);
      const count = parts[2] === undefined ? 0 : Number(parts[2]);
      return [mk(prov!, ev, parts[2] ?? "", count)];
    }
    case "kprobe": case "kretprobe": case "watchpoint":
      return [mk(prov!, "", parts.slice(1).join(":"))];
  }
}

/** A typed field of a tracepoint's record. */
export interface TpField {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly signed: boolean;
  /** char arrays: a string of `size` bytes; __data_loc char[]: a string located through the u32 at offset */
  readonly kind: "int" | "string" | "data_loc" | "pointer";
  readonly ctype: string;
}

/** Parses a tracefs format file (`field:TYPE NAME;\toffset:N;\tsize:N;\tsigned:N;`), skipping common_ fields as bpftrace does. */
export function parseTracepointFormat(text: string): TpField[] {
  const out: TpField[] = [];
  for (const m of text.matchAll(/field:([^;]*);\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d+);/g)) {
    const decl = m[1]!.trim();
    const dm = /^(.*?)([A-Za-z_]\w*)\s*(\[[^\]]*\])?$/.exec(decl);
    if (!dm) continue;
    const name = dm[2]!;
    if (name.startsWith("common_")) continue;
    const ctype = dm[1]!.trim();
    const offset = Number(m[2]), size = Number(m[3]), signed = m[4] === "1";
    let kind: TpField["kind"] = "int";
    if (ctype.startsWith("__data_loc")) kind = "data_loc";
    else if (dm[3] && /\bchar\b/.test(ctype)) kind = "string";
    else if (ctype.includes("*")) kind = "pointer";
    out.push({ name, offset, size, signed, kind, ctype: ctype + (dm[3] ?? "") });
  }
  return out;
}
