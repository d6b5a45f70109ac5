// A bpftrace script as a metric source (DIR/NAME.bt beside the YAML configs): each count()/sum() map becomes a counter
// and each hist() map a Prometheus histogram on bpftrace's power-of-two slots (le = the slot's inclusive upper bound:
// -1, 0, 1, 3, 7, ...; _sum is 0, as hist() keeps no sum), labelled key0, key1, ... by the map's keys. The metric
// name is the map's name without '@' (counters: plus _total). Other maps (min/max/avg/stats/lhist, plain values) are left out with a warning.
// A NAME.yaml beside NAME.bt names the metrics instead (ebpf_exporter's format; each metric's name is its map's
// name, `_total` optional for counters) with their labels' names and decoders; sizes come from the script's keys.
// The script loads and attaches through the tracer's TraceSession on either backend (Linux or the VM). Pure.
import { BpfError } from "../errors.ts";
import type { CompiledScript, MapLayout } from "../trace/index.ts";
import type { TraceSession } from "../trace/session.ts";
import type { VmTrace } from "../trace/vm-backend.ts";
import type { CounterConfig, DecoderConfig, ExporterConfig, HistogramConfig, LabelConfig } from "./config.ts";
import type { MapRows } from "./collect.ts";
import type { MetricSource, ProgramStatus, SourceMap } from "./source.ts";
import { replay, type ReplayEvent } from "../runtime/attach/replay.ts";

const uint = { name: "uint", allowUnknown: false } as const;
const string = { name: "string", allowUnknown: false } as const;

/** Key component i of map L as a label: its size and padding from the script's layout, decoders by its type. */
function keyLabel(L: MapLayout, i: number, name: string, decoders?: readonly DecoderConfig[]): LabelConfig {
  const t = L.info.keys[i]!;
  return t.k === "str"
    ? { name, size: t.size, padding: ((t.size + 7) & ~7) - t.size, decoders: decoders?.length ? decoders : [string] }
    : { name, size: 8, padding: 0, decoders: decoders?.length ? decoders : [uint] };
}

const aggOf = (L: MapLayout): string | undefined => (L.info.value.k === "agg" ? L.info.value.fn : undefined);

/** The metrics a compiled script's maps give, as an ebpf_exporter config; `named`: a YAML config naming them. */
export function bpftraceConfig(script: CompiledScript, name: string, path: string, named?: ExporterConfig): ExporterConfig {
  if (named) return namedConfig(script, path, named);
  const counters: CounterConfig[] = [], histograms: HistogramConfig[] = [], warnings: string[] = [];
  for (const L of script.maps) {
    const fn = aggOf(L);
    if (L.bpfType === "perf_event_array" || !L.info.name.startsWith("@")) continue;
    if (L.info.name === "@") { warnings.push(`${path}: the anonymous map @ is not exported: give it a name (@calls = count())`); continue; }
    const metric = metricName(L);
    const labels = L.info.keys.map((_, i) => keyLabel(L, i, `key${i}`));
    if (fn === "count" || fn === "sum") {
      counters.push({ kind: "counter", name: metric, help: `bpftrace ${L.info.name} = ${fn}()`, perfEventArray: false, labels });
    } else if (fn === "hist") {
      labels.push({ name: "bucket", size: 8, padding: 0, decoders: [uint] });
      histograms.push({ kind: "histogram", name: metric, help: `bpftrace ${L.info.name} = hist()`, bucketType: "bpftrace", bucketMultiplier: 1, bucketMin: 0, bucketMax: 64, bucketKeys: [], labels });
    } else {
      warnings.push(`${path}: map ${L.info.name} (${fn ? `${fn}()` : "a plain value"}) is not exported: only count(), sum() and hist() maps are`);
    }
  }
  return { name, path, counters, histograms, kaddrs: [], warnings };
}

/** The script map a named metric reads: @NAME, or for a counter NAME_total also @NAME. */
function mapFor(script: CompiledScript, metric: string, counter: boolean): MapLayout | undefined {
  return script.maps.find((L) => L.info.name === `@${metric}`) ?? (counter ? script.maps.find((L) => `${L.info.name.slice(1)}_total` === metric) : undefined);
}

function namedConfig(script: CompiledScript, path: string, c: ExporterConfig): ExporterConfig {
  const fail = (field: string, msg: string): never => { throw new BpfError("PARSE", `${c.path}: ${field}: ${msg}`, { file: c.path }); };
  const labelsFor = (L: MapLayout, given: readonly LabelConfig[], at: string, bucket: boolean): LabelConfig[] => {
    const keys = L.info.keys.length;
    if (given.length !== keys && !(bucket && given.length === keys + 1)) {
      fail(`${at}.labels`, `map ${L.info.name} of ${path} has ${keys} key${keys === 1 ? "" : "s"}, the config names ${given.length} label${given.length === 1 ? "" : "s"}`);
    }
    const out = L.info.keys.map((_, i) => {
      const l = keyLabel(L, i, given[i]!.name, given[i]!.decoders);
      if (given[i]!.size !== 0 && given[i]!.size !== l.size) fail(`${at}.labels[${i}].size`, `key ${i} of ${L.info.name} is ${l.size} bytes, not ${given[i]!.size}`);
      return l;
    });
    if (bucket) out.push({ name: given[keys]?.name ?? "bucket", size: 8, padding: 0, decoders: [uint] });
    return out;
  };
  const counters = c.counters.map((m, i): CounterConfig => {
    const at = `metrics.counters[${i}]`;
    const L = mapFor(script, m.name, true) ?? fail(`${at}.name`, `no map @${m.name.replace(/_total$/, "")} in ${path}`);
    if (aggOf(L) !== "count" && aggOf(L) !== "sum") fail(`${at}.name`, `map ${L.info.name} of ${path} is not a count() or sum() map`);
    return { ...m, labels: labelsFor(L, m.labels, at, false) };
  });
  const histograms = c.histograms.map((m, i): HistogramConfig => {
    const at = `metrics.histograms[${i}]`;
    const L = mapFor(script, m.name, false) ?? fail(`${at}.name`, `no map @${m.name} in ${path}`);
    if (aggOf(L) !== "hist") fail(`${at}.name`, `map ${L.info.name} of ${path} is not a hist() map`);
    if (m.bucketType !== "bpftrace") fail(`${at}.bucket_type`, "a hist() map has bpftrace's power-of-two slots: leave bucket_type out");
    return { ...m, bucketMin: 0, bucketMax: 64, labels: labelsFor(L, m.labels, at, true) };
  });
  return { ...c, counters, histograms };
}

/** The map's name without '@'; counters end in _total, as Prometheus's naming rules (and promtool) want. */
function metricName(L: MapLayout): string {
  const n = L.info.name.slice(1);
  const fn = aggOf(L);
  return (fn === "count" || fn === "sum") && !n.endsWith("_total") ? `${n}_total` : n;
}

/** The script's maps in a loaded TraceSession as the exporter reads them, by `config`'s metric names (a keyless map:
 * one u32 0 key, ebpf_exporter's label-less series). */
export function traceSource(session: TraceSession, config: ExporterConfig): MetricSource {
  const script = session.script, b = session.backend;
  const maps = new Map<string, SourceMap>();
  for (const m of [...config.counters, ...config.histograms]) {
    const L = mapFor(script, m.name, m.kind === "counter");
    if (!L) continue;
    const i = L.info.index;
    const keySize = L.info.keys.length === 0 && !L.bucketed ? 4 : L.keySize;
    let id = 0;
    try { id = b.mapInfo(session.mapFds[i]!).id; } catch { /* a backend without ids */ }
    maps.set(m.name, {
      name: L.info.name, keySize, valueSize: L.valueSize, perCpu: L.bpfType === "percpu_hash", id,
      read(): MapRows {
        const entries = session.entries(i);
        const cpus = entries[0]?.values.length ?? 1;
        const keys = new Uint8Array(entries.length * keySize), values = new Uint8Array(entries.length * cpus * 8);
        entries.forEach((e, j) => {
          if (keySize === L.keySize) keys.set(e.key, j * keySize);
          e.values.forEach((v, c) => values.set(v.subarray(0, 8), (j * cpus + c) * 8));
        });
        return { count: entries.length, keySize, keys, stride: 8, cpus, values };
      },
    });
  }
  const programs = (): ProgramStatus[] => script.programs.map((p, i) => {
    const info = b.progInfo(session.progFds[i]!);
    return { name: p.name, id: info.id, tag: info.tag, attached: session.targets[i] !== undefined, runTimeNs: Number(info.runTimeNs), runCount: Number(info.runCnt) };
  });
  return { backend: b.kind, maps, attachErrors: [], programs, close: () => session.close() };
}

/** The script's maps in a VmTrace (see traceSource), named as bpftraceConfig names them by default. */
export function vmTraceSource(vm: VmTrace): MetricSource {
  return traceSource(vm.session, bpftraceConfig(vm.script, "", ""));
}

/** Replays events into the VM the script runs in (replay.ts: every program attached at each event's tracepoint). */
export function replayTrace(vm: VmTrace, events: Iterable<ReplayEvent>): number {
  return replay(vm.sys, events);
}
