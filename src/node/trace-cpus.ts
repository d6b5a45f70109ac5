// The seed's lost-updates experiment on bpfkit's worker-thread CPUs: the tracer's `@cpuhash = count(); @hash++;`
// fired `each` times on every worker CPU at once over one shared address space.
import { AddressSpace } from "../vm/index.ts";
import { compileScript } from "../trace/script.ts";
import { VmTrace } from "../trace/vm-backend.ts";
import { CpuPool } from "./cpu-pool.ts";

export const LOST_UPDATES_SCRIPT = "tracepoint:syscalls:sys_enter_getppid { @cpuhash = count(); @hash++; }";

export async function runLostUpdatesVm(cpus: number, each: number): Promise<{ cpus: number; events: bigint; perCpu: bigint; hash: bigint }> {
  const env = { tracepoints: () => ["syscalls:sys_enter_getppid"], tracepointFormat: () => "format:\n" };
  const space = new AddressSpace({ shared: true });
  const vm = new VmTrace(compileScript(LOST_UPDATES_SCRIPT, { env, ncpus: cpus }), { cpus, space });
  const pool = await CpuPool.start(space, { nCpus: cpus });
  try {
    const results = await pool.fire(vm.program(0), { repeat: each });
    const failed = results.find((r) => r.faults);
    if (failed) throw new Error(`cpu ${failed.cpu}: ${failed.error}`);
  } finally {
    await pool.close();
  }
  const out = vm.finish();
  const num = (name: string) => BigInt(new RegExp(`${name}: (\\d+)`).exec(out)?.[1] ?? "0");
  return { cpus, events: BigInt(cpus * each), perCpu: num("@cpuhash"), hash: num("@hash") };
}
