// CPUs: running programs on many threads over one shared address space. `Cpu` is one CPU's side (rebuilds views of
// the owner's maps and programs over the shared memory, runs them with its own index), `CpuFeed` the owner's side
// (what each CPU has not learnt yet). Threads themselves are the host's: src/node/cpu-pool.ts for Node.
// May import: vm, maps, helpers, isa. Pure: no node: imports (the same code runs in Web Workers).
export { Cpu, programImage } from "./cpu.ts";
export type { CpuInit, CpuRunOptions, FireJob, FireResult, ProgramImage, SyncMessage } from "./cpu.ts";
export { CpuFeed } from "./feed.ts";
