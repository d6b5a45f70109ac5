// For worker-CPU tests: one pool per test file (starting workers costs seconds under the TypeScript loader), closed
// after the file's tests; each test maps its own maps in the pool's shared address space.
import { after } from "node:test";
import { AddressSpace, Vm } from "../vm/index.ts";
import { CpuPool } from "./cpu-pool.ts";

export type PoolTest = (space: AddressSpace, vm: Vm, pool: CpuPool) => Promise<void>;

/** A `withPool(f)` for this file: the pool of `nCpus` workers is started on first use. */
export function poolPerFile(nCpus: number): (f: PoolTest) => Promise<void> {
  let shared: Promise<{ space: AddressSpace; vm: Vm; pool: CpuPool }> | undefined;
  after(async () => { if (shared) await (await shared).pool.close(); });
  return async (f) => {
    shared ??= (async () => {
      const space = new AddressSpace({ shared: true });
      return { space, vm: new Vm(space), pool: await CpuPool.start(space, { nCpus }) };
    })();
    const { space, vm, pool } = await shared;
    await f(space, vm, pool);
  };
}
