// Records the verifier corpus from the running kernel: assembles every case in scripts/verifier-cases.ts, loads it
// with bpf(BPF_PROG_LOAD) at log level 1 and stores the verdict, errno, the kernel's error line and processed count in
// test/fixtures/verifier/cases.json. Needs root and bpf(). Usage: node --import tsx scripts/record-verifier-cases.ts
// With --unpriv it re-runs itself without capabilities (setpriv; needs kernel.unprivileged_bpf_disabled=0) and records
// the socket filter and cgroup skb cases (the types unprivileged users may load) into cases-unpriv.json.
import { writeFileSync } from "node:fs";
import { kernelAvailable, kernelLoad } from "../test/oracle/kernel.ts";
import { closeFd, mapCreate, progLoad } from "../src/kernel/bpf.ts";
import { KernelError } from "../src/kernel/libc.ts";
import { progTypeId } from "../src/kernel/names.ts";
import { CASE_SOURCES, assembleCase, type CaseMap } from "./verifier-cases.ts";
import type { Insn } from "../src/isa/ebpf/insn.ts";

export interface KernelVerdict {
  accepted: boolean;
  errno?: string;
  /** Last line before `processed ...` (rejections only). */
  error?: string;
  processed?: number;
}

export interface RecordedCase {
  name: string;
  progType: string;
  asm: string;
  maps?: CaseMap[];
  insns: number[][];
  expected: KernelVerdict;
}

/** Parses the kernel's verdict out of a load result's log. */
export function parseKernelLog(accepted: boolean, errno: string | undefined, log: string): KernelVerdict {
  // Some kernel messages lack their newline, so `processed ...` can share a line with the error: split it off.
  const lines = log.split("\n").filter((l) => l.length > 0).flatMap((l) => {
    const m = /^(.+?)(processed \d+ insns \(limit.*)$/.exec(l);
    return m ? [m[1]!, m[2]!] : [l];
  });
  const pi = lines.findIndex((l) => l.startsWith("processed "));
  const processed = pi >= 0 ? Number(/^processed (\d+)/.exec(lines[pi]!)![1]) : undefined;
  if (accepted) return { accepted, ...(processed !== undefined ? { processed } : {}) };
  const before = pi >= 0 ? lines.slice(0, pi) : lines;
  const error = before[before.length - 1];
  return { accepted, errno, ...(error !== undefined ? { error } : {}), ...(processed !== undefined ? { processed } : {}) };
}

/** Loads one program into the kernel and returns its verdict. */
export function kernelVerdict(insns: readonly Insn[], progType: string | number, maps?: readonly CaseMap[]): KernelVerdict {
  const r = kernelLoad(insns, { progType, maps: maps ?? [], logLevel: 1 });
  try {
    return parseKernelLog(r.accepted, r.errno, r.log);
  } finally {
    r.close();
  }
}

/** Maps created once and reused across many loads (the fuzzer loads thousands of programs against the same maps). */
export interface KernelSession {
  verdict(insns: readonly Insn[], progType: string | number): KernelVerdict;
  close(): void;
}

export function kernelSession(maps: readonly CaseMap[]): KernelSession {
  const fds = maps.map((m) => mapCreate({ mapType: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, name: m.name ?? "" }));
  return {
    verdict(insns, progType) {
      const resolved = insns.map((i) => (i.code === 0x18 && (i.src === 1 || i.src === 2) && fds[i.imm] !== undefined ? { ...i, imm: fds[i.imm]! } : i));
      try {
        const r = progLoad({ progType: progTypeId(progType), insns: resolved, license: "GPL", logLevel: 1, logSize: 1 << 18 });
        closeFd(r.fd);
        return parseKernelLog(true, undefined, r.log);
      } catch (e) {
        if (!(e instanceof KernelError)) throw e;
        return parseKernelLog(false, e.code, e.log);
      }
    },
    close() { fds.forEach(closeFd); },
  };
}

async function main(): Promise<void> {
  const unpriv = process.argv.includes("--unpriv");
  if (unpriv && !process.argv.includes("--child")) {
    const { spawnSync } = await import("node:child_process");
    const r = spawnSync("setpriv", ["--inh-caps=-all", "--bounding-set=-all", "--ambient-caps=-all", process.execPath,
      "--import", "tsx", process.argv[1]!, "--unpriv", "--child"], { stdio: "inherit" });
    process.exit(r.status ?? 1);
  }
  const ok = unpriv ? true : kernelAvailable();
  if (ok !== true) { console.error(`cannot record: ${ok}`); process.exit(1); }
  const out: RecordedCase[] = [];
  const names = new Set<string>();
  for (const c of CASE_SOURCES) {
    if (unpriv && c.progType !== "socket_filter" && c.progType !== "cgroup_skb") continue;
    if (names.has(c.name)) throw new Error(`duplicate case name ${c.name}`);
    names.add(c.name);
    let insns: Insn[];
    try { insns = assembleCase(c.asm); } catch (e) { console.error(`${c.name}: ${(e as Error).message}`); continue; }
    const expected = kernelVerdict(insns, c.progType, c.maps);
    out.push({ name: c.name, progType: c.progType, asm: c.asm, ...(c.maps ? { maps: c.maps } : {}),
      insns: insns.map((i) => [i.code, i.dst, i.src, i.off, i.imm]), expected });
  }
  const file = unpriv ? "cases-unpriv.json" : "cases.json";
  writeFileSync(new URL(`../test/fixtures/verifier/${file}`, import.meta.url), JSON.stringify(out, null, 1) + "\n");
  const acc = out.filter((c) => c.expected.accepted).length;
  console.log(`recorded ${out.length} cases (${acc} accepted, ${out.length - acc} rejected)`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
