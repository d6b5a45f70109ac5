// Worker-thread CPUs over one shared address space: smp_processor_id, the seed's per-CPU vs plain-hash counting
// experiment, and hash/LRU maps staying consistent under concurrent updates from every CPU and user space.
import { test } from "node:test";
import assert from "node:assert/strict";
import { assemble } from "../isa/ebpf/index.ts";
import { createMap } from "../maps/index.ts";
import type { HashMap, LpmTrieMap } from "../maps/index.ts";
import type { BpfMap } from "../maps/index.ts";
import { AddressSpace, Vm } from "../vm/index.ts";
import type { Executor } from "../runtime/index.ts";
import { CpuPool } from "./cpu-pool.ts";
import { poolPerFile } from "./cpu-pool.test-util.ts";

const N_CPUS = Math.max(2, Number(process.env.BPFKIT_CPUS ?? 2));
const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
const u64s = (b: Uint8Array): bigint[] => Array.from(new BigUint64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)));

// One pool for the file (starting workers costs seconds under the TypeScript loader); each test maps its own maps.
const withPool = poolPerFile(N_CPUS);

test("worker CPUs: bpf_get_smp_processor_id() is the worker's index", async () => {
  await withPool(async (_space, vm, pool) => {
    const prog = vm.load(assemble("call 8\nexit"));
    const fired = await pool.fire(prog, { repeat: 3 });
    assert.deepEqual(fired.map((r) => [r.cpu, r.runs, r.lastR0]), Array.from({ length: N_CPUS }, (_, c) => [c, 3, c]));
    for (let c = 0; c < N_CPUS; c++) assert.equal(pool.run(prog, { cpu: c }).lo, c, "a synchronous run on cpu c");
  });
});

test("worker CPUs: a fault on a CPU is a BpfError naming the pc, and the CPU keeps running", async () => {
  await withPool(async (_space, vm, pool) => {
    const prog = vm.load(assemble("r1 = 16\nr0 = *(u32 *)(r1 + 0)\nexit"));
    assert.throws(() => pool.run(prog, { cpu: 1 }), /FAULT|pc 1/);
    const [r] = await pool.fire(prog, { cpus: [1], repeat: 2 });
    assert.equal(r!.faults, 2);
    assert.equal(pool.run(vm.load(assemble("call 8\nexit")), { cpu: 1 }).lo, 1);
  });
});

test("worker CPUs: @cpuhash = count() is exact per CPU; @hash++ as a plain read-modify-write may lose updates", async () => {
  await withPool(async (_space, vm, pool) => {
    const space = vm.space;
    const cpuhash = createMap(space, { type: 6, keySize: 4, valueSize: 8, maxEntries: 1, name: "cpuhash" }, { nCpus: N_CPUS });
    const hash = createMap(space, { type: 1, keySize: 4, valueSize: 16, maxEntries: 16, name: "hash" }, { nCpus: N_CPUS });
    hash.update(u32(0), new Uint8Array(16));
    // per-CPU slot += 1 (plain: no other CPU writes it); hash value: plain += 1 at +0, lock += 1 at +8
    const prog = vm.load(assemble(`
      *(u32 *)(r10 - 4) = 0
      r1 = ${cpuhash.address} ll
      r2 = r10
      r2 += -4
      call 1
      if r0 == 0 goto hash
      r1 = *(u64 *)(r0 + 0)
      r1 += 1
      *(u64 *)(r0 + 0) = r1
    hash:
      r1 = ${hash.address} ll
      r2 = r10
      r2 += -4
      call 1
      if r0 == 0 goto out
      r1 = *(u64 *)(r0 + 0)
      r1 += 1
      *(u64 *)(r0 + 0) = r1
      r1 = 1
      lock *(u64 *)(r0 + 8) += r1
    out:
      r0 = 0
      exit`));
    const perCpu = 40_000, total = BigInt(perCpu * N_CPUS);
    let done = false, reads = 0, midRun = 0;
    const fired = pool.fire(prog, { repeat: perCpu }).finally(() => { done = true; });
    // user space reads the maps while the CPUs run: counts only grow and never pass the event count
    let last = 0n;
    while (!done) {
      const v = u64s(cpuhash.lookup(u32(0))).reduce((a, b) => a + b, 0n);
      assert.ok(v >= last && v <= total, `per-CPU sum ${v} read mid-run`);
      if (v > 0n && v < total) midRun++;
      last = v;
      reads++;
      await new Promise((r) => setTimeout(r, 2));
    }
    const results = await fired;
    assert.deepEqual(results.map((r) => [r.runs, r.faults]), results.map(() => [perCpu, 0]));
    const slots = u64s(cpuhash.lookup(u32(0)));
    assert.deepEqual(slots, slots.map(() => BigInt(perCpu)), "each CPU counted its own events in its own slot");
    assert.equal(slots.reduce((a, b) => a + b, 0n), total, "per-CPU total equals the events");
    const [plain, atomic] = u64s(hash.lookup(u32(0)));
    assert.equal(atomic, total, "lock += is a real atomic add: no update lost");
    assert.ok(plain! <= total && plain! >= BigInt(perCpu), `plain counter ${plain}`);
    assert.equal((hash as HashMap).checkConsistency().elements, 1);
    const lost = total - plain!;
    console.log(`# ${N_CPUS} CPUs x ${perCpu} events: per-CPU total ${total} (exact), atomic ${atomic}, plain @hash++ ` +
      `${plain} (lost ${lost}, ${(Number(lost) * 100 / Number(total)).toFixed(2)}%); user space read the maps ${reads} times, ${midRun} mid-run`);
  });
});

// ctx: key, u32 op (0 update, 1 delete, 2 lookup and plain increment) at opOff, u64 value at opOff + 4
const FUZZ = (map: BpfMap, opOff = 4): string => `
    r6 = r1
    r7 = *(u32 *)(r6 + ${opOff})
    r1 = ${map.address} ll
    r2 = r6
    if r7 == 0 goto upd
    if r7 == 1 goto del
    call 1
    if r0 == 0 goto out
    r1 = *(u64 *)(r0 + 0)
    r1 += 1
    *(u64 *)(r0 + 0) = r1
    goto out
  upd:
    r3 = r6
    r3 += ${opOff + 4}
    r4 = 0
    call 2
    goto out
  del:
    call 3
  out:
    r0 = 0
    exit`;

test("worker CPUs: hash, percpu and LRU maps stay consistent under concurrent updates from every CPU and user space", async () => {
  await withPool(async (space, vm, pool) => {
    let seed = 12345;
    const rnd = (n: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % n; };
    const specs = [
      { type: 1, name: "hash" }, { type: 5, name: "percpu_hash" }, { type: 9, name: "lru" },
      { type: 9, name: "lru_percpu_lst", flags: 2 }, { type: 10, name: "lru_percpu" },
    ];
    for (const s of specs) {
      const m = createMap(space, { type: s.type, keySize: 4, valueSize: 8, maxEntries: 64, name: s.name, flags: s.flags }, { nCpus: N_CPUS });
      const prog = vm.load(assemble(FUZZ(m)));
      const events = Array.from({ length: 12_000 }, () => {
        const e = new Uint8Array(16), dv = new DataView(e.buffer);
        dv.setUint32(0, rnd(160), true);
        dv.setUint32(4, rnd(3), true);
        dv.setUint32(8, rnd(1000), true);
        return e;
      });
      let done = false, userOps = 0;
      const fired = pool.fire(prog, { events }).finally(() => { done = true; });
      const uv = new Uint8Array(m.userValueSize);
      while (!done) {
        for (let k = 0; k < 50; k++, userOps++) {
          const key = u32(rnd(160));
          try {
            if (k % 3 === 0) m.update(key, uv); else if (k % 3 === 1) m.delete(key); else m.lookup(key);
          } catch (e) {
            assert.match(String(e), /ENOENT|E2BIG|ENOMEM/);
          }
        }
        await new Promise((r) => setTimeout(r, 1));
      }
      const results = await fired;
      assert.equal(results.reduce((a, r) => a + r.runs, 0), events.length);
      assert.deepEqual(results.map((r) => r.faults), results.map(() => 0), results.find((r) => r.error)?.error);
      const h = m as HashMap;
      const { elements } = h.checkConsistency();
      let walked = 0;
      for (let k = m.getNextKey(null); k !== null; k = m.getNextKey(k)) walked++;
      assert.equal(walked, elements, `${s.name}: get_next_key walks every element once`);
      assert.ok(elements <= 64, `${s.name}: ${elements} elements within max_entries`);
      console.log(`# ${s.name}: ${events.length} program ops on ${N_CPUS} CPUs + ${userOps} user ops: consistent, ${elements} elements`);
    }
  });
});

test("worker CPUs: an LPM trie stays consistent under concurrent updates, deletes and lookups from every CPU and user space", async () => {
  await withPool(async (space, vm, pool) => {
    let seed = 777;
    const rnd = (n: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % n; };
    const m = createMap(space, { type: 11, keySize: 8, valueSize: 8, maxEntries: 48, flags: 1, name: "lpm" }, { nCpus: N_CPUS });
    const prog = vm.load(assemble(FUZZ(m, 8)));
    const key = (): Uint8Array => new Uint8Array([[0, 8, 16, 20, 24, 32][rnd(6)]!, 0, 0, 0, 10, rnd(3) * 64, rnd(4), rnd(2)]);
    const events = Array.from({ length: 12_000 }, () => {
      const e = new Uint8Array(24), dv = new DataView(e.buffer);
      e.set(key(), 0);
      dv.setUint32(8, rnd(3), true);
      dv.setUint32(12, rnd(1000), true);
      return e;
    });
    let done = false, userOps = 0;
    const fired = pool.fire(prog, { events }).finally(() => { done = true; });
    const uv = new Uint8Array(8);
    while (!done) {
      for (let k = 0; k < 50; k++, userOps++) {
        try {
          if (k % 3 === 0) m.update(key(), uv); else if (k % 3 === 1) m.delete(key()); else m.lookup(key());
        } catch (e) {
          assert.match(String(e), /ENOENT|ENOSPC/);
        }
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    const results = await fired;
    assert.deepEqual(results.map((r) => r.faults), results.map(() => 0), results.find((r) => r.error)?.error);
    const { elements, nodes } = (m as LpmTrieMap).checkConsistency();
    let walked = 0;
    for (let k = m.getNextKey(null); k !== null; k = m.getNextKey(k)) walked++;
    assert.equal(walked, elements, "get_next_key walks every prefix once");
    assert.ok(elements <= 48 && nodes <= 2 * elements, `${elements} prefixes in ${nodes} nodes`);
    console.log(`# lpm_trie: ${events.length} program ops on ${N_CPUS} CPUs + ${userOps} user ops: consistent, ${elements} prefixes, ${nodes} nodes`);
  });
});

test("worker CPUs: CpuPool.open gives an executor at once; a synchronous run waits for its worker to start", async () => {
  const space = new AddressSpace({ shared: true });
  const vm = new Vm(space);
  const pool = CpuPool.open(space, { nCpus: 2 });
  const executor: Executor = pool; // the runtime's executor interface, implemented by the pool
  try {
    const prog = vm.load(assemble("call 8\nr0 += 40\nexit"));
    assert.equal(executor.run(prog, { cpu: 1 }).lo, 41, "ran on CPU 1 before `ready` was awaited");
    await pool.ready;
    assert.equal(pool.nCpus, 2);
  } finally {
    await pool.close();
  }
});

test("worker CPUs: a queue and a bloom filter pushed from every CPU lose and duplicate nothing", async () => {
  await withPool(async (space, vm, pool) => {
    const q = createMap(space, { type: 22, keySize: 0, valueSize: 8, maxEntries: 20_000, name: "q" }, { nCpus: N_CPUS });
    const bloom = createMap(space, { type: 30, keySize: 0, valueSize: 8, maxEntries: 20_000, name: "b" }, { nCpus: N_CPUS });
    // bpf_map_push_elem(map, ctx, 0) into both
    const prog = vm.load(assemble(`
      r6 = r1
      r1 = ${q.address} ll
      r2 = r6
      r3 = 0
      call 87
      r1 = ${bloom.address} ll
      r2 = r6
      r3 = 0
      call 87
      exit`));
    const events = Array.from({ length: 10_000 }, (_, i) => new Uint8Array(new BigUint64Array([BigInt(i) * 7919n + 1n]).buffer));
    const results = await pool.fire(prog, { events });
    assert.deepEqual(results.map((r) => [r.faults, r.lastR0]), results.map(() => [0, 0]), results.find((r) => r.error)?.error);
    const popped = new Set<bigint>();
    for (;;) {
      try { popped.add(u64s(q.lookupAndDelete(null))[0]!); } catch { break; }
    }
    assert.equal(popped.size, events.length, "every push popped once");
    for (const e of events) assert.ok(popped.has(u64s(e)[0]!));
    for (const e of events) assert.deepEqual(bloom.lookup(null, 0, e), e, "every value added is in the filter");
  });
});
