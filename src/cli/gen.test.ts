// gen skeleton (bpfkit's TypeScript one and bpftool's C one), subskeleton and btf dump on BTF whose type graph has a
// cycle not broken by a pointer (an array that is its own element type): a clear BpfError, never a stack overflow.
// bpftool 7.1 loops forever on the same object.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { isBpfError } from "../errors.ts";
import { parseBtf } from "../btf/parse.ts";
import { BtfCDumper } from "../btf/dump-c.ts";
import { parseElf } from "../object/elf.ts";
import { loadObject } from "../object/index.ts";
import { buildOwnCorpus } from "../../test/fixtures/c/build.ts";
import { generateSkeleton } from "./gen.ts";
import { genCommand } from "./gen-tool.ts";

/** Extra bytes after the 12-byte header of a BTF type record, by kind. */
const EXTRA = (kind: number, vlen: number): number =>
  [0, 4, 0, 12, 12 * vlen, 12 * vlen, 8 * vlen, 0, 0, 0, 0, 0, 0, 8 * vlen, 4, 12 * vlen, 0, 4, 0, 12 * vlen][kind] ?? 0;

/** The object with the first BTF array a global variable has (so the skeleton must walk it) made its own element type. */
function selfArray(bytes: Uint8Array): { bytes: Uint8Array; id: number } {
  const out = bytes.slice();
  const sec = parseElf(out).sectionByName(".BTF")!;
  const btf = parseBtf(sec.data);
  const dv = new DataView(out.buffer, out.byteOffset);
  const ofVars = new Set<number>();
  for (let id = 1; id < btf.typeCount; id++) {
    const t = btf.type(id);
    if (t.kind === 14 && btf.type(t.sizeOrType).kind === 3) ofVars.add(t.sizeOrType);
  }
  let p = sec.offset + dv.getUint32(sec.offset + 4, true) + dv.getUint32(sec.offset + 8, true);
  for (let id = 1; id < btf.typeCount; id++) {
    const t = btf.type(id);
    if (t.kind === 3 && ofVars.has(id)) {
      dv.setUint32(p + 12, id, true);
      return { bytes: out, id };
    }
    p += 12 + EXTRA(t.kind, t.vlen);
  }
  throw new Error("no array in the fixture's BTF");
}

test("self-element BTF array: skeletons and C dump refuse it with a BpfError", (t) => {
  const built = buildOwnCorpus();
  if (typeof built === "string") return void (console.log(`SKIP: ${built}`), t.skip(built));
  const path = built.find((o) => o.name === "globals")!.path;
  const { bytes, id } = selfArray(new Uint8Array(readFileSync(path)));
  // bpfkit's TypeScript skeleton: the loader keeps the BTF (it only warns), the generator refuses the cycle
  let obj;
  try {
    obj = loadObject(bytes, { fileName: "selfarr.o" });
  } catch (e) {
    assert.ok(isBpfError(e), String(e));
  }
  if (obj) {
    assert.throws(() => generateSkeleton(obj, bytes, "selfarr.o", "rt", "codecs"), (e: unknown) => isBpfError(e) && /contains itself/.test(e.message));
  }
  // the C dumper: a declaration chain that never ends is an ELOOP error
  const btf = parseBtf(parseElf(bytes).sectionByName(".BTF")!.data);
  const d = new BtfCDumper(btf, () => {});
  assert.throws(() => d.emitDecl(id, "x", 0, false), (e: unknown) => isBpfError(e) && e.code === "ELOOP");
  assert.throws(() => d.dumpType(id), (e: unknown) => isBpfError(e));
});

test("self-element BTF array: gen skeleton --c and subskeleton answer with bpftool-style errors", (t) => {
  const built = buildOwnCorpus();
  if (typeof built === "string") return void (console.log(`SKIP: ${built}`), t.skip(built));
  const path = built.find((o) => o.name === "globals")!.path;
  const { bytes } = selfArray(new Uint8Array(readFileSync(path)));
  const tmp = `${process.env.TMPDIR ?? "/tmp"}/bpfkit-selfarr-${process.pid}.o`;
  return import("node:fs").then(({ writeFileSync, unlinkSync }) => {
    writeFileSync(tmp, bytes);
    try {
      for (const verb of ["skeleton", "subskeleton"]) {
        const r = genCommand([verb, tmp, "--c"], { json: false, pretty: false });
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /^Error: /);
      }
    } finally {
      unlinkSync(tmp);
    }
  });
});
