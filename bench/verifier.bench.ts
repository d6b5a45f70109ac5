// Verification time: bpfkit's verifier against the kernel's BPF_PROG_LOAD (verifier + JIT, measured around the
// syscall, maps created once) on the same programs in the same run: the recorded corpus, 2,000 generated programs,
// and bounded loops of growing length. Prints µs per program and per processed instruction, and the ratio.
import { performance } from "node:perf_hooks";
import { availableParallelism } from "node:os";
import { loadCases, toInsns } from "../conformance/verifier.ts";
import { kernelAvailable } from "../test/oracle/kernel.ts";
import { kernelSession } from "../scripts/record-verifier-cases.ts";
import { FUZZ_MAPS, generateProgram } from "../src/verifier/fuzz.ts";
import { verify } from "../src/verifier/index.ts";
import { assemble } from "../src/isa/ebpf/index.ts";
import type { Insn } from "../src/isa/ebpf/insn.ts";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadObject, type BpfObject } from "../src/object/index.ts";
import { closeFd, progLoad } from "../src/kernel/bpf.ts";

interface Job { insns: Insn[]; progType: string; maps: { type: number; keySize: number; valueSize: number; maxEntries: number; name?: string }[] }

function measure(label: string, jobs: Job[], kernel: boolean): void {
  const nrCpus = availableParallelism();
  let processed = 0;
  const t0 = performance.now();
  for (const j of jobs) processed += verify(j.insns, { progType: j.progType, maps: j.maps, nrCpus }).processed;
  const ours = performance.now() - t0;
  let theirs = NaN;
  if (kernel) {
    const byMaps = new Map<string, ReturnType<typeof kernelSession>>();
    let total = 0;
    for (const j of jobs) {
      const key = JSON.stringify(j.maps);
      let s = byMaps.get(key);
      if (!s) { s = kernelSession(j.maps); byMaps.set(key, s); }
      const t = performance.now();
      s.verdict(j.insns, j.progType);
      total += performance.now() - t;
    }
    byMaps.forEach((s) => s.close());
    theirs = total;
  }
  const per = (ms: number): string => `${((1000 * ms) / jobs.length).toFixed(1)} µs/prog`;
  const perInsn = (ms: number): string => `${((1e6 * ms) / Math.max(processed, 1)).toFixed(0)} ns/insn`;
  console.log(`${label.padEnd(26)} ${String(jobs.length).padStart(5)} progs ${String(processed).padStart(8)} insns | ` +
    `bpfkit ${per(ours)} ${perInsn(ours)} | kernel ${kernel ? `${per(theirs)} ${perInsn(theirs)} | ratio ${(ours / theirs).toFixed(2)}x` : "n/a"}`);
}

export async function main(): Promise<void> {
  const ok = kernelAvailable();
  const kernel = ok === true;
  if (!kernel) console.log(`kernel side skipped: ${ok}`);
  const corpus = loadCases().filter((c) => (c.expected.processed ?? 0) < 100_000)
    .map((c) => ({ insns: toInsns(c.insns), progType: c.progType, maps: c.maps ?? [] }));
  measure("corpus", corpus, kernel);
  const fuzz: Job[] = [];
  for (let s = 1; s <= 2000; s++) { const p = generateProgram(s); fuzz.push({ insns: p.insns, progType: p.progType, maps: FUZZ_MAPS as Job["maps"] }); }
  measure("generated", fuzz, kernel);
  for (const n of [100, 1000, 10000]) {
    measure(`bounded loop x${n}`, [{ insns: assemble(`r0 = 0\nr1 = 0\nr1 += 1\nif r1 < ${n} goto pc-2\nexit`), progType: "socket_filter", maps: [] }], kernel);
  }
  millionInsnLoop(ok);
  await realWorld(kernel);
}

/**
 * The loop bounded only by the packet length (src/verifier/verify.test.ts): both verifiers walk it until the 1M
 * processed-instruction limit. bpfkit's verify() against BPF_PROG_LOAD of the same program, timed around the syscall
 * (log level 4: statistics only, so the kernel's own "verification time" is printed too), median of 3 each.
 */
export function millionInsnLoop(kernelOk: true | string): void {
  const insns = assemble("r2 = *(u32 *)(r1 +0)\nr0 = 0\nr3 = 0\nr0 += 1\nif r0 < r2 goto pc-2\nexit");
  const median = (xs: number[]): number => xs.sort((a, b) => a - b)[xs.length >> 1]!;
  const ours: number[] = [];
  let line = "";
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const r = verify(insns, { progType: "socket_filter" });
    ours.push(performance.now() - t);
    line = r.error?.message ?? "accepted";
  }
  const label = "1M-insn loop (pkt-bounded)".padEnd(26);
  if (kernelOk !== true) {
    console.log(`${label} bpfkit ${median(ours).toFixed(0)} ms (${line}) | kernel skipped: ${kernelOk}`);
    return;
  }
  const theirs: number[] = [];
  let kernelLine = "", kernelVerif = NaN;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    try {
      const r = progLoad({ progType: 1, insns, license: "GPL", logLevel: 4, logSize: 1 << 16 });
      theirs.push(performance.now() - t);
      closeFd(r.fd);
      kernelLine = "accepted";
    } catch (e) {
      theirs.push(performance.now() - t);
      const log = (e as { log?: string }).log ?? "";
      kernelLine = /BPF program is too large[^\n]*/.exec(log)?.[0] ?? (e as Error).message;
      const v = /verification time (\d+) usec/.exec(log);
      if (v) kernelVerif = Number(v[1]) / 1000;
    }
  }
  const k = median(theirs), o = median(ours);
  console.log(`${label} bpfkit ${o.toFixed(0)} ms (${line}) | kernel BPF_PROG_LOAD ${k.toFixed(0)} ms` +
    `${Number.isNaN(kernelVerif) ? "" : ` (its verification time ${kernelVerif.toFixed(0)} ms)`} (${kernelLine}) | ratio ${(o / k).toFixed(2)}x`);
}

/**
 * The clang-built objects of ../shared/corpora/elf-samples (gathered by its install.sh into $BPFKIT_ELF_SAMPLES):
 * bpfkit's verifier on every program against the kernel loading the same object (BTF, maps and all programs through
 * bpfkit's object loader, timed around the whole load). Verdicts are counted for both sides.
 */
async function realWorld(kernel: boolean): Promise<void> {
  const dir = process.env.BPFKIT_ELF_SAMPLES;
  if (!dir || !existsSync(dir)) { console.log("elf-samples: skipped (BPFKIT_ELF_SAMPLES not set; .ci/run gathers them)"); return; }
  const nrCpus = availableParallelism();
  const objects: { name: string; obj: BpfObject }[] = [];
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".o")).sort()) {
    try {
      const obj = loadObject(new Uint8Array(readFileSync(join(dir, f))), { fileName: f });
      if (obj.littleEndian && obj.programs.some((p) => p.progType > 0)) objects.push({ name: f, obj });
    } catch { /* rejected objects are counted by `npm run conformance elf` */ }
  }
  let progs = 0, accepted = 0, ours = 0, processed = 0;
  for (const { obj } of objects) {
    for (const p of obj.programs) {
      if (p.progType <= 0) continue;
      progs++;
      const t = performance.now();
      const r = verify(p.insns, { progType: p.progType, maps: obj.maps, nrCpus, license: obj.license });
      ours += performance.now() - t;
      processed += r.processed;
      if (r.accepted) accepted++;
    }
  }
  let kernelText = "kernel n/a";
  if (kernel) {
    const { loadObjectIntoKernel } = await import("../src/kernel/object-loader.ts");
    let loaded = 0, theirs = 0;
    for (const { obj } of objects) {
      const t = performance.now();
      try {
        const o = await loadObjectIntoKernel(obj);
        theirs += performance.now() - t;
        loaded += o.programs.size;
        o.close();
      } catch {
        theirs += performance.now() - t; // a map the kernel cannot create as shipped (see the corpus README)
      }
    }
    kernelText = `kernel ${theirs.toFixed(0)} ms for ${objects.length} object loads, ${loaded} programs loaded | ratio ${(ours / theirs).toFixed(2)}x`;
  }
  console.log(`${"elf-samples".padEnd(26)} ${String(progs).padStart(5)} progs ${String(processed).padStart(8)} insns | ` +
    `bpfkit ${ours.toFixed(0)} ms, ${accepted} accepted | ${kernelText}`);
}
