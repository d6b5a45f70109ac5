// Ring buffer and perf buffer consumers against the kernel: every event arrives in order with no loss at a modest
// rate; when the buffer overflows, the losses are counted (program-side for ringbuf, PERF_RECORD_LOST for perf).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { skipWithoutKernel } from "./kernel.ts";
import { loadProgram, attachTracepoint, type KernelMapSpec } from "../../src/kernel/loader.ts";
import { TypedKernelMap, u32, u64 } from "../../src/kernel/map-access.ts";
import { RingBufferReader } from "../../src/kernel/ringbuf.ts";
import { PerfBufferReader } from "../../src/kernel/perfbuf.ts";
import { possibleCpus } from "../../src/kernel/libc.ts";
import { ringbufSeqProgram, perfbufSeqProgram } from "../fixtures/kernel/programs.ts";

const skipUnless = (t: { skip(msg: string): void }): boolean => skipWithoutKernel(t, "kernel buffer tests");

const config: KernelMapSpec = { type: "array", keySize: 4, valueSize: 4, maxEntries: 1 };
const counter: KernelMapSpec = { type: "array", keySize: 4, valueSize: 8, maxEntries: 1 };

/** Runs a bash child that opens /dev/null `n` times once its tgid is in the config map; `between` runs while it works. */
async function openFromChild(configMap: TypedKernelMap<number, number>, n: number, pause = false, cpu?: number): Promise<void> {
  const body = pause ? `for ((i=0;i<${n};i++)); do : < /dev/null; if (( i % 50 == 49 )); then read y; fi; done` : `for ((i=0;i<${n};i++)); do : < /dev/null; done`;
  const argv = ["bash", "-c", `echo ready; read x; ${body}`];
  const [cmd, ...rest] = cpu === undefined ? argv : ["taskset", "-c", String(cpu), ...argv];
  const child = spawn(cmd!, rest, { stdio: ["pipe", "pipe", "inherit"] });
  await once(child.stdout!, "data");
  configMap.set(0, child.pid!);
  child.stdin!.write("go\n");
  if (pause) {
    // let the consumer drain between bursts of 50 events
    for (let i = 0; i < Math.ceil(n / 50); i++) {
      await new Promise((r) => setTimeout(r, 5));
      child.stdin!.write("\n");
    }
  }
  child.stdin!.end();
  await once(child, "exit");
}

test("ring buffer: all events in order, none lost, at a modest rate", async (t) => {
  if (skipUnless(t)) return;
  const N = 300;
  const prog = loadProgram({ insns: ringbufSeqProgram(), progType: "tracepoint", maps: [config, counter, { type: "ringbuf", keySize: 0, valueSize: 0, maxEntries: 64 * 1024 }, counter] });
  const link = attachTracepoint(prog.fd, "syscalls", "sys_enter_openat");
  const seqs: bigint[] = [];
  const reader = new RingBufferReader(prog.maps[2]!.fd, (s) => seqs.push(new DataView(s.buffer, s.byteOffset, 8).getBigUint64(0, true)));
  try {
    reader.start();
    await openFromChild(new TypedKernelMap(prog.maps[0]!, u32, u32), N, true);
    await new Promise((r) => setTimeout(r, 20));
    reader.consume();
    assert.deepEqual(seqs, Array.from({ length: N }, (_, i) => BigInt(i)));
    assert.equal(new TypedKernelMap(prog.maps[3]!, u32, u64).get(0), 0n);
  } finally {
    reader.close();
    link.close();
    prog.close();
  }
});

test("ring buffer: overflow drops are counted and received + dropped = produced", async (t) => {
  if (skipUnless(t)) return;
  const N = 2000; // 16-byte records, a 4 KiB ring holds 256
  const prog = loadProgram({ insns: ringbufSeqProgram(), progType: "tracepoint", maps: [config, counter, { type: "ringbuf", keySize: 0, valueSize: 0, maxEntries: 4096 }, counter] });
  const link = attachTracepoint(prog.fd, "syscalls", "sys_enter_openat");
  const seqs: bigint[] = [];
  const reader = new RingBufferReader(prog.maps[2]!.fd, (s) => seqs.push(new DataView(s.buffer, s.byteOffset, 8).getBigUint64(0, true)));
  try {
    await openFromChild(new TypedKernelMap(prog.maps[0]!, u32, u32), N);
    reader.consume();
    const dropped = new TypedKernelMap(prog.maps[3]!, u32, u64).get(0)!;
    assert.ok(dropped > 0n, "the ring overflowed");
    assert.equal(BigInt(seqs.length) + dropped, BigInt(N));
    assert.deepEqual(seqs, [...seqs].sort((a, b) => (a < b ? -1 : 1)), "in order");
  } finally {
    reader.close();
    link.close();
    prog.close();
  }
});

test("perf buffer: every event delivered; overflow reported as lost samples", async (t) => {
  if (skipUnless(t)) return;
  // the overflow half pins the child to one CPU (the kernel reports a ring's losses with that ring's next sample)
  const haveTaskset = spawnSync("taskset", ["-c", "0", "true"]).status === 0;
  if (!haveTaskset) console.log("SKIP perf buffer overflow half: taskset is not available");
  for (const [n, pages, expectLoss] of [[200, 8, false], [3000, 1, true]] as const) {
    if (expectLoss && !haveTaskset) continue;
    const prog = loadProgram({ insns: perfbufSeqProgram(), progType: "tracepoint", maps: [config, counter, { type: "perf_event_array", keySize: 4, valueSize: 4, maxEntries: possibleCpus() }] });
    const link = attachTracepoint(prog.fd, "syscalls", "sys_enter_openat");
    const seqs: bigint[] = [];
    const reader = new PerfBufferReader(prog.maps[2]!.fd, (_cpu, s) => seqs.push(new DataView(s.buffer, s.byteOffset, 8).getBigUint64(0, true)), pages);
    try {
      if (!expectLoss) reader.start();
      const configMap = new TypedKernelMap(prog.maps[0]!, u32, u32);
      await openFromChild(configMap, n, !expectLoss, expectLoss ? 0 : undefined);
      await new Promise((r) => setTimeout(r, 20));
      reader.consume();
      if (expectLoss) {
        // the kernel writes PERF_RECORD_LOST with the next sample that fits, on the same CPU's ring
        await openFromChild(configMap, 1, false, 0);
        reader.consume();
        assert.ok(reader.lost > 0n, "samples were lost");
        assert.equal(BigInt(seqs.length) + reader.lost, BigInt(n + 1));
      } else {
        assert.equal(reader.lost, 0n);
        assert.deepEqual([...seqs].sort((a, b) => (a < b ? -1 : 1)), Array.from({ length: n }, (_, i) => BigInt(i)));
      }
    } finally {
      reader.close();
      link.close();
      prog.close();
    }
  }
});
