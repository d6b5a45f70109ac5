// The per-verification environment shared by the checks (the kernel's struct bpf_verifier_env), and the
// rejection signal: a check that fails throws Reject with the kernel's exact message and errno.
import type { Insn } from "../isa/ebpf/insn.ts";
import type { MapSpec } from "../maps/spec.ts";
import type { Btf } from "../btf/parse.ts";
import type { KfuncSpec } from "../helpers/kfuncs.ts";
import type { State } from "./state.ts";
import type { VerifierLog } from "./vlog.ts";
import { ERRNO, type ErrnoName } from "../uapi/index.ts";

/** The subset of a map's description (src/maps MapSpec) the verifier needs. */
export type VerifierMapSpec = Pick<MapSpec, "type" | "keySize" | "valueSize" | "maxEntries" | "flags" | "name"> & {
  /**
   * ARRAY_OF_MAPS / HASH_OF_MAPS: the inner map's definition (the map passed as inner_map_fd at creation). A lookup's
   * non-NULL result is a pointer to a map of this shape (the kernel's inner_map_meta).
   */
  readonly innerMap?: Pick<MapSpec, "type" | "keySize" | "valueSize" | "maxEntries" | "flags">;
  /**
   * The value of a frozen single-element array programs may only read (libbpf's .rodata, .kconfig): the kernel reads
   * such a map's bytes while verifying and tracks loads from it as known constants (bpf_map_is_rdonly).
   */
  readonly frozenValue?: Uint8Array;
};

export {
  BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PROG_ARRAY, BPF_MAP_TYPE_PERF_EVENT_ARRAY, BPF_MAP_TYPE_PERCPU_HASH,
  BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_QUEUE, BPF_MAP_TYPE_STACK, BPF_MAP_TYPE_RINGBUF,
} from "../uapi/index.ts";

export class Reject extends Error {
  readonly errno: number;
  readonly pc: number;
  constructor(message: string, errno: number, pc: number) {
    super(message);
    this.errno = errno;
    this.pc = pc;
  }
}

export const { EPERM, ENOENT, E2BIG, EFAULT, EACCES, EINVAL, ENOTSUPP }: Readonly<Record<ErrnoName, number>> = ERRNO;

/** A fact for the JIT: at `pc`, the memory access through `reg` is proven in bounds. */
export interface AccessFact {
  readonly pc: number;
  readonly kind: "stack" | "ctx" | "map_value" | "map_key" | "pkt" | "mem";
  readonly size: number;
}

/**
 * What the kernel's insn_aux_data keeps for the load-time rewrites after a successful walk (src/verifier/fixups.ts):
 * which instructions some path reached, which access the context, which map each helper call site saw (or that it
 * saw several: poisoned), tail calls' constant keys, bpf_loop calls fit for inlining.
 */
export interface InsnAux {
  readonly seen: Uint8Array;
  readonly ctxAccess: Set<number>;
  /** map index per helper call pc taking a map (-1: different maps on different paths) */
  readonly callMap: Map<number, number>;
  /** tail call pc -> constant index on every path, or -1 */
  readonly tailKey: Map<number, number>;
  /** bpf_loop pc -> callback subprogram start pc when flags are 0 and the callback is the same on every path, else -1 */
  readonly loopInline: Map<number, number>;
  /** env->seen_direct_write: the program stores into packet data (tc programs then get the unclone prologue) */
  directWrite: boolean;
  /** kfunc call pc -> the kernel function's name (the rewrite calls it by address) */
  readonly kfuncs: Map<number, string>;
  /** subprogram starts and each one's stack depth, as the walk left them */
  subprogs: readonly number[];
  stackDepth: readonly number[];
}

export interface Env {
  aux: InsnAux;
  readonly insns: readonly Insn[];
  readonly progType: number;
  /** The program's maps, then one inner-map meta per map-in-map (see innerMeta). */
  readonly maps: readonly VerifierMapSpec[];
  /** Per map index: the index in `maps` of its inner map's meta, or -1 (not a map-in-map, or no inner definition). */
  readonly innerMeta: readonly number[];
  readonly unpriv: boolean;
  readonly logLevel: number;
  /** nr_cpu_ids of the machine modelled (bounds bpf_get_smp_processor_id). */
  readonly nrCpus: number;
  readonly btfFuncInfo: boolean;
  /** prog->gpl_compatible: the license allows GPL-only helpers. */
  readonly gplCompatible: boolean;
  log: string[];
  vlog: VerifierLog;
  idGen: number;
  pc: number;
  state: State;
  /** Subprogram start pcs, sorted; subprogs[0] = 0. */
  subprogs: number[];
  /** Stack depth per subprogram (max over paths, rounded to 8... as the kernel: round_up(max depth, 8)). */
  stackDepth: number[];
  facts: Map<number, AccessFact>;
  /** Per instruction, the masking state every unprivileged path must agree on (insn_aux_data alu_state/alu_limit). */
  aluSanitation: Map<number, { state: number; limit: number }>;
  /** The kernel's BTF (vmlinux), where kfunc calls find their callee by id; undefined: kfunc calls are refused. */
  readonly kernelBtf: Btf | undefined;
  /** kfunc call sites resolved before the walk (add_kfunc_call), by pc. */
  readonly kfuncs: Map<number, KfuncSite>;
  /** Set by bpf_iter_*_next on an active iterator: the state where it returned an element, explored later. */
  iterFork?: State;
  /** Set by a helper that calls back into the program (bpf_loop): the state entering the callback. */
  callback?: { state: State; pc: number };
  /** pcs where the fact was contradicted on some path (then no fact). */
  noFact: Set<number>;
}

export function reject(env: Env, message: string, errno = EACCES): never {
  throw new Reject(message, errno, env.pc);
}

export function verbose(env: Env, line: string): void {
  if (env.logLevel > 0) env.log.push(line);
}

export const newId = (env: Env): number => ++env.idGen;

/** A kfunc call site: the callee's name and id in the kernel's BTF, and bpfkit's entry for it (undefined: unknown). */
export interface KfuncSite {
  readonly name: string;
  readonly btfId: number;
  readonly spec: KfuncSpec | undefined;
  /** index in KFUNCS (-1: unknown) */
  readonly index: number;
}
