// bpf_conformance (Alan-Jowett/bpf_conformance) cases on the interpreter: each tests/*.data file gives assembly (or raw
// instruction words), optional input memory (r1 = its address, r2 = its length) and the expected r0 or error.
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { assemble } from "../src/isa/ebpf/index.ts";
import type { Insn } from "../src/isa/ebpf/insn.ts";
import { AddressSpace } from "../src/vm/index.ts";
import { createEngine, engineKind, type Engine } from "../src/jit/index.ts";
import { defaultHelpers } from "../src/helpers/index.ts";
import { deterministicEnv } from "../src/helpers/env.ts";
import { CORPORA } from "./types.ts";
import type { CorpusResult } from "./types.ts";

export interface ConformanceCase {
  readonly name: string;
  readonly asm: string;
  readonly raw?: readonly bigint[];
  readonly mem?: Uint8Array;
  readonly result?: bigint;
  readonly error?: string;
}

export const CONFORMANCE_DIR = fileURLToPath(new URL("bpf_conformance/tests/", CORPORA));

/** Split a .data file into its sections (`-- asm`, `-- mem`, `-- result`, `-- raw`, `-- error`). */
export function parseConformanceCase(name: string, text: string): ConformanceCase {
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const rawLine of text.split("\n")) {
    const line = rawLine.replace(/#.*$/, "").trimEnd();
    const head = /^--\s*(.+?)\s*$/.exec(line);
    if (head) { current = []; sections.set(head[1]!, current); continue; }
    if (current !== undefined && line.trim() !== "") current.push(line);
  }
  const mem = sections.get("mem");
  const result = sections.get("result");
  const raw = sections.get("raw");
  return {
    name,
    asm: (sections.get("asm") ?? []).join("\n"),
    ...(raw ? { raw: raw.map((w) => BigInt(w.trim())) } : {}),
    ...(mem ? { mem: Uint8Array.from(mem.join(" ").trim().split(/\s+/).filter(Boolean).map((b) => parseInt(b, 16))) } : {}),
    ...(result ? { result: BigInt.asUintN(64, BigInt(result.join("").trim())) } : {}),
    ...(sections.has("error") ? { error: sections.get("error")!.join("\n").trim() } : {}),
  };
}

/** Instruction words of `-- raw` (one u64 per slot: imm in the high 32 bits, then off, regs, opcode). */
function rawInsns(words: readonly bigint[]): Insn[] {
  return words.map((w) => ({
    code: Number(w & 0xffn), dst: Number((w >> 8n) & 0xfn), src: Number((w >> 12n) & 0xfn),
    off: Number(BigInt.asIntN(16, (w >> 16n) & 0xffffn)), imm: Number(BigInt.asIntN(32, w >> 32n)),
  }));
}

/** Run one case; returns undefined when it passes, else a short reason. */
export function runConformanceCase(c: ConformanceCase, vm: Engine): string | undefined {
  let prog;
  try {
    const insns = c.raw ? rawInsns(c.raw) : assemble(c.asm);
    prog = vm.load(insns, { name: c.name });
  } catch (e) {
    if (c.error !== undefined) return undefined;
    return `load: ${(e as Error).message}`;
  }
  const space = vm.space;
  const region = c.mem ? space.alloc(c.mem.length, { kind: "packet", name: "mem" }) : undefined;
  try {
    if (region && c.mem) space.u8.set(c.mem, region.start);
    const r = vm.run(prog, { r1: region ? region.start : 0, r2: c.mem ? c.mem.length : 0, budget: 10_000_000 });
    if (c.error !== undefined) return `expected error '${c.error}', got r0 = 0x${r.value.toString(16)}`;
    if (r.value !== c.result) return `r0 = 0x${r.value.toString(16)}, expected 0x${c.result?.toString(16)}`;
    return undefined;
  } catch (e) {
    if (c.error !== undefined) return undefined;
    return `run: ${(e as Error).message}`;
  } finally {
    if (region) space.release(region);
    vm.unload(prog);
  }
}

export function loadConformanceCases(): ConformanceCase[] | undefined {
  if (!existsSync(CONFORMANCE_DIR)) return undefined;
  return readdirSync(CONFORMANCE_DIR).filter((f) => f.endsWith(".data")).sort()
    .map((f) => parseConformanceCase(f.replace(/\.data$/, ""), readFileSync(CONFORMANCE_DIR + f, "utf8")));
}

export async function run(o: { engine?: string } = {}): Promise<CorpusResult[]> {
  const cases = loadConformanceCases();
  if (cases === undefined) return [{ name: "bpf_conformance", passed: 0, failed: 0, failures: [], skipped: `${CONFORMANCE_DIR} is absent` }];
  const space = new AddressSpace();
  const vm = createEngine(engineKind(o.engine), space, { helpers: defaultHelpers, env: deterministicEnv() });
  const failures: string[] = [];
  for (const c of cases) {
    const why = runConformanceCase(c, vm);
    if (why !== undefined) failures.push(`${c.name}: ${why}`);
  }
  return [{ name: "bpf_conformance", passed: cases.length - failures.length, failed: failures.length, failures }];
}
