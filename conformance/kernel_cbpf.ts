// The 134 classic cases of the kernel's lib/test_bpf.c (corpora/kernel/test_bpf.json): each program goes through
// the kernel's checker and conversion (prepareCbpf), then runs on an skb built like the kernel's populate_skb().
// `kernel_cbpf` runs the classic interpreter; `kernel_cbpf_converted` runs the eBPF conversion on the eBPF VM.
import { readFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { CorpusResult } from "./types.ts";
import { CORPORA } from "./types.ts";
import { decodeCbpf } from "../src/isa/cbpf/insn.ts";
import type { CbpfInsn } from "../src/isa/cbpf/insn.ts";
import { compileCbpf } from "../src/cbpf/interp.ts";
import { prepareCbpf } from "../src/cbpf/prepare.ts";
import type { PreparedCbpf } from "../src/cbpf/prepare.ts";
import type { SkbMeta } from "../src/cbpf/skb.ts";
import { isBpfError } from "../src/errors.ts";

export const KERNEL_CASES = new URL("kernel/test_bpf.json", CORPORA);

export interface KernelClassicCase {
  readonly index: number;
  readonly name: string;
  readonly insns: CbpfInsn[];
  readonly flags: readonly string[];
  readonly data: Uint8Array;
  readonly frag: Uint8Array | null;
  readonly tests: readonly { readonly data_size: number; readonly result: number }[];
  readonly expectedErrno: string | null;
}

const ERRNO_NAMES: Readonly<Record<number, string>> = { [-22]: "EINVAL", [-12]: "ENOMEM", [-7]: "E2BIG", [-1]: "EPERM" };

const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));

let cached: KernelClassicCase[] | null | undefined;

/** The classic cases of test_bpf.json (parsed once per process), or null when the corpus is absent. */
export function loadKernelClassicCases(): KernelClassicCase[] | null {
  if (cached !== undefined) return cached;
  const path = fileURLToPath(KERNEL_CASES);
  if (!existsSync(path)) return (cached = null);
  const all = JSON.parse(readFileSync(path, "utf8")) as {
    index: number; name: string; kind: string; insns: string[]; flags: string[]; data: string;
    tests: { data_size: number; result: number }[]; expected_errcode: number | null; frag_data: string | null;
  }[];
  return (cached = all.filter((t) => t.kind === "classic").map((t) => {
    const data = new Uint8Array(128);
    data.set(hex(t.data).subarray(0, 128));
    return {
      index: t.index, name: t.name, insns: decodeCbpf(hex(t.insns.join(""))), flags: t.flags, data,
      frag: t.frag_data ? hex(t.frag_data) : null, tests: t.tests,
      expectedErrno: t.expected_errcode === null ? null : (ERRNO_NAMES[t.expected_errcode] ?? `errno ${t.expected_errcode}`),
    };
  }));
}

/** The skb fields populate_skb() sets (lib/test_bpf.c). */
export function kernelTestMeta(dataSize: number, frag: Uint8Array | null): SkbMeta {
  return {
    protocol: 0x0800, pktType: 3, mark: 0x1234aaaa, hash: 0x1234aaab, queueMapping: 123,
    vlanTci: 0xffff, vlanProto: 0x0800, ifindex: 577, hatype: 588, cpu: 0,
    macOffset: 0, networkOffset: Math.min(dataSize, 14), frags: frag ? [frag] : [],
  };
}

/** The packet, wire length and metadata of one subtest. */
export function kernelTestInput(c: KernelClassicCase, dataSize: number): { packet: Uint8Array; len: number; meta: SkbMeta } {
  const noData = c.flags.includes("FLAG_NO_DATA");
  const packet = noData ? new Uint8Array(0) : c.data.slice(0, dataSize);
  const frag = c.flags.includes("FLAG_SKB_FRAG") ? c.frag : null;
  return { packet, len: packet.length + (frag?.length ?? 0), meta: kernelTestMeta(packet.length, frag) };
}

export type ClassicRunner = (prepared: PreparedCbpf, c: KernelClassicCase, packet: Uint8Array, len: number,
  meta: SkbMeta) => number;

/** The classic interpreter as runner. */
export const interpreterRunner: ClassicRunner = (() => {
  const cache = new WeakMap<PreparedCbpf, ReturnType<typeof compileCbpf>>();
  return (prepared, _c, packet, len, meta) => {
    let f = cache.get(prepared);
    if (!f) { f = compileCbpf(prepared.insns); cache.set(prepared, f); }
    return f(packet, len, meta);
  };
})();

/** Runs one case; returns null when it passes, else a short reason. */
export function runKernelClassicCase(c: KernelClassicCase, runner: ClassicRunner): string | null {
  let prepared: PreparedCbpf;
  try {
    prepared = prepareCbpf(c.insns);
  } catch (e) {
    if (!isBpfError(e)) return `threw ${String(e)}`;
    if (c.expectedErrno === e.code) return null;
    return c.expectedErrno ? `rejected with ${e.code}, expected ${c.expectedErrno}` : `rejected: ${e.code} ${e.message}`;
  }
  if (c.expectedErrno) return `accepted, expected ${c.expectedErrno}`;
  for (const t of c.tests) {
    const { packet, len, meta } = kernelTestInput(c, t.data_size);
    let got: number;
    try {
      got = runner(prepared, c, packet, len, meta) >>> 0;
    } catch (e) {
      return `data_size ${t.data_size}: threw ${e instanceof Error ? e.message : String(e)}`;
    }
    if (got !== t.result >>> 0) return `data_size ${t.data_size}: got ${got}, expected ${t.result >>> 0}`;
  }
  return null;
}

function summarize(name: string, cases: KernelClassicCase[], runner: ClassicRunner): CorpusResult {
  const failures: string[] = [];
  for (const c of cases) {
    const why = runKernelClassicCase(c, runner);
    if (why) failures.push(`#${c.index} ${c.name}: ${why}`);
  }
  return { name, passed: cases.length - failures.length, failed: failures.length, failures };
}

export async function run(o: { engine?: string } = {}): Promise<CorpusResult[]> {
  const cases = loadKernelClassicCases();
  if (!cases) {
    const skipped = `corpus absent: ${fileURLToPath(KERNEL_CASES)}`;
    return [{ name: "kernel_cbpf", passed: 0, failed: 0, failures: [], skipped },
      { name: "kernel_cbpf_converted", passed: 0, failed: 0, failures: [], skipped }];
  }
  const results = [summarize("kernel_cbpf", cases, interpreterRunner)];
  const converted = await loadConvertedRunner(o.engine);
  if (typeof converted === "string") {
    results.push({ name: "kernel_cbpf_converted", passed: 0, failed: 0, failures: [], skipped: converted });
  } else {
    results.push(summarize("kernel_cbpf_converted", cases, converted));
  }
  return results;
}

/** The eBPF-VM runner for converted programs, or the reason it is unavailable. */
export async function loadConvertedRunner(engine?: string): Promise<ClassicRunner | string> {
  try {
    const specifier = "../src/cbpf/vmrun.ts"; // lands with the eBPF VM; a variable keeps tsc from requiring it
    const mod = (await import(specifier)) as { convertedRunner: unknown; convertedRunnerOn?: (e: string) => unknown };
    return (engine && mod.convertedRunnerOn ? mod.convertedRunnerOn(engine) : mod.convertedRunner) as ClassicRunner;
  } catch (e) {
    return `the eBPF VM runner for converted programs is not available (${e instanceof Error ? e.message.split("\n")[0] : String(e)})`;
  }
}
