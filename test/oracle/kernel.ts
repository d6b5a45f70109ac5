// The kernel as oracle: load bpfkit instructions into the running Linux kernel, read the verifier's verdict and log,
// and run them with BPF_PROG_TEST_RUN, so differential tests can compare bpfkit against the real thing.
//
// API
//   kernelAvailable(): true | string
//       true when bpf() can load programs here (Linux, koffi, root/CAP_BPF); otherwise the reason, for t.skip(reason).
//   skipWithoutKernel(t, what, missing?): boolean
//       false when the kernel is available (and `missing` is undefined); else prints `SKIP what: reason`, skips t, true.
//   kernelLoad(insns, { progType, maps?, logLevel?, license?, expectedAttachType?, progFlags?, name? }): KernelLoadResult
//       progType: number or name ("socket_filter", "xdp", "BPF_PROG_TYPE_XDP").
//       maps: map specs { type, keySize, valueSize, maxEntries, flags?, name? } (type: number or name, e.g. "hash"),
//         created in the kernel before the load. Map references in lddw: a first slot with src = BPF_PSEUDO_MAP_FD (1) or
//         BPF_PSEUDO_MAP_VALUE (2) and imm = i refers to maps[i] (the index is replaced by the created map's fd; for
//         MAP_VALUE the second slot's imm stays the value offset). BPF_PSEUDO_MAP_IDX (5) / MAP_IDX_VALUE (6) are passed
//         through with fd_array = the created maps, as the kernel resolves them itself.
//       → { accepted, errno?: "EACCES" | "EINVAL" | ..., log, fd?, mapFds, close() }. A rejected program is a result, not
//         a throw; log is the verifier log at logLevel (default 1 when rejected, so the reason is always there).
//   kernelTestRun(fd, { data?, ctx?, repeat? }) → { retval: number, dataOut, ctxOut, duration }; throws KernelError
//       (code = errno name, message names BPF_PROG_TEST_RUN) when the kernel refuses to run it.
//   kernelClose(...fds): closes program and map fds (KernelLoadResult.close() closes its own).
import type { Insn } from "../../src/isa/ebpf/insn.ts";
import {
  BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE, BPF_PSEUDO_MAP_VALUE,
} from "../../src/isa/ebpf/opcodes.ts";
import { closeFd, mapCreate, progLoad, progTestRun } from "../../src/kernel/bpf.ts";
import { KernelError, nativeUnavailable } from "../../src/kernel/libc.ts";
import { progTypeId } from "../../src/kernel/names.ts";
import { createKernelMap, type KernelMapSpec } from "../../src/kernel/loader.ts";

/** The fields of a map spec the kernel needs (the loader's; the maps engineer's MapSpec fits this shape). */
export type { KernelMapSpec };

export interface KernelLoadOptions {
  readonly progType: number | string;
  readonly maps?: readonly KernelMapSpec[];
  readonly logLevel?: number;
  readonly license?: string;
  readonly expectedAttachType?: number;
  readonly progFlags?: number;
  readonly name?: string;
}

export interface KernelLoadResult {
  readonly accepted: boolean;
  readonly errno?: string;
  readonly log: string;
  readonly fd?: number;
  readonly mapFds: readonly number[];
  close(): void;
}

export interface KernelTestRunResult {
  readonly retval: number;
  readonly dataOut: Uint8Array;
  readonly ctxOut: Uint8Array;
  readonly duration: number;
}

let availability: true | string | undefined;

/** true when programs can be loaded into this kernel, else the reason (for a visible skip). */
export function kernelAvailable(): true | string {
  if (availability !== undefined) return availability;
  const why = nativeUnavailable();
  if (why !== undefined) return (availability = why);
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    return (availability = "needs root (bpf() program loading, test runs and bpftool listings)");
  }
  try {
    const fd = mapCreate({ mapType: 2, keySize: 4, valueSize: 4, maxEntries: 1 });
    closeFd(fd);
    availability = true;
  } catch (e) {
    availability = `bpf() is not usable here: ${(e as Error).message}`;
  }
  return availability;
}

/**
 * For a test that needs the kernel: false when it can run; otherwise it prints `SKIP <what>: <reason>` (the skip must
 * be visible), skips the test and returns true. `missing` is a further reason to skip (a tool that is not installed).
 */
export function skipWithoutKernel(t: { skip(msg: string): void }, what: string, missing?: string): boolean {
  const avail = kernelAvailable();
  const why = avail !== true ? avail : missing;
  if (why === undefined) return false;
  console.log(`SKIP ${what}: ${why}`);
  t.skip(why);
  return true;
}

/** Creates the maps as the loader does (type: a number, "hash" or "BPF_MAP_TYPE_HASH"); their fds in order. */
function createMaps(maps: readonly KernelMapSpec[]): number[] {
  const fds: number[] = [];
  try {
    for (const m of maps) fds.push(createKernelMap(m).fd);
  } catch (e) {
    fds.forEach(closeFd);
    throw e;
  }
  return fds;
}

function resolveMapRefs(insns: readonly Insn[], mapFds: readonly number[]): Insn[] {
  return insns.map((ins, pc) => {
    if (ins.code !== 0x18 || (ins.src !== BPF_PSEUDO_MAP_FD && ins.src !== BPF_PSEUDO_MAP_VALUE)) return ins;
    const fd = mapFds[ins.imm];
    if (fd === undefined) {
      throw new KernelError(22, "kernelLoad", `insn ${pc}: lddw refers to map index ${ins.imm}, only ${mapFds.length} maps given`);
    }
    return { ...ins, imm: fd };
  });
}

/** Creates the maps, loads the program, and reports the verifier's verdict with its log. */
export function kernelLoad(insns: readonly Insn[], opts: KernelLoadOptions): KernelLoadResult {
  const mapFds = createMaps(opts.maps ?? []);
  const closeMaps = () => mapFds.forEach(closeFd);
  const usesIdx = insns.some((i) => i.code === 0x18 && (i.src === BPF_PSEUDO_MAP_IDX || i.src === BPF_PSEUDO_MAP_IDX_VALUE));
  try {
    const loaded = progLoad({
      progType: progTypeId(opts.progType), insns: resolveMapRefs(insns, mapFds), license: opts.license ?? "GPL",
      logLevel: opts.logLevel ?? 0, expectedAttachType: opts.expectedAttachType, progFlags: opts.progFlags,
      name: opts.name, fdArray: usesIdx ? mapFds : undefined,
    });
    return {
      accepted: true, log: loaded.log, fd: loaded.fd, mapFds,
      close() { closeFd(loaded.fd); closeMaps(); },
    };
  } catch (e) {
    if (!(e instanceof KernelError)) { closeMaps(); throw e; }
    return { accepted: false, errno: e.code, log: e.log, mapFds, close: closeMaps };
  }
}

/** Runs a loaded program once (or `repeat` times) on data and/or a context. */
export function kernelTestRun(fd: number, opts: { data?: Uint8Array; ctx?: Uint8Array; repeat?: number } = {}): KernelTestRunResult {
  return progTestRun(fd, { dataIn: opts.data, ctxIn: opts.ctx, repeat: opts.repeat });
}

/** Closes fds returned by kernelLoad (program or maps). */
export function kernelClose(...fds: (number | undefined)[]): void {
  for (const fd of fds) if (fd !== undefined) closeFd(fd);
}
