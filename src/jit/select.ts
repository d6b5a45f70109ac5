// Engine selection: `--engine interp|jit` everywhere a program runs resolves here, so the CLI and the runners share
// one switch. Both engines load, run and unload programs over one address space with the same results and faults.
import { BpfError } from "../errors.ts";
import type { Insn } from "../isa/ebpf/insn.ts";
import { Vm, type AddressSpace, type LoadedProgram, type RunOptions, type RunResult, type VmOptions } from "../vm/index.ts";
import { JitVm, type JitLoadOptions } from "./engine.ts";

export type EngineKind = "interp" | "jit";
export const ENGINE_KINDS: readonly EngineKind[] = ["interp", "jit"];
/** The engine programs run on unless told otherwise: the JIT (it passes the conformance suites and the differential
 * tests against the interpreter); the interpreter stays for stepping and debugging (`--engine interp`). */
export const DEFAULT_ENGINE: EngineKind = "jit";

/** What runs programs: the interpreter (src/vm Vm) or the WebAssembly JIT (JitVm). */
export interface Engine {
  readonly space: AddressSpace;
  load(insns: readonly Insn[], opts?: JitLoadOptions): LoadedProgram;
  unload(p: LoadedProgram): void;
  run(prog: LoadedProgram, opts?: RunOptions): RunResult;
  /** run() returning r0's low 32 bits (unsigned) with no allocation: the per-packet and `repeat` path. */
  run32(prog: LoadedProgram, opts?: RunOptions): number;
  /** The whole result (r0, instructions executed) of the last run or run32. */
  lastRun(): RunResult;
}

/** `--engine` value → kind; a clear error for anything else. */
export function engineKind(name: string | undefined, fallback: EngineKind = DEFAULT_ENGINE): EngineKind {
  if (name === undefined) return fallback;
  if (name === "interp" || name === "jit") return name;
  throw new BpfError("EINVAL", `--engine ${name}: expected interp or jit`);
}

export function createEngine(kind: EngineKind, space: AddressSpace, opts: VmOptions = {}): Engine {
  return kind === "jit" ? new JitVm(space, opts) : new Vm(space, opts);
}
