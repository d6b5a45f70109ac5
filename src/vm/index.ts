// The eBPF virtual machine: one checked address space (memory.ts), program loading and pre-decoding (program.ts),
// and the interpreter with kernel semantics, call frames, callbacks and tail calls (vm.ts).
// Usage: const space = new AddressSpace(); const vm = new Vm(space, { helpers, env, mapAt });
//        const prog = vm.load(insns, { type: "socket_filter", name }); const r = vm.run(prog, { ctx, packet });
//        r.lo / r.hi (r0 halves, unsigned), r.value (bigint), r.toString() (unsigned decimal), r.insns (executed).
// May import: isa, helpers (types/env/ids). Pure: no node: imports.
export { AddressSpace, FIRST_MAPPED, GUARD } from "./memory.ts";
export type { Region, RegionKind, AllocOptions, AddressSpaceOptions } from "./memory.ts";
export { Vm, RunResult } from "./vm.ts";
export type { VmOptions, RunOptions } from "./vm.ts";
export { loadProgram } from "./program.ts";
export type { LoadedProgram, LoadOptions, PseudoResolver } from "./program.ts";
export { u64String, toU64, toS64 } from "./alu64.ts";
