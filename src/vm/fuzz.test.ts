// Robustness: random instruction streams (valid opcodes with random registers, offsets and immediates, plus raw random
// slots) either load and run to an exit, or fail with a BpfError (DECODE, FAULT, BUDGET, UNSUPPORTED); never another
// exception and never a hang.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { isBpfError } from "../errors.ts";
import type { Insn } from "../isa/ebpf/insn.ts";
import { AddressSpace } from "./memory.ts";
import { Vm } from "./vm.ts";
import { createEngine, ENGINE_KINDS } from "../jit/select.ts";
import { defaultHelpers, deterministicEnv, KFUNC_SLOT_BASE, kfuncIndex, type HelperCall, type HelperTable } from "../helpers/index.ts";
import { HELPER_PROTOS, type ArgType } from "../helpers/protos.ts";
import { buildContext, buildSkbContext } from "../runtime/contexts.ts";
import { PROGRAM_TYPES, SK_BUFF_FIELDS, XDP_MD_FIELDS } from "../runtime/layouts.ts";
import { createMap, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_QUEUE, BPF_MAP_TYPE_RINGBUF, BPF_F_RDONLY_PROG } from "../maps/index.ts";
import type { ArrayMap, RingBufMap } from "../maps/index.ts";
import type { Region } from "./memory.ts";

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

test("random programs end in an exit or a BpfError, never a crash or a hang", () => {
  const space = new AddressSpace();
  const vm = new Vm(space, { helpers: defaultHelpers, env: deterministicEnv() });
  const skb = buildSkbContext(space, new Uint8Array(64), { l2: true });
  let ran = 0;
  fc.assert(fc.property(fc.array(slot, { minLength: 1, maxLength: 40 }), (body: Insn[]) => {
    const insns = [...body, { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }];
    let prog;
    try {
      prog = vm.load(insns);
    } catch (e) {
      assert.ok(isBpfError(e), `load threw ${String(e)}`);
      return;
    }
    try {
      vm.run(prog, { ...skb.run, budget: 10_000 });
      ran++;
    } catch (e) {
      assert.ok(isBpfError(e), `run threw ${e instanceof Error ? e.stack : String(e)}`);
    } finally {
      vm.unload(prog);
    }
  }), { numRuns: 1500 });
  assert.ok(ran > 50, `only ${ran} programs ran to an exit`);
});

// Memory safety (property): random unverified programs that call every pointer-taking helper with pointers into
// every kind of region (stack, ctx, packet, writable, BPF_F_RDONLY_PROG and frozen `.rodata` map values, ring buffer,
// map handles) and hostile sizes, and store into the context (read-only fields included) and the read-only map values
// directly with every store width, register stores and every atomic operation, under every context type. After each
// run no byte outside the writable regions and the context's writable fields has changed, and every failure is a
// BpfError. BPFKIT_FUZZ_LONG=N runs N programs.

/** The 25 ids the test named by hand before the list was derived (51, redirect_map, has a prototype but no implementation). */
const NAMED_BEFORE = [1, 2, 3, 4, 6, 16, 25, 26, 27, 51, 67, 87, 88, 89, 112, 113, 114, 115, 130, 131, 132, 133, 134, 165, 181];
const takesPointer = (a: ArgType): boolean => a !== "ARG_ANYTHING" && !a.startsWith("ARG_CONST_SIZE") && a !== "ARG_CONST_ALLOC_SIZE_OR_ZERO";
/**
 * Every helper the VM implements whose prototype (the table the verifier checks against) has a pointer, memory, map,
 * context, ring-buffer or callback argument; implemented helpers without a prototype, whose arguments are therefore
 * unknown, count too. Plus every kfunc the VM implements (their slots are callable from an unverified program).
 */
const POINTER_HELPERS: readonly number[] = defaultHelpers.flatMap((fn, id) => {
  if (fn === undefined) return [];
  if (id >= KFUNC_SLOT_BASE) return [id];
  const proto = HELPER_PROTOS.get(id);
  return proto === undefined || proto.args.some(takesPointer) ? [id] : [];
});
/** Helpers that work on a map (a map argument, a ring-buffer record, or no prototype: the queue and callback helpers). */
const MAP_HELPERS: ReadonlySet<number> = new Set(POINTER_HELPERS.filter((id) => {
  const proto = HELPER_PROTOS.get(id);
  return id < KFUNC_SLOT_BASE && (proto === undefined || proto.args.some((a) => a === "ARG_CONST_MAP_PTR" || a === "ARG_PTR_TO_RINGBUF_MEM"));
}));
/** Atomic operations (BPF_ADD, OR, AND, XOR, each with BPF_FETCH, then XCHG and CMPXCHG). */
const ATOMIC_OPS = [0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1];

test("memory safety: the pointer-helper list is derived from the prototypes and the implementations", () => {
  assert.ok(POINTER_HELPERS.length > 0);
  const missing = NAMED_BEFORE.filter((id) => defaultHelpers[id] !== undefined && !POINTER_HELPERS.includes(id));
  assert.deepEqual(missing, [], "helpers the hand-written list named are missing");
  // a helper named before that is not implemented (redirect_map) joins the list by construction once it is
  for (const id of NAMED_BEFORE) if (!POINTER_HELPERS.includes(id)) assert.equal(defaultHelpers[id], undefined, `helper ${id}`);
  // every implemented kfunc that takes a pointer (the bpf_iter_num family) is called
  for (const name of ["bpf_iter_num_new", "bpf_iter_num_next", "bpf_iter_num_destroy"]) {
    assert.ok(POINTER_HELPERS.includes(KFUNC_SLOT_BASE + kfuncIndex(name)), name);
  }
  // an implemented helper whose prototype takes only scalars is not in the list
  assert.ok(defaultHelpers[5] !== undefined && !POINTER_HELPERS.includes(5));
});

const SIZES = [0, 1, 4, 8, 15, 16, 64, 255, 512, 4096, -1, -8, 0x7fffffff, 0x80000000, 0xffffffff];
/** Every program type that can be test-run, so every context layout (skb, xdp, mem, regs, none). */
const CONTEXTS = Object.keys(PROGRAM_TYPES);

for (const engine of ENGINE_KINDS) test(`memory safety (${engine}): no run changes a byte outside the program's writable memory`, () => {
  const runs = Number(process.env.BPFKIT_FUZZ_LONG ?? 6000);
  let clean = 0, crash = 0, escape = 0, blowup = 0;
  const problems: string[] = [];
  /** Direct stores generated per target, to show every context type's read-only fields and the read-only maps are hit. */
  const hits = new Map<string, number>();
  const hit = (k: string): void => { hits.set(k, (hits.get(k) ?? 0) + 1); };
  // every helper is counted when it is entered, to show each pointer helper really ran
  const calls = new Map<number, number>();
  const ranNow = new Set<number>();
  const counted: HelperTable = defaultHelpers.map((fn, id) => fn === undefined ? undefined : (h: HelperCall): void => {
    calls.set(id, (calls.get(id) ?? 0) + 1);
    ranNow.add(id);
    fn(h);
  });
  for (const type of CONTEXTS) {
    const space = new AddressSpace();
    const vm = createEngine(engine, space, { helpers: counted, env: deterministicEnv() });
    const ctx = buildContext(space, type, Uint8Array.from({ length: 80 }, (_, k) => k));
    const rw = createMap(space, { type: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 64, maxEntries: 4, name: "rw" }) as ArrayMap;
    const ro = createMap(space, { type: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 64, maxEntries: 1, flags: BPF_F_RDONLY_PROG, name: "ro" }) as ArrayMap;
    // libbpf's .rodata: read-only for programs and frozen against user-space writes
    const rodata = createMap(space, { type: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 64, maxEntries: 1, flags: BPF_F_RDONLY_PROG, name: ".rodata" }) as ArrayMap;
    space.u8.set(Uint8Array.from({ length: 64 }, (_, k) => k * 3 + 1), rodata.values.start);
    rodata.freeze();
    const hash = createMap(space, { type: BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 16, maxEntries: 8, name: "h" });
    const queue = createMap(space, { type: BPF_MAP_TYPE_QUEUE, keySize: 0, valueSize: 8, maxEntries: 4, name: "q" });
    const rb = createMap(space, { type: BPF_MAP_TYPE_RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096, name: "rb" }) as RingBufMap;
    const ctxRegion: Region | undefined = ctx.run.ctxRegion;
    // the context's base: the ctx region, or the memory r1 points to ("mem" contexts), or none
    const ctxBase = Number(ctx.run.ctx ?? ctx.run.r1 ?? 0);
    const ctxSize = ctxRegion?.size ?? (ctx.run.r1 !== undefined ? Number(ctx.run.r2 ?? 64) : 0);
    const mask = ctx.run.ctxWritable;
    const pointers = [
      -8, -64, -512, -1, 0, // stack offsets from r10 (0: r10 itself)
    ];
    const bases = [ctxBase, ctx.run.packet?.data ?? 0, rw.values.start, ro.values.start, rodata.values.start, rb.data.start, rb.data.start + rb.size - 8,
      rw.address, ro.address, rodata.address, hash.address, queue.address, rb.address, 0, 0x10000, 0xfffffff0];
    const maps = [rw.address, ro.address, rodata.address, hash.address, queue.address, rb.address];
    /** Targets of direct stores: [name, start, size]; the context first, with its whole layout. */
    const targets = ([
      [`${type} ctx`, ctxBase, ctxSize], ["ro", ro.values.start, 64], [".rodata", rodata.values.start, 64],
      ["rw", rw.values.start, 256], ["packet", ctx.run.packet?.data ?? 0, 80], ["ringbuf", rb.data.start, 64],
    ] as [string, number, number][]).filter((t) => t[2] > 0);
    const bookkeeping = space.regions()
      .filter((g) => g.kind !== "ctx" && g.kind !== "packet" && !g.writable && !g.name.startsWith("map ") && g !== ro.values && g !== rodata.values)
      .map((g) => [g.start, g.start + g.size] as const);
    const kind = PROGRAM_TYPES[type]!.context;
    const fields = kind === "skb" ? SK_BUFF_FIELDS : kind === "xdp" ? XDP_MD_FIELDS : [];
    const pktFields = ctxRegion === undefined ? [] : fields.filter((f) => f.name === "data" || f.name === "data_end" || f.name === "data_meta")
      .map((f) => [ctxRegion.start + f.offset, ctxRegion.start + f.offset + f.size] as const);
    const insnsFor = (r: () => number): Insn[] => {
      const out: Insn[] = [];
      const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
      const lddw = (reg: number, v: number): void => { out.push({ code: 0x18, dst: reg, src: 0, off: 0, imm: v | 0 }, { code: 0, dst: 0, src: 0, off: 0, imm: Math.floor(v / 4294967296) | 0 }); };
      /** One store at reg+off: an immediate or register store of any width, or an atomic operation (value in r7, r0 for cmpxchg). */
      const storeVia = (reg: number, off: number, valueReg: number): void => {
        lddw(valueReg, r() < 0.5 ? -1 : Math.floor(r() * 2 ** 53));
        const kind = r();
        if (kind < 0.35) out.push({ code: pick([0x62, 0x6a, 0x72, 0x7a]), dst: reg, src: 0, off, imm: r() < 0.5 ? -1 : Math.floor(r() * 0xffffffff) | 0 });
        else if (kind < 0.7) out.push({ code: pick([0x63, 0x6b, 0x73, 0x7b]), dst: reg, src: valueReg, off, imm: 0 });
        else out.push({ code: pick([0xc3, 0xdb]), dst: reg, src: valueReg, off, imm: pick(ATOMIC_OPS) });
      };
      // stores into a region (the context's read-only fields and the read-only map values included)
      const stores = (): void => {
        for (let m = r() < 0.4 ? 1 + Math.floor(r() * 2) : 0; m > 0; m--) {
          const [name, start, size] = r() < 0.5 ? targets[0]! : pick(targets);
          const at = start + Math.floor(r() * size);
          hit(name);
          if (name.endsWith(" ctx") && mask !== undefined && ctxRegion !== undefined && mask[at - ctxRegion.start] !== 1) hit(`${type} ctx read-only field`);
          lddw(6, at - 8); lddw(0, Math.floor(r() * 2 ** 32));
          storeVia(6, 8, 7);
        }
      };
      for (let n = 1 + Math.floor(r() * 4); n > 0; n--) {
        // a store into the stack, stores into regions before or after the helper call
        if (r() < 0.5) out.push({ code: 0x7a, dst: 10, src: 0, off: pick(pointers) & ~7 || -8, imm: Math.floor(r() * 0xffffffff) | 0 });
        const storesFirst = r() < 0.5;
        if (storesFirst) stores();
        for (let a = 1; a <= 5; a++) {
          const k = r();
          if (k < 0.25) out.push({ code: 0xbf, dst: a, src: 10, off: 0, imm: 0 }, { code: 0x07, dst: a, src: 0, off: 0, imm: pick(pointers) });
          else if (k < 0.5) lddw(a, pick(bases) + (r() < 0.7 ? 0 : Math.floor(r() * 128) - 64));
          else if (k < 0.65) lddw(a, pick(maps));
          else if (k < 0.95) { const s = pick(SIZES); lddw(a, s < 0 ? 2 ** 64 + s : s); }
          else lddw(a, Math.floor(r() * 2 ** 53));
        }
        out.push({ code: 0x85, dst: 0, src: 0, off: 0, imm: pick(POINTER_HELPERS) });
        // through what the helper returned (a map value, read-only ones included, or a ring-buffer record)
        if (r() < 0.3) storeVia(0, Math.floor(r() * 72) - 8, 8);
        if (!storesFirst) stores();
      }
      out.push({ code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 }, { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 });
      return out;
    };
    const initialBytes = space.memory.buffer.byteLength;
    for (let i = 0; i < Math.ceil(runs / CONTEXTS.length); i++) {
      let s = (i * 2654435761) ^ type.length * 40503 | 1;
      const r = (): number => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return (s >>> 0) / 4294967296; };
      const insns = insnsFor(r);
      let prog;
      try { prog = vm.load(insns); } catch (e) { assert.ok(isBpfError(e)); clean++; continue; }
      // snapshot after loading (load maps the code region) and compare before unloading
      const before = space.u8.slice();
      // bytes a program may change: writable regions and the context's writable fields
      const mappedBefore = new Set(space.regions());
      // (the read-only map values are excluded by identity, not trusted to their regions' flags)
      // the JIT's own scratch (its register file, budget and caches: not program-writable) is the engine's state
      let allowed = space.regions().filter((g) => (g.writable || g.kind === "scratch") && g !== ro.values && g !== rodata.values).map((g) => [g.start, g.start + g.size] as const);
      ranNow.clear();
      try {
        vm.run(prog, { ...ctx.run, budget: 100_000 });
        clean++;
      } catch (e) {
        if (isBpfError(e)) clean++;
        else { crash++; problems.push(`${type} #${i}: ${e instanceof Error ? e.stack : String(e)}`); }
      }
      const after = space.u8;
      // regions a map mapped during the run (a hash map's element pool growing) are its own fresh memory
      const fresh: (readonly [number, number])[] = space.regions().filter((g) => !mappedBefore.has(g)).map((g) => [g.start, g.start + g.size] as const);
      // a map helper keeps its map's books (counts, buckets, links, ring-buffer positions): those regions are
      // read-only to programs but change when such a helper ran (never the maps' headers or read-only values)
      if ([...ranNow].some((id) => MAP_HELPERS.has(id))) fresh.push(...bookkeeping);
      // a helper that moves the packet (bpf_xdp_adjust_head...) rewrites the context's packet pointers, as the kernel's do
      if ([...ranNow].some((id) => HELPER_PROTOS.get(id)?.changesPktData === true)) fresh.push(...pktFields);
      if (fresh.length > 0) allowed = [...allowed, ...fresh].sort((x, y) => x[0] - y[0]);
      let changed = -1;
      for (let a = 0, k = 0; a < before.length; ) {
        const sorted = allowed;
        while (k < sorted.length && sorted[k]![1] <= a) k++;
        const end = k < sorted.length ? Math.max(a, sorted[k]![0]) : before.length;
        if (Buffer.compare(before.subarray(a, end), after.subarray(a, end)) !== 0) {
          for (let b = a; b < end; b++) {
            if (before[b] === after[b]) continue;
            const inCtxField = ctxRegion !== undefined && mask !== undefined && b >= ctxRegion.start && b < ctxRegion.start + ctxRegion.size && mask[b - ctxRegion.start] === 1;
            if (!inCtxField) { changed = b; break; }
          }
          if (changed >= 0) break;
        }
        a = k < sorted.length ? Math.max(end, sorted[k]![1]) : before.length;
      }
      if (changed >= 0) {
        escape++;
        problems.push(`${type} #${i}: byte 0x${changed.toString(16)} (${space.find(changed)?.name ?? "unmapped"}) changed`);
        space.u8.set(before); // keep later runs meaningful
      }
      vm.unload(prog);
      if (space.memory.buffer.byteLength > initialBytes + (64 << 20)) blowup++;
    }
  }
  const missed = [...CONTEXTS.filter((t) => PROGRAM_TYPES[t]!.context !== "none").map((t) => `${t} ctx`),
    ...CONTEXTS.filter((t) => { const c = PROGRAM_TYPES[t]!.context; return c === "skb" || c === "xdp"; }).map((t) => `${t} ctx read-only field`),
    "ro", ".rodata"].filter((k) => !(hits.get(k)! > 0));
  assert.deepEqual(missed, [], "targets no store reached");
  assert.deepEqual(POINTER_HELPERS.filter((id) => !(calls.get(id)! > 0)), [], "pointer helpers never called");
  if (process.env.BPFKIT_FUZZ_VERBOSE) console.log(JSON.stringify({ hits: Object.fromEntries(hits), calls: Object.fromEntries(calls) }));
  console.log(`vm memory-safety fuzz (${engine}): ${clean + crash} inputs: clean ${clean - escape}, crash ${crash}, hang 0, escape ${escape}, blow-up ${blowup}`);
  assert.deepEqual(problems.slice(0, 5), []);
});
