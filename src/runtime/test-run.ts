// BPF_PROG_TEST_RUN on either engine: build the program type's context from the input once, run `repeat` times on
// it (as the kernel's bpf_test_run does: what one run writes to the packet or context the next one sees), the clock
// read around the whole loop, and hand back r0 and the instruction count of the last run, data_out, ctx_out and the
// average duration.
import type { LoadedProgram } from "../vm/program.ts";
import type { Engine } from "../jit/select.ts";
import { buildContext } from "./contexts.ts";

export interface TestRunOptions {
  /** Program type (default: the type the program was loaded with, else "raw"). */
  readonly type?: string;
  readonly data?: Uint8Array;
  readonly repeat?: number;
  /** Instruction budget per run. */
  readonly budget?: number;
  /** Clock in ms (default performance.now). */
  readonly now?: () => number;
}

export interface TestRunResult {
  /** r0 of the last run, unsigned 64-bit (the kernel reports its low 32 bits as retval). */
  readonly retval: bigint;
  readonly dataOut: Uint8Array;
  readonly ctxOut: Uint8Array;
  /** Average duration of one run in ns, rounded. */
  readonly duration: number;
  /** Instructions executed by the last run. */
  readonly insns: number;
}

export function testRun(vm: Pick<Engine, "space" | "run32" | "lastRun">, prog: LoadedProgram, opts: TestRunOptions = {}): TestRunResult {
  const type = opts.type ?? (prog.type === "unspec" ? "raw" : prog.type);
  const repeat = Math.max(1, opts.repeat ?? 1);
  const now = opts.now ?? (() => performance.now());
  const ctx = buildContext(vm.space, type, opts.data ?? new Uint8Array(0));
  try {
    const run = opts.budget === undefined ? ctx.run : { ...ctx.run, budget: opts.budget };
    const t0 = now();
    for (let k = 0; k < repeat; k++) vm.run32(prog, run);
    const total = now() - t0;
    const r = vm.lastRun();
    return { retval: r.value, dataOut: ctx.dataOut(), ctxOut: ctx.ctxOut(), duration: Math.round((total * 1e6) / repeat), insns: r.insns };
  } finally {
    ctx.release();
  }
}
