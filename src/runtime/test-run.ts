// BPF_PROG_TEST_RUN on the interpreter: build the program type's context from the input, run `repeat` times (each
// from a fresh copy of the input, as the kernel's bpf_test_run does), and hand back r0, data_out, ctx_out and the
// average duration.
import type { LoadedProgram } from "../vm/program.ts";
import type { Vm } from "../vm/vm.ts";
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

export function testRun(vm: Pick<Vm, "space" | "run">, prog: LoadedProgram, opts: TestRunOptions = {}): TestRunResult {
  const type = opts.type ?? (prog.type === "unspec" ? "raw" : prog.type);
  const repeat = Math.max(1, opts.repeat ?? 1);
  const now = opts.now ?? (() => performance.now());
  const data = opts.data ?? new Uint8Array(0);
  let total = 0;
  let result: TestRunResult | undefined;
  for (let k = 0; k < repeat; k++) {
    const ctx = buildContext(vm.space, type, data);
    try {
      const t0 = now();
      const r = vm.run(prog, opts.budget === undefined ? ctx.run : { ...ctx.run, budget: opts.budget });
      total += now() - t0;
      if (k === repeat - 1) {
        result = { retval: r.value, dataOut: ctx.dataOut(), ctxOut: ctx.ctxOut(), duration: 0, insns: r.insns };
      }
    } finally {
      ctx.release();
    }
  }
  return { ...result!, duration: Math.round((total * 1e6) / repeat) };
}
