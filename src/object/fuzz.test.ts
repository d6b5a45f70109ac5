// Fuzzing: fast-check mutations (byte flips, 32-bit word overwrites, truncations) of real objects from the own C
// corpus must never crash or hang the ELF loader, the BTF parser, the validator or the dumps: every outcome is a
// value or a BpfError. Runs are bounded; the seeds are fast-check's (reported on failure for replay).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { isBpfError } from "../errors.ts";
import { dumpBtfC } from "../btf/dump-c.ts";
import { dumpBtfRaw } from "../btf/dump-raw.ts";
import { parseBtf } from "../btf/parse.ts";
import { validateBtf } from "../btf/validate.ts";
import { loadObject, parseElf } from "./index.ts";
import { xlatedDot, xlatedPlain } from "./xlated.ts";
import { buildOwnCorpus } from "../../test/fixtures/c/build.ts";

const mutation = (len: number) =>
  fc.oneof(
    fc.array(fc.tuple(fc.nat(len - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }).map((flips) => ({ kind: "bytes" as const, flips })),
    fc.tuple(fc.nat(Math.max(0, len - 4)), fc.integer({ min: 0, max: 0xffffffff })).map(([at, word]) => ({ kind: "word" as const, at, word })),
    fc.nat(len).map((cut) => ({ kind: "cut" as const, cut })),
  );

type Mutation = { kind: "bytes"; flips: [number, number][] } | { kind: "word"; at: number; word: number } | { kind: "cut"; cut: number };

function apply(src: Uint8Array, m: Mutation): Uint8Array {
  if (m.kind === "cut") return src.slice(0, m.cut);
  const b = new Uint8Array(src);
  if (m.kind === "bytes") for (const [i, v] of m.flips) b[i] = v;
  else new DataView(b.buffer).setUint32(m.at, m.word, true);
  return b;
}

function cleanly(f: () => void): void {
  try {
    f();
  } catch (e) {
    if (!isBpfError(e)) throw e;
    // errors say where: an offset or a section (or a program/map/BTF type by name)
    assert.ok(e.message.length > 0);
  }
}

function samples(t: { skip(m: string): void }): Uint8Array[] | undefined {
  const built = buildOwnCorpus();
  if (typeof built === "string") {
    console.log(`SKIP: ${built}`);
    t.skip(built);
    return undefined;
  }
  return ["xdp_maps", "subprogs", "all_maps"].map((n) => new Uint8Array(readFileSync(built.find((b) => b.name === n)!.path)));
}

test("mutated objects never crash the loader or the xlated dump", (t) => {
  const objs = samples(t);
  if (!objs) return;
  for (const obj of objs) {
    fc.assert(
      fc.property(mutation(obj.length), (m) => {
        cleanly(() => {
          const o = loadObject(apply(obj, m as Mutation));
          for (const p of o.programs) {
            xlatedPlain(p, o.btf, { linum: true, opcodes: true });
            xlatedDot(p);
          }
        });
      }),
      { numRuns: 60 },
    );
  }
});

test("mutated CO-RE objects never crash relocation against a target BTF", (t) => {
  const built = buildOwnCorpus();
  if (typeof built === "string") return void (console.log(`SKIP: ${built}`), t.skip(built));
  const obj = new Uint8Array(readFileSync(built.find((b) => b.name === "core")!.path));
  const target = loadObject(obj).btf!; // relocate against the object's own (unmutated) types
  const ext = parseElf(obj).sectionByName(".BTF.ext")!;
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(ext.size - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (flips) => {
      const b = new Uint8Array(obj);
      for (const [i, v] of flips) b[ext.offset + i] = v;
      cleanly(() => loadObject(b, { targetBtf: target }));
    }),
    { numRuns: 80 },
  );
});

test("mutated .BTF sections never crash the parser, validator or dumps", (t) => {
  const objs = samples(t);
  if (!objs) return;
  for (const obj of objs) {
    const sec = parseElf(obj).sectionByName(".BTF")!;
    const btf = new Uint8Array(sec.data);
    fc.assert(
      fc.property(mutation(btf.length), (m) => {
        cleanly(() => {
          const b = parseBtf(apply(btf, m as Mutation));
          validateBtf(b);
          dumpBtfRaw(b, () => {});
          dumpBtfC(b, () => {});
        });
      }),
      { numRuns: 40 },
    );
  }
});
