// The eBPF cases of the kernel's test_bpf module (lib/test_bpf.c, data in shared/corpora/kernel/test_bpf.json), run
// the way the module runs them: no verifier, registers zeroed, R1 = ctx (an skb built from the case's data, NULL with
// FLAG_NO_DATA, a plain buffer with FLAG_LARGE_MEM), R10 = stack top; the result is the low 32 bits of r0.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Insn } from "../src/isa/ebpf/insn.ts";
import { AddressSpace } from "../src/vm/index.ts";
import { createEngine, engineKind, type Engine } from "../src/jit/index.ts";
import { defaultHelpers, deterministicEnv } from "../src/helpers/index.ts";
import { buildSkbContext } from "../src/runtime/index.ts";
import { CORPORA } from "./types.ts";
import type { CorpusResult } from "./types.ts";

export interface KernelCase {
  readonly index: number;
  readonly name: string;
  readonly kind: "classic" | "ebpf";
  readonly insns: readonly string[];
  readonly flags: readonly string[];
  readonly data: string;
  readonly tests: readonly { data_size: number; result: number }[];
  readonly stack_depth: number | null;
  readonly frag_data: string | null;
}

export const KERNEL_CORPUS = fileURLToPath(new URL("kernel/test_bpf.json", CORPORA));

export function loadKernelCases(): KernelCase[] | undefined {
  if (!existsSync(KERNEL_CORPUS)) return undefined;
  return JSON.parse(readFileSync(KERNEL_CORPUS, "utf8")) as KernelCase[];
}

const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));

/** One `struct bpf_insn` from its 16 hex digits in memory order. */
export function insnFromHex(h: string): Insn {
  const b = hex(h);
  const dv = new DataView(b.buffer);
  return { code: b[0]!, dst: b[1]! & 0xf, src: b[1]! >> 4, off: dv.getInt16(2, true), imm: dv.getInt32(4, true) };
}

/** Runs every subtest of one eBPF case; undefined when all pass, else the reason. */
export function runKernelCase(c: KernelCase, vm: Engine): string | undefined {
  const space = vm.space;
  let prog;
  try {
    prog = vm.load(c.insns.map(insnFromHex), { name: c.name });
  } catch (e) {
    return `load: ${(e as Error).message}`;
  }
  try {
    const data = hex(c.data);
    for (const t of c.tests) {
      let release = (): void => {};
      let opts = {};
      if (c.flags.includes("FLAG_LARGE_MEM")) {
        const r = space.alloc(t.data_size, { kind: "scratch", name: "large mem" });
        opts = { ctx: r.start };
        release = () => space.release(r);
      } else if (!c.flags.includes("FLAG_NO_DATA")) {
        // test_bpf's populate_skb: data at the mac header, network header at min(size, ETH_HLEN)
        const skb = buildSkbContext(space, data.subarray(0, t.data_size), {
          l2: true, writableFields: [],
          fields: { pkt_type: 3, mark: 0x1234aaaa, hash: 0x1234aaab, queue_mapping: 123, vlan_present: 1,
            vlan_tci: 0xffff, vlan_proto: 0x0008, protocol: 0x0008, ifindex: 577 },
        });
        opts = skb.run;
        release = skb.release;
      }
      try {
        const r = vm.run(prog, { ...opts, budget: 50_000_000 });
        if (r.lo !== t.result >>> 0) return `data_size ${t.data_size}: r0 = ${r.lo} (0x${r.lo.toString(16)}), expected ${t.result}`;
      } catch (e) {
        return `data_size ${t.data_size}: ${(e as Error).message}`;
      } finally {
        release();
      }
    }
    return undefined;
  } finally {
    vm.unload(prog);
  }
}

/**
 * The cases the corpus leaves out (its README's "Skipped cases" table: generated programs over 16,384 slots), listed
 * with that reason; every case that is in the corpus runs.
 */
function absentCases(): string[] {
  const readme = fileURLToPath(new URL("kernel/README.md", CORPORA));
  if (!existsSync(readme)) return [];
  const text = readFileSync(readme, "utf8");
  const table = text.slice(text.indexOf("## Skipped cases"));
  const rows = [...table.matchAll(/^\| (\d+) \| (.+?) \| (\d+) \| `(\w+)` \|$/gm)];
  return [
    `skipped ${rows.length} (not in the corpus: generated programs larger than its 16,384-slot cap):`,
    ...rows.map((r) => `skip #${r[1]} ${r[2]}: ${r[3]} instructions from ${r[4]}, absent from test_bpf.json`),
  ];
}

export async function run(o: { engine?: string } = {}): Promise<CorpusResult[]> {
  const cases = loadKernelCases();
  if (cases === undefined) return [{ name: "kernel_ebpf", passed: 0, failed: 0, failures: [], skipped: `${KERNEL_CORPUS} is absent` }];
  const vm = createEngine(engineKind(o.engine), new AddressSpace(), { helpers: defaultHelpers, env: deterministicEnv() });
  const failures: string[] = [];
  let passed = 0;
  for (const c of cases) {
    if (c.kind !== "ebpf") continue;
    const why = runKernelCase(c, vm);
    if (why === undefined) passed++; else failures.push(`#${c.index} ${c.name}: ${why}`);
  }
  return [{ name: "kernel_ebpf", passed, failed: failures.length, failures, notes: absentCases() }];
}
