// Worker-thread CPUs: events per second through a map-updating program (a hash update with a random key out of
// 1024, a per-CPU count and an atomic add into a shared value) on 1, 2 and N worker CPUs of one pool, next to the
// same program on the calling thread and, as the native peer, in the Linux kernel (BPF_PROG_TEST_RUN with repeat, one
// CPU, JIT as configured) in the same run. Scaling is bounded by the machine's free cores (os.availableParallelism()).
// A second table does the same for a program writing 32-byte ring buffer records (bpf_ringbuf_output), drained by a
// consumer on the calling thread while the workers run.
import { availableParallelism } from "node:os";
import { performance } from "node:perf_hooks";
import { assemble } from "../src/isa/ebpf/index.ts";
import { createMap } from "../src/maps/index.ts";
import type { RingBufMap } from "../src/maps/index.ts";
import { CpuPool } from "../src/node/index.ts";
import { AddressSpace, Vm } from "../src/vm/index.ts";
import { defaultHelpers } from "../src/helpers/index.ts";
import type { Insn } from "../src/isa/ebpf/index.ts";
import { closeFd, mapCreate, progLoad, progTestRun } from "../src/kernel/bpf.ts";
import { nativeUnavailable } from "../src/kernel/libc.ts";

const RUNS = Number(process.env.BPFKIT_CPU_BENCH_RUNS ?? 200_000);

export async function main(): Promise<void> {
  const n = Math.max(2, Math.min(availableParallelism(), 8));
  const space = new AddressSpace({ shared: true });
  const vm = new Vm(space, { helpers: defaultHelpers });
  const hash = createMap(space, { type: 1, keySize: 4, valueSize: 8, maxEntries: 1024, name: "h" }, { nCpus: n });
  const pcpu = createMap(space, { type: 6, keySize: 4, valueSize: 8, maxEntries: 1, name: "c" }, { nCpus: n });
  const shared = createMap(space, { type: 2, keySize: 4, valueSize: 8, maxEntries: 1, name: "a" }, { nCpus: n });
  const text = (h: number, c: number, a: number): string => `
    call 7
    r0 &= 1023
    *(u32 *)(r10 - 4) = r0
    *(u64 *)(r10 - 16) = r0
    r1 = ${h} ll
    r2 = r10
    r2 += -4
    r3 = r10
    r3 += -16
    r4 = 0
    call 2
    *(u32 *)(r10 - 4) = 0
    r1 = ${c} ll
    r2 = r10
    r2 += -4
    call 1
    if r0 == 0 goto shared
    r1 = *(u64 *)(r0 + 0)
    r1 += 1
    *(u64 *)(r0 + 0) = r1
  shared:
    r1 = ${a} ll
    r2 = r10
    r2 += -4
    call 1
    if r0 == 0 goto out
    r1 = 1
    lock *(u64 *)(r0 + 0) += r1
  out:
    r0 = 0
    exit`;
  const prog = vm.load(assemble(text(hash.address, pcpu.address, shared.address)));
  const t0 = performance.now();
  for (let i = 0; i < RUNS; i++) vm.run(prog);
  const here = RUNS / ((performance.now() - t0) / 1000);
  const linux = kernelRate(text, [
    { mapType: 1, keySize: 4, valueSize: 8, maxEntries: 1024 }, { mapType: 6, keySize: 4, valueSize: 8, maxEntries: 1 },
    { mapType: 2, keySize: 4, valueSize: 8, maxEntries: 1 },
  ]);
  const pool = await CpuPool.start(space, { nCpus: n });
  try {
    await pool.fire(prog, { repeat: 2000 }); // warm every CPU up
    console.log(`events/s, map-updating program (${RUNS} events per row; ${availableParallelism()} cores available)`);
    console.log(`${"calling thread (no workers)".padEnd(30)} ${fmt(here).padStart(12)}   1.00x`);
    if (typeof linux === "number") console.log(`${"Linux, 1 CPU (test_run)".padEnd(30)} ${fmt(linux).padStart(12)}   ${(linux / here).toFixed(2)}x`);
    else console.log(`(Linux row skipped: ${linux})`);
    for (const k of [...new Set([1, 2, n])]) {
      const cpus = Array.from({ length: k }, (_, i) => i);
      const t = performance.now();
      const res = await pool.fire(prog, { repeat: Math.ceil(RUNS / k), cpus });
      const s = (performance.now() - t) / 1000;
      const runs = res.reduce((a, r) => a + r.runs, 0);
      console.log(`${`${k} worker CPU${k > 1 ? "s" : ""}`.padEnd(30)} ${fmt(runs / s).padStart(12)}   ${(runs / s / here).toFixed(2)}x`);
    }
    await ringbufRows(space, vm, pool, n);
  } finally {
    await pool.close();
  }
}

/** 32-byte records through bpf_ringbuf_output into a 16 MiB ring (room for every record of a row, on Linux too). */
async function ringbufRows(space: AddressSpace, vm: Vm, pool: CpuPool, n: number): Promise<void> {
  const RING = 1 << 24;
  const text = (rb: number): string => `
    *(u64 *)(r10 - 8) = 1
    *(u64 *)(r10 - 16) = 2
    *(u64 *)(r10 - 24) = 3
    *(u64 *)(r10 - 32) = 4
    r1 = ${rb} ll
    r2 = r10
    r2 += -32
    r3 = 32
    r4 = 0
    call 130
    r0 = 0
    exit`;
  const linux = kernelRate(text, [{ mapType: 27, keySize: 0, valueSize: 0, maxEntries: RING }]);
  const rows: [string, number][] = [];
  const rb = createMap(space, { type: 27, keySize: 0, valueSize: 0, maxEntries: RING, name: "rb" }, { nCpus: n }) as RingBufMap;
  const prog = vm.load(assemble(text(rb.address)));
  for (const k of [...new Set([0, 1, 2, n])]) {
    let got = 0;
    const t = performance.now();
    if (k === 0) {
      for (let i = 0; i < RUNS; i++) { vm.run(prog); if ((i & 1023) === 1023) got += rb.consume(() => 0); }
    } else {
      let done = false;
      const fired = pool.fire(prog, { repeat: Math.ceil(RUNS / k), cpus: Array.from({ length: k }, (_, i) => i) }).finally(() => { done = true; });
      while (!done) { got += rb.poll(2, () => 0); await new Promise((r) => setImmediate(r)); }
      await fired;
    }
    got += rb.consume(() => 0);
    const s = (performance.now() - t) / 1000;
    if (rb.dropped !== 0) throw new Error(`ringbuf bench: ${rb.dropped} records dropped`);
    rows.push([k === 0 ? "calling thread (no workers)" : `${k} worker CPU${k > 1 ? "s" : ""}`, got / s]);
  }
  const here = rows[0]![1];
  console.log(`\nevents/s, bpf_ringbuf_output of 32 bytes, consumed meanwhile by ring_buffer__poll on the calling thread (${RUNS} events per row)`);
  for (const [label, rate] of rows.slice(0, 1)) console.log(`${label.padEnd(30)} ${fmt(rate).padStart(12)}   1.00x`);
  if (typeof linux === "number") console.log(`${"Linux, 1 CPU (test_run)".padEnd(30)} ${fmt(linux).padStart(12)}   ${(linux / here).toFixed(2)}x`);
  else console.log(`(Linux row skipped: ${linux})`);
  for (const [label, rate] of rows.slice(1)) console.log(`${label.padEnd(30)} ${fmt(rate).padStart(12)}   ${(rate / here).toFixed(2)}x`);
}

const fmt = (x: number): string => Math.round(x).toLocaleString("en-US");

/** The same program in the kernel: events/s from BPF_PROG_TEST_RUN's average duration over many runs. */
function kernelRate(text: (...maps: number[]) => string, specs: readonly { mapType: number; keySize: number; valueSize: number; maxEntries: number }[]): number | string {
  const why = nativeUnavailable();
  if (why) return why;
  const fds: number[] = [];
  try {
    const marks = new Map<number, number>();
    specs.forEach((spec, i) => { const fd = mapCreate(spec); fds.push(fd); marks.set(0x7001 + i, fd); });
    const insns: Insn[] = assemble(text(...specs.map((_, i) => 0x7001 + i))).map((i) =>
      i.code === 0x18 && marks.has(i.imm) ? { ...i, src: 1, imm: marks.get(i.imm)! } : i);
    const p = progLoad({ progType: 1, insns, license: "GPL" });
    fds.push(p.fd);
    const r = progTestRun(p.fd, { dataIn: new Uint8Array(64), repeat: RUNS });
    return 1e9 / Math.max(r.duration, 1);
  } catch (e) {
    return (e as Error).message;
  } finally {
    for (const fd of fds) closeFd(fd);
  }
}
