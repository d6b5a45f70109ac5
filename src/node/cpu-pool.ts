// Worker-thread CPUs for Node: N worker_threads, each a `Cpu` (src/cpus) over the owner's shared AddressSpace, with
// bpf_get_smp_processor_id() = the worker's index. The pool is an executor: `run(prog, opts)` runs one program on one
// CPU and blocks until it returns (the synchronous shape of the runtime's Executor, for BPF_PROG_TEST_RUN-like calls);
// `fire(prog, …)` runs a program for a stream of events on every CPU at once and resolves when all are done. Maps stay
// readable and writable from the owner thread meanwhile: they are the same memory.
import { Worker } from "node:worker_threads";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { BpfError } from "../errors.ts";
import type { BpfErrorCode } from "../errors.ts";
import { CpuFeed } from "../cpus/index.ts";
import type { CpuRunOptions, FireJob, FireResult, SyncMessage } from "../cpus/index.ts";
import { RunResult } from "../vm/index.ts";
import type { AddressSpace, LoadedProgram, Region, RunOptions } from "../vm/index.ts";

/** What the runtime's Executor asks of a CPU pool (structurally the same interface; src/runtime need not be imported). */
export interface ProgramExecutor {
  readonly nCpus: number;
  run(prog: LoadedProgram, opts: RunOptions): RunResult;
}

export interface CpuPoolOptions {
  /** Worker CPUs (default 2). */
  readonly nCpus?: number;
  /** Bytes of each CPU's arena for its stacks and event contexts (default 1 MiB). */
  readonly arenaBytes?: number;
}

/** One event stream for `fire`: each event's bytes become the context (r1) of one run. */
export interface FireOptions {
  /** Events, dealt to the CPUs in turn (event i runs on CPU i % nCpus); or none with `repeat`. */
  readonly events?: readonly Uint8Array[];
  /** Each event's stack (innermost ip first), what bpf_get_stackid sees while it runs; parallel to `events`. */
  readonly stacks?: readonly (readonly bigint[])[];
  /** Runs per event, or runs on every CPU when there are no events (default 1). */
  readonly repeat?: number;
  /** CPUs to use (default all). */
  readonly cpus?: readonly number[];
  readonly budget?: number;
}

// Control words shared with each worker for synchronous runs.
const S_STATE = 0, S_LO = 1, S_HI = 2, S_INSNS = 3, S_ERR = 4, S_ERRLEN = 5, S_DEAD = 6;
const ERR_TEXT = 64, CTL_BYTES = 4096;

interface Slot {
  readonly worker: Worker;
  readonly ctl: Int32Array;
  readonly text: Uint8Array;
  readonly arena: Region;
  readonly pending: Map<number, { resolve: (r: FireResult) => void; reject: (e: Error) => void }>;
}

export class CpuPool implements ProgramExecutor {
  readonly nCpus: number;
  private readonly feed: CpuFeed;
  private nextJob = 1;
  private closed = false;

  private constructor(readonly space: AddressSpace, private readonly slots: Slot[]) {
    this.nCpus = slots.length;
    this.feed = new CpuFeed(space, slots.length);
  }

  /** Starts `nCpus` workers over `space`, which must be shared (`new AddressSpace({ shared: true })`), and waits for them. */
  static async start(space: AddressSpace, opts: CpuPoolOptions = {}): Promise<CpuPool> {
    const pool = CpuPool.open(space, opts);
    try {
      await pool.ready;
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  /**
   * The pool at once, its workers still starting (`ready` settles when they are up): for callers that need an
   * executor synchronously, such as the runtime's `SystemOptions.executor` factory. Work sent before the workers are
   * up waits in their queues; a worker that fails to start makes `ready` reject and its runs throw.
   */
  static open(space: AddressSpace, opts: CpuPoolOptions = {}): CpuPool {
    if (!space.shared) throw new BpfError("EINVAL", "worker CPUs need a shared address space (new AddressSpace({ shared: true }))");
    const n = opts.nCpus ?? 2;
    if (!Number.isInteger(n) || n < 1 || n > 256) throw new BpfError("EINVAL", `nCpus must be 1..256, not ${n}`);
    const here = fileURLToPath(import.meta.url);
    const entry = new URL(`./cpu-worker${extname(here)}`, import.meta.url);
    // Running from TypeScript sources, a worker must register the same loader before importing its body (Node 20
    // does not apply the parent's --import hooks to workers).
    const fromSource = extname(here) === ".ts";
    const boot = fromSource
      ? `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}).then((t) => { t.register(); return import(${JSON.stringify(entry.href)}); });`
      : undefined;
    const slots: Slot[] = [];
    const ready: Promise<void>[] = [];
    for (let cpu = 0; cpu < n; cpu++) {
      const arena = space.alloc(opts.arenaBytes ?? 1 << 20, { kind: "scratch", name: `cpu ${cpu} arena`, writable: false });
      const sab = new SharedArrayBuffer(CTL_BYTES);
      const worker = new Worker(boot ?? entry, {
        eval: boot !== undefined,
        workerData: { memory: space.memory, cpu, nCpus: n, arena: { start: arena.start, size: arena.size }, ctl: sab },
      });
      const slot: Slot = { worker, ctl: new Int32Array(sab, 0, 16), text: new Uint8Array(sab, ERR_TEXT), arena, pending: new Map() };
      slots.push(slot);
      ready.push(new Promise<void>((resolve, reject) => {
        const onError = (e: Error): void => reject(e);
        worker.once("error", onError);
        worker.once("message", (m: { ready?: boolean; error?: string }) => {
          worker.off("error", onError);
          if (m.ready) resolve(); else reject(new BpfError("EINVAL", `cpu ${cpu}: ${m.error ?? "did not start"}`));
        });
      }));
      worker.on("message", (m: { id?: number; result?: FireResult; error?: string }) => {
        if (m.id === undefined) return;
        const p = slot.pending.get(m.id);
        if (p === undefined) return;
        slot.pending.delete(m.id);
        if (m.result !== undefined) p.resolve(m.result); else p.reject(new BpfError("FAULT", m.error ?? "worker failed"));
      });
      worker.on("error", (e) => { for (const p of slot.pending.values()) p.reject(e); slot.pending.clear(); });
    }
    const pool = new CpuPool(space, slots);
    pool.ready = Promise.all(ready).then(() => undefined);
    pool.ready.catch(() => undefined); // observed by whoever awaits it; runs report their own failure
    return pool;
  }

  /** Settles when every worker is up (rejects if one failed to start). */
  ready: Promise<void> = Promise.resolve();

  /**
   * Runs `prog` once on CPU `opts.cpu` (default 0) and waits for it: the calling thread blocks (Atomics.wait), as a
   * test run waits in bpf(). Faults are rethrown here as the BpfError the CPU raised.
   */
  run(prog: LoadedProgram, opts: RunOptions = {}): RunResult {
    const cpu = opts.cpu ?? 0;
    const s = this.slot(cpu);
    const o: CpuRunOptions = {
      ctx: opts.ctx, r1: opts.r1, r2: opts.r2, r3: opts.r3, r4: opts.r4, r5: opts.r5,
      budget: opts.budget, ctxRegion: opts.ctxRegion?.start, ctxWritable: opts.ctxWritable,
      packet: opts.packet === undefined ? undefined : {
        data: opts.packet.data, len: opts.packet.len, headLen: opts.packet.headLen, macOffset: opts.packet.macOffset,
        networkOffset: opts.packet.networkOffset, bufferStart: opts.packet.bufferStart, bufferEnd: opts.packet.bufferEnd,
      },
    };
    Atomics.store(s.ctl, S_STATE, 1);
    s.worker.postMessage({ kind: "run", sync: this.feed.delta(cpu, [prog]), prog: prog.code.start, opts: o });
    while (Atomics.load(s.ctl, S_STATE) === 1) {
      Atomics.wait(s.ctl, S_STATE, 1, 1000);
      if (Atomics.load(s.ctl, S_DEAD) !== 0) { Atomics.store(s.ctl, S_STATE, 0); break; }
    }
    if (s.ctl[S_ERR] !== 0) {
      const text = new TextDecoder().decode(s.text.slice(0, s.ctl[S_ERRLEN]!));
      const sep = text.indexOf("\n");
      throw new BpfError(text.slice(0, sep) as BpfErrorCode, text.slice(sep + 1));
    }
    return new RunResult(s.ctl[S_LO]! >>> 0, s.ctl[S_HI]! >>> 0, s.ctl[S_INSNS]!);
  }

  /** Runs `prog` for a stream of events on every CPU (or `opts.cpus`) concurrently; one result per CPU. */
  async fire(prog: LoadedProgram, opts: FireOptions = {}): Promise<FireResult[]> {
    const cpus = opts.cpus ?? this.slots.map((_, i) => i);
    const jobs = cpus.map((cpu, k) => {
      const mine = <T>(xs: readonly T[] | undefined): T[] | undefined => xs?.filter((_, i) => i % cpus.length === k);
      const ev = packed(mine(opts.events), Uint8Array, (e) => e);
      const st = opts.events === undefined ? undefined : packed(mine(opts.stacks), BigUint64Array, (s) => s.map((ip) => BigInt.asUintN(64, ip)));
      const events = ev?.data, ends = ev?.ends, stacks = st?.data, stackEnds = st?.ends;
      const job: FireJob = { prog: prog.code.start, events, ends, stacks, stackEnds, repeat: opts.repeat, budget: opts.budget };
      return this.post(cpu, this.feed.delta(cpu, [prog]), job);
    });
    return Promise.all(jobs);
  }

  /** Stops every worker and unmaps their arenas. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    for (const s of this.slots) this.space.release(s.arena);
  }

  private post(cpu: number, sync: SyncMessage, job: FireJob): Promise<FireResult> {
    const s = this.slot(cpu);
    const id = this.nextJob++;
    return new Promise<FireResult>((resolve, reject) => {
      s.pending.set(id, { resolve, reject });
      s.worker.postMessage({ kind: "fire", id, sync, job });
    });
  }

  private slot(cpu: number): Slot {
    if (this.closed) throw new BpfError("EINVAL", "the CPU pool is closed");
    const s = this.slots[cpu];
    if (s === undefined) throw new BpfError("EINVAL", `no CPU ${cpu} (the pool has ${this.nCpus})`);
    return s;
  }
}

/** Parts laid end to end in one typed array (what crosses to a worker in one message), and where each part ends. */
function packed<T, A extends Uint8Array | BigUint64Array>(
  parts: readonly T[] | undefined, Make: new (n: number) => A, elems: (p: T) => ArrayLike<number | bigint>,
): { data: A; ends: Uint32Array } | undefined {
  if (parts === undefined) return undefined;
  const ends = new Uint32Array(parts.length);
  const items = parts.map(elems);
  let total = 0;
  items.forEach((e, i) => { total += e.length; ends[i] = total; });
  const data = new Make(total);
  let at = 0;
  for (const e of items) { (data as unknown as { set(a: ArrayLike<number | bigint>, o: number): void }).set(e, at); at += e.length; }
  return { data, ends };
}

export { S_STATE, S_LO, S_HI, S_INSNS, S_ERR, S_ERRLEN, S_DEAD, ERR_TEXT };
