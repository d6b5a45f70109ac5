// --otlp: a VM-run config (the getppid and readsize fixtures, fed replayed events) pushed to a stand-in OpenTelemetry
// collector (an HTTP server taking OTLP/HTTP JSON): the counters arrive as cumulative sums with the replayed count,
// the histogram as explicit buckets. Needs clang for the fixture objects (skips visibly without).
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildOwnCorpus } from "../../test/fixtures/c/build.ts";
import { System } from "../runtime/index.ts";
import { Exporter, machineEnv, openConfigSource, readConfigs, replay, startOtlpPush, sysEnterRecord } from "./index.ts";

const FIXTURES = fileURLToPath(new URL("../../test/fixtures/exporter/", import.meta.url));

interface OtlpPoint { attributes?: { key: string; value: { stringValue?: string } }[]; asDouble?: number; bucketCounts?: string[]; explicitBounds?: number[]; count?: string; sum?: number }
interface OtlpMetric { name: string; sum?: { dataPoints: OtlpPoint[]; isMonotonic: boolean; aggregationTemporality: number }; histogram?: { dataPoints: OtlpPoint[] }; gauge?: { dataPoints: OtlpPoint[] } }

test("--otlp pushes the same metrics to an OpenTelemetry collector over OTLP/HTTP", async (t) => {
  const built = buildOwnCorpus(FIXTURES);
  if (typeof built === "string") { console.log(`SKIP exporter OTLP push: ${built}`); t.skip(built); return; }
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-exporter-otlp-"));
  for (const name of ["getppid", "readsize"]) {
    copyFileSync(join(FIXTURES, `${name}.yaml`), join(dir, `${name}.yaml`));
    copyFileSync(built.find((b) => b.name === name)!.path, join(dir, `${name}.bpf.o`));
  }
  const bodies: { path: string; type: string; body: string }[] = [];
  const collector = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => { body += d.toString(); });
    req.on("end", () => { bodies.push({ path: req.url ?? "", type: req.headers["content-type"] ?? "", body }); res.writeHead(200, { "Content-Type": "application/json" }); res.end("{}"); });
  });
  await new Promise<void>((r) => collector.listen(0, "127.0.0.1", r));
  const sys = new System({ nCpus: 2 });
  const configs = readConfigs(dir, ["getppid", "readsize"]);
  const ex = new Exporter(configs, configs.map((c) => openConfigSource(sys, c, dir)), machineEnv());
  const url = `http://127.0.0.1:${(collector.address() as { port: number }).port}/v1/metrics`;
  const push = startOtlpPush(ex, url, 3_600_000, (l) => assert.fail(l));
  try {
    replay(sys, [
      { tracepoint: "syscalls/sys_enter_getppid", comm: "bpfkit-wl", record: sysEnterRecord(110), repeat: 321 },
      { tracepoint: "syscalls/sys_enter_read", comm: "bpfkit-wl", record: sysEnterRecord(0, [3, 0, 100]), repeat: 3 },
      { tracepoint: "syscalls/sys_enter_read", comm: "bpfkit-wl", record: sysEnterRecord(0, [3, 0, 5000]) },
    ]);
    await push.push();
    assert.equal(bodies.length, 1);
    assert.equal(bodies[0]!.path, "/v1/metrics");
    assert.match(bodies[0]!.type, /application\/json/);
    const doc = JSON.parse(bodies[0]!.body) as { resourceMetrics: { scopeMetrics: { metrics: OtlpMetric[] }[] }[] };
    const metrics = doc.resourceMetrics[0]!.scopeMetrics[0]!.metrics;
    const byName = new Map(metrics.map((m) => [m.name, m]));
    const calls = byName.get("ebpf_exporter_getppid_calls_total")!.sum!;
    assert.equal(calls.isMonotonic, true);
    assert.equal(calls.aggregationTemporality, 2, "cumulative");
    assert.equal(calls.dataPoints[0]!.asDouble, 321);
    const h = byName.get("ebpf_exporter_read_size_bytes")!.histogram!.dataPoints[0]!;
    assert.deepEqual(h.attributes, [{ key: "comm", value: { stringValue: "bpfkit-wl" } }]);
    assert.equal(Number(h.count), 4);
    assert.equal(h.sum, 5300);
    assert.equal(h.explicitBounds!.length, 25);
    // per-bucket counts: 100 in bucket 7 (le 128), 5000 in bucket 13 (le 8192)
    assert.deepEqual(h.bucketCounts!.map(Number).flatMap((c, i) => (c ? [[i, c]] : [])), [[7, 3], [13, 1]]);
    assert.ok(byName.has("ebpf_exporter_enabled_configs") && byName.get("ebpf_exporter_enabled_configs")!.gauge, "self-metrics as gauges");
  } finally {
    await push.stop();
    ex.close();
    collector.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
