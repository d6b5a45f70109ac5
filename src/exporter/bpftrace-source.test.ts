// A bpftrace script as an exporter source on the VM: replayed sys_enter events fire the script's probes in VmTrace,
// and /metrics carries @calls[comm] = count() as an exact counter and @size = hist(...) as a cumulative Prometheus
// histogram on bpftrace's power-of-two slots; promtool (when installed) accepts the text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { compileScript, VmTrace } from "../trace/index.ts";
import { deterministicEnv } from "../helpers/env.ts";
import { bpftraceConfig, vmTraceSource, replayTrace } from "./bpftrace-source.ts";
import { Exporter } from "./exporter.ts";
import { sysEnterRecord, type ReplayEvent } from "../runtime/attach/replay.ts";
import type { DecoderEnv } from "./decoders.ts";

const fx = JSON.parse(readFileSync(new URL("../../test/fixtures/trace/vm-replay.json", import.meta.url), "utf8")) as { formats: Record<string, string> };
const probeEnv = {
  tracepoints: () => Object.keys(fx.formats).map((n) => `syscalls:${n}`),
  tracepointFormat: (c: string, n: string) => (c === "syscalls" ? fx.formats[n] : undefined),
};
const denv: DecoderEnv = {
  ksym: () => undefined, syscallName: () => undefined, cgroupPath: () => undefined, blockDevice: () => undefined,
  ifName: () => undefined, pci: undefined, littleEndian: true,
};
const SCRIPT = "tracepoint:syscalls:sys_enter_getppid { @calls[comm] = count(); @n = count(); }\n" +
  "tracepoint:syscalls:sys_enter_write { @size = hist(args->count); @bytes[comm, pid] = sum(args->count); @hi = max(args->count); }\n";

test("bpftrace script source on the VM: counters exact, hist() as a cumulative histogram, promtool accepts it", async () => {
  const script = compileScript(SCRIPT, { env: probeEnv, ncpus: 2 });
  const config = bpftraceConfig(script, "calls", "calls.bt");
  assert.deepEqual(config.warnings, ["calls.bt: map @hi (max()) is not exported: only count(), sum() and hist() maps are"]);
  const env = deterministicEnv();
  const vm = new VmTrace(script, { cpus: 2, env });
  // sys_enter_write's count is at byte 32 of its record (8-byte header, nr, fd, buf)
  const write = (n: number) => { const r = new Uint8Array(48); new DataView(r.buffer).setBigUint64(32, BigInt(n), true); return r; };
  const events: ReplayEvent[] = [
    { tracepoint: "syscalls/sys_enter_getppid", comm: "w2", pid: 7, cpu: 0, record: sysEnterRecord(110), repeat: 20 },
    { tracepoint: "syscalls/sys_enter_getppid", comm: "bash", pid: 8, cpu: 1, record: sysEnterRecord(110), repeat: 3 },
    { tracepoint: "syscalls/sys_enter_write", comm: "w2", pid: 7, cpu: 1, record: write(0) },
    { tracepoint: "syscalls/sys_enter_write", comm: "w2", pid: 7, cpu: 0, record: write(1), repeat: 2 },
    { tracepoint: "syscalls/sys_enter_write", comm: "w2", pid: 7, cpu: 1, record: write(3) },
    { tracepoint: "syscalls/sys_enter_write", comm: "w2", pid: 7, cpu: 0, record: write(100), repeat: 4 },
    { tracepoint: "syscalls/sys_enter_open", comm: "w2", record: new Uint8Array(16) },
  ];
  assert.equal(replayTrace(vm, events), 31);
  const ex = new Exporter([config], [vmTraceSource(vm)], denv);
  const text = await ex.render();
  ex.close();
  const lines = text.split("\n");
  assert.ok(lines.includes('ebpf_exporter_calls_total{key0="w2"} 20'), text);
  assert.ok(lines.includes('ebpf_exporter_calls_total{key0="bash"} 3'), text);
  assert.ok(lines.includes("ebpf_exporter_n_total 23"), text); // keyless: the label-less series
  assert.ok(lines.includes('ebpf_exporter_bytes_total{key0="w2",key1="7"} 405'), text);
  assert.ok(lines.includes("# TYPE ebpf_exporter_size histogram"), text);
  const bucket = (le: string) => lines.find((l) => l.startsWith(`ebpf_exporter_size_bucket{le="${le}"} `))?.split(" ")[1];
  // slots: 0 → le 0, 1 → le 1, 3 → [2,4) le 3, 100 → [64,128) le 127
  assert.deepEqual(["-1", "0", "1", "3", "7", "63", "127", "255", "+Inf"].map(bucket), ["0", "1", "3", "4", "4", "4", "8", "8", "8"]);
  assert.ok(lines.includes("ebpf_exporter_size_count 8"), text);
  assert.ok(!/ebpf_exporter_hi/.test(text));
  if (!existsSync("/usr/bin/promtool")) { console.log("SKIP promtool check metrics: /usr/bin/promtool is not installed"); return; }
  const r = spawnSync("/usr/bin/promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  assert.equal(r.status, 0, `promtool check metrics: ${r.stdout}${r.stderr}`);
});

test("a YAML config names a script's metrics and labels; mismatches name the config file and field", async () => {
  const { parseExporterConfig } = await import("./config.ts");
  const script = compileScript(SCRIPT, { env: probeEnv, ncpus: 1 });
  const yaml = (labels: string) => parseExporterConfig(`metrics:\n  counters:\n    - name: bytes_total\n      help: h\n      labels: [${labels}]\n  histograms:\n    - name: size\n      help: s\n`, "c.yaml", "c", { bpftrace: true });
  const c = bpftraceConfig(script, "c", "c.bt", yaml("{name: comm}, {name: pid, decoders: [{name: uint}]}"));
  assert.deepEqual(c.counters[0]!.labels.map((l) => [l.name, l.size, l.padding, l.decoders[0]!.name]), [["comm", 16, 0, "string"], ["pid", 8, 0, "uint"]]);
  assert.deepEqual(c.histograms[0]!.labels.map((l) => l.name), ["bucket"]);
  assert.throws(() => bpftraceConfig(script, "c", "c.bt", yaml("{name: comm}")), /c\.yaml: metrics\.counters\[0\]\.labels: map @bytes of c\.bt has 2 keys, the config names 1 label/);
  assert.throws(() => bpftraceConfig(script, "c", "c.bt", yaml("{name: comm, size: 8}, {name: pid}")), /c\.yaml: metrics\.counters\[0\]\.labels\[0\]\.size: key 0 of @bytes is 16 bytes, not 8/);
  const missing = parseExporterConfig("metrics:\n  counters:\n    - {name: nope_total, help: h}\n", "d.yaml", "d", { bpftrace: true });
  assert.throws(() => bpftraceConfig(script, "d", "d.bt", missing), /d\.yaml: metrics\.counters\[0\]\.name: no map @nope in d\.bt/);
});
