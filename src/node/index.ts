// The Node edge of the VM system: worker-thread CPUs over one shared address space (cpu-pool.ts, its worker body
// cpu-worker.ts). The per-CPU logic is pure (src/cpus); only worker_threads plumbing lives here.
// May import: node:*, and any core layer.
export { CpuPool } from "./cpu-pool.ts";
export type { CpuPoolOptions, FireOptions, ProgramExecutor } from "./cpu-pool.ts";
