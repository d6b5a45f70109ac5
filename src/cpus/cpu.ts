// One CPU of many sharing one address space: the per-thread side of running programs on worker threads (Node
// worker_threads or browser Web Workers; the threads themselves are the host's business, src/node/cpu-pool.ts for
// Node). The owner thread creates maps and loads programs in a shared AddressSpace and sends each CPU what changed
// (`SyncMessage`: layout journal, map images, program images); the CPU rebuilds views of them over the same memory and
// runs programs with bpf_get_smp_processor_id() = its index, per-CPU map slots its own, and every map word shared.
import { BpfError } from "../errors.ts";
import { defaultHelpers, hostEnv } from "../helpers/index.ts";
import type { PacketAccess, ProgramMap } from "../helpers/index.ts";
import type { Insn } from "../isa/ebpf/insn.ts";
import { createMap, mapFromAddress, mapTypeName } from "../maps/index.ts";
import type { BpfMap, MapImage } from "../maps/index.ts";
import { AddressSpace, Vm } from "../vm/index.ts";
import type { LayoutOp, LoadedProgram, Region, RunOptions } from "../vm/index.ts";

/** A loaded program as another thread rebuilds it: its pre-decoded arrays and its code region's address. */
export interface ProgramImage {
  readonly key: number;
  readonly name: string;
  readonly type: string;
  readonly insns: readonly Insn[];
  readonly op: Uint8Array;
  readonly dst: Uint8Array;
  readonly src: Uint8Array;
  readonly word: Int32Array;
  readonly off: Int32Array;
  readonly imm: Int32Array;
}

/** What a CPU must learn before a job: layout changes, maps and programs it has not seen. */
export interface SyncMessage {
  readonly layout: readonly LayoutOp[];
  readonly maps: readonly MapImage[];
  /** Map handles of maps whose state is not shared (their type keeps it in JS): programs using them fault here. */
  readonly unshared: readonly { readonly address: number; readonly id: number; readonly type: number }[];
  readonly progs: readonly ProgramImage[];
}

/** How a CPU is set up: the shared memory, its index and the arena it allocates its own regions in. */
export interface CpuInit {
  readonly memory: WebAssembly.Memory;
  readonly cpu: number;
  readonly nCpus: number;
  readonly arena: { readonly start: number; readonly size: number };
}

/** Run options that cross threads (RunOptions without the objects). */
export type CpuRunOptions = Omit<RunOptions, "packet" | "ctxRegion" | "cpu"> & {
  readonly packet?: Omit<PacketAccess, "onChange">;
  /** Start of the context region (the region itself is rebuilt on the CPU). */
  readonly ctxRegion?: number;
};

/** Runs of one program for a stream of events on this CPU: each event's bytes are the context (r1). */
export interface FireJob {
  readonly prog: number;
  /** Concatenated event contexts and where each ends; or none: `repeat` runs with r1 = 0. */
  readonly events?: Uint8Array;
  readonly ends?: Uint32Array;
  /**
   * Each event's stack (innermost ip first), as a sample's callchain carries it: what bpf_get_stackid and
   * bpf_get_stack see while the event runs. `stackEnds[i]` ends event i's ips in `stacks`.
   */
  readonly stacks?: BigUint64Array;
  readonly stackEnds?: Uint32Array;
  /** Runs per event (default 1), or runs without events. */
  readonly repeat?: number;
  readonly budget?: number;
}

export interface FireResult {
  readonly cpu: number;
  readonly runs: number;
  readonly insns: number;
  /** r0 of the last run, low 32 bits. */
  readonly lastR0: number;
  /** Runs that faulted (the first error's text in `error`). */
  readonly faults: number;
  readonly error?: string;
}

export function programImage(p: LoadedProgram): ProgramImage {
  return {
    key: p.code.start, name: p.name, type: p.type, insns: p.insns, op: p.op, dst: p.dst, src: p.src, word: p.word, off: p.off,
    imm: p.imm,
  };
}

const NO_STACK: ArrayLike<bigint> = new BigUint64Array(0);

export class Cpu {
  readonly index: number;
  readonly space: AddressSpace;
  readonly vm: Vm;
  private readonly progs = new Map<number, LoadedProgram>();
  private readonly unshared = new Map<number, string>();
  private readonly maps: BpfMap[] = [];
  /**
   * The running event's stack (FireJob.stacks), as [start, end) in `stackIps`; `stack` is it as the helpers take it,
   * made on the first ask in an event and kept for the event's runs.
   */
  private stackIps: BigUint64Array | undefined;
  private stackFrom = 0;
  private stackTo = 0;
  private stack: ArrayLike<bigint> | undefined;

  constructor(init: CpuInit) {
    this.index = init.cpu;
    this.space = new AddressSpace({ memory: init.memory, arena: init.arena });
    const space = this.space;
    const mapAt = (addr: number): ProgramMap | undefined => {
      const m = mapFromAddress(space, addr) as ProgramMap | undefined;
      if (m !== undefined) return m;
      const why = this.unshared.get(addr);
      if (why !== undefined) throw new BpfError("UNSUPPORTED", why);
      return undefined;
    };
    // prog arrays seen from a CPU hold the target's code address (ProgArrayMap): the program this CPU rebuilt for it
    const programOf = (e: unknown): LoadedProgram | undefined => (typeof e === "number" ? this.progs.get(e) : undefined);
    // a view of the event's ips, made once per event when a helper asks (no bigint array copied)
    const stack = (): ArrayLike<bigint> =>
      (this.stack ??= this.stackIps === undefined ? NO_STACK : this.stackIps.subarray(this.stackFrom, this.stackTo));
    this.vm = new Vm(space, { helpers: defaultHelpers, env: hostEnv({ stack }), cpu: init.cpu, mapAt, programOf });
  }

  /** Learns what the owner changed: regions, maps (attached over the shared memory) and programs. */
  sync(msg: SyncMessage): void {
    this.space.applyLayout(msg.layout);
    for (const img of msg.maps) {
      const old = mapFromAddress<BpfMap>(this.space, img.address);
      if (old?.id === img.id) continue;
      if (old !== undefined) { old.free(); this.maps.splice(this.maps.indexOf(old), 1); } // freed by the owner; its handle reused
      this.maps.push(createMap(this.space, img.spec, { nCpus: img.nCpus, seed: img.seed, attach: img }));
    }
    for (const u of msg.unshared) {
      this.unshared.set(u.address, `map ${u.id} (${mapTypeName(u.type)}) keeps its state in the creating thread; worker CPUs cannot use it`);
    }
    for (const p of msg.progs) {
      const prog = this.rebuild(p);
      this.progs.set(p.key, prog);
      this.vm.adopt(prog);
    }
    // programs whose code was unmapped are gone
    for (const key of [...this.progs.keys()]) if (this.space.find(key) === undefined) this.progs.delete(key);
  }

  /** One run, as Vm.run on this CPU; r0's halves and the instruction count. */
  run(key: number, o: CpuRunOptions): { lo: number; hi: number; insns: number } {
    const prog = this.prog(key);
    const ctxRegion: Region | undefined = o.ctxRegion === undefined ? undefined : this.space.find(o.ctxRegion);
    const r = this.vm.run(prog, {
      ctx: o.ctx, r1: o.r1, r2: o.r2, r3: o.r3, r4: o.r4, r5: o.r5, budget: o.budget, packet: o.packet === undefined ? undefined : { ...o.packet },
      ctxRegion, ctxWritable: o.ctxWritable, cpu: this.index,
    });
    return { lo: r.lo, hi: r.hi, insns: r.insns };
  }

  /** Runs a program for each event (or `repeat` times); faults are counted, not thrown, as a kernel keeps running. */
  fire(job: FireJob): FireResult {
    const prog = this.prog(job.prog);
    const repeat = job.repeat ?? 1;
    let runs = 0, insns = 0, lastR0 = 0, faults = 0, error: string | undefined;
    const one = (ctx: number): void => {
      try {
        const r = this.vm.run(prog, { ctx, budget: job.budget, cpu: this.index });
        insns += r.insns;
        lastR0 = r.lo;
      } catch (e) {
        faults++;
        error ??= e instanceof Error ? e.message : String(e);
      }
      runs++;
    };
    if (job.events === undefined || job.ends === undefined) {
      for (let i = 0; i < repeat; i++) one(0);
      return { cpu: this.index, runs, insns, lastR0, faults, error };
    }
    const ends = job.ends;
    let biggest = 0;
    for (let i = 0, prev = 0; i < ends.length; prev = ends[i]!, i++) biggest = Math.max(biggest, ends[i]! - prev);
    const box = this.space.alloc(Math.max(biggest, 1), { kind: "ctx", name: `cpu ${this.index} event` });
    const stacks = job.stacks !== undefined && job.stackEnds !== undefined ? job.stacks : undefined;
    try {
      for (let i = 0, prev = 0; i < ends.length; prev = ends[i]!, i++) {
        if (stacks !== undefined) {
          this.stackIps = stacks;
          this.stackFrom = i === 0 ? 0 : job.stackEnds![i - 1]!;
          this.stackTo = job.stackEnds![i]!;
          this.stack = undefined;
        }
        for (let k = 0; k < repeat; k++) {
          this.space.u8.set(job.events.subarray(prev, ends[i]!), box.start);
          one(box.start);
        }
      }
    } finally {
      this.space.release(box);
      this.stackIps = undefined;
      this.stack = undefined;
    }
    return { cpu: this.index, runs, insns, lastR0, faults, error };
  }

  private prog(key: number): LoadedProgram {
    const p = this.progs.get(key);
    if (p === undefined) throw new BpfError("EINVAL", `cpu ${this.index}: no program with code at 0x${key.toString(16)}`);
    return p;
  }

  private rebuild(p: ProgramImage): LoadedProgram {
    const code = this.space.find(p.key);
    if (code === undefined || code.start !== p.key || code.kind !== "code") {
      throw new BpfError("EINVAL", `cpu ${this.index}: program ${p.name}'s code region is not in the synced layout`);
    }
    return {
      name: p.name, type: p.type, insns: p.insns, length: p.op.length, op: p.op, dst: p.dst, src: p.src, word: p.word,
      off: p.off, imm: p.imm, code,
    };
  }
}
