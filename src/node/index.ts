// The Node edge of the VM system: worker-thread CPUs over one shared address space (cpu-pool.ts, its worker body
// cpu-worker.ts), and Node's diagnostics_channel channels as the tracer's `usdt:node:CHANNEL` probes
// (trace-channels.ts). The per-CPU logic is pure (src/cpus); only worker_threads/diagnostics_channel plumbing lives here.
// May import: node:*, and any core layer.
export { CpuPool } from "./cpu-pool.ts";
export type { CpuPoolOptions, FireOptions, ProgramExecutor } from "./cpu-pool.ts";
export { traceChannels } from "./trace-channels.ts";
export { runLostUpdatesVm, LOST_UPDATES_SCRIPT } from "./trace-cpus.ts";
