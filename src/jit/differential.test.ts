// Interpreter vs JIT on the same inputs: random verified programs (the verifier's generator, src/verifier/fuzz.ts)
// over real contexts and maps, and random unverified instruction streams. Both engines run in address spaces laid
// out identically, so r0, every byte of memory (stacks, contexts, packets, map values) and the fault text (with its
// pc) must be equal.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { AddressSpace, Vm } from "../vm/index.ts";
import type { LoadedProgram } from "../vm/index.ts";
import { defaultHelpers, deterministicEnv } from "../helpers/index.ts";
import type { ProgramMap } from "../helpers/index.ts";
import { buildContext, buildSkbContext } from "../runtime/index.ts";
import { FUZZ_MAPS, generateProgram, prng } from "../verifier/fuzz.ts";
import { verify } from "../verifier/index.ts";
import type { Insn } from "../isa/ebpf/insn.ts";
import { JitVm } from "./engine.ts";
import { SCRATCH_SIZE } from "./compile.ts";
import type { Engine } from "./select.ts";

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

/** An engine over a fresh space; the interpreter's space gets a stand-in for the JIT's scratch so layouts match. */
function engineOn(kind: "interp" | "jit", maps: (space: AddressSpace) => ((a: number) => ProgramMap | undefined) | undefined): { space: AddressSpace; e: Engine } {
  const space = new AddressSpace();
  let mapAt: ((a: number) => ProgramMap | undefined) | undefined;
  const lazy = (a: number): ProgramMap | undefined => mapAt?.(a);
  const opts = { helpers: defaultHelpers, env: deterministicEnv(), mapAt: lazy };
  let e: Engine;
  if (kind === "jit") e = new JitVm(space, opts);
  else { e = new Vm(space, opts); space.alloc(SCRATCH_SIZE, { kind: "scratch", name: "stand-in", writable: false, align: 8 }); }
  mapAt = maps(space);
  return { space, e };
}

type Outcome = { r0?: string; error?: string; mem: Uint8Array };

function outcome(space: AddressSpace, f: () => { toString(): string }, skip: { start: number; size: number } | undefined): Outcome {
  // the interpreter's stand-in for the JIT scratch is unmapped once everything is allocated: both spaces fault there
  const standIn = space.regions().find((r) => r.kind === "scratch" && r.name === "stand-in");
  if (standIn) space.release(standIn);
  let r0: string | undefined, error: string | undefined;
  try { r0 = f().toString(); } catch (e) { error = `${(e as { code?: string }).code}: ${(e as Error).message}`; }
  const regions = space.regions();
  const end = regions[regions.length - 1]!.start + regions[regions.length - 1]!.size;
  const mem = space.u8.slice(0, end);
  if (skip) mem.fill(0, skip.start, skip.start + skip.size);
  const jitScratch = space.regions().find((r) => r.kind === "scratch");
  if (!jitScratch && standIn) mem.fill(0, standIn.start, standIn.start + standIn.size);
  return { ...(r0 !== undefined ? { r0 } : {}), ...(error !== undefined ? { error } : {}), mem };
}

const scratchOf = (space: AddressSpace) => space.regions().find((r) => r.kind === "scratch") ?? { start: 0, size: 0 };

function same(a: Outcome, b: Outcome, what: string): void {
  assert.equal(b.error, a.error, `${what}: fault differs`);
  assert.equal(b.r0, a.r0, `${what}: r0 differs`);
  if (a.mem.length !== b.mem.length || a.mem.some((x, i) => x !== b.mem[i])) {
    const i = a.mem.findIndex((x, i) => x !== b.mem[i]);
    assert.fail(`${what}: memory differs at 0x${i.toString(16)}`);
  }
}

test("verified generated programs: JIT and interpreter agree on r0, memory, maps and faults", () => {
  const types = ["socket_filter", "xdp", "sched_cls", "kprobe"];
  let compared = 0;
  fc.assert(fc.property(fc.integer({ min: 1, max: 1 << 30 }), fc.integer({ min: 0, max: 1 << 30 }), (seed, inputSeed) => {
    const p = generateProgram(seed);
    if (!types.includes(p.progType)) return;
    const v = verify(p.insns, { progType: p.progType, maps: p.maps, nrCpus: 1 });
    if (!v.accepted) return;
    const results: Outcome[] = [];
    for (const kind of ["interp", "jit"] as const) {
      const rnd = prng(inputSeed);
      let handles: { map: ProgramMap; handle: number }[] = [];
      const { space, e } = engineOn(kind, (s) => {
        handles = FUZZ_MAPS.map((m) => simpleMap(s, m, rnd));
        return (a) => handles.find((m) => m.handle === a)?.map;
      });
      const prog = e.load(p.insns, { name: `seed${seed}`, resolve: { map: (_k, idx) => handles[idx]!.handle }, facts: v.facts });
      const len = 14 + Math.floor(rnd() * 80);
      const data = new Uint8Array(len).map(() => Math.floor(rnd() * 256));
      // map values start random too
      for (const h of handles) {
        const r = space.find(h.handle + 24)!;
        void r;
      }
      const ctx = buildContext(space, p.progType === "kprobe" ? "kprobe" : p.progType, data);
      results.push(outcome(space, () => e.run(prog, ctx.run), scratchOf(space)));
    }
    same(results[0]!, results[1]!, `seed ${seed} input ${inputSeed}`);
    compared++;
  }), { numRuns: 400 });
  assert.ok(compared > 60, `only ${compared} verified programs compared`);
});

const OPCODES = [
  0x07, 0x0f, 0x17, 0x1f, 0x27, 0x2f, 0x37, 0x3f, 0x47, 0x4f, 0x57, 0x5f, 0x67, 0x6f, 0x77, 0x7f, 0x87, 0x97, 0x9f, 0xa7,
  0xaf, 0xb7, 0xbf, 0xc7, 0xcf, 0xd7, 0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c, 0x34, 0x3c, 0x44, 0x4c, 0x54, 0x5c, 0x64, 0x6c,
  0x74, 0x7c, 0x84, 0x94, 0x9c, 0xa4, 0xac, 0xb4, 0xbc, 0xc4, 0xcc, 0xd4, 0xdc, 0x05, 0x15, 0x1d, 0x25, 0x2d, 0x35, 0x3d,
  0x45, 0x4d, 0x55, 0x5d, 0x65, 0x6d, 0x75, 0x7d, 0xa5, 0xad, 0xb5, 0xbd, 0xc5, 0xcd, 0xd5, 0xdd, 0x06, 0x16, 0x1e, 0x26,
  0x85, 0x8d, 0x95, 0x18, 0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0x61, 0x69, 0x71, 0x79, 0x81, 0x89, 0x91, 0x62, 0x6a, 0x72,
  0x7a, 0x63, 0x6b, 0x73, 0x7b, 0xc3, 0xdb,
];

const slot = fc.oneof(
  { weight: 9, arbitrary: fc.record({
    code: fc.constantFrom(...OPCODES), dst: fc.integer({ min: 0, max: 10 }), src: fc.integer({ min: 0, max: 10 }),
    off: fc.oneof(fc.integer({ min: -4, max: 4 }), fc.integer({ min: -600, max: 100 })),
    imm: fc.oneof(fc.integer({ min: -3, max: 200 }), fc.constantFrom(16, 32, 64, 0x01, 0xe1, 0xf1, 12, 1, 5, 6), fc.integer()),
  }) },
  { weight: 1, arbitrary: fc.record({
    code: fc.integer({ min: 0, max: 255 }), dst: fc.integer({ min: 0, max: 15 }), src: fc.integer({ min: 0, max: 15 }),
    off: fc.integer({ min: -32768, max: 32767 }), imm: fc.integer(),
  }) },
);

test("unverified random programs: same r0 or the same fault (message and pc) on both engines", () => {
  let faults = 0, ran = 0;
  fc.assert(fc.property(fc.array(slot, { minLength: 1, maxLength: 40 }), (body: Insn[]) => {
    const insns = [...body, { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }];
    const results: Outcome[] = [];
    for (const kind of ["interp", "jit"] as const) {
      const { space, e } = engineOn(kind, () => undefined);
      const skb = buildSkbContext(space, new Uint8Array(64).map((_, i) => i * 7), { l2: true });
      let prog: LoadedProgram;
      try { prog = e.load(insns); } catch (err) { results.push({ error: (err as Error).message, mem: new Uint8Array(0) }); continue; }
      results.push(outcome(space, () => e.run(prog, { ...skb.run, budget: 10_000 }), scratchOf(space)));
    }
    same(results[0]!, results[1]!, JSON.stringify(insns));
    if (results[0]!.error) faults++; else ran++;
  }), { numRuns: 700 });
  assert.ok(faults > 50 && ran > 25, `faults ${faults}, ran ${ran}`);
});
