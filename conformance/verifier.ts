// The verifier corpus (test/fixtures/verifier/cases.json, recorded from Linux 6.18 by scripts/record-verifier-cases.ts):
// bpfkit's verdict and error line against the kernel's for every case; processed counts reported as a figure.
import { readFileSync } from "node:fs";
import type { CorpusResult } from "./types.ts";
import { verify } from "../src/verifier/index.ts";
import type { Insn } from "../src/isa/ebpf/insn.ts";
import { errnoName } from "../src/uapi/index.ts";

interface Recorded {
  name: string; unpriv?: boolean; progType: string; maps?: { type: number; keySize: number; valueSize: number; maxEntries: number; name?: string }[];
  insns: number[][]; expected: { accepted: boolean; errno?: string; error?: string; processed?: number };
}

/** nr_cpu_ids of the machine the corpus was recorded on (bounds bpf_get_smp_processor_id's result). */
export const RECORDED_NR_CPUS = 2;

/** The privileged corpus (root), or with `unpriv` the one recorded without capabilities (cases-unpriv.json). */
export function loadCases(unpriv = false): Recorded[] {
  const file = unpriv ? "cases-unpriv.json" : "cases.json";
  const cases = JSON.parse(readFileSync(new URL(`../test/fixtures/verifier/${file}`, import.meta.url), "utf8")) as Recorded[];
  return unpriv ? cases.map((c) => ({ ...c, unpriv: true })) : cases;
}

export const toInsns = (rows: number[][]): Insn[] => rows.map(([code, dst, src, off, imm]) => ({ code: code!, dst: dst!, src: src!, off: off!, imm: imm! }));

/** Compares one case; returns undefined on agreement, else the reason. */
export function compareCase(c: Recorded): { miss?: string; processedRatio?: number } {
  const r = verify(toInsns(c.insns), { progType: c.progType, maps: c.maps ?? [], logLevel: 1, nrCpus: RECORDED_NR_CPUS, unpriv: c.unpriv ?? false });
  const e = c.expected;
  let ratio: number | undefined;
  if (e.processed && r.processed) ratio = r.processed / e.processed;
  if (r.accepted !== e.accepted) {
    return { miss: e.accepted ? `kernel accepts, bpfkit rejects: ${r.error?.message}` : `kernel rejects (${e.error}), bpfkit accepts` };
  }
  if (!e.accepted) {
    const msg = r.error?.message ?? "";
    if ((e.error ?? "") !== msg) return { miss: `error line: kernel "${e.error}" bpfkit "${msg}"`, processedRatio: ratio };
    const errno = errnoName(r.error!.errno) ?? String(r.error!.errno);
    if (e.errno && errno !== e.errno) return { miss: `errno: kernel ${e.errno} bpfkit ${errno}`, processedRatio: ratio };
  }
  return { processedRatio: ratio };
}

export async function run(): Promise<CorpusResult[]> {
  return [runOne("verifier", loadCases()), runOne("verifier-unpriv", loadCases(true))];
}

function runOne(name: string, cases: Recorded[]): CorpusResult {
  let passed = 0;
  const failures: string[] = [];
  const ratios: number[] = [];
  for (const c of cases) {
    let res: ReturnType<typeof compareCase>;
    try { res = compareCase(c); } catch (e) { res = { miss: `crash: ${(e as Error).stack?.split("\n").slice(0, 2).join(" ")}` }; }
    if (res.processedRatio !== undefined) ratios.push(res.processedRatio);
    if (res.miss) failures.push(`${c.name}: ${res.miss}`); else passed++;
  }
  const within2x = ratios.filter((x) => x <= 2 && x >= 0.5).length;
  const exact = ratios.filter((x) => x === 1).length;
  return {
    name, passed, failed: failures.length, failures,
    notes: [`processed count: ${exact}/${ratios.length} equal to the kernel's, ${within2x}/${ratios.length} within 2x`],
  };
}
