// `bpfkit exporter` scraped by a real Prometheus (Debian's, 1 s scrape interval, on 127.0.0.1 with its own temp
// storage): the fixture configs (test/fixtures/exporter) are loaded into the kernel, a known workload runs (a static
// binary named bpfkit-wl: N getppid calls, reads and writes of given sizes), and Prometheus's HTTP API must show the
// counters risen by exactly N and the histogram buckets equal to `bpfkit map dump` of the same map (and to the
// workload). Every /metrics response fetched passes `promtool check metrics`. Bad configs fail with the file and
// field; a scrape-time decoding error is counted while the exporter keeps serving.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { skipWithoutKernel } from "./kernel.ts";
import { buildOwnCorpus } from "../fixtures/c/build.ts";
import {
  openConfigSource, openBpftraceConfig, machineEnv, readConfigs, Exporter, goFloat, replay, sysEnterRecord, startServer,
  type ReplayEvent,
} from "../../src/exporter/index.ts";
import { linux } from "../../src/kernel/backend.ts";
import { System } from "../../src/runtime/index.ts";
import { mapDump } from "../../src/kernel/map-dump.ts";

const BIN = fileURLToPath(new URL("../../bin/bpfkit.mjs", import.meta.url));
const FIXTURES = fileURLToPath(new URL("../fixtures/exporter/", import.meta.url));
const CONFIGS = ["syscalls", "readsize", "writesize", "timers", "getppid"];

const have = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;

function missing(): string | undefined {
  for (const t of ["clang", "prometheus", "promtool"]) if (!have(t)) return `${t} is not installed`;
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function waitFor<T>(what: string, f: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (e) { last = e; }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A directory holding NAME.yaml and NAME.bpf.o for each fixture config (ebpf_exporter's layout). */
function configDir(): { dir: string; workload: string } | string {
  const built = buildOwnCorpus(FIXTURES);
  if (typeof built === "string") return built;
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-exporter-"));
  for (const b of built) {
    copyFileSync(join(FIXTURES, `${b.name}.yaml`), join(dir, `${b.name}.yaml`));
    copyFileSync(b.path, join(dir, `${b.name}.bpf.o`));
  }
  // static, so the dynamic loader's own reads do not join the workload's
  const workload = join(dir, "bpfkit-wl");
  const cc = spawnSync("clang", ["-O2", "-static", "-o", workload, join(FIXTURES, "workload.c")], { encoding: "utf8" });
  if (cc.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return `cannot build the static workload: ${cc.stderr.trim().split("\n")[0]}`;
  }
  return { dir, workload };
}

/** promtool's lint and parse of one Prometheus text exposition. */
function promtoolCheck(text: string, where: string): void {
  const r = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  assert.equal(r.status, 0, `promtool check metrics on ${where}: ${r.stdout}${r.stderr}`);
}

async function stop(child: ChildProcess | undefined, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once("exit", r));
  child.kill(signal);
  const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await done;
  clearTimeout(t);
}

interface Sample { metric: Record<string, string>; value: [number, string] }

/** Debian's Prometheus scraping 127.0.0.1:`target` every second, with its storage under `dir`. */
async function startPrometheus(dir: string, target: number) {
  const pport = await freePort();
  writeFileSync(join(dir, "prometheus.yml"), `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: bpfkit\n    static_configs:\n      - targets: ["127.0.0.1:${target}"]\n`);
  const child = spawn("prometheus", [`--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "tsdb")}`, `--web.listen-address=127.0.0.1:${pport}`, "--log.level=warn"], { stdio: "ignore" });
  const papi = `http://127.0.0.1:${pport}`;
  const query = async (q: string): Promise<Sample[]> => {
    const r = (await (await fetch(`${papi}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { status: string; data: { result: Sample[] } };
    assert.equal(r.status, "success");
    return r.data.result;
  };
  const scalar = async (q: string) => { const r = await query(q); return r.length ? Number(r[0]!.value[1]) : undefined; };
  /** Waits until `q` is `want` (a scrape that overran its 1 s timeout marks the series stale until the next one). */
  const eventually = async (q: string, want: number, what = q) => {
    let last: number | undefined;
    try {
      await waitFor(what, async () => ((last = await scalar(q)) === want ? true : undefined), 20_000);
    } catch { assert.equal(last, want, what); }
  };
  return { child, query, scalar, eventually };
}

/** The read-size histogram as Prometheus should show it: the map dump's rows for comm bpfkit-wl, made cumulative. */
function expectedReadHistogram(dumpJson: string): { rows: [number, number][]; buckets: Map<string, number> } {
  const dump = JSON.parse(dumpJson) as { formatted: { key: { comm: string; bucket: number }; value: number } }[];
  const rows = new Map<number, number>();
  for (const r of dump) if (r.formatted.key.comm === "bpfkit-wl") rows.set(r.formatted.key.bucket, r.formatted.value);
  const buckets = new Map<string, number>();
  let cum = 0;
  for (let b = 0; b <= 24; b++) { cum += rows.get(b) ?? 0; buckets.set(goFloat(2 ** b), cum); }
  buckets.set("+Inf", cum);
  return { rows: [...rows].sort((a, b) => a[0] - b[0]), buckets };
}

const N = 1234;
const READS: [number, number][] = [[100, 3], [5000, 2], [1, 4], [70000, 1]];
// log2 buckets 7 (100), 13 (5000), 0 (1), 17 (70000) and the sum past bucket_max (25)
const READ_ROWS = [[0, 4], [7, 3], [13, 2], [17, 1], [25, 100 * 3 + 5000 * 2 + 4 + 70000]];

/** The workload's events for the VM: N getppid calls on two CPUs, the reads, another command's calls and read. */
function workloadEvents(): ReplayEvent[] {
  return [
    { tracepoint: "syscalls/sys_enter_getppid", comm: "bpfkit-wl", pid: 77, cpu: 0, record: sysEnterRecord(110), repeat: N - 34 },
    { tracepoint: "syscalls/sys_enter_getppid", comm: "bpfkit-wl", pid: 77, cpu: 1, record: sysEnterRecord(110), repeat: 34 },
    { tracepoint: "syscalls/sys_enter_getppid", comm: "bash", record: sysEnterRecord(110), repeat: 5 },
    ...READS.map(([size, repeat]) => ({ tracepoint: "syscalls/sys_enter_read", comm: "bpfkit-wl", record: sysEnterRecord(0, [3, 0x1000, size]), repeat })),
    { tracepoint: "syscalls/sys_enter_read", comm: "cat", record: sysEnterRecord(0, [0, 0x1000, 4096]) },
  ];
}

async function histogramIn(query: (q: string) => Promise<Sample[]>, total: number): Promise<Map<string, number>> {
  return waitFor("the histogram in Prometheus", async () => {
    const r = await query('ebpf_exporter_read_size_bytes_bucket{comm="bpfkit-wl"}');
    const m = new Map(r.map((s) => [s.metric.le!, Number(s.value[1])]));
    return m.get("+Inf") === total ? m : undefined;
  }, 30_000);
}

test("Prometheus scrapes bpfkit exporter: exact counters, histograms equal to the map dump, promtool-clean", async (t) => {
  if (skipWithoutKernel(t, "exporter with Prometheus", missing())) return;
  const fx = configDir();
  if (typeof fx === "string") { console.log(`SKIP exporter with Prometheus: ${fx}`); t.skip(fx); return; }
  const { dir, workload } = fx;
  // a config whose decoder cannot read its keys (syscall without uint): counted at scrape time, never fatal (the
  // bigmap object's program adds a key for each of the workload's getppid calls)
  copyFileSync(join(dir, "bigmap.bpf.o"), join(dir, "baddecode.bpf.o"));
  writeFileSync(join(dir, "baddecode.yaml"), "metrics:\n  counters:\n    - name: flow_packets_total\n      help: x\n      labels:\n        - {name: flow, size: 4, decoders: [{name: syscall}]}\n        - {name: kind, size: 4, decoders: [{name: uint}]}\n");
  let exporter: ChildProcess | undefined, prometheus: ChildProcess | undefined;
  try {
    const port = await freePort();
    exporter = spawn(process.execPath, [BIN, "exporter", `--config.dir=${dir}`, `--config.names=${[...CONFIGS, "baddecode"].join(",")}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    exporter.stderr!.on("data", (d: Buffer) => { log += d.toString(); });
    await waitFor("the exporter to listen", async () => {
      if (exporter!.exitCode !== null) throw new Error(`exporter exited ${exporter!.exitCode}: ${log}`);
      return /listening on/.test(log) ? true : undefined;
    });
    const base = `http://127.0.0.1:${port}`;
    const scrape = async (accept?: string) => {
      const r = await fetch(`${base}/metrics`, { headers: accept ? { accept } : {} });
      assert.equal(r.status, 200);
      return { type: r.headers.get("content-type") ?? "", body: await r.text() };
    };
    const first = await scrape();
    assert.match(first.type, /^text\/plain; version=0\.0\.4/);
    promtoolCheck(first.body, "the first /metrics");

    const prom = await startPrometheus(dir, port);
    prometheus = prom.child;
    const { query, scalar, eventually } = prom;
    await waitFor("Prometheus to scrape the exporter", async () => ((await scalar('up{job="bpfkit"}')) === 1 && (await scalar("ebpf_exporter_getppid_calls_total")) !== undefined ? true : undefined));
    const before = (await scalar("ebpf_exporter_getppid_calls_total"))!;

    const w = spawnSync(workload, [String(N), ...READS.map(([s, c]) => `${s}x${c}`)]);
    assert.equal(w.status, 0, "workload");

    await eventually("ebpf_exporter_getppid_calls_total", before + N);
    await eventually("sum(ebpf_exporter_getppid_cpu_total)", before + N, "per-CPU counter, summed over its cpu label");
    await eventually('ebpf_exporter_syscalls_total{comm="bpfkit-wl",syscall="getppid"}', N);
    await eventually('ebpf_exporter_syscalls_total{comm="bpfkit-wl",syscall="read"}', 10);

    // the read-size histogram: Prometheus's buckets = the map's rows for comm bpfkit-wl, made cumulative
    const progs = await query('ebpf_exporter_ebpf_program_info{config="readsize"}');
    const progId = progs[0]!.metric.id!;
    const show = JSON.parse(spawnSync(process.execPath, [BIN, "prog", "show", "id", progId, "-j"], { encoding: "utf8" }).stdout) as { map_ids: number[] };
    const expected = expectedReadHistogram(spawnSync(process.execPath, [BIN, "map", "dump", "id", String(show.map_ids[0]), "-j"], { encoding: "utf8" }).stdout);
    assert.deepEqual(expected.rows, READ_ROWS, "the map holds the workload's reads");
    assert.deepEqual(await histogramIn(query, expected.buckets.get("+Inf")!), expected.buckets);
    await eventually('ebpf_exporter_read_size_bytes_sum{comm="bpfkit-wl"}', 100 * 3 + 5000 * 2 + 4 + 70000);
    // the linear write-size histogram: 100-byte buckets, 5000 and 70000 in the last (2000)
    for (const [le, v] of [["0", 0], ["100", 7], ["1900", 7], ["2000", 10], ["+Inf", 10]] as const) {
      await eventually(`ebpf_exporter_write_size_bytes_bucket{comm="bpfkit-wl",le="${le}"}`, v);
    }

    // several labels: ksym names from /proc/kallsyms, static_map kinds, regexp-grouped commands
    const timers = await waitFor("timer starts", async () => { const r = await query("ebpf_exporter_timer_starts_total"); return r.length ? r : undefined; });
    assert.ok(timers.some((s) => !s.metric.function!.startsWith("unknown_addr:")), "timer callbacks resolved through kallsyms");
    assert.ok(timers.every((s) => ["deferrable", "pinned", "normal"].includes(s.metric.kind!)), "kinds through static_map");
    assert.ok(timers.every((s) => !/^kworker\//.test(s.metric.comm!)), "kworker/N:M grouped by the regexp");

    // decoding errors are counted, and the exporter still serves
    await waitFor("decoder errors counted", async () => ((await scalar('ebpf_exporter_decoder_errors_total{config="baddecode"}')) ?? 0) > 0 || undefined);
    const after = await scrape();
    promtoolCheck(after.body, "/metrics after the workload");
    const om = await scrape("application/openmetrics-text; version=1.0.0");
    assert.match(om.type, /^application\/openmetrics-text/);
    assert.match(om.body, /\n# EOF\n$/);
    assert.match(om.body, /^# TYPE ebpf_exporter_getppid_calls counter$/m);
    assert.match(om.body, /^ebpf_exporter_getppid_calls_total \d+$/m);
    // promtool 2.42 checks the text format only: OpenMetrics lines are checked for shape here
    for (const line of om.body.trimEnd().split("\n")) assert.match(line, /^(# (HELP|TYPE) \S+ .*|# EOF|[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? \S+)$/, line);
    const debug = await (await fetch(`${base}/debug`)).text();
    assert.match(debug, /### Map: read_size_bytes/);
    assert.match(debug, /\(labels: \[bpfkit-wl 7\]\) -> \d+/);
    assert.equal(exporter.exitCode, null, "the exporter is still running");
  } finally {
    await stop(prometheus);
    await stop(exporter);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("bad configs and objects fail with the config file and field, and leave nothing loaded", async (t) => {
  if (skipWithoutKernel(t, "exporter config errors", have("clang") ? undefined : "clang is not installed")) return;
  const fx = configDir();
  if (typeof fx === "string") { console.log(`SKIP exporter config errors: ${fx}`); t.skip(fx); return; }
  const { dir } = fx;
  try {
    const open = async (name: string, yaml: string, object = "readsize") => {
      writeFileSync(join(dir, `${name}.yaml`), yaml);
      copyFileSync(join(dir, `${object}.bpf.o`), join(dir, `${name}.bpf.o`));
      const configs = readConfigs(dir, [name]);
      const source = openConfigSource(linux, configs[0]!, dir);
      new Exporter(configs, [source], machineEnv()).close();
    };
    const hist = "metrics:\n  histograms:\n    - name: NAME\n      help: h\n      bucket_type: exp2\n      bucket_max: 24\n      labels:\n        - {name: comm, size: SIZE, decoders: [{name: string}]}\n        - {name: bucket, size: 8, decoders: [{name: uint}]}\n";
    await assert.rejects(open("nomap", hist.replace("NAME", "nope").replace("SIZE", "16")), /nomap\.yaml: metrics\.histograms\[0\]\.name: no map 'nope' in the object/);
    await assert.rejects(open("badsize", hist.replace("NAME", "read_size_bytes").replace("SIZE", "8")), /badsize\.yaml: metrics\.histograms\[0\]\.labels: the labels' sizes and paddings add up to 16 bytes, but map 'read_size_bytes' has 24-byte keys/);
    await assert.rejects(open("bad", "metrics:\n  counters:\n    - {name: c, help: h, labels: [{name: x, size: 4, decoders: [{name: uint}]}], bucket_type: 3\n"), /bad\.yaml:\d+:\d+:/);
    writeFileSync(join(dir, "noobj.yaml"), "metrics:\n  counters:\n    - {name: c, help: h}\n");
    assert.throws(() => openConfigSource(linux, readConfigs(dir, ["noobj"])[0]!, dir), /config 'noobj': cannot read object .*noobj\.bpf\.o: ENOENT/);
    assert.throws(() => readConfigs(dir, ["absent"]), /error opening .*absent\.yaml for config 'absent': ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("Prometheus scrapes the exporter on the VM backend: replayed events give the same counters and histograms", async (t) => {
  const why = missing();
  if (why !== undefined) { console.log(`SKIP exporter on the VM with Prometheus: ${why}`); t.skip(why); return; }
  const built = buildOwnCorpus(FIXTURES);
  if (typeof built === "string") { console.log(`SKIP exporter on the VM with Prometheus: ${built}`); t.skip(built); return; }
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-exporter-vm-"));
  for (const name of ["getppid", "readsize"]) {
    copyFileSync(join(FIXTURES, `${name}.yaml`), join(dir, `${name}.yaml`));
    copyFileSync(built.find((b) => b.name === name)!.path, join(dir, `${name}.bpf.o`));
  }
  const sys = new System({ nCpus: 2 });
  const configs = readConfigs(dir, ["getppid", "readsize"]);
  const sources = configs.map((c) => openConfigSource(sys, c, dir));
  const ex = new Exporter(configs, sources, machineEnv());
  let prometheus: ChildProcess | undefined;
  const port = await freePort();
  const server = await startServer(ex, { host: "127.0.0.1", port });
  try {
    assert.deepEqual(sources.flatMap((s) => s.attachErrors), []);
    const prom = await startPrometheus(dir, port);
    prometheus = prom.child;
    const { query, scalar, eventually } = prom;
    await waitFor("Prometheus to scrape the exporter", async () => ((await scalar('up{job="bpfkit"}')) === 1 && (await scalar("ebpf_exporter_getppid_calls_total")) === 0 ? true : undefined));
    const runs = replay(sys, workloadEvents());
    assert.equal(runs, N + 5 + 10 + 1);
    await eventually("ebpf_exporter_getppid_calls_total", N);
    await eventually('ebpf_exporter_getppid_cpu_total{cpu="1"}', 34);
    await eventually("sum(ebpf_exporter_getppid_cpu_total)", N);
    const mapId = sources[1]!.maps.get("read_size_bytes")!.id;
    const dump = mapDump({ json: true, pretty: false, backend: sys }, ["id", String(mapId)]);
    assert.equal(dump.code, 0, dump.stderr);
    const expected = expectedReadHistogram(dump.stdout);
    assert.deepEqual(expected.rows, READ_ROWS, "the VM map holds the replayed reads");
    assert.deepEqual(await histogramIn(query, expected.buckets.get("+Inf")!), expected.buckets);
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    promtoolCheck(text, "/metrics on the VM");
  } finally {
    await stop(prometheus);
    server.close();
    server.closeAllConnections();
    ex.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

// A bpftrace script (bt-calls.bt, its labels named by bt-calls.yaml) as the metric source: hist() slots as le bounds
// (slot of n: [2^k, 2^(k+1)) → le 2^(k+1)-1), so the workload's reads of 1, 100, 5000 and 70000 bytes land at 1, 127,
// 8191 and 131071, cumulative.
const BT_BUCKETS: [string, number][] = [["0", 0], ["1", 4], ["63", 4], ["127", 7], ["8191", 9], ["131071", 10], ["+Inf", 10]];

function btDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-exporter-bt-"));
  for (const f of ["bt-calls.bt", "bt-calls.yaml"]) copyFileSync(join(FIXTURES, f), join(dir, f));
  return dir;
}

async function checkBtMetrics(prom: Awaited<ReturnType<typeof startPrometheus>>, calls: number): Promise<void> {
  await prom.eventually('ebpf_exporter_getppid_calls_total{comm="bpfkit-wl"}', calls);
  for (const [le, v] of BT_BUCKETS) await prom.eventually(`ebpf_exporter_read_bytes_bucket{le="${le}"}`, v);
  await prom.eventually("ebpf_exporter_read_bytes_count", 10);
}

test("Prometheus scrapes a bpftrace script config on Linux: exact counters by comm, hist() as a histogram", async (t) => {
  if (skipWithoutKernel(t, "exporter bpftrace config with Prometheus", missing())) return;
  const fx = configDir();
  if (typeof fx === "string") { console.log(`SKIP exporter bpftrace config with Prometheus: ${fx}`); t.skip(fx); return; }
  const dir = btDir();
  let exporter: ChildProcess | undefined, prometheus: ChildProcess | undefined;
  try {
    const port = await freePort();
    exporter = spawn(process.execPath, [BIN, "exporter", `--config.dir=${dir}`, "--config.names=bt-calls", `--web.listen-address=127.0.0.1:${port}`], { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    exporter.stderr!.on("data", (d: Buffer) => { log += d.toString(); });
    await waitFor("the exporter to listen", async () => {
      if (exporter!.exitCode !== null) throw new Error(`exporter exited ${exporter!.exitCode}: ${log}`);
      return /listening on/.test(log) ? true : undefined;
    });
    const prom = await startPrometheus(dir, port);
    prometheus = prom.child;
    await waitFor("Prometheus to scrape the exporter", async () => ((await prom.scalar('up{job="bpfkit"}')) === 1 ? true : undefined));
    const w = spawnSync(fx.workload, [String(N), ...READS.map(([s, c]) => `${s}x${c}`)]);
    assert.equal(w.status, 0, "workload");
    await checkBtMetrics(prom, N);
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    promtoolCheck(text, "/metrics of a bpftrace config on Linux");
    assert.equal(exporter.exitCode, null, "the exporter is still running");
  } finally {
    await stop(prometheus);
    await stop(exporter);
    rmSync(dir, { recursive: true, force: true });
    rmSync(fx.dir, { recursive: true, force: true });
  }
});

test("Prometheus scrapes a bpftrace script config on the VM backend: replayed events give the same metrics", async (t) => {
  const why = missing() ?? (existsSync("/sys/kernel/tracing/events/syscalls/sys_enter_getppid/format") ? undefined : "no readable tracefs for the script's tracepoint formats");
  if (why !== undefined) { console.log(`SKIP exporter bpftrace config on the VM with Prometheus: ${why}`); t.skip(why); return; }
  const dir = btDir();
  const sys = new System({ nCpus: 2 });
  const { linuxProbeEnv } = await import("../../src/kernel/trace.ts");
  const { openPerfBuffer } = await import("../../src/runtime/index.ts");
  const bt = openBpftraceConfig(dir, "bt-calls", linuxProbeEnv(), sys, (fd, onRecord) => {
    const b = openPerfBuffer(sys, fd);
    return { consume: () => { b.consume((d) => onRecord(d)); }, close() {} };
  })!;
  const ex = new Exporter([bt.config], [bt.source], machineEnv());
  let prometheus: ChildProcess | undefined;
  const port = await freePort();
  const server = await startServer(ex, { host: "127.0.0.1", port });
  try {
    const prom = await startPrometheus(dir, port);
    prometheus = prom.child;
    await waitFor("Prometheus to scrape the exporter", async () => ((await prom.scalar('up{job="bpfkit"}')) === 1 ? true : undefined));
    const runs = replay(sys, workloadEvents());
    assert.equal(runs, N + 5 + 10 + 1);
    await checkBtMetrics(prom, N);
    await prom.eventually('ebpf_exporter_getppid_calls_total{comm="bash"}', 5);
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    promtoolCheck(text, "/metrics of a bpftrace config on the VM");
  } finally {
    await stop(prometheus);
    server.close();
    server.closeAllConnections();
    ex.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
