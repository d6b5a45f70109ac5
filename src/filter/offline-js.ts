// The fastest form of libpcap's bpf_filter semantics: the program becomes one JavaScript function (a switch over
// the program counter whose cases fall through in program order, so straight-line code runs without dispatch), which
// the engine compiles to machine code. Same results as ./offline.ts; falls back to it where code generation is not
// allowed (e.g. a Content-Security-Policy without 'unsafe-eval').
import type { CbpfInsn } from "../isa/cbpf/insn.ts";
import { compileOfflineFilter, type PacketFilter } from "./offline.ts";

function loadAbs(size: number, k: number): string {
  const u = k >>> 0;
  if (size === 4) return `if (buflen < ${u + 4}) return 0; A = (p[b + ${u}] << 24) | (p[b + ${u + 1}] << 16) | (p[b + ${u + 2}] << 8) | p[b + ${u + 3}];`;
  if (size === 2) return `if (buflen < ${u + 2}) return 0; A = (p[b + ${u}] << 8) | p[b + ${u + 1}];`;
  return `if (buflen < ${u + 1}) return 0; A = p[b + ${u}];`;
}

function loadInd(size: number, k: number): string {
  const u = `u = (X >>> 0) + ${k >>> 0};`;
  if (size === 4) return `${u} if (u + 4 > buflen) return 0; u += b; A = (p[u] << 24) | (p[u + 1] << 16) | (p[u + 2] << 8) | p[u + 3];`;
  if (size === 2) return `${u} if (u + 2 > buflen) return 0; u += b; A = (p[u] << 8) | p[u + 1];`;
  return `${u} if (u >= buflen) return 0; A = p[b + u];`;
}

const ALU: Readonly<Record<number, (v: string) => string>> = {
  0x00: (v) => `A = (A + ${v}) | 0;`, 0x10: (v) => `A = (A - ${v}) | 0;`, 0x20: (v) => `A = Math.imul(A, ${v});`,
  0x30: (v) => `if ((${v}) === 0) return 0; A = ((A >>> 0) / ((${v}) >>> 0)) | 0;`,
  0x90: (v) => `if ((${v}) === 0) return 0; A = ((A >>> 0) % ((${v}) >>> 0)) | 0;`,
  0x50: (v) => `A &= ${v};`, 0x40: (v) => `A |= ${v};`, 0xa0: (v) => `A ^= ${v};`,
  0x60: (v) => `A = ((${v}) >>> 0) < 32 ? A << (${v}) : 0;`, 0x70: (v) => `A = ((${v}) >>> 0) < 32 ? A >>> (${v}) : 0;`,
};

/** JavaScript source of the filter body, or null for an instruction this generator does not know. */
function generateSource(insns: readonly CbpfInsn[]): string | null {
  const n = insns.length;
  const lines: string[] = [];
  const jump = (target: number, next: number): string =>
    target >= n ? "return 0;" : target === next ? "" : `pc = ${target}; continue;`;
  for (let pc = 0; pc < n; pc++) {
    const { code, jt, jf } = insns[pc]!;
    const k = insns[pc]!.k | 0;
    let body: string;
    const cls = code & 0x07;
    if (code === 0x06) body = `return ${k >>> 0};`;
    else if (code === 0x16) body = "return A >>> 0;";
    else if (code === 0x20 || code === 0x28 || code === 0x30) body = loadAbs(code === 0x20 ? 4 : code === 0x28 ? 2 : 1, k);
    else if (code === 0x40 || code === 0x48 || code === 0x50) body = loadInd(code === 0x40 ? 4 : code === 0x48 ? 2 : 1, k);
    else if (code === 0x80) body = "A = wirelen;";
    else if (code === 0x81) body = "X = wirelen;";
    else if (code === 0xb1) body = `if (buflen <= ${k >>> 0}) return 0; X = (p[b + ${k >>> 0}] & 0xf) << 2;`;
    else if (code === 0x00) body = `A = ${k};`;
    else if (code === 0x01) body = `X = ${k};`;
    else if (code === 0x60) body = `A = M[${k & 15}];`;
    else if (code === 0x61) body = `X = M[${k & 15}];`;
    else if (code === 0x02) body = `M[${k & 15}] = A;`;
    else if (code === 0x03) body = `M[${k & 15}] = X;`;
    else if (code === 0x05) body = jump(pc + 1 + k, pc + 1) || "";
    else if (code === 0x84) body = "A = -A | 0;";
    else if (code === 0x07) body = "X = A;";
    else if (code === 0x87) body = "A = X;";
    else if (cls === 0x05) {
      const v = (code & 0x08) ? "X" : String(k);
      let cond: string;
      switch (code & 0xf0) {
        case 0x10: cond = `A === ${v}`; break;
        case 0x20: cond = `(A >>> 0) > (${v} >>> 0)`; break;
        case 0x30: cond = `(A >>> 0) >= (${v} >>> 0)`; break;
        case 0x40: cond = `(A & ${v}) !== 0`; break;
        default: return null;
      }
      const t = pc + 1 + jt;
      const f = pc + 1 + jf;
      body = t === f ? jump(t, pc + 1) : `if (${cond}) { ${jump(t, pc + 1) || `pc = ${t}; continue;`} } ${jump(f, pc + 1)}`;
    } else if (cls === 0x04 && ALU[code & 0xf0] !== undefined) {
      body = ALU[code & 0xf0]!((code & 0x08) ? "X" : String(k));
    } else return null;
    lines.push(`case ${pc}: ${body}`);
  }
  return `"use strict"; const M = new Int32Array(16);
return function filter(p, wirelen, b = 0, end = p.length) {
  const buflen = end - b; let A = 0, X = 0, pc = 0, u = 0;
  for (;;) switch (pc) {
${lines.join("\n")}
  default: return 0;
  }
};`;
}

/** A filter with bpf_filter's results, compiled to a JavaScript function when the environment allows it. */
export function compileOfflineFilterJs(insns: readonly CbpfInsn[]): PacketFilter {
  const interp = compileOfflineFilter(insns);
  const src = generateSource(insns);
  if (src === null) return interp;
  try {
    return (new Function(src) as () => PacketFilter)();
  } catch {
    return interp;
  }
}

export { generateSource as offlineFilterSource };
