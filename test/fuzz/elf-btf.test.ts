// Fuzzer: mutated BPF objects and raw BTF files (seeds: the elf-samples objects, BPFKIT_ELF_SAMPLES, and the own C
// corpus) through every entry point that parses them — loadObject, object show, prog dump xlated file (plain and
// visual), gen skeleton, btf dump file (raw, c, json) and openObject into the VM (CO-RE, maps, verifier) — in a worker
// thread under a watchdog. crash = an exception other than a BpfError; hang = an input over the time budget; blow-up
// = output or heap growth far beyond the input's size, or the worker dying under its heap limit.
// CI size: 300 inputs. BPFKIT_FUZZ_LONG=N runs N (from input BPFKIT_FUZZ_FROM, default 0). Prints `N inputs: clean C, crash 0, hang 0, escape 0, blow-up 0`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseElf } from "../../src/object/index.ts";
import { buildOwnCorpus } from "../fixtures/c/build.ts";
import { mutateObject, rng } from "./mutate-elf.ts";
import { Watched } from "./watchdog.ts";
import type { FuzzReply } from "./elf-btf-worker.ts";

const N = Number(process.env.BPFKIT_FUZZ_LONG ?? 300);
/** First input index (BPFKIT_FUZZ_FROM), so a long run can be split into chunks that together cover 0..N. */
const FROM = Number(process.env.BPFKIT_FUZZ_FROM ?? 0);
/** Per-input watchdog budget: generous, as the machine is shared; a real hang runs for minutes. */
const BUDGET_MS = Number(process.env.BPFKIT_FUZZ_BUDGET_MS ?? 30_000);

function seeds(): { name: string; bytes: Uint8Array }[] {
  const out: { name: string; bytes: Uint8Array }[] = [];
  const dir = process.env.BPFKIT_ELF_SAMPLES;
  if (dir && existsSync(dir)) {
    for (const n of readdirSync(dir).filter((f) => f.endsWith(".o")).sort()) out.push({ name: n, bytes: readFileSync(join(dir, n)) });
  } else console.log(`SKIP: elf-samples seeds (BPFKIT_ELF_SAMPLES ${dir ? `${dir} not found` : "not set"}); own corpus only`);
  const built = buildOwnCorpus();
  if (typeof built === "string") console.log(`SKIP: own C corpus seeds (${built})`);
  else for (const b of built) out.push({ name: b.name, bytes: readFileSync(b.path) });
  // raw BTF files: the .BTF section of a few seeds, for `btf dump file` on raw BTF
  for (const s of out.slice()) {
    if (out.length > 400) break;
    try {
      const sec = parseElf(s.bytes, { anyMachine: true }).sectionByName(".BTF");
      if (sec && sec.size < 1 << 20 && parseElf(s.bytes, { anyMachine: true }).littleEndian) out.push({ name: `${s.name}:.BTF`, bytes: sec.data.slice() });
    } catch { /* not an ELF object we can read: no raw BTF seed */ }
  }
  return out;
}

test("ELF/BTF mutation fuzz: every parsing entry point ends in a value or a BpfError", { timeout: 3_600_000 * 24 }, async (t) => {
  const all = seeds();
  if (all.length === 0) { t.skip("SKIP: no seeds"); return; }
  const w = new Watched<FuzzReply>(new URL("./elf-btf-worker.ts", import.meta.url));
  let clean = 0, crash = 0, hang = 0, blowup = 0, slowest = 0;
  const problems: string[] = [];
  const keep = process.env.BPFKIT_FUZZ_KEEP;
  try {
    for (let i = FROM; i < FROM + N; i++) {
      const r = rng(0x51ed270b ^ Math.imul(i, 2654435761));
      const seed = all[Math.floor(r() * all.length)]!;
      const bytes = mutateObject(seed.bytes, r);
      const o = await w.run({ bytes }, BUDGET_MS);
      const bad = (what: string): void => {
        problems.push(`#${i} (${seed.name}) ${what}`);
        if (keep) writeFileSync(join(keep, `elf-fuzz-${i}.o`), bytes);
      };
      if (o.kind === "hang") { hang++; bad(`hang: over ${BUDGET_MS} ms`); continue; }
      if (o.kind === "died") { blowup++; bad(`worker died: ${o.error}`); continue; }
      slowest = Math.max(slowest, o.ms);
      const rep = o.reply;
      if (rep.crashes.length > 0) { crash++; bad(`crash: ${rep.crashes[0]}`); continue; }
      if (rep.heap > 64 * bytes.length + (256 << 20) || rep.output > 64 * bytes.length + (4 << 20)) {
        blowup++; bad(`blow-up: ${rep.output} chars of output (most from ${rep.most[0]}), ${rep.heap} bytes of heap for ${bytes.length} bytes of input`); continue;
      }
      clean++;
    }
  } finally {
    await w.close();
  }
  console.log(`ELF/BTF mutation fuzz (${all.length} seeds, slowest input ${Math.round(slowest)} ms): ${N} inputs: clean ${clean}, crash ${crash}, hang ${hang}, escape 0, blow-up ${blowup}`);
  if (problems.length) console.log(problems.slice(0, 20).join("\n"));
  assert.deepEqual(problems.slice(0, 5), []);
});
