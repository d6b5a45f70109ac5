// Soundness: programs the verifier accepts never fault when run. Generated programs (src/verifier/fuzz.ts) that pass
// are run on the interpreter (src/vm) over real contexts (src/runtime) with random packets and map contents; any fault
// (an out-of-bounds or unmapped access the verifier should have caught) fails the test with the program's seed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AddressSpace, Vm } from "../vm/index.ts";
import { defaultHelpers, hostEnv } from "../helpers/index.ts";
import type { ProgramMap } from "../helpers/index.ts";
import { buildContext } from "../runtime/index.ts";
import { FUZZ_MAPS, generateProgram, prng } from "./fuzz.ts";
import { verify } from "./index.ts";

/** A map the interpreter can call lookups on: array semantics for type 2 (key < max_entries), random presence otherwise. */
function simpleMap(space: AddressSpace, spec: (typeof FUZZ_MAPS)[number], rnd: () => number): { map: ProgramMap; handle: number } {
  const handle = space.alloc(8, { kind: "map_value", name: "map handle", writable: false }).start;
  const value = space.alloc(spec.valueSize, { kind: "map_value", name: "map value" }).start;
  const map: ProgramMap = {
    keySize: spec.keySize, valueSize: spec.valueSize, maxEntries: spec.maxEntries,
    lookupElem: (keyAddr) => {
      if (spec.type === 2) return space.dv.getUint32(keyAddr, true) < spec.maxEntries ? value : 0;
      return rnd() < 0.5 ? value : 0;
    },
  };
  return { map, handle };
}

test("accepted generated programs run without a fault on random inputs", () => {
  const types = ["socket_filter", "xdp", "sched_cls", "kprobe"];
  let accepted = 0, runs = 0;
  for (let seed = 1; seed <= 1500; seed++) {
    const p = generateProgram(seed);
    if (!types.includes(p.progType)) continue;
    const v = verify(p.insns, { progType: p.progType, maps: p.maps, nrCpus: 1 });
    if (!v.accepted) continue;
    accepted++;
    const rnd = prng(seed * 7919);
    const space = new AddressSpace();
    const maps = FUZZ_MAPS.map((m) => simpleMap(space, m, rnd));
    const vm = new Vm(space, {
      helpers: defaultHelpers, env: hostEnv(),
      mapAt: (a) => maps.find((m) => m.handle === a)?.map,
    });
    const prog = vm.load(p.insns, { name: `seed${seed}`, resolve: { map: (_kind, idx) => maps[idx]!.handle } });
    for (let k = 0; k < 3; k++) {
      const len = 14 + Math.floor(rnd() * 80);
      const data = new Uint8Array(len).map(() => Math.floor(rnd() * 256));
      const ctx = buildContext(space, p.progType === "kprobe" ? "kprobe" : p.progType, data);
      try {
        vm.run(prog, ctx.run);
        runs++;
      } catch (e) {
        assert.fail(`seed ${seed} (${p.progType}) was accepted but faulted: ${(e as Error).message}`);
      }
    }
  }
  assert.ok(accepted > 300, `only ${accepted} accepted programs`);
  assert.ok(runs > 900);
});
