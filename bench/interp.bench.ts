// Interpreter speed: ns per executed eBPF instruction on three loops (ALU, stack memory, array-map lookups), next to
// the kernel JIT's figure for the same programs (BPF_PROG_TEST_RUN with repeat, duration per run / instructions).
import { assemble } from "../src/isa/ebpf/index.ts";
import type { Insn } from "../src/isa/ebpf/insn.ts";
import { AddressSpace, Vm } from "../src/vm/index.ts";
import type { LoadedProgram } from "../src/vm/index.ts";
import { defaultHelpers, hostEnv } from "../src/helpers/index.ts";
import type { ProgramMap } from "../src/helpers/index.ts";
import { buildSkbContext } from "../src/runtime/index.ts";

export const ITERATIONS = 10_000;

/** User + system CPU time of this process in ms. */
export const cpuMs = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

export const PROGRAMS: { name: string; asm: string; usesMap?: boolean }[] = [
  {
    name: "alu loop",
    asm: `mov %r0, 0\nmov %r1, ${ITERATIONS}\nmov %r2, 7\nloop:\nadd %r0, %r1\nmov %r3, %r1\nlsh %r3, 3\nxor %r0, %r3\n`
      + `mul %r2, 13\nadd32 %r2, %r0\nrsh %r0, 1\nsub %r1, 1\njne %r1, 0, loop\nadd %r0, %r2\nexit`,
  },
  {
    name: "stack memory loop",
    asm: `stdw [%r10-8], 0\nstdw [%r10-16], 1\nstdw [%r10-24], 2\nmov %r1, ${ITERATIONS}\nloop:\n`
      + `ldxdw %r2, [%r10-8]\nadd %r2, %r1\nstxdw [%r10-8], %r2\nldxdw %r3, [%r10-16]\nxor %r3, %r2\nstxdw [%r10-16], %r3\n`
      + `ldxw %r4, [%r10-24]\nadd32 %r4, %r3\nstxw [%r10-24], %r4\nldxb %r5, [%r10-16]\nadd %r4, %r5\nstxb [%r10-20], %r4\n`
      + `sub %r1, 1\njne %r1, 0, loop\nldxdw %r0, [%r10-8]\nexit`,
  },
  {
    name: "map lookup loop",
    usesMap: true,
    asm: `mov %r6, ${ITERATIONS}\nmov %r7, 0\nloop:\nstw [%r10-4], 0\nlddw %r1, 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\n`
      + `jeq %r0, 0, out\nldxdw %r1, [%r0+0]\nadd %r1, %r6\nstxdw [%r0+0], %r1\nadd %r7, %r1\nsub %r6, 1\njne %r6, 0, loop\n`
      + `out:\nmov %r0, %r7\nexit`,
  },
];

/** lddw of map 0 → BPF_PSEUDO_MAP_FD with index 0 (the kernel harness and our resolver both read it as maps[0]). */
export function withMapRef(insns: Insn[]): Insn[] {
  return insns.map((x) => (x.code === 0x18 && x.imm === 0 && x.dst === 1 ? { ...x, src: 1 } : x));
}

/** A one-slot array map for the interpreter (the maps layer's ArrayMap when it is there would do the same). */
export function tinyArrayMap(space: AddressSpace): { map: ProgramMap; handle: number } {
  const handle = space.alloc(8, { kind: "map_value", name: "bench map handle", writable: false }).start;
  const value = space.alloc(8, { kind: "map_value", name: "bench map value" }).start;
  const map: ProgramMap = {
    keySize: 4, valueSize: 8, maxEntries: 1,
    lookupElem: (keyAddr) => (space.dv.getUint32(keyAddr, true) === 0 ? value : 0),
  };
  return { map, handle };
}

export async function kernelFigure(insns: Insn[], usesMap: boolean, repeat: number): Promise<number | string> {
  try {
    const k = await import("../test/oracle/kernel.ts");
    const avail = k.kernelAvailable();
    if (avail !== true) return avail;
    const loaded = k.kernelLoad(insns, {
      progType: "socket_filter", name: "interp_bench",
      ...(usesMap ? { maps: [{ type: "array", keySize: 4, valueSize: 8, maxEntries: 1 }] } : {}),
    });
    if (!loaded.accepted) return `kernel rejected it: ${loaded.log.trim().split("\n").pop()}`;
    try {
      return k.kernelTestRun(loaded.fd!, { data: new Uint8Array(64), repeat }).duration;
    } finally {
      loaded.close();
    }
  } catch (e) {
    return `kernel unavailable: ${(e as Error).message}`;
  }
}

export async function main(): Promise<void> {
  const space = new AddressSpace();
  const { map, handle } = tinyArrayMap(space);
  const vm = new Vm(space, { helpers: defaultHelpers, env: hostEnv(), mapAt: (a) => (a === handle ? map : undefined) });
  const skb = buildSkbContext(space, new Uint8Array(64));
  console.log("program              insns/run   bpfkit ns/insn   kernel JIT ns/insn   ratio   (bpfkit: CPU time; kernel: test_run duration)");
  for (const p of PROGRAMS) {
    const insns = withMapRef(assemble(p.asm));
    const prog: LoadedProgram = vm.load(insns, { name: p.name, resolve: { map: () => handle } });
    // warm up first
    let executed = 0;
    for (let k = 0; k < 20; k++) executed = vm.run(prog, skb.run).insns;
    // the machine is shared: process CPU time (not wall time), best of 7 trials of ~15M instructions each
    const runs = Math.max(3, Math.round(1.5e7 / executed));
    let ours = Infinity;
    for (let trial = 0; trial < 7; trial++) {
      const t0 = cpuMs();
      for (let k = 0; k < runs; k++) vm.run(prog, skb.run);
      ours = Math.min(ours, ((cpuMs() - t0) * 1e6) / runs / executed);
    }
    const kernel = await kernelFigure(insns, p.usesMap ?? false, 2000);
    const kernelPerInsn = typeof kernel === "number" ? kernel / executed : undefined;
    console.log(`${p.name.padEnd(20)} ${String(executed).padStart(9)}   ${ours.toFixed(2).padStart(14)}   `
      + `${kernelPerInsn === undefined ? "n/a".padStart(18) : kernelPerInsn.toFixed(3).padStart(18)}   `
      + `${kernelPerInsn === undefined ? `(${kernel})` : `${(ours / kernelPerInsn).toFixed(1)}x`}`);
  }
  skb.release();
}
