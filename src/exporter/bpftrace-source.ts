// A bpftrace script as a metric source (DIR/NAME.bt beside the YAML configs): each count()/sum() map becomes a counter
// and each hist() map a Prometheus histogram on bpftrace's power-of-two slots (le = the slot's inclusive upper bound:
// -1, 0, 1, 3, 7, ...; _sum is 0, as hist() keeps no sum), labelled key0, key1, ... by the map's keys. The metric
// name is the map's name without '@' (counters: plus _total). Other maps (min/max/avg/stats/lhist, plain values) are left out with a warning.
// On the VM the script runs in the tracer's VmTrace and replayed events fire its tracepoint probes. Pure.
import type { CompiledScript, MapLayout, VmTrace } from "../trace/index.ts";
import type { HelperEnv } from "../helpers/env.ts";
import type { CounterConfig, ExporterConfig, HistogramConfig, LabelConfig } from "./config.ts";
import type { MapRows } from "./collect.ts";
import type { MetricSource, SourceMap } from "./source.ts";
import type { ReplayEvent } from "./replay.ts";

const uint = { name: "uint", allowUnknown: false } as const;
const string = { name: "string", allowUnknown: false } as const;

/** The metrics a compiled script's maps give, as an ebpf_exporter config (the labels cut bpftrace's map keys). */
export function bpftraceConfig(script: CompiledScript, name: string, path: string): ExporterConfig {
  const counters: CounterConfig[] = [], histograms: HistogramConfig[] = [], warnings: string[] = [];
  for (const L of script.maps) {
    const v = L.info.value;
    if (L.bpfType === "perf_event_array" || !L.info.name.startsWith("@")) continue;
    if (L.info.name === "@") { warnings.push(`${path}: the anonymous map @ is not exported: give it a name (@calls = count())`); continue; }
    const metric = metricName(L);
    const labels: LabelConfig[] = L.info.keys.map((t, i) => t.k === "str"
      ? { name: `key${i}`, size: t.size, padding: ((t.size + 7) & ~7) - t.size, decoders: [string] }
      : { name: `key${i}`, size: 8, padding: 0, decoders: [uint] });
    if (v.k === "agg" && (v.fn === "count" || v.fn === "sum")) {
      counters.push({ kind: "counter", name: metric, help: `bpftrace ${L.info.name} = ${v.fn}()`, perfEventArray: false, labels });
    } else if (v.k === "agg" && v.fn === "hist") {
      labels.push({ name: "bucket", size: 8, padding: 0, decoders: [uint] });
      histograms.push({ kind: "histogram", name: metric, help: `bpftrace ${L.info.name} = hist()`, bucketType: "bpftrace", bucketMultiplier: 1, bucketMin: 0, bucketMax: 64, bucketKeys: [], labels });
    } else {
      warnings.push(`${path}: map ${L.info.name} (${v.k === "agg" ? `${v.fn}()` : "a plain value"}) is not exported: only count(), sum() and hist() maps are`);
    }
  }
  return { name, path, counters, histograms, kaddrs: [], warnings };
}

/** The map's name without '@'; counters end in _total, as Prometheus's naming rules (and promtool) want. */
function metricName(L: MapLayout): string {
  const n = L.info.name.slice(1);
  const v = L.info.value;
  return v.k === "agg" && (v.fn === "count" || v.fn === "sum") && !n.endsWith("_total") ? `${n}_total` : n;
}

/** The script's maps in a VmTrace as the exporter reads them (a keyless map: one u32 0 key, ebpf_exporter's label-less series). */
export function vmTraceSource(vm: VmTrace): MetricSource {
  const maps = new Map<string, SourceMap>();
  vm.script.maps.forEach((L, i) => {
    if (!L.info.name.startsWith("@") || L.info.name === "@") return;
    const keySize = L.info.keys.length === 0 && !L.bucketed ? 4 : L.keySize;
    maps.set(metricName(L), {
      name: L.info.name, keySize, valueSize: L.valueSize, perCpu: L.bpfType === "percpu_hash", id: 0,
      read(): MapRows {
        const entries = vm.entries(i);
        const cpus = entries[0]?.values.length ?? 1;
        const keys = new Uint8Array(entries.length * keySize), values = new Uint8Array(entries.length * cpus * 8);
        entries.forEach((e, j) => {
          if (keySize === L.keySize) keys.set(e.key, j * keySize);
          e.values.forEach((v, c) => values.set(v.subarray(0, 8), (j * cpus + c) * 8));
        });
        return { count: entries.length, keySize, keys, stride: 8, cpus, values };
      },
    });
  });
  return { backend: "vm", maps, attachErrors: [], programs: () => [], close() {} };
}

/** Fires the script's tracepoint probes for replayed events (comm and pid set in `env`); returns the program runs. */
export function replayTrace(vm: VmTrace, _env: HelperEnv, events: Iterable<ReplayEvent>, cpus = 1): number {
  let runs = 0;
  const env = vm.env;
  const probes = new Map<string, number[]>();
  vm.script.programs.forEach((p, i) => {
    const m = /^tracepoint:([\w-]+):([\w-]+)$/.exec(p.probe.name);
    if (!m) return;
    const k = `${m[1]}/${m[2]}`;
    probes.set(k, [...(probes.get(k) ?? []), i]);
  });
  for (const ev of events) {
    const ps = probes.get(ev.tracepoint);
    if (ps === undefined) continue;
    if (ev.comm !== undefined) env.comm = ev.comm;
    if (ev.pid !== undefined) { env.pid = ev.pid; env.tgid = ev.pid; }
    const cpu = Math.min(ev.cpu ?? 0, cpus - 1);
    for (let n = 0; n < (ev.repeat ?? 1); n++) for (const i of ps) { vm.fire(i, ev.record, cpu); runs++; }
  }
  return runs;
}
