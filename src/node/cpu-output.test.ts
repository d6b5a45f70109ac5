// Worker-thread CPUs writing what user space reads while they run: ring buffer records (reserve/submit/discard and
// output), perf event samples into each CPU's buffer, and stack ids, all over one shared address space. Checkers:
// every record arrives exactly once or is counted lost, none is torn, each came from the CPU it was dealt to, and the
// stack map's shared buckets stay consistent.
import { test } from "node:test";
import assert from "node:assert/strict";
import { assemble } from "../isa/ebpf/index.ts";
import { createMap } from "../maps/index.ts";
import type { ArrayMap, PerfEventArrayMap, RingBufMap, StackTraceMap } from "../maps/index.ts";
import { AddressSpace } from "../vm/index.ts";
import { CpuPool } from "./cpu-pool.ts";
import { poolPerFile } from "./cpu-pool.test-util.ts";

const N_CPUS = Math.max(2, Number(process.env.BPFKIT_CPUS ?? 2));
const EVENTS = 20_000;
const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
const seqEvents = (n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => u32(i));

const withPool = poolPerFile(N_CPUS);

/** A record's size for event `seq`: 8..47 bytes. */
const sizeOf = (seq: number): number => 8 + (seq % 5) * 8 + (seq % 7);

/** r9 = sizeOf(r7) */
const SIZE = `
  r9 = r7
  r9 %= 5
  r9 *= 8
  r2 = r7
  r2 %= 7
  r9 += r2
  r9 += 8`;

/** r6 = ctx, r7 = the event's seq, r8 = this CPU, r9 = the record's size. */
const PRELUDE = `
  r6 = r1
  r7 = *(u32 *)(r6 + 0)
  call 8
  r8 = r0
${SIZE}`;

/** Writes the record at r6: u32 cpu (r8), u32 seq (r7), then byte i = (seq + i) & 0xff up to r9. */
const fill = (l: string): string => `
  *(u32 *)(r6 + 0) = r8
  *(u32 *)(r6 + 4) = r7
  r1 = 8
${l}:
  if r1 >= r9 goto ${l}_end
  r2 = r6
  r2 += r1
  r3 = r7
  r3 += r1
  *(u8 *)(r2 + 0) = r3
  r1 += 1
  goto ${l}
${l}_end:`;

/** bpf_ringbuf_output of the record, built on the stack. */
const output = (rb: RingBufMap, l: string): string => `
  r6 = r10
  r6 += -56
${fill(l)}
  r1 = ${rb.address} ll
  r2 = r6
  r3 = r9
  r4 = 0
  call 130`;

/** Marks event r7 lost: lost[seq] = 1. */
const markLost = (lost: ArrayMap): string => `
  *(u32 *)(r10 - 4) = r7
  r1 = ${lost.address} ll
  r2 = r10
  r2 += -4
  call 1
  if r0 == 0 goto done
  r1 = 1
  *(u32 *)(r0 + 0) = r1`;

/** The torn-record checker: a sample's cpu, seq and every byte as the program wrote them. */
function checkRecord(s: Uint8Array, what: string): { cpu: number; seq: number } {
  const dv = new DataView(s.buffer, s.byteOffset, s.length);
  assert.ok(s.length >= 8, `${what}: ${s.length}-byte sample`);
  const cpu = dv.getUint32(0, true), seq = dv.getUint32(4, true);
  assert.ok(seq < EVENTS && cpu < N_CPUS, `${what}: cpu ${cpu} seq ${seq}`);
  const size = sizeOf(seq);
  assert.ok(s.length >= size, `${what}: seq ${seq} is ${s.length} bytes, wrote ${size}`);
  for (let i = 8; i < size; i++) if (s[i] !== ((seq + i) & 0xff)) assert.fail(`${what}: seq ${seq} byte ${i} is ${s[i]}: torn`);
  return { cpu, seq };
}

/** Fires the program over EVENTS events on every CPU, calling `drain` on this thread until the CPUs are done. */
async function fireDraining(pool: CpuPool, prog: Parameters<CpuPool["fire"]>[0], drain: () => void): Promise<void> {
  let done = false;
  const fired = pool.fire(prog, { events: seqEvents(EVENTS) }).finally(() => { done = true; });
  while (!done) {
    drain();
    await new Promise((r) => setImmediate(r));
  }
  const results = await fired;
  assert.deepEqual(results.map((r) => r.faults), results.map(() => 0), results.find((r) => r.error)?.error);
  assert.equal(results.reduce((a, r) => a + r.runs, 0), EVENTS);
  drain();
}

function lostFlags(lost: ArrayMap): Uint8Array {
  const out = new Uint8Array(EVENTS);
  for (let i = 0; i < EVENTS; i++) out[i] = lost.lookup(u32(i))[0]!;
  return out;
}

test("worker CPUs: ring buffer records from every CPU arrive once each, untorn, or are counted lost", async () => {
  await withPool(async (space, vm, pool) => {
    // 256 KiB: the ~600 KB of records wrap it many times, and it may fill when the consumer falls behind
    const rb = createMap(space, { type: 27, keySize: 0, valueSize: 0, maxEntries: 1 << 18, name: "rb" }, { nCpus: N_CPUS }) as RingBufMap;
    const lost = createMap(space, { type: 2, keySize: 4, valueSize: 4, maxEntries: EVENTS, name: "lost" }, { nCpus: N_CPUS }) as ArrayMap;
    // seq % 3: 0 reserve + submit, 1 bpf_ringbuf_output from the stack, 2 reserve + discard
    const prog = vm.load(assemble(`
${PRELUDE}
  r2 = r7
  r2 %= 3
  if r2 == 1 goto output
  r1 = ${rb.address} ll
  r2 = r9
  r3 = 0
  call 131
  if r0 == 0 goto lost
  r6 = r0
${fill("a")}
  r1 = r6
  r2 = 0
  r3 = r7
  r3 %= 3
  if r3 == 2 goto discard
  call 132
  goto done
discard:
  call 133
  goto done
output:
${output(rb, "b")}
  if r0 == 0 goto done
lost:
${markLost(lost)}
done:
  r0 = 0
  exit`));
    const seen = new Uint8Array(EVENTS);
    const perCpu = new Array<number>(N_CPUS).fill(0);
    let polls = 0;
    const onSample = (s: Uint8Array): void => {
      const { cpu, seq } = checkRecord(s, "ringbuf");
      assert.equal(s.length, sizeOf(seq), `seq ${seq}: sample length`);
      assert.equal(cpu, seq % N_CPUS, `seq ${seq} ran on the CPU it was dealt to`);
      assert.notEqual(seq % 3, 2, `seq ${seq} was discarded, yet arrived`);
      assert.equal(seen[seq], 0, `seq ${seq} arrived twice`);
      seen[seq] = 1;
      perCpu[cpu]!++;
    };
    await fireDraining(pool, prog, () => { rb.poll(1, onSample); polls++; });
    const flags = lostFlags(lost);
    let missing = 0, lostCount = 0;
    for (let seq = 0; seq < EVENTS; seq++) {
      lostCount += flags[seq]!;
      if (seq % 3 !== 2 && seen[seq] === 0 && flags[seq] === 0) missing++;
      if (seen[seq] === 1) assert.equal(flags[seq], 0, `seq ${seq} arrived and was counted lost`);
    }
    assert.equal(missing, 0, "records neither received nor counted lost");
    assert.equal(rb.dropped, lostCount, "the ring's drop count is the program's");
    assert.equal(rb.producerPos, rb.consumerPos, "everything produced was consumed");
    const expected = Array.from({ length: N_CPUS }, (_, c) => {
      let n = 0;
      for (let seq = c; seq < EVENTS; seq += N_CPUS) if (seq % 3 !== 2 && flags[seq] === 0) n++;
      return n;
    });
    assert.deepEqual(perCpu, expected, "records per CPU");
    console.log(`# ringbuf on ${N_CPUS} CPUs: ${perCpu.join(" + ")} records, ${lostCount} lost (ring full), ${rb.wakeups} wakeups, ${polls} polls`);
  });
});

test("worker CPUs: a full ring buffer counts every failed reservation, and what fits arrives intact", async () => {
  await withPool(async (space, vm, pool) => {
    const rb = createMap(space, { type: 27, keySize: 0, valueSize: 0, maxEntries: 4096, name: "small" }, { nCpus: N_CPUS }) as RingBufMap;
    const prog = vm.load(assemble(`
${PRELUDE}
${output(rb, "c")}
  exit`));
    const results = await pool.fire(prog, { events: seqEvents(2000) });
    assert.deepEqual(results.map((r) => r.faults), results.map(() => 0));
    const got = new Set<number>();
    rb.consume((s) => { const { seq } = checkRecord(s, "small ring"); assert.ok(!got.has(seq)); got.add(seq); });
    assert.ok(rb.dropped > 0, "the ring filled");
    assert.equal(got.size + rb.dropped, 2000, "every output either arrived or was dropped");
  });
});

test("worker CPUs: perf event samples go to each CPU's own buffer, arrive once each, untorn; losses are reported as perf does", async () => {
  await withPool(async (space, vm, pool) => {
    const events = createMap(space, { type: 4, keySize: 4, valueSize: 4, maxEntries: N_CPUS, name: "events" }, { nCpus: N_CPUS }) as PerfEventArrayMap;
    const lost = createMap(space, { type: 2, keySize: 4, valueSize: 4, maxEntries: EVENTS, name: "plost" }, { nCpus: N_CPUS }) as ArrayMap;
    const buffers = events.openBuffers(2); // 8 KiB each: fills when the reader falls behind
    const prog = vm.load(assemble(`
${PRELUDE}
  r6 = r10
  r6 += -56
${fill("d")}
  r1 = r6
  r2 = ${events.address} ll
  r3 = 0xffffffff ll
  r4 = r6
  r5 = r9
  call 25
  if r0 == 0 goto done
${markLost(lost)}
done:
  r0 = 0
  exit`));
    const seen = new Uint8Array(EVENTS);
    const perCpu = new Array<number>(N_CPUS).fill(0), reportedLost = new Array<number>(N_CPUS).fill(0);
    await fireDraining(pool, prog, () => {
      events.poll(1, (s, bufCpu) => {
        const { cpu, seq } = checkRecord(s, "perf");
        assert.equal(cpu, bufCpu, `seq ${seq} is in CPU ${bufCpu}'s buffer, written on CPU ${cpu}`);
        assert.equal(cpu, seq % N_CPUS);
        assert.equal(seen[seq], 0, `seq ${seq} arrived twice`);
        seen[seq] = 1;
        perCpu[cpu]!++;
      }, (n, cpu) => { reportedLost[cpu]! += n; });
    });
    const flags = lostFlags(lost);
    const lostPerCpu = new Array<number>(N_CPUS).fill(0);
    for (let seq = 0; seq < EVENTS; seq++) {
      assert.equal(seen[seq]! + flags[seq]!, 1, `seq ${seq}: received ${seen[seq]}, lost ${flags[seq]}`);
      lostPerCpu[seq % N_CPUS]! += flags[seq]!;
    }
    for (let c = 0; c < N_CPUS; c++) {
      assert.equal(buffers[c]!.totalLost, lostPerCpu[c], `cpu ${c}: the buffer's lost count`);
      assert.equal(reportedLost[c]! + buffers[c]!.pendingLost, lostPerCpu[c], `cpu ${c}: PERF_RECORD_LOST counts + not yet reported`);
    }
    console.log(`# perf buffers on ${N_CPUS} CPUs: ${perCpu.join(" + ")} samples, lost ${lostPerCpu.join(" + ")}`);
  });
});

test("worker CPUs: bpf_get_stackid gives every CPU the same id for a stack; BPF_F_REUSE_STACKID swaps keep the buckets consistent", async () => {
  await withPool(async (space, vm, pool) => {
    const stackOf = (k: number): bigint[] => Array.from({ length: 1 + (k % 6) }, (_, f) => 0xffffffff81000000n + BigInt(k * 4096 + f * 16));
    // 40 stacks whose ids do not collide in a 1024-bucket map, and 200 that all land in ids 0..3 of a 16-bucket map
    // (REUSE then always finds a free bucket among 9: at most 4 held by ids, 2 by CPUs swapping, 1 by a lookup)
    const idIn = (buckets: number, s: bigint[]): number => {
      const ref = createMap(new AddressSpace({ initialPages: 1 }), { type: 7, keySize: 4, valueSize: 64, maxEntries: buckets }) as StackTraceMap;
      return ref.getStackId(s, 0);
    };
    const stacks: bigint[][] = [], ids: number[] = [], colliding: bigint[][] = [], collidingIds: number[] = [];
    for (let k = 0; stacks.length < 40; k++) {
      const id = idIn(1024, stackOf(k));
      if (!ids.includes(id)) { stacks.push(stackOf(k)); ids.push(id); }
    }
    for (let k = 1000; colliding.length < 200; k++) {
      const id = idIn(16, stackOf(k));
      if (id < 4) { colliding.push(stackOf(k)); collidingIds.push(id); }
    }
    for (const [flags, maxEntries] of [[0, 1024], [1 << 10, 9]] as const) {
      const reuse = flags !== 0, kinds = reuse ? colliding : stacks, kindIds = reuse ? collidingIds : ids;
      const st = createMap(space, { type: 7, keySize: 4, valueSize: 64, maxEntries, name: "stacks" }, { nCpus: N_CPUS }) as StackTraceMap;
      const out = createMap(space, { type: 2, keySize: 4, valueSize: 8, maxEntries: 4000, name: "ids" }, { nCpus: N_CPUS }) as ArrayMap;
      const prog = vm.load(assemble(`
  r6 = r1
  r7 = *(u32 *)(r6 + 0)
  r2 = ${st.address} ll
  r3 = ${flags}
  call 27
  r8 = r0
  *(u32 *)(r10 - 4) = r7
  r1 = ${out.address} ll
  r2 = r10
  r2 += -4
  call 1
  if r0 == 0 goto done
  *(u64 *)(r0 + 0) = r8
done:
  r0 = 0
  exit`));
      const which = Array.from({ length: 4000 }, (_, i) => (i * 7) % kinds.length);
      let done = false, userOps = 0;
      const fired = pool.fire(prog, { events: seqEvents(4000), stacks: which.map((k) => kinds[k]!) }).finally(() => { done = true; });
      // user space meanwhile: lookups (which take a bucket out of its id while copying, as bpf_stackmap_copy) and deletes
      while (!done) {
        for (let id = 0; id < 4; id++, userOps++) {
          try {
            if (reuse && userOps % 5 === 4) st.delete(u32(id)); else st.lookup(u32(id));
          } catch (e) { assert.match(String(e), /ENOENT/); }
        }
        await new Promise((r) => setImmediate(r));
      }
      const results = await fired;
      assert.deepEqual(results.map((r) => r.faults), results.map(() => 0), results.find((r) => r.error)?.error);
      const got = which.map((_, i) => Number(new DataView(out.lookup(u32(i)).buffer).getBigInt64(0, true)));
      got.forEach((id, i) => assert.equal(id, kindIds[which[i]!], `event ${i}: stack ${which[i]}'s id`));
      const { stacks: stored } = st.checkConsistency();
      if (!reuse) {
        assert.equal(stored, 40, "user-space lookups put every bucket back");
        ids.forEach((id, k) => assert.deepEqual(st.stack(id), stacks[k]));
      } else {
        assert.ok(stored <= 4);
        for (let id = 0; id < 4; id++) {
          const s = st.stack(id);
          if (s !== undefined) assert.equal(collidingIds[colliding.findIndex((c) => c.join() === s.join())], id, `id ${id} holds a stack of its own`);
        }
        console.log(`# stack ids with BPF_F_REUSE_STACKID on ${N_CPUS} CPUs: 4000 events on 4 colliding ids + ${userOps} user lookups/deletes, ${stored} stored, consistent`);
      }
    }
  });
});

test("worker CPUs: ring buffer lengths read back from program-writable headers stay inside the ring (commit, reserve, consume)", async () => {
  await withPool(async (space, vm, pool) => {
    const rb = createMap(space, { type: 27, keySize: 0, valueSize: 0, maxEntries: 4096, name: "tamper" }, { nCpus: N_CPUS }) as RingBufMap;
    // reserve 8 bytes, rewrite the header's length to ~256 MiB with BUSY cleared, then submit
    const before = vm.load(assemble(`
  r1 = ${rb.address} ll
  r2 = 8
  r3 = 0
  call 131
  if r0 == 0 goto out
  r1 = 0x0ffffff0
  *(u32 *)(r0 - 8) = r1
  r1 = r0
  r2 = 0
  call 132
out:
  r0 = 0
  exit`));
    // the same, rewriting the header after submit (the consumer and the next reservation read it back)
    const afterSubmit = vm.load(assemble(`
  r1 = ${rb.address} ll
  r2 = 8
  r3 = 0
  call 131
  if r0 == 0 goto out
  r6 = r0
  r1 = r0
  r2 = 0
  call 132
  r1 = 0x3ffffff0
  *(u32 *)(r6 - 8) = r1
out:
  r0 = 0
  exit`));
    const allowed = (): { start: number; size: number }[] =>
      [rb.data, rb.control, ...space.regions().filter((r) => r.kind === "stack" || r.name.endsWith("arena"))];
    const snapshot = space.u8.slice();
    const changedOutside = (): number => {
      const ok = allowed();
      let n = 0;
      for (let a = 0; a < snapshot.length; a++) {
        if (snapshot[a] !== space.u8[a] && !ok.some((r) => a >= r.start && a < r.start + r.size)) n++;
      }
      return n;
    };
    const first = await pool.fire(before, { repeat: 50 });
    assert.deepEqual(first.map((r) => r.faults), first.map(() => 0), first.find((r) => r.error)?.error);
    const lengths: number[] = [];
    rb.consume((s) => { lengths.push(s.length); });
    assert.deepEqual(lengths, new Array<number>(50 * N_CPUS).fill(8), "commit wrote back the reserved length");
    const second = await pool.fire(afterSubmit, { repeat: 20 });
    assert.deepEqual(second.map((r) => r.faults), second.map(() => 0), second.find((r) => r.error)?.error);
    assert.doesNotThrow(() => rb.consume(() => {}), "the consumer stops at a length past what was produced");
    assert.equal(changedOutside(), 0, "no byte outside the ring, its control block, stacks and arenas changed");
    assert.ok(rb.consumerPos <= rb.producerPos && rb.producerPos - rb.consumerPos < rb.size);
  });
});

test("worker CPUs: ring_buffer__poll blocks on the ring's wake word until a worker commits, then consumes", async () => {
  await withPool(async (space, vm, pool) => {
    const rb = createMap(space, { type: 27, keySize: 0, valueSize: 0, maxEntries: 4096, name: "poll" }, { nCpus: N_CPUS }) as RingBufMap;
    const prog = vm.load(assemble(`
  *(u64 *)(r10 - 8) = 7
  r1 = ${rb.address} ll
  r2 = r10
  r2 += -8
  r3 = 8
  r4 = 0
  call 130
  r0 = 0
  exit`));
    const { i32, index } = rb.wakeWord;
    const seq = Atomics.load(i32, index);
    const fired = pool.fire(prog, { cpus: [N_CPUS - 1] });
    const got: number[] = [];
    // the consumer is caught up, so the commit wakes it (the kernel's irq_work to epoll); the generous timeout only
    // bounds a broken wakeup
    const n = rb.poll(60_000, (s) => { got.push(s[0]!); });
    await fired;
    assert.equal(n, 1);
    assert.deepEqual(got, [7]);
    assert.equal(Atomics.load(i32, index), seq + 1, "one wakeup");
    assert.equal(rb.wakeups, 1);
  });
});

test("worker CPUs: perf_buffer__poll wakes when a worker writes a sample into its CPU's buffer", async () => {
  await withPool(async (space, vm, pool) => {
    const events = createMap(space, { type: 4, keySize: 4, valueSize: 4, maxEntries: N_CPUS, name: "pollev" }, { nCpus: N_CPUS }) as PerfEventArrayMap;
    events.openBuffers(1);
    const prog = vm.load(assemble(`
  *(u64 *)(r10 - 8) = 9
  r2 = ${events.address} ll
  r3 = 0xffffffff ll
  r4 = r10
  r4 += -8
  r5 = 8
  call 25
  exit`));
    const fired = pool.fire(prog, { cpus: [N_CPUS - 1] });
    const got: [number, number][] = [];
    const n = events.poll(60_000, (s, cpu) => { got.push([s[0]!, cpu]); });
    const [r] = await fired;
    assert.equal(r!.lastR0, 0, "bpf_perf_event_output returned 0");
    assert.equal(n, 1);
    assert.deepEqual(got, [[9, N_CPUS - 1]], "the sample, from the worker's own buffer");
  });
});
