import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { parseExporterConfig } from "./config.ts";

const parse = (s: string) => parseExporterConfig(s, "x.yaml", "x");
const throwsAt = (s: string, re: RegExp) => assert.throws(() => parse(s), (e: Error) => { assert.match(e.message, re); return true; });

test("ebpf_exporter's README histogram config parses with its fields and defaults", () => {
  const c = parse(`
metrics:
  histograms:
    - name: bio_latency_seconds
      help: Block IO latency histogram
      bucket_type: exp2
      bucket_min: 0
      bucket_max: 26
      bucket_multiplier: 0.000001 # microseconds to seconds
      labels:
        - name: device
          size: 32
          decoders:
            - name: string
        - name: operation
          size: 8
          decoders:
            - name: uint
            - name: static_map
              static_map:
                0x1: read
                2: write
        - name: bucket
          size: 8
          decoders:
            - name: uint
`);
  const h = c.histograms[0]!;
  assert.equal(h.bucketType, "exp2");
  assert.equal(h.bucketMultiplier, 0.000001);
  assert.equal(h.bucketMax, 26);
  assert.deepEqual(h.labels.map((l) => [l.name, l.size, l.padding]), [["device", 32, 0], ["operation", 8, 0], ["bucket", 8, 0]]);
  // static_map keys keep their text, as yaml.v2 keeps them for map[string]string
  const sm = h.labels[1]!.decoders[1]!.staticMap!;
  assert.deepEqual([sm.get("0x1"), sm.get("2"), sm.get("1")], ["read", "write", undefined]);
  assert.deepEqual(c.warnings, []);
});

test("bad configs name the file and the field", () => {
  throwsAt("metrics:\n  counters:\n    - name: a\n", /x\.yaml: metrics\.counters\[0\]\.help: metric 'a' lacks help/);
  throwsAt("metrics:\n  counters:\n    - help: h\n", /metrics\.counters\[0\]\.name: missing/);
  throwsAt("metrics:\n  histograms:\n    - {name: h, help: h, bucket_type: exp3, labels: [{name: b, size: 8, decoders: [{name: uint}]}]}\n", /histograms\[0\]\.bucket_type: unknown histogram type 'exp3'/);
  throwsAt("metrics:\n  histograms:\n    - {name: h, help: h, bucket_type: exp2, bucket_max: x}\n", /bucket_max: 'x' is not an integer/);
  throwsAt("metrics:\n  histograms:\n    - {name: h, help: h, bucket_type: linear, bucket_min: 3, bucket_max: 3}\n", /zero size/);
  throwsAt("metrics:\n  counters:\n    - {name: c, help: h, labels: [{name: l, decoders: [{name: uint}]}]}\n", /labels\[0\]\.size: size is zero or not set/);
  throwsAt("metrics:\n  counters:\n    - {name: c, help: h, labels: [{name: l, size: 8, decoders: [{name: nope}]}]}\n", /labels\[0\]\.decoders\[0\]\.name: unknown decoder 'nope'/);
  throwsAt("metrics:\n  counters:\n    - {name: c, help: h, labels: [{name: l, size: 8, decoders: [{name: regexp, regexps: ['(']}]}]}\n", /regexps\[0\]: bad regexp/);
  throwsAt("metrics:\n  counters:\n    - {name: 'a-b', help: h}\n", /not a valid Prometheus metric name/);
  throwsAt("metrics: {}\n", /neither metrics nor tracing/);
  throwsAt("metrics:\n  counters: [\n", /x\.yaml:\d+:\d+: /);
});

test("unknown fields are ignored with a warning, as yaml.v2 ignores them", () => {
  const c = parse("metrics:\n  counters:\n    - {name: c, help: h, colour: red}\ntracing: {}\n");
  assert.deepEqual(c.warnings, ["x.yaml: tracing: not supported by bpfkit exporter, ignored", "x.yaml: metrics.counters[0].colour: unknown field, ignored"]);
});

test("every fixture config parses without warnings", () => {
  const dir = new URL("../../test/fixtures/exporter/", import.meta.url);
  const names = readdirSync(dir).filter((f) => f.endsWith(".yaml"));
  assert.ok(names.length >= 5);
  for (const f of names) {
    // a NAME.yaml beside a NAME.bt names a bpftrace script's maps (sizes from the script)
    const bpftrace = existsSync(new URL(f.replace(/\.yaml$/, ".bt"), dir));
    const c = parseExporterConfig(readFileSync(new URL(f, dir), "utf8"), f, f.replace(/\.yaml$/, ""), { bpftrace });
    assert.deepEqual(c.warnings, [], f);
  }
});
