// A worker thread with a watchdog, for the fuzzers: each input is sent to the worker, which answers with what
// happened; an input that runs for the budget without progress (the worker may post `{ id, progress }` while it
// streams output, which restarts the budget) is a hang (the worker is stopped and a fresh one started), a
// worker that dies (out of memory under its heap limit) is a blow-up. Timing is measured, never asserted.
import { Worker } from "node:worker_threads";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";

export type Outcome<R> = { kind: "reply"; reply: R; ms: number } | { kind: "hang"; ms: number } | { kind: "died"; error: string };

export class Watched<R> {
  private worker: Worker | undefined;
  private nextId = 0;
  constructor(private readonly entry: URL, private readonly heapMb = 1024) {}

  private async start(): Promise<Worker> {
    const here = fileURLToPath(this.entry);
    // from TypeScript sources the worker registers tsx itself (workers do not inherit the parent's --import hooks)
    const boot = extname(here) === ".ts"
      ? `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}).then((t) => { t.register(); return import(${JSON.stringify(this.entry.href)}); });`
      : undefined;
    const w = new Worker(boot ?? this.entry, { eval: boot !== undefined, resourceLimits: { maxOldGenerationSizeMb: this.heapMb }, stdout: true, stderr: true });
    w.stdout.resume(); w.stderr.resume(); // entry points that print go nowhere
    await new Promise<void>((resolve, reject) => {
      w.once("error", reject);
      w.once("message", () => { w.off("error", reject); resolve(); });
    });
    return w;
  }

  /** Runs one input; `budgetMs` is the watchdog's limit without progress. */
  async run(message: Record<string, unknown>, budgetMs: number, transfer: ArrayBuffer[] = []): Promise<Outcome<R>> {
    const w = (this.worker ??= await this.start());
    const id = this.nextId++;
    const t0 = performance.now();
    return new Promise<Outcome<R>>((resolve) => {
      const done = (o: Outcome<R>, restart: boolean): void => {
        clearTimeout(timer);
        w.off("message", onMessage);
        w.off("error", onError);
        w.off("exit", onExit);
        if (restart) { this.worker = undefined; void w.terminate(); }
        resolve(o);
      };
      const onMessage = (m: { id: number; progress?: number } & R): void => {
        if (m.id !== id) return;
        if (m.progress !== undefined) { timer.refresh(); return; }
        done({ kind: "reply", reply: m, ms: performance.now() - t0 }, false);
      };
      const onError = (e: Error): void => done({ kind: "died", error: `${(e as { code?: string }).code ?? ""} ${e.message}` }, true);
      const onExit = (code: number): void => done({ kind: "died", error: `worker exited with ${code}` }, true);
      const timer = setTimeout(() => done({ kind: "hang", ms: performance.now() - t0 }, true), budgetMs);
      w.on("message", onMessage);
      w.on("error", onError);
      w.on("exit", onExit);
      w.postMessage({ id, ...message }, transfer);
    });
  }

  async close(): Promise<void> {
    await this.worker?.terminate();
    this.worker = undefined;
  }
}
