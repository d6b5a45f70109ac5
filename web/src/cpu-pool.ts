// The VM's CPUs as Web Workers: N module workers, each a src/cpus Cpu over the owner's shared AddressSpace (only when
// the page is cross-origin isolated), with bpf_get_smp_processor_id() = the worker's index. `fire` runs a program on
// every CPU at once and resolves with one result per CPU — the browser host of what src/node/cpu-pool.ts does in Node.
import { BpfError } from "../../src/errors.ts";
import { CpuFeed } from "../../src/cpus/index.ts";
import type { FireJob, FireResult, SyncMessage } from "../../src/cpus/index.ts";
import type { AddressSpace, LoadedProgram, Region } from "../../src/vm/index.ts";

interface Slot { readonly worker: Worker; readonly arena: Region }

export class WebCpuPool {
  readonly nCpus: number;
  private readonly feed: CpuFeed;
  private nextJob = 1;

  private constructor(readonly space: AddressSpace, private readonly slots: Slot[]) {
    this.nCpus = slots.length;
    this.feed = new CpuFeed(space, slots.length);
  }

  /** Starts `nCpus` worker CPUs over `space`, which must be shared (`new AddressSpace({ shared: true })`). */
  static async start(space: AddressSpace, nCpus: number): Promise<WebCpuPool> {
    if (!space.shared) throw new BpfError("EINVAL", "worker CPUs need a shared address space (a cross-origin isolated page)");
    const slots: Slot[] = [];
    await Promise.all(Array.from({ length: nCpus }, (_, cpu) => {
      const arena = space.alloc(1 << 20, { kind: "scratch", name: `cpu ${cpu} arena`, writable: false });
      const worker = new Worker(new URL("./cpu-worker.js", import.meta.url), { type: "module" });
      slots.push({ worker, arena });
      return new Promise<void>((resolve, reject) => {
        worker.onmessage = (e: MessageEvent<{ ready?: boolean; error?: string }>) =>
          e.data.ready ? resolve() : reject(new BpfError("EINVAL", `cpu ${cpu}: ${e.data.error ?? "did not start"}`));
        worker.onerror = (e) => reject(new BpfError("EINVAL", `cpu ${cpu}: ${e.message}`));
        worker.postMessage({ init: { memory: space.memory, cpu, nCpus, arena: { start: arena.start, size: arena.size } } });
      });
    }));
    return new WebCpuPool(space, slots);
  }

  /** Runs `prog` `repeat` times on every CPU concurrently (r1 = 0); one result per CPU. */
  fire(prog: LoadedProgram, repeat: number): Promise<FireResult[]> {
    return Promise.all(this.slots.map((s, cpu) => {
      const id = this.nextJob++;
      const sync: SyncMessage = this.feed.delta(cpu, [prog]);
      const job: FireJob = { prog: prog.code.start, repeat };
      return new Promise<FireResult>((resolve, reject) => {
        s.worker.onmessage = (e: MessageEvent<{ id: number; result?: FireResult; error?: string }>) => {
          if (e.data.id !== id) return;
          if (e.data.result) resolve(e.data.result); else reject(new BpfError("FAULT", e.data.error ?? "worker failed"));
        };
        s.worker.postMessage({ id, sync, job });
      });
    }));
  }

  close(): void {
    for (const s of this.slots) { s.worker.terminate(); this.space.release(s.arena); }
  }
}
