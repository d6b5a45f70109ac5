import { test } from "node:test";
import assert from "node:assert/strict";
import { goFloat, MetricCollector, type MapRows } from "./collect.ts";
import { compileLabels, type DecoderEnv } from "./decoders.ts";
import { parseExporterConfig } from "./config.ts";

const env: DecoderEnv = {
  ksym: () => undefined, syscallName: () => undefined, cgroupPath: () => undefined, blockDevice: () => undefined,
  ifName: () => undefined, pci: undefined, littleEndian: true,
};

/** rows of (u32 a, u32 bucket) → u64 values */
function rows(entries: [number[], number][], keySize: number, cpus = 1): MapRows {
  const keys = new Uint8Array(entries.length * keySize), values = new Uint8Array(entries.length * 8 * cpus);
  const kv = new DataView(keys.buffer), vv = new DataView(values.buffer);
  entries.forEach(([k, v], i) => {
    k.forEach((x, j) => kv.setUint32(i * keySize + j * 4, x, true));
    for (let c = 0; c < cpus; c++) vv.setBigUint64((i * cpus + c) * 8, BigInt(v + c), true);
  });
  return { count: entries.length, keySize, keys, stride: 8, cpus, values };
}

function collector(yaml: string, cpuLabel = false) {
  const c = parseExporterConfig(yaml, "t.yaml", "t");
  const m = c.counters[0] ?? c.histograms[0]!;
  return new MetricCollector(m, compileLabels(m.labels, env), true, cpuLabel);
}

const HIST = (type: string, extra: string) => `
metrics:
  histograms:
    - name: h
      help: h
      bucket_type: ${type}
${extra}
      labels:
        - {name: dev, size: 4, decoders: [{name: uint}]}
        - {name: bucket, size: 4, decoders: [{name: uint}]}
`;

test("exp2 histograms: buckets backfilled from bucket_min to bucket_max, cumulative, sum from bucket_max + 1", () => {
  const col = collector(HIST("exp2", "      bucket_min: 0\n      bucket_max: 3\n      bucket_multiplier: 0.5"));
  const r = col.collect(rows([[[7, 1], 2], [[7, 3], 5], [[7, 4], 40], [[8, 0], 1]], 8));
  assert.deepEqual(r.histograms.map((h) => [h.labels, h.buckets, h.count, h.sum]), [
    [["7"], [["0.5", 0], ["1", 2], ["2", 2], ["4", 7]], 7, 20],
    [["8"], [["0.5", 1], ["1", 1], ["2", 1], ["4", 1]], 1, 0],
  ]);
});

test("exp2zero, linear and fixed bucket bounds", () => {
  const z = collector(HIST("exp2zero", "      bucket_min: 0\n      bucket_max: 3")).collect(rows([[[1, 0], 1], [[1, 2], 1]], 8));
  assert.deepEqual(z.histograms[0]!.buckets, [["0", 1], ["1", 1], ["2", 2], ["4", 2]]);
  const l = collector(HIST("linear", "      bucket_min: 1\n      bucket_max: 3\n      bucket_multiplier: 100")).collect(rows([[[1, 2], 4]], 8));
  assert.deepEqual(l.histograms[0]!.buckets, [["100", 0], ["200", 4], ["300", 4]]);
  const f = collector(HIST("fixed", "      bucket_keys: [10, 20, 50]")).collect(rows([[[1, 20], 3], [[1, 51], 999]], 8));
  assert.deepEqual([f.histograms[0]!.buckets, f.histograms[0]!.sum], [[["10", 0], ["20", 3], ["50", 3]], 999]);
});

test("counters: equal label sets are summed, regexp-dropped keys vanish, bad keys are counted", () => {
  const col = collector(`
metrics:
  counters:
    - name: c
      help: c
      labels:
        - {name: a, size: 4, decoders: [{name: uint}, {name: static_map, static_map: {1: one, 2: one, 3: three}}, {name: regexp, regexps: ["^one$"]}]}
        - {name: b, size: 4, decoders: [{name: uint}]}
`);
  const r = col.collect(rows([[[1, 0], 5], [[2, 0], 6], [[3, 0], 7]], 8));
  assert.deepEqual(r.counters, [{ labels: ["one", "0"], value: 11 }]);
  const bad = collector(`
metrics:
  counters:
    - {name: c, help: c, labels: [{name: a, size: 8, decoders: [{name: syscall}]}]}
`).collect(rows([[[1, 0], 5]], 8));
  assert.equal(bad.errors, 1);
  assert.match(bad.firstError!, /not a number/);
});

test("per-CPU maps: summed without a cpu label, one series per CPU with it; a label-less u32 0 key", () => {
  const plain = collector("metrics:\n  counters:\n    - {name: c, help: c}\n").collect(rows([[[0], 10]], 4, 3));
  assert.deepEqual(plain.counters, [{ labels: [], value: 33 }]);
  const perCpu = collector("metrics:\n  counters:\n    - {name: c, help: c, labels: [{name: cpu, size: 2, decoders: [{name: uint}]}]}\n", true).collect(rows([[[0], 10]], 4, 3));
  assert.deepEqual(perCpu.counters.map((s) => [s.labels, s.value]), [[["0"], 10], [["1"], 11], [["2"], 12]]);
});

test("goFloat prints bucket bounds as Go's strconv 'g' does", () => {
  assert.deepEqual([1e-6, 1.6e-5, 0.000128, 524288, 1048576, 134.217728, 2 ** 31, 0.5].map(goFloat),
    ["1e-06", "1.6e-05", "0.000128", "524288", "1.048576e+06", "134.217728", "2.147483648e+09", "0.5"]);
});
