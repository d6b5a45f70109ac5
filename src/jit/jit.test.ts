// The JIT against the interpreter on the cases where exactness matters most: faults, budget exhaustion at the exact
// pc, the 33-tail-call limit, bpf-to-bpf depth, callbacks (bpf_loop), jumps out of the program, and the rendering.
import { test } from "node:test";
import assert from "node:assert/strict";
import { assemble } from "../isa/ebpf/index.ts";
import type { Insn } from "../isa/ebpf/insn.ts";
import { isBpfError } from "../errors.ts";
import { AddressSpace, Vm } from "../vm/index.ts";
import type { LoadedProgram, VmOptions } from "../vm/index.ts";
import { defaultHelpers, deterministicEnv } from "../helpers/index.ts";
import type { ProgramMap } from "../helpers/types.ts";
import { JitVm } from "./engine.ts";
import { createEngine, type Engine } from "./select.ts";
import { layout, functionBlocks, slotStarts } from "./cfg.ts";

const i = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({ code, dst, src, off, imm });

const outcome = (f: () => { toString(): string }): string => {
  try { return `r0 = ${f().toString()}`; } catch (e) { if (isBpfError(e)) return `${e.code}: ${e.message} @${e.location.pc}`; throw e; }
};

/** Run on both engines (fresh spaces); returns [interp, jit] outcomes. */
function both(insns: Insn[] | ((space: AddressSpace, e: Engine) => LoadedProgram), run: { budget?: number } = {},
  opts: (space: AddressSpace, self: () => LoadedProgram | undefined) => VmOptions = () => ({})): [string, string] {
  const out: string[] = [];
  for (const kind of ["interp", "jit"] as const) {
    const space = new AddressSpace();
    let prog: LoadedProgram | undefined;
    const e = createEngine(kind, space, { helpers: defaultHelpers, env: deterministicEnv(), ...opts(space, () => prog) });
    prog = typeof insns === "function" ? insns(space, e) : e.load(insns);
    out.push(outcome(() => e.run(prog!, run)));
  }
  return [out[0]!, out[1]!];
}

test("a fault reports the interpreter's pc and message", () => {
  const [a, b] = both(assemble("mov %r0, 1\nmov %r1, 4096\nldxw %r0, [%r1+8]\nexit"));
  assert.match(a, /^FAULT: pc 2: invalid read of 4 bytes at 0x1008: unmapped address @2$/);
  assert.equal(b, a);
  const [c, d] = both(assemble("lddw %r1, 0x100000000\nstxdw [%r1-8], %r1\nexit"));
  assert.match(c, /FAULT: pc 2: invalid write of 8 bytes at 0xfffffff8/);
  assert.equal(d, c);
  const [e, f] = both(assemble("stdw [%r10+0], 1\nexit"));
  assert.match(e, /^FAULT: pc 0: invalid write of 8 bytes/);
  assert.equal(f, e);
});

test("budget exhaustion names the same pc, inside a block too", () => {
  const loop = assemble("mov %r0, 0\nloop:\nadd %r0, 1\nlddw %r2, 5\nmov %r3, 1\nja loop");
  for (const budget of [1, 2, 3, 4, 5, 6, 7, 100, 1001]) {
    const [a, b] = both(loop, { budget });
    assert.match(a, /^BUDGET: pc \d+: instruction budget exhausted/);
    assert.equal(b, a, `budget ${budget}`);
  }
  // the instruction count of a completed run matches too
  const [c, d] = both(assemble("mov %r0, 3\nloop:\nsub %r0, 1\njne %r0, 0, loop\nexit"));
  assert.equal(d, c);
});

test("a block whose budget runs out after a faulting access reports the fault; one that runs out before it, the budget", () => {
  // one block: two ALU ops, a load from an unmapped address (pc 3), more ALU ops, exit
  const p = assemble("mov %r0, 1\nmov %r1, 4096\nadd %r0, 2\nldxw %r0, [%r1+8]\nmov %r0, 5\nmov %r0, 6\nmov %r0, 7\nexit");
  for (const budget of [1, 2, 3, 4, 5, 6, 7, 8, 100]) {
    const [a, b] = both(p, { budget });
    assert.match(a, budget <= 3 ? /^BUDGET: pc \d+: instruction budget exhausted/ : /^FAULT: pc 3: invalid read of 4 bytes/);
    assert.equal(b, a, `budget ${budget}`);
  }
  // in a loop, with a store that faults on the third iteration (r1 walks off the stack frame)
  const loop = assemble("mov %r1, %r10\nmov %r0, 0\nloop:\nadd %r0, 1\nsub %r1, 200\nstdw [%r1+0], 7\nmov %r2, 3\njlt %r0, 10, loop\nexit");
  for (const budget of [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 40]) {
    const [a, b] = both(loop, { budget });
    assert.equal(b, a, `budget ${budget}`);
  }
  // LD_ABS out of bounds exits (r0 = 0) before the budget runs out, in the main program
  const ld = assemble("mov %r6, %r1\nmov %r0, 9\nldabsw 100\nmov %r0, 5\nmov %r0, 6\nexit");
  for (const budget of [2, 3, 4, 5]) {
    const out: string[] = [];
    for (const kind of ["interp", "jit"] as const) {
      const space = new AddressSpace();
      const e = createEngine(kind, space, { helpers: defaultHelpers, env: deterministicEnv() });
      const data = space.alloc(16, { kind: "packet", name: "pkt", writable: false });
      const prog = e.load(ld);
      const packet = { data: data.start, len: 16, headLen: 16, macOffset: 0, networkOffset: 14, bufferStart: data.start, bufferEnd: data.start + 16 };
      out.push(outcome(() => e.run(prog, { budget, packet })));
    }
    assert.equal(out[1], out[0], `ldabs budget ${budget}`);
    if (budget >= 3) assert.equal(out[0], "r0 = 0");
  }
});

test("stack slots kept in locals: mixed-width loads and stores give the interpreter's values and frame bytes", () => {
  const asm = "stdw [%r10-8], -1\nstb [%r10-7], 0x12\nsth [%r10-4], 0x3456\nmov %r1, 0x789a\nstxw [%r10-16], %r1\n"
    + "stxb [%r10-13], %r1\nldxh %r2, [%r10-6]\nldxb %r3, [%r10-8]\nldxw %r4, [%r10-4]\nldxdw %r5, [%r10-16]\n"
    + "mov %r0, %r2\nlsh %r0, 8\nxor %r0, %r3\nlsh %r0, 16\nxor %r0, %r4\nadd %r0, %r5\nldxdw %r6, [%r10-8]\nxor %r0, %r6\nexit";
  const frames: string[] = [];
  for (const kind of ["interp", "jit"] as const) {
    const space = new AddressSpace();
    const e = createEngine(kind, space, { helpers: defaultHelpers, env: deterministicEnv() });
    const r = e.run(e.load(assemble(asm)), {});
    const top = kind === "jit" ? (e as JitVm).stackTop(0) : (e as Vm).stackTop(0);
    frames.push(`${r.toString()} ${[...space.u8.subarray(top - 16, top)].join(",")}`);
  }
  assert.equal(frames[1], frames[0]);
});

test("tail calls: a hit jumps, a miss falls through, a self-tail-call stops after 33", () => {
  for (const idx of [1, 2, 9]) {
    const [a, b] = both((space, e) => {
      const target = e.load(assemble("mov %r0, 42\nexit"));
      const handle = space.alloc(8, { kind: "helper", name: "prog array", writable: false });
      (space as unknown as { pa: ProgramMap }).pa = { maxEntries: 4, getProgram: (k) => (k === 1 ? target : undefined) };
      return e.load(assemble(`lddw %r2, ${handle.start}\nmov %r3, ${idx}\ncall 12\nmov %r0, 7\nexit`));
    }, {}, (space) => ({ mapAt: () => (space as unknown as { pa: ProgramMap }).pa }));
    assert.equal(b, a);
  }
  const [a, b] = both((space, e) => {
    const handle = space.alloc(8, { kind: "helper", name: "prog array", writable: false });
    return e.load(assemble(`ldxdw %r0, [%r10-8]\nadd %r0, 1\nstxdw [%r10-8], %r0\nlddw %r2, ${handle.start}\nmov %r3, 0\ncall 12\nldxdw %r0, [%r10-8]\nexit`));
  }, {}, (_space, self) => ({ mapAt: () => ({ maxEntries: 1, getProgram: () => self() }) }));
  assert.equal(a, "r0 = 34");
  assert.equal(b, a);
});

test("bpf-to-bpf calls: own frames, r6-r9 preserved, the depth limit faults at the call", () => {
  const prog = [
    i(0xb7, 6, 0, 0, 5), i(0x7a, 10, 0, -8, 100), i(0xb7, 1, 0, 0, 3),
    i(0x85, 0, 1, 0, 3), // call pc 7
    i(0x79, 1, 10, -8), i(0x0f, 0, 1), i(0x95),
    // f(r1): r0 = r1 * 2 + its own stack slot
    i(0x7a, 10, 0, -8, 1), i(0xbf, 0, 1), i(0x27, 0, 0, 0, 2), i(0x79, 2, 10, -8), i(0x0f, 0, 2), i(0xb7, 6, 0, 0, 99), i(0x95),
  ];
  const [a, b] = both(prog);
  assert.equal(a, "r0 = 107");
  assert.equal(b, a);
  const deep = [i(0x85, 0, 1, 0, -1), i(0x95)]; // calls itself forever
  const [c, d] = both(deep);
  assert.match(c, /FAULT: pc 0: call exceeds the maximum depth of 8 frames/);
  assert.equal(d, c);
});

test("bpf_loop runs a compiled callback", () => {
  const prog = [
    i(0x7a, 10, 0, -8, 0), i(0xb7, 1, 0, 0, 10), i(0x18, 2, 4, 0, 9), i(0), i(0xbf, 3, 10), i(0x07, 3, 0, 0, -8),
    i(0xb7, 4, 0, 0, 0), i(0x85, 0, 0, 0, 181), i(0x79, 1, 10, -8), i(0x67, 0, 0, 0, 32), i(0x4f, 0, 1), i(0x95),
    // callback(index, ctx): *ctx += index; return 0
    i(0x79, 3, 2, 0), i(0x0f, 3, 1), i(0x7b, 2, 3, 0), i(0xb7, 0, 0, 0, 0), i(0x95),
  ];
  const [a, b] = both(prog);
  assert.equal(a, `r0 = ${(10n << 32n) | 45n}`);
  assert.equal(b, a);
});

test("bpf_loop: callbacks are charged the interpreter's per-call cost; budget exhaustion names the same pc on both engines", () => {
  // 10 iterations of a 5-instruction callback, each call charged 7 on top (the kernel's inlined bpf_loop)
  const prog = [
    i(0x7a, 10, 0, -8, 0), i(0xb7, 1, 0, 0, 10), i(0x18, 2, 4, 0, 9), i(0), i(0xbf, 3, 10), i(0x07, 3, 0, 0, -8),
    i(0xb7, 4, 0, 0, 0), i(0x85, 0, 0, 0, 181), i(0x79, 1, 10, -8), i(0x67, 0, 0, 0, 32), i(0x4f, 0, 1), i(0x95),
    i(0x79, 3, 2, 0), i(0x0f, 3, 1), i(0x7b, 2, 3, 0), i(0xb7, 0, 0, 0, 0), i(0x95),
  ];
  const seen = new Set<string>();
  for (let budget = 1; budget <= 140; budget++) {
    const out: string[] = [];
    for (const kind of ["interp", "jit"] as const) {
      const e = createEngine(kind, new AddressSpace(), { helpers: defaultHelpers, env: deterministicEnv() });
      const p = e.load(prog);
      out.push(outcome(() => { const r = e.run(p, { budget }); return `${r.toString()} in ${r.insns} insns`; }));
    }
    assert.equal(out[1], out[0], `budget ${budget}`);
    seen.add(out[0]!.replace(/\d+ insns/, "N insns"));
  }
  // the sweep meets exhaustion at the bpf_loop call (charging a callback), inside a callback, in the caller, and completion
  for (const want of [/^BUDGET: pc 7: /, /^BUDGET: pc 1[2-6]: /, /^BUDGET: pc (8|9|10|11): /, /^r0 = /]) {
    assert.ok([...seen].some((x) => want.test(x)), `${want} among ${[...seen].join(" | ")}`);
  }
});

test("jumps out of the program and into an lddw fault as in the interpreter", () => {
  for (const p of [[i(0x05, 0, 0, 5), i(0x95)], [i(0x05, 0, 0, 0), i(0x18, 0, 0, 0, 1), i(0), i(0x05, 0, 0, -3)], [i(0xb7, 0, 0, 0, 1)],
    [i(0x05, 0, 0, 1), i(0x18, 0, 0, 0, 1), i(0), i(0x95)]]) {
    const [a, b] = both(p, { budget: 1000 });
    assert.match(a, /^(FAULT|BUDGET)/);
    assert.equal(b, a);
  }
});

test("irreducible control flow compiles through the dispatch loop", () => {
  // enter a loop in its middle from before it: 0 → 3, loop 2..4
  const p = [i(0xb7, 0, 0, 0, 0), i(0x15, 0, 0, 1, 0), i(0x07, 0, 0, 0, 1), i(0x07, 0, 0, 0, 2), i(0xa5, 0, 0, -3, 20), i(0x95)];
  const valid = slotStarts(Uint8Array.from(p, (x) => x.code));
  const blocks = functionBlocks(Uint8Array.from(p, (x) => x.code), Int32Array.from(p, (x) => x.off), Int32Array.from(p, (x) => x.imm), 0, valid);
  assert.equal(layout(blocks).scopes, undefined);
  const [a, b] = both(p);
  assert.equal(a, "r0 = 20");
  assert.equal(b, a);
});

test("a shared tail laid out after the code that jumps back to it (no loop) nests in reverse postorder, not the dispatch loop", () => {
  // a shared tail (3..4) that one path falls into and the other (5..6, laid out after it, as clang does) jumps back
  // to: a backward jump that is no loop. In pc order the scopes cross; in reverse postorder every edge runs forward.
  const p = [
    i(0xb7, 0, 0, 0, 0), i(0x15, 1, 0, 3, 0), // 0: r0 = 0; 1: if r1 == 0 goto 5
    i(0x07, 0, 0, 0, 1), // 2: r0 += 1
    i(0x07, 0, 0, 0, 10), i(0x95), // 3..4: the shared tail: r0 += 10; exit
    i(0x07, 0, 0, 0, 2), i(0x05, 0, 0, -4), // 5: r0 += 2; 6: goto 3
  ];
  const op = Uint8Array.from(p, (x) => x.code), off = Int32Array.from(p, (x) => x.off), imm = Int32Array.from(p, (x) => x.imm);
  const blocks = functionBlocks(op, off, imm, 0, slotStarts(op));
  const lay = layout(blocks, 0);
  assert.notEqual(lay.scopes, undefined);
  assert.deepEqual(lay.blocks.map((b) => b.start)[0], 0);
  for (const r1 of [0, 1]) {
    const out: string[] = [];
    for (const kind of ["interp", "jit"] as const) {
      const e = createEngine(kind, new AddressSpace(), {});
      const prog = e.load(p);
      out.push(outcome(() => { const r = e.run(prog, { r1 }); return `${r.toString()} in ${r.insns}`; }));
    }
    assert.equal(out[1], out[0]);
    assert.equal(out[0], r1 === 0 ? "r0 = 12 in 6" : "r0 = 11 in 5");
  }
  // reordered, a conditional jump's target can be the next block while its fallthrough is not (bpf_conformance jeq-reg)
  const jeq = assemble("mov32 %r0, 0\nmov32 %r1, 0xa\nmov32 %r2, 0xb\njeq %r1, %r2, out\njeq %r1, %r1, +1\nout:\nexit\n"
    + "mov32 %r0, 1\nmov32 %r1, 0xb\njeq %r1, %r2, out\nmov32 %r0, 2\nexit");
  const [a, b] = both(jeq);
  assert.equal(a, "r0 = 1");
  assert.equal(b, a);
});

test("the listing heads wasm text with eBPF pcs", () => {
  const space = new AddressSpace();
  const jit = new JitVm(space, {});
  const prog = jit.load(assemble("mov %r0, 1\nadd %r0, 2\nexit"));
  const m = jit.compile(prog, 0, true);
  const lines = m.listing![0]!.lines;
  assert.ok(lines.some((l) => l.pc === 1 && /i64\.add/.test(l.text)));
  assert.ok(new WebAssembly.Module(m.bytes as BufferSource));
  void Vm;
});

test("array map lookups inlined in wasm return the same values as the map (in range, out of range)", async () => {
  const { createMap } = await import("../maps/index.ts");
  const { verify } = await import("../verifier/index.ts");
  const spec = { type: 2, keySize: 4, valueSize: 12, maxEntries: 5 };
  for (const key of [0, 3, 4, 5, 1000]) {
    const text = `stw [%r10-4], ${key}\nlddw %r1, 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, out\n`
      + `ldxw %r1, [%r0+8]\nadd %r1, 7\nstxw [%r0+8], %r1\nmov %r0, %r1\nout:\nexit`;
    const insns = assemble(text).map((x) => (x.code === 0x18 && x.dst === 1 ? { ...x, src: 1 } : x));
    const v = verify(insns, { progType: "socket_filter", maps: [spec] });
    assert.ok(v.accepted, v.log);
    const got: string[] = [];
    for (const kind of ["interp", "jit"] as const) {
      const space = new AddressSpace();
      const map = createMap(space, spec);
      const e = createEngine(kind, space, { helpers: defaultHelpers });
      const p = e.load(insns, { resolve: { map: () => map.address }, facts: v.facts });
      const r1 = e.run(p).toString(), r2 = e.run(p).toString();
      got.push(`${r1} ${r2}`);
      if (kind === "jit") assert.ok((e as JitVm).compile(p, 0, true).listing![0]!.lines.some((l) => /array lookup inlined/.test(l.text)));
    }
    assert.equal(got[1], got[0], `key ${key}`);
  }
});

test("per-CPU array lookups and bpf_get_smp_processor_id inlined in wasm give the interpreter's r0 on every CPU", async () => {
  const { createMap } = await import("../maps/index.ts");
  const { verify } = await import("../verifier/index.ts");
  const spec = { type: 6, keySize: 4, valueSize: 12, maxEntries: 3 };
  for (const key of [0, 2, 3]) {
    // value[cpu] += cpu + 1, r0 = value word 2 * 16 + smp_processor_id
    const text = `stw [%r10-4], ${key}\nlddw %r1, 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, out\nmov %r6, %r0\n`
      + `call 8\nldxw %r1, [%r6+8]\nadd %r1, %r0\nadd %r1, 1\nstxw [%r6+8], %r1\nlsh %r1, 4\nadd %r0, %r1\nout:\nexit`;
    const insns = assemble(text).map((x) => (x.code === 0x18 && x.dst === 1 ? { ...x, src: 1 } : x));
    const v = verify(insns, { progType: "socket_filter", maps: [spec] });
    assert.ok(v.accepted, v.log);
    const got: string[] = [];
    for (const kind of ["interp", "jit"] as const) {
      const space = new AddressSpace();
      const map = createMap(space, spec, { nCpus: 3 });
      const e = createEngine(kind, space, { helpers: defaultHelpers });
      const p = e.load(insns, { resolve: { map: () => map.address }, facts: v.facts });
      const runs: string[] = [];
      for (const cpu of [0, 1, 2, 1, 5]) runs.push(outcome(() => e.run(p, { cpu })));
      got.push(runs.join(" "));
      if (kind === "jit") {
        const text = (e as JitVm).compile(p, 0, true).listing![0]!.lines.map((l) => l.text).join("\n");
        assert.match(text, /per-CPU array lookup inlined/);
        assert.match(text, /bpf_get_smp_processor_id inlined/);
      }
    }
    assert.equal(got[1], got[0], `key ${key}`);
  }
});

test("bpf_ktime_get_ns called straight from wasm reads the same clock as the interpreter's helper", async () => {
  const { verify } = await import("../verifier/index.ts");
  // r0 = t1 + t2 * 3 - t3 over three reads (the deterministic clock advances 1000 ns a read), in a loop of 5
  const insns = assemble("mov %r6, 5\nmov %r7, 0\nloop:\ncall 5\nmov %r8, %r0\ncall 5\nmul %r0, 3\nadd %r8, %r0\ncall 5\n"
    + "sub %r8, %r0\nadd %r7, %r8\nsub %r6, 1\njne %r6, 0, loop\nmov %r0, %r7\nexit");
  const v = verify(insns, { progType: "socket_filter" });
  assert.ok(v.accepted, v.log);
  const got: string[] = [];
  for (const kind of ["interp", "jit"] as const) {
    const e = createEngine(kind, new AddressSpace(), { helpers: defaultHelpers, env: deterministicEnv() });
    const p = e.load(insns, { facts: v.facts });
    got.push([1, 2].map(() => { const r = e.run(p); return `${r.toString()} in ${r.insns}`; }).join(", "));
    if (kind === "jit") assert.match((e as JitVm).compile(p, 0, true).listing![0]!.lines.map((l) => l.text).join("\n"), /bpf_ktime_get_ns: the environment's clock/);
  }
  assert.equal(got[1], got[0]);
  // with a helper table of its own, the call goes through the table (nothing inlined)
  const own = [...defaultHelpers];
  own[5] = (h) => { h.lo[0] = 7; h.hi[0] = 0; };
  const e = createEngine("jit", new AddressSpace(), { helpers: own });
  assert.equal(e.run(e.load(insns, { facts: v.facts })).toString(), String(5 * (7 + 21 - 7)));
});

test("hash and per-CPU hash lookups inlined in wasm (jhash, bucket walk) find what the map holds, for any key size", async () => {
  const { createMap } = await import("../maps/index.ts");
  const { verify } = await import("../verifier/index.ts");
  const keyOf = (j: number, size: number): Uint8Array => new Uint8Array(size).map((_, b) => (j * 37 + b * 11 + size) & 0xff);
  for (const type of [1, 5]) {
    for (const keySize of [4, 6, 13, 16, 24, 28]) {
      const spec = { type, keySize, valueSize: 8, maxEntries: 8 };
      for (const probe of [0, 3, 5, 6, 9]) {
        const key = keyOf(probe, keySize);
        const text = [...key].map((v, b) => `stb [%r10-${32 - b}], ${v}`).join("\n")
          + `\nlddw %r1, 0\nmov %r2, %r10\nadd %r2, -32\ncall 1\njeq %r0, 0, miss\nldxw %r0, [%r0+0]\nexit\nmiss:\nmov %r0, 0xdead\nexit`;
        const insns = assemble(text).map((x) => (x.code === 0x18 && x.dst === 1 ? { ...x, src: 1 } : x));
        const v = verify(insns, { progType: "socket_filter", maps: [spec] });
        assert.ok(v.accepted, v.log);
        const got: string[] = [];
        for (const kind of ["interp", "jit"] as const) {
          const space = new AddressSpace();
          const map = createMap(space, spec, { nCpus: 2 });
          for (let j = 0; j < 7; j++) {
            const value = new Uint8Array(type === 5 ? 16 : 8);
            new DataView(value.buffer).setUint32(0, 1000 + j, true);
            if (type === 5) new DataView(value.buffer).setUint32(8, 2000 + j, true);
            map.update(keyOf(j, keySize), value);
          }
          map.delete(keyOf(5, keySize));
          const e = createEngine(kind, space, { helpers: defaultHelpers });
          const p = e.load(insns, { resolve: { map: () => map.address }, facts: v.facts });
          got.push([0, 1, 2].map((cpu) => outcome(() => e.run(p, { cpu }))).join(" "));
          if (kind === "jit") assert.ok((e as JitVm).compile(p, 0, true).listing![0]!.lines.some((l) => /hash lookup inlined/.test(l.text)));
        }
        assert.equal(got[1], got[0], `type ${type} key size ${keySize} probe ${probe}`);
        if (probe === 3) assert.match(got[0]!, /r0 = 1003/);
      }
    }
  }
});

test("LD_IND in wasm: offsets at and past the packet end, wrapping to negative, and SKF_NET_OFF/SKF_LL_OFF give the interpreter's r0", () => {
  const cases: [number, number][] = [];
  for (const x of [0, 1, 12, 13, 14, 15, 16, 0x7ffffffe, 0x7fffffff, 0xffffffff, 0x80000000, -0x100000 + 2, -0x200000 + 12, -0x200000 - 4]) {
    for (const k of [0, 1, 2, -1, -16, 0x7fffffff]) cases.push([x, k]);
  }
  for (const [x, k] of cases) {
    for (const op of ["ldindb", "ldindh", "ldindw"]) {
      const prog = assemble(`mov %r6, %r1\nlddw %r7, ${x}\nmov %r0, 9\n${op} %r7, ${k}\nadd %r0, 1\nexit`);
      const out: string[] = [];
      for (const kind of ["interp", "jit"] as const) {
        const space = new AddressSpace();
        const e = createEngine(kind, space, { helpers: defaultHelpers, env: deterministicEnv() });
        const data = space.alloc(32, { kind: "packet", name: "pkt", writable: false });
        for (let b = 0; b < 32; b++) space.u8[data.start + b] = 0x11 * (b + 1);
        const p = e.load(prog);
        const packet = { data: data.start + 4, len: 16, headLen: 16, macOffset: -4, networkOffset: 10, bufferStart: data.start, bufferEnd: data.start + 32 };
        out.push(outcome(() => e.run(p, { packet })));
      }
      assert.equal(out[1], out[0], `${op} r7=${x} k=${k}`);
    }
  }
});
