// `bpfkit exporter` under a scrape storm: 50 requests/s against a 10,000-key kernel map (the bigmap fixture filled from
// user space). Every scrape must answer 200 with the whole map, and the exporter's resident memory (VmRSS of its
// process, read after each of three rounds has drained) must stay flat. CI runs 5 s; BPFKIT_LONG=1 runs the issue's 30 s.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { skipWithoutKernel } from "./kernel.ts";
import { buildOwnCorpus } from "../fixtures/c/build.ts";
import { getFdById, mapUpdateBatch } from "../../src/kernel/bpf.ts";
import { progInfo } from "../../src/kernel/info.ts";
import { closeFd } from "../../src/kernel/libc.ts";

const BIN = fileURLToPath(new URL("../../bin/bpfkit.mjs", import.meta.url));
const FIXTURES = fileURLToPath(new URL("../fixtures/exporter/", import.meta.url));
const SECONDS = Number(process.env.BPFKIT_EXPORTER_SECONDS ?? (process.env.BPFKIT_LONG ? 30 : 5));
const RATE = 50;
const KEYS = 10_000;
const SERIES = "\nebpf_exporter_flow_packets_total{";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
  });
}

const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);

test(`${RATE} scrapes/s for ${SECONDS} s against a ${KEYS}-key map: none fails, memory stays flat`, async (t) => {
  const clang = spawnSync("sh", ["-c", "command -v clang"]).status === 0;
  if (skipWithoutKernel(t, "exporter load test", clang ? undefined : "clang is not installed")) return;
  const built = buildOwnCorpus(FIXTURES);
  if (typeof built === "string") { console.log(`SKIP exporter load test: ${built}`); t.skip(built); return; }
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-exporter-load-"));
  copyFileSync(join(FIXTURES, "bigmap.yaml"), join(dir, "bigmap.yaml"));
  copyFileSync(built.find((b) => b.name === "bigmap")!.path, join(dir, "bigmap.bpf.o"));
  let exporter: ChildProcess | undefined;
  try {
    const port = await freePort();
    // a small old generation: a leak would end in an out-of-memory crash (failed scrapes), and the GC keeps RSS honest
    exporter = spawn(process.execPath, ["--max-old-space-size=96", BIN, "exporter", `--config.dir=${dir}`, "--config.names=bigmap", `--web.listen-address=127.0.0.1:${port}`], { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    exporter.stderr!.on("data", (d: Buffer) => { log += d.toString(); });
    const base = `http://127.0.0.1:${port}/metrics`;
    for (let i = 0; !/listening on/.test(log); i++) {
      if (exporter.exitCode !== null || i > 600) throw new Error(`the exporter did not start: ${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // the map, found through the program's map ids, filled with KEYS keys
    const progId = /program_info\{config="bigmap",id="(\d+)"/.exec(await (await fetch(base)).text())![1]!;
    const pfd = getFdById("prog", Number(progId));
    const mfd = getFdById("map", progInfo(pfd).mapIds[0]!);
    closeFd(pfd);
    const keys = new Uint8Array(KEYS * 8), values = new Uint8Array(KEYS * 8);
    const kv = new DataView(keys.buffer);
    for (let i = 0; i < KEYS; i++) { kv.setUint32(i * 8, i, true); kv.setUint32(i * 8 + 4, 1 + (i % 3), true); values[i * 8] = 1; }
    mapUpdateBatch(mfd, keys, values, KEYS);
    closeFd(mfd);

    let ok = 0, failed = 0, inFlight = 0, maxInFlight = 0;
    const failures: string[] = [];
    const rss: number[] = [];
    const one = async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        const r = await fetch(base);
        const body = Buffer.from(await r.arrayBuffer());
        let series = 0;
        for (let at = body.indexOf(SERIES); at >= 0; at = body.indexOf(SERIES, at + SERIES.length)) series++;
        if (r.status === 200 && series === KEYS) ok++;
        else { failed++; if (failures.length < 3) failures.push(`status ${r.status}, ${series} series`); }
      } catch (e) {
        failed++;
        const cause = (e as { cause?: { code?: string; message?: string } }).cause;
        if (failures.length < 3) failures.push(`${(e as Error).message}${cause ? ` (${cause.code ?? cause.message})` : ""}`);
      } finally { inFlight--; }
    };
    // three rounds; RSS read after each has drained (responses in flight hold their buffers, a leak stays)
    const rounds = Number(process.env.BPFKIT_EXPORTER_ROUNDS ?? 3);
    const perRound = Math.round((RATE * SECONDS) / rounds);
    const total = perRound * rounds;
    const start = Date.now();
    for (let round = 0; round < rounds; round++) {
      const pending: Promise<void>[] = [];
      const t0 = Date.now();
      for (let i = 0; i < perRound; i++) {
        // paced against the clock, so a slow response delays no later request
        const wait = t0 + (i * 1000) / RATE - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        pending.push(one());
      }
      await Promise.all(pending);
      await new Promise((r) => setTimeout(r, 1000));
      rss.push(rssKb(exporter.pid!));
    }
    console.log(`exporter load: ${ok}/${total} scrapes of ${KEYS} series ok in ${((Date.now() - start) / 1000).toFixed(1)} s (${rounds} rounds, 1 s pause each), at most ${maxInFlight} in flight; exporter VmRSS after each round: ${rss.map((k) => (k / 1024).toFixed(0)).join(", ")} MB`);
    assert.equal(failed, 0, `failed scrapes: ${failures.join("; ")}`);
    assert.equal(ok, total);
    // flat: the last round ends no higher than the first half's peak plus a quarter (GC sawtooth)
    const early = Math.max(...rss.slice(0, Math.ceil(rounds / 2)));
    assert.ok(rss[rounds - 1]! <= early * 1.25, `VmRSS grew from ${early} kB to ${rss[rounds - 1]} kB over ${total} scrapes`);
  } finally {
    if (exporter && exporter.exitCode === null) {
      const done = new Promise((r) => exporter!.once("exit", r));
      exporter.kill("SIGTERM");
      await done;
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
