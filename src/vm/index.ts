// The eBPF virtual machine: one checked address space (memory.ts), loading/pre-decoding (program.ts), and the
// interpreter with kernel semantics, call frames, callbacks and tail calls (vm.ts). Usage: `const vm = new Vm(space,
// { helpers, env }); const prog = vm.load(insns, { type, name, resolve }); const r = vm.run(prog, { ctx, packet })`;
// r.lo/r.hi are r0's unsigned halves, r.value the bigint, r.toString() the unsigned decimal, r.insns the count run.
// May import: isa, maps (registry), helpers (types/env/ids). Pure: no node: imports.
export { AddressSpace, FIRST_MAPPED, GUARD } from "./memory.ts";
export type { Region, RegionKind, RegionRecord, LayoutOp, AllocOptions, AddressSpaceOptions } from "./memory.ts";
export { Vm, RunResult } from "./vm.ts";
export type { VmOptions, RunOptions } from "./vm.ts";
export { loadProgram } from "./program.ts";
export type { LoadedProgram, LoadOptions, PseudoResolver } from "./program.ts";
export { u64String, toU64, toS64 } from "./alu64.ts";
