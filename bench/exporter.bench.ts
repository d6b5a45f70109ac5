// Scrape latency of `bpfkit exporter` (one /metrics render: batch map read, label decode through the per-key cache,
// prom-client's text exposition) on a kernel hash map of 1k, 10k and 100k keys, next to `bpftool map dump id N` of
// the same map (its process included, as a scraper would run it) in the same run. Needs root, clang and bpftool.
import { performance } from "node:perf_hooks";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { kernelAvailable } from "../test/oracle/kernel.ts";
import { buildOwnCorpus } from "../test/fixtures/c/build.ts";
import { Exporter, machineEnv, openConfigSource, readConfigs } from "../src/exporter/index.ts";
import { linux } from "../src/kernel/backend.ts";
import { mapDeleteBatch, mapUpdateBatch } from "../src/kernel/bpf.ts";
import { getFdById } from "../src/kernel/bpf.ts";
import { closeFd } from "../src/kernel/libc.ts";

const FIXTURES = fileURLToPath(new URL("../test/fixtures/exporter/", import.meta.url));

/** Fills the bigmap fixture's flow_packets_total (u32 flow, u32 kind → u64) with keys 0..n-1. */
function fill(fd: number, n: number): void {
  const keys = new Uint8Array(n * 8), values = new Uint8Array(n * 8);
  const kv = new DataView(keys.buffer), vv = new DataView(values.buffer);
  for (let i = 0; i < n; i++) {
    kv.setUint32(i * 8, i, true);
    kv.setUint32(i * 8 + 4, 1 + (i % 3), true);
    vv.setUint32(i * 8, i * 7, true);
  }
  mapUpdateBatch(fd, keys, values, n);
}

function clear(fd: number, n: number): void {
  const keys = new Uint8Array(n * 8);
  const kv = new DataView(keys.buffer);
  for (let i = 0; i < n; i++) { kv.setUint32(i * 8, i, true); kv.setUint32(i * 8 + 4, 1 + (i % 3), true); }
  mapDeleteBatch(fd, keys, n);
}

async function timeIt(f: () => Promise<unknown> | unknown, reps: number): Promise<number> {
  await f();
  const t = performance.now();
  for (let i = 0; i < reps; i++) await f();
  return (performance.now() - t) / reps;
}

export async function main(): Promise<void> {
  const avail = kernelAvailable();
  const built = buildOwnCorpus(FIXTURES);
  const bpftool = spawnSync("bpftool", ["version"]).status === 0;
  if (avail !== true || typeof built === "string" || !bpftool) {
    console.log(`skipped: ${avail !== true ? avail : typeof built === "string" ? built : "bpftool is not installed"}`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-exporter-bench-"));
  copyFileSync(join(FIXTURES, "bigmap.yaml"), join(dir, "bigmap.yaml"));
  copyFileSync(built.find((b) => b.name === "bigmap")!.path, join(dir, "bigmap.bpf.o"));
  const configs = readConfigs(dir, ["bigmap"]);
  const source = openConfigSource(linux, configs[0]!, dir);
  const ex = new Exporter(configs, [source], machineEnv());
  const map = source.maps.get("flow_packets_total")!;
  const id = map.id;
  const fd = getFdById("map", id);
  try {
    console.log("keys      bpfkit exporter /metrics   bpftool map dump (process)   ratio   exposition");
    for (const n of [1000, 10_000, 100_000]) {
      fill(fd, n);
      const reps = n >= 100_000 ? 3 : 10;
      let bytes = 0;
      const ours = await timeIt(async () => { bytes = (await ex.render()).length; }, reps);
      const theirs = await timeIt(() => spawnSync("bpftool", ["map", "dump", "id", String(id)], { maxBuffer: 1 << 30 }), reps);
      console.log(`${String(n).padStart(7)}   ${ours.toFixed(1).padStart(20)} ms   ${theirs.toFixed(1).padStart(24)} ms   ${(ours / theirs).toFixed(2).padStart(5)}   ${(bytes / 1e6).toFixed(1)} MB`);
      clear(fd, n);
    }
  } finally {
    closeFd(fd);
    ex.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
