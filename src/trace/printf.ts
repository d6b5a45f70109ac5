// printf as bpftrace's user space runs it: the format string handed to C's snprintf with each argument, so `%d`
// and `%x` see a 32-bit int unless an `l`/`ll` length is given, `%c` a char, and flags, width and precision behave
// as in C.

export interface PrintfSpec {
  readonly flags: string;
  readonly width?: number;
  readonly precision?: number;
  readonly length: string;
  readonly conv: string;
}

type Piece = string | PrintfSpec;

const SPEC = /%([-+ #0]*)(\d+)?(?:\.(\d*))?(hh|h|ll|l|z|j|t)?([diouxXcspr%])/y;

export function parseFormat(fmt: string): Piece[] {
  const out: Piece[] = [];
  let lit = "";
  for (let i = 0; i < fmt.length;) {
    if (fmt[i] !== "%") { lit += fmt[i++]; continue; }
    SPEC.lastIndex = i;
    const m = SPEC.exec(fmt);
    if (!m) throw new Error(`Unknown format string token: ${fmt.slice(i, i + 2)}`);
    i = SPEC.lastIndex;
    if (m[5] === "%") { lit += "%%"; continue; } // bpftrace 0.17 prints "%%" as is
    if (lit) { out.push(lit); lit = ""; }
    out.push({
      flags: m[1] ?? "", width: m[2] === undefined ? undefined : Number(m[2]),
      precision: m[3] === undefined ? undefined : Number(m[3] || 0), length: m[4] ?? "", conv: m[5]!,
    });
  }
  if (lit) out.push(lit);
  return out;
}

export function printfSpecs(fmt: string): PrintfSpec[] {
  return parseFormat(fmt).filter((p): p is PrintfSpec => typeof p !== "string");
}

function pad(s: string, spec: PrintfSpec, numeric: boolean): string {
  const w = spec.width ?? 0;
  if (s.length >= w) return s;
  if (spec.flags.includes("-")) return s.padEnd(w);
  if (numeric && spec.flags.includes("0") && spec.precision === undefined) {
    const sign = /^[-+ ]/.test(s) ? s[0]! : "";
    const pre = /^0[xX]/.test(s.slice(sign.length)) ? s.slice(sign.length, sign.length + 2) : "";
    const body = s.slice(sign.length + pre.length);
    return sign + pre + body.padStart(w - sign.length - pre.length, "0");
  }
  return s.padStart(w);
}

function bitsOf(length: string): number {
  if (length === "hh") return 8;
  if (length === "h") return 16;
  if (length === "") return 32;
  return 64;
}

/** Formats one integer argument (the 64-bit value bpftrace passes) as C would for this spec. */
export function formatInt(v: bigint, spec: PrintfSpec): string {
  const bits = BigInt(bitsOf(spec.length));
  if (spec.conv === "c") return pad(String.fromCharCode(Number(BigInt.asUintN(8, v))), spec, false);
  let s: string;
  if (spec.conv === "d" || spec.conv === "i") {
    const x = BigInt.asIntN(Number(bits), v);
    let digits = (x < 0n ? -x : x).toString();
    if (spec.precision !== undefined) digits = spec.precision === 0 && x === 0n ? "" : digits.padStart(spec.precision, "0");
    s = (x < 0n ? "-" : spec.flags.includes("+") ? "+" : spec.flags.includes(" ") ? " " : "") + digits;
    return pad(s, spec, true);
  }
  const x = spec.conv === "p" ? BigInt.asUintN(64, v) : BigInt.asUintN(Number(bits), v);
  const radix = spec.conv === "o" ? 8 : spec.conv === "u" ? 10 : 16;
  let digits = x.toString(radix);
  if (spec.conv === "X") digits = digits.toUpperCase();
  if (spec.precision !== undefined) digits = spec.precision === 0 && x === 0n ? "" : digits.padStart(spec.precision, "0");
  if (spec.conv === "p") s = x === 0n ? "(nil)" : "0x" + digits;
  else if (spec.flags.includes("#") && x !== 0n) s = (spec.conv === "o" ? "0" : spec.conv === "x" ? "0x" : spec.conv === "X" ? "0X" : "") + digits;
  else s = digits;
  return pad(s, spec, true);
}

export function formatStr(v: string, spec: PrintfSpec): string {
  return pad(spec.precision === undefined ? v : v.slice(0, spec.precision), spec, false);
}

/** snprintf(fmt, args...) for parsed pieces; integers as bigint, strings as string. */
export function formatPrintf(pieces: readonly Piece[], args: readonly (bigint | string)[]): string {
  let out = "", ai = 0;
  for (const p of pieces) {
    if (typeof p === "string") { out += p; continue; }
    const a = args[ai++];
    if (typeof a === "string") out += formatStr(a, p);
    else if (p.conv === "s") out += formatStr(String(a ?? 0n), p);
    else out += formatInt(a ?? 0n, p);
  }
  return out;
}
