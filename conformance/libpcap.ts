// libpcap's own filter tests (corpora/libpcap/filters.jsonl, from testprogs/TESTrun), restricted to the cases where
// Debian's tcpdump 4.99.3 / libpcap 1.10.3 behaves as libpcap master (`debian_same: true`):
//  - accept: the `-d` listing must equal `expected` exactly;
//  - reject: compilation must fail with a message containing `expected`;
//  - apply: the filter runs over the savefile; the packets it accepts must be those with a nonzero `results` entry.
import { readFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { CorpusResult } from "./types.ts";
import { CORPORA } from "./types.ts";
import { compileFilter, compileOfflineFilter } from "../src/filter/index.ts";
import { linkTypeByFileValue } from "../src/filter/linktypes.ts";
import { dumpProgram } from "../src/isa/cbpf/image.ts";
import { openCapture } from "../src/capture/index.ts";

interface LibpcapCase {
  kind: "accept" | "reject" | "apply";
  name: string;
  expr: string | null;
  linktype: string;
  optimize: boolean;
  expected: string;
  snaplen?: number;
  savefile?: string;
  results?: number[];
  alias_index?: number;
  debian_same: boolean | null;
  debian_note?: string;
  debian_output?: string;
}

/** What Debian's tcpdump did with an accept/reject case: its listing, or its error message. */
function debianBehaviour(c: LibpcapCase): { listing: string } | { error: string } {
  if (c.debian_same === true) return c.kind === "accept" ? { listing: c.expected } : { error: c.expected };
  const out = c.debian_output ?? "";
  if (out.startsWith("tcpdump: ")) return { error: out.slice("tcpdump: ".length).trim() };
  return { listing: out };
}

/** Compares bpfkit with Debian's tcpdump on every accept/reject case tcpdump can express (debian_same not null). */
function compareWithDebian(cases: readonly LibpcapCase[]): string {
  let agree = 0;
  let total = 0;
  for (const c of cases) {
    if (c.debian_same === null || c.kind === "apply" || c.expr === null) continue;
    total++;
    const want = debianBehaviour(c);
    let got: { listing: string } | { error: string };
    try {
      got = { listing: dumpProgram(compileFilter(c.expr, { linktype: c.linktype, optimize: c.kind === "reject" ? true : c.optimize, snaplen: c.snaplen || 262144 }).insns, 1) };
    } catch (e) {
      got = { error: (e as Error).message };
    }
    if ("listing" in want ? "listing" in got && got.listing === want.listing
      : "error" in got && (c.debian_same === true ? got.error.includes(want.error) : got.error.trim() === want.error)) agree++;
  }
  return `vs Debian tcpdump on all ${total} accept/reject cases it can express (including debian_same: false): ${agree} behave the same`;
}

/** Apply cases against Debian's tcpdump: the same matching packets (1-based numbers), or the same refusal. */
function compareApplyWithDebian(cases: readonly LibpcapCase[]): string {
  let agree = 0;
  let total = 0;
  for (const c of cases) {
    if (c.kind !== "apply" || c.debian_same === null) continue;
    total++;
    const cap = openCapture(readFileSync(fileURLToPath(new URL(`libpcap/${c.savefile}`, CORPORA))));
    const row = linkTypeByFileValue(cap.info.linktype);
    let got: string;
    try {
      const f = compileOfflineFilter(compileFilter(c.expr ?? "", { linktype: row ? row[1] : cap.info.linktype,
        optimize: c.optimize, snaplen: cap.info.snaplen, readingFile: true, swapped: cap.info.byteOrder === "be" }).insns);
      const m: number[] = [];
      let i = 0;
      for (const p of cap.packets()) { i++; if (f(p.data, p.len) !== 0) m.push(i); }
      got = `matching packets (1-based): [${m.join(", ")}]`;
    } catch (e) {
      got = `tcpdump: ${(e as Error).message}`;
    }
    let want: string;
    if (c.debian_same === true) want = `matching packets (1-based): [${(c.results ?? []).flatMap((r, i) => (r !== 0 ? [i + 1] : [])).join(", ")}]`;
    else {
      const out = c.debian_output ?? "";
      want = out.includes("matching packets") ? out.trim() : out.split("\n").filter((l) => l.startsWith("tcpdump: ")).join("\n");
    }
    if (got === want) agree++;
  }
  return `vs Debian tcpdump on all ${total} apply cases (including debian_same: false): ${agree} match the same packets or fail the same way`;
}

const FILE = new URL("libpcap/filters.jsonl", CORPORA);

function runCase(c: LibpcapCase): string | null {
  const expr = c.expr ?? "";
  if (c.kind === "accept") {
    let got: string;
    try {
      got = dumpProgram(compileFilter(expr, { linktype: c.linktype, optimize: c.optimize, snaplen: c.snaplen || 262144 }).insns, 1);
    } catch (e) {
      return `rejected: ${(e as Error).message}`;
    }
    return got === c.expected ? null : "listing differs";
  }
  if (c.kind === "reject") {
    try {
      compileFilter(expr, { linktype: c.linktype, optimize: true, snaplen: c.snaplen || 262144 });
    } catch (e) {
      const msg = (e as Error).message;
      return msg.includes(c.expected) ? null : `error '${msg}'`;
    }
    return "accepted";
  }
  // apply
  const bytes = readFileSync(fileURLToPath(new URL(`libpcap/${c.savefile}`, CORPORA)));
  const cap = openCapture(bytes);
  const row = linkTypeByFileValue(cap.info.linktype);
  let f: (pkt: Uint8Array, len: number) => number;
  try {
    const prog = compileFilter(expr, { linktype: row ? row[1] : cap.info.linktype, optimize: c.optimize,
      snaplen: cap.info.snaplen, readingFile: true, swapped: cap.info.byteOrder === "be" });
    f = compileOfflineFilter(prog.insns);
  } catch (e) {
    return `rejected: ${(e as Error).message}`;
  }
  const got: number[] = [];
  for (const p of cap.packets()) got.push(f(p.data, p.len) !== 0 ? 1 : 0);
  const want = (c.results ?? []).map((r) => (r !== 0 ? 1 : 0));
  return got.join("") === want.join("") ? null : `matches ${got.join("")}, want ${want.join("")}`;
}

export async function run(): Promise<CorpusResult[]> {
  const path = fileURLToPath(FILE);
  if (!existsSync(path)) return [{ name: "libpcap", passed: 0, failed: 0, failures: [], skipped: `${path} not found` }];
  const everything = readFileSync(path, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as LibpcapCase);
  const cases = everything.filter((c) => c.debian_same === true);
  const results: CorpusResult[] = [];
  for (const kind of ["accept", "reject", "apply"] as const) {
    const mine = cases.filter((c) => c.kind === kind);
    const failures: string[] = [];
    for (const c of mine) {
      let why: string | null;
      try {
        why = runCase(c);
      } catch (e) {
        why = `crash: ${(e as Error).message}`;
      }
      if (why !== null) failures.push(`${c.name}[${c.alias_index ?? 0}] ${c.linktype}${c.optimize ? "" : " -O"} '${c.expr}': ${why}`);
    }
    results.push({ name: `libpcap ${kind}`, passed: mine.length - failures.length, failed: failures.length, failures });
  }
  const passed = results.reduce((n, r) => n + r.passed, 0);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  results.push({ name: "libpcap", passed, failed, failures: [], summary: `libpcap: ${passed} passed, ${failed} failed`,
    notes: [compareWithDebian(everything), compareApplyWithDebian(everything)] });
  return results;
}
