// The golden corpus (test/fixtures/filter/golden.jsonl, recorded from Debian's tcpdump 4.99.3 / libpcap 1.10.3 by
// scripts/record-filter-golden.ts): every case must print byte for byte what tcpdump printed, or fail with its message.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { compileFilter } from "./index.ts";
import { dumpProgram } from "../isa/cbpf/image.ts";

interface GoldenCase {
  expr: string; linktype: string; optimize: boolean; d: string; dd: string; ddd: string; stderr: string; status: number;
}

const cases: GoldenCase[] = readFileSync(new URL("../../test/fixtures/filter/golden.jsonl", import.meta.url), "utf8")
  .split("\n").filter(Boolean).map((l) => JSON.parse(l) as GoldenCase);

/** What bpfkit prints for a case: the three dumps, or the error text and status 1. */
export function runGoldenCase(c: GoldenCase): { d: string; dd: string; ddd: string; stderr: string; status: number } {
  try {
    const p = compileFilter(c.expr, { linktype: c.linktype, optimize: c.optimize });
    return { d: dumpProgram(p.insns, 1), dd: dumpProgram(p.insns, 2), ddd: dumpProgram(p.insns, 3), stderr: "", status: 0 };
  } catch (e) {
    return { d: "", dd: "", ddd: "", stderr: `${(e as Error).message}\n`, status: 1 };
  }
}

test(`golden corpus: ${cases.length} cases match tcpdump byte for byte`, () => {
  const failures: string[] = [];
  for (const c of cases) {
    const got = runGoldenCase(c);
    const want = { d: c.d, dd: c.dd, ddd: c.ddd, stderr: c.status === 0 ? "" : c.stderr, status: c.status };
    if (JSON.stringify(got) !== JSON.stringify(want)) failures.push(`${c.linktype}${c.optimize ? "" : " -O"} '${c.expr}'`);
  }
  console.log(`golden: ${cases.length - failures.length}/${cases.length} cases match`);
  assert.deepEqual(failures, []);
});
