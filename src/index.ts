// bpfkit as a library (the package's `bpfkit` entry): the BPF system's public face. A `System` is bpfkit's own kernel
// (verify on load, maps, ids, pins, test runs); `linuxBackend()` is the real one (Node, root); `openObject` loads a
// clang-built object into either. Finer-grained layers are the subpaths bpfkit/isa, /verifier, /filter, /runtime and
// /linux (Node only). Pure: the Linux backend is imported only when linuxBackend() is called.
import type { Insn } from "./isa/ebpf/insn.ts";
import { progTypeOf } from "./uapi/index.ts";
import type { ProgTypeName } from "./uapi/index.ts";
import { BpfError } from "./errors.ts";
import { Program } from "./runtime/index.ts";
import type { Backend, ProgLoadAttr } from "./runtime/index.ts";

export { System, openObject, Program, BpfMap, Link, SyscallError } from "./runtime/index.ts";
// events on the VM: tracepoints, perf ticks, uprobes on JavaScript functions, packets; ring/perf buffer output
export { fireTracepoint, tickPerfEvent, uprobe, runSocketFilter, runXdp, consumeRingBuffer, openPerfBuffer } from "./runtime/index.ts";
export type { TraceEvent, PacketSource, PacketVerdict } from "./runtime/index.ts";
export type {
  Backend, SystemOptions, LoadedObject, OpenObjectOptions, AttachTarget, ProgInfo, SyscallMapInfo as MapInfo,
  SyscallTestRunResult as TestRunResult,
} from "./runtime/index.ts";
export { assemble, disassembleKernel, disassembleLlvm, decodeProgram, encodeProgram } from "./isa/ebpf/index.ts";
export type { Insn } from "./isa/ebpf/index.ts";
export { verify } from "./verifier/index.ts";
export type { VerifyOptions, VerifyResult } from "./verifier/index.ts";
export { compileFilter } from "./filter/index.ts";
export type { CompiledFilter } from "./filter/index.ts";
export { runCbpf } from "./cbpf/index.ts";
export type { CbpfInsn } from "./isa/cbpf/index.ts";
export { loadObject } from "./object/index.ts";
export type { BpfObject } from "./object/index.ts";
export type { ProgTypeName } from "./uapi/index.ts";
export { BpfError, isBpfError } from "./errors.ts";

/** The running Linux kernel as a Backend (bpf(2) through koffi; Node only, loaded on first call). */
export async function linuxBackend(): Promise<Backend> {
  return (await import("./kernel/backend.ts")).linux;
}

/** Options of loadProgram: BPF_PROG_LOAD's, the program type named as bpftool names it ("socket_filter", "xdp", ...). */
export interface LoadProgramOptions extends Omit<ProgLoadAttr, "progType" | "insns"> {
  readonly type: ProgTypeName;
}

/**
 * Loads instructions (assemble(...) or raw 8-byte slots) as a program: verified as BPF_PROG_LOAD does (a rejected
 * program throws with the verifier log). `license` defaults to "GPL".
 */
export function loadProgram(backend: Backend, insns: readonly Insn[] | Uint8Array, opts: LoadProgramOptions): Program {
  const { type, ...attr } = opts;
  const progType = progTypeOf(type);
  if (progType < 0) throw new BpfError("EINVAL", `loadProgram: unknown program type '${String(type)}'`);
  const { fd } = backend.progLoad({ license: "GPL", ...attr, progType, insns });
  return new Program(backend, fd, opts.name ?? "", progType);
}
