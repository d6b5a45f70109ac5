// The exporter (Node): configs read from --config.dir, each config's source (kernel or VM) opened, maps checked against
// the labels at start (an error names the config file and field), and one scrape = every map read once, decoded by
// the collectors and handed to prom-client's registries (Prometheus text and OpenMetrics) as ebpf_exporter's metric
// families plus its self-metrics. A decoding error during a scrape is counted, never thrown.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import promClient from "prom-client";
import { BpfError } from "../errors.ts";
import { parseExporterConfig, type ExporterConfig, type MetricConfig } from "./config.ts";
import { compileLabels, SKIP, type DecoderEnv, type KeyDecoder } from "./decoders.ts";
import { MetricCollector, type CollectedMetric } from "./collect.ts";
import type { MetricSource, SourceMap } from "./source.ts";
import { objectSource } from "./object-source.ts";
import type { Backend } from "../runtime/index.ts";
import { compileScript, type ProbeEnv } from "../trace/index.ts";
import { TraceSession, type TraceSessionOptions } from "../trace/session.ts";
import { bpftraceConfig, traceSource } from "./bpftrace-source.ts";

/** A NAME.bt config loaded into a backend: its exporter config and its source (the loaded script). */
export interface BpftraceSource { readonly config: ExporterConfig; readonly source: MetricSource; readonly session: TraceSession }

/**
 * Opens DIR/NAME.bt when there is one: the script compiled against `probes`, loaded and attached in `backend` through
 * the tracer's TraceSession (BEGIN run), its perf buffer read by `perfBuffer` (printf output is dropped). A NAME.yaml
 * beside it names the metrics and labels (bpftrace-source.ts).
 */
export function openBpftraceConfig(dir: string, name: string, probes: ProbeEnv, backend: Backend, perfBuffer: TraceSessionOptions["perfBuffer"]): BpftraceSource | undefined {
  const path = join(dir, `${name}.bt`);
  if (!existsSync(path)) return undefined;
  const yamlPath = join(dir, `${name}.yaml`);
  const named = existsSync(yamlPath) ? parseExporterConfig(readFileSync(yamlPath, "utf8"), yamlPath, name, { bpftrace: true }) : undefined;
  let script;
  try { script = compileScript(readFileSync(path, "utf8"), { env: probes, ncpus: backend.possibleCpus() }); } catch (e) {
    if (e instanceof Error) throw new BpfError("PARSE", `${path}: ${e.message}`, { file: path });
    throw e;
  }
  const config = bpftraceConfig(script, name, path, named);
  const session = new TraceSession(backend, script, { out: () => {}, perfBuffer });
  try {
    session.run("BEGIN");
    session.attach();
  } catch (e) {
    session.close();
    throw e;
  }
  return { config, source: traceSource(session, config), session };
}

const { Registry } = promClient;
type RegistryT = promClient.Registry<promClient.RegistryContentType>;
export const NAMESPACE = "ebpf_exporter";
const START_TIME = Math.round(Date.now() / 1000 - process.uptime());

function withContentType(r: RegistryT, t: promClient.RegistryContentType): RegistryT {
  r.setContentType(t);
  return r;
}

interface Value { value: number; labels: Record<string, string | number>; metricName?: string }
interface Family { name: string; help: string; type: "counter" | "gauge" | "histogram"; values: Value[] }

/** Reads NAME.yaml for each name in `names` from `dir`. */
export function readConfigs(dir: string, names: readonly string[]): ExporterConfig[] {
  if (names.length === 0) throw new BpfError("EINVAL", "no configs named (--config.names=a,b)");
  return names.map((name) => {
    const path = join(dir, `${name}.yaml`);
    let text: string;
    try { text = readFileSync(path, "utf8"); } catch (e) {
      throw new BpfError("ENOENT", `error opening ${path} for config '${name}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file: path });
    }
    return parseExporterConfig(text, path, name);
  });
}

/** Opens DIR/NAME.bpf.o (ebpf_exporter's layout) for `config` in `backend`. */
export function openConfigSource(backend: Backend, config: ExporterConfig, dir: string): MetricSource {
  const path = join(dir, `${config.name}.bpf.o`);
  let bytes: Uint8Array;
  try { bytes = readFileSync(path); } catch (e) {
    throw new BpfError("ENOENT", `config '${config.name}': cannot read object ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file: path });
  }
  return objectSource(backend, config, path, bytes);
}

interface Bound {
  readonly config: ExporterConfig;
  readonly source: MetricSource;
  readonly metrics: { readonly field: string; readonly metric: MetricConfig; readonly map: SourceMap; readonly collector: MetricCollector; readonly decoder: KeyDecoder }[];
}

/** Checks each metric's map against its labels and builds its collector; errors name the config file and field. */
function bind(config: ExporterConfig, source: MetricSource, env: DecoderEnv): Bound {
  const metrics: Bound["metrics"][number][] = [];
  const all: [string, MetricConfig][] = [
    ...config.counters.map((m, i) => [`metrics.counters[${i}]`, m] as [string, MetricConfig]),
    ...config.histograms.map((m, i) => [`metrics.histograms[${i}]`, m] as [string, MetricConfig]),
  ];
  for (const [field, metric] of all) {
    const where = `${config.path}: ${field}`;
    const map = source.maps.get(metric.name);
    if (map === undefined) throw new BpfError("ENOENT", `${where}.name: no map '${metric.name}' in the object (the metric name is the map name); it has ${[...source.maps.keys()].join(", ") || "no maps"}`, { file: config.path });
    if (map.valueSize !== 8) throw new BpfError("EINVAL", `${where}.name: value size for map '${metric.name}' is not expected 8 bytes (u64), it is ${map.valueSize} bytes`, { file: config.path });
    const last = metric.labels[metric.labels.length - 1];
    const cpuLabel = map.perCpu && last?.name === "cpu";
    const decoder = compileLabels(metric.labels, env);
    const expect = decoder.keySize - (cpuLabel ? last!.size + last!.padding : 0);
    const ok = metric.labels.length === 0 ? map.keySize === 4 : expect === map.keySize || (cpuLabel && metric.labels.length === 1 && map.keySize === 4);
    if (!ok) {
      throw new BpfError("EINVAL", `${where}.labels: the labels' sizes and paddings add up to ${expect} bytes, but map '${metric.name}' has ${map.keySize}-byte keys`, { file: config.path });
    }
    if (cpuLabel && last!.size !== 2) throw new BpfError("EINVAL", `${where}.labels[${metric.labels.length - 1}].size: the cpu label of a per-CPU map is a 2-byte uint`, { file: config.path });
    metrics.push({ field, metric, map, collector: new MetricCollector(metric, decoder, env.littleEndian, cpuLabel), decoder });
  }
  return { config, source, metrics };
}

function bpfStatsEnabled(): boolean {
  try { return readFileSync("/proc/sys/kernel/bpf_stats_enabled", "utf8").trim() === "1"; } catch { return false; }
}

/** label objects by the collector's cached label values (one array per key, kept across scrapes) */
const labelObjects = new WeakMap<readonly string[], Record<string, string>>();

/** Labels in name order, as Prometheus's Go client prints them; built once per cached label set. */
function labelObject(names: readonly string[], values: readonly string[], order: readonly number[]): Record<string, string> {
  let o = labelObjects.get(values);
  if (o !== undefined) return o;
  o = {};
  for (const i of order) o[names[i]!] = values[i]!;
  labelObjects.set(values, o);
  return o;
}

function nameOrder(names: readonly string[]): number[] {
  return names.map((_, i) => i).sort((a, b) => (names[a]! < names[b]! ? -1 : 1));
}

export interface ScrapeResult { families: Family[]; collected: { config: string; map: string; result: CollectedMetric }[] }

export class Exporter {
  private readonly bound: Bound[] = [];
  private readonly decoderErrors = new Map<string, number>();
  private current: Family[] = [];
  readonly prometheus: RegistryT = new Registry();
  readonly openMetrics: RegistryT = withContentType(new Registry(), Registry.OPENMETRICS_CONTENT_TYPE);
  /** the log: decoding errors and attach failures (stderr in the CLI) */
  log: (line: string) => void = () => {};

  constructor(readonly configs: readonly ExporterConfig[], sources: readonly MetricSource[], env: DecoderEnv) {
    try {
      // one metric family per name, as Prometheus's registry insists (ebpf_exporter: duplicate registration)
      const owner = new Map<string, string>();
      for (const c of configs) {
        for (const m of [...c.counters, ...c.histograms]) {
          const o = owner.get(m.name);
          if (o !== undefined) throw new BpfError("EEXIST", `${c.path}: metric '${m.name}' is also defined by config '${o}'`, { file: c.path });
          owner.set(m.name, c.name);
        }
      }
      configs.forEach((c, i) => this.bound.push(bind(c, sources[i]!, env)));
    } catch (e) {
      for (const s of sources) s.close();
      throw e;
    }
    for (const c of configs) this.decoderErrors.set(c.name, 0);
    // kernel symbols are read now rather than during the first scrape
    if (configs.some((c) => [...c.counters, ...c.histograms].some((m) => m.labels.some((l) => l.decoders.some((d) => d.name === "ksym" || d.name === "kstack"))))) env.ksym(0n);
  }

  /** Reads every map once and rebuilds the metric families both registries serve. */
  scrape(): ScrapeResult {
    const families: Family[] = [];
    const collected: ScrapeResult["collected"] = [];
    families.push({ name: `${NAMESPACE}_enabled_configs`, help: "The set of enabled configs", type: "gauge", values: this.configs.map((c) => ({ value: 1, labels: { name: c.name } })) });
    const info: Value[] = [], attached: Value[] = [], runTime: Value[] = [], runCount: Value[] = [];
    const stats = bpfStatsEnabled();
    for (const b of this.bound) {
      for (const p of b.source.programs()) {
        const id = String(p.id);
        info.push({ value: 1, labels: { config: b.config.name, id, program: p.name, tag: p.tag } });
        attached.push({ value: p.attached ? 1 : 0, labels: { id } });
        if (stats) {
          runTime.push({ value: p.runTimeNs / 1e9, labels: { id } });
          runCount.push({ value: p.runCount, labels: { id } });
        }
      }
    }
    families.push({ name: `${NAMESPACE}_ebpf_program_info`, help: "Info about ebpf programs", type: "gauge", values: info });
    families.push({ name: `${NAMESPACE}_ebpf_program_attached`, help: "Whether a program is attached", type: "gauge", values: attached });
    if (stats) {
      families.push({ name: `${NAMESPACE}_ebpf_program_run_time_seconds`, help: "How long has the program been executing", type: "counter", values: runTime });
      families.push({ name: `${NAMESPACE}_ebpf_program_run_count_total`, help: "How many times has the program been executed", type: "counter", values: runCount });
    }
    const durations: Value[] = [];
    for (const b of this.bound) {
      for (const { metric, map, collector } of b.metrics) {
        const t0 = performance.now();
        let result: CollectedMetric;
        try {
          result = collector.collect(map.read());
        } catch (e) {
          if (!(e instanceof Error)) throw e;
          // a map that cannot be read this time (ebpf_exporter: the metric is skipped and counted)
          this.decoderErrors.set(b.config.name, this.decoderErrors.get(b.config.name)! + 1);
          this.log(`error getting map '${map.name}' values for metric '${metric.name}' of config '${b.config.name}': ${e.message}`);
          continue;
        }
        const seconds = (performance.now() - t0) / 1000;
        durations.push({ value: seconds, labels: { config: b.config.name, map: map.name } });
        if (result.errors) {
          this.decoderErrors.set(b.config.name, this.decoderErrors.get(b.config.name)! + result.errors);
          this.log(`config '${b.config.name}', metric '${metric.name}': ${result.errors} key(s) failed to decode: ${result.firstError}`);
        }
        collected.push({ config: b.config.name, map: map.name, result });
        families.push(toFamily(metric, result));
      }
    }
    const mem = process.memoryUsage(), cpu = process.cpuUsage();
    families.push({ name: "process_resident_memory_bytes", help: "Resident memory size in bytes.", type: "gauge", values: [{ value: mem.rss, labels: {} }] });
    families.push({ name: "process_cpu_seconds_total", help: "Total user and system CPU time spent in seconds.", type: "counter", values: [{ value: (cpu.user + cpu.system) / 1e6, labels: {} }] });
    families.push({ name: "process_start_time_seconds", help: "Start time of the process since unix epoch in seconds.", type: "gauge", values: [{ value: START_TIME, labels: {} }] });
    families.push({ name: "nodejs_heap_used_bytes", help: "V8 heap in use, in bytes.", type: "gauge", values: [{ value: mem.heapUsed, labels: {} }] });
    families.push({ name: `${NAMESPACE}_decoder_errors_total`, help: "How many times has decoders encountered errors", type: "counter", values: [...this.decoderErrors].map(([config, value]) => ({ value, labels: { config } })) });
    families.push({ name: `${NAMESPACE}_map_read_duration_seconds`, help: "How long the last read and decode of each map took", type: "gauge", values: durations });
    this.current = families;
    this.register(families);
    return { families, collected };
  }

  private register(families: Family[]): void {
    for (const reg of [this.prometheus, this.openMetrics]) {
      for (const f of families) {
        if (reg.getSingleMetric(f.name) !== undefined) continue;
        const name = f.name;
        const exporter = this;
        reg.registerMetric({
          name, help: f.help, type: f.type, aggregator: "sum",
          get(this: { name: string }) {
            const cur = exporter.current.find((x) => x.name === name);
            return Promise.resolve({ name: this.name, help: f.help, type: f.type, aggregator: "sum", values: cur?.values ?? [] });
          },
          reset() {},
        } as unknown as Parameters<RegistryT["registerMetric"]>[0]);
      }
    }
  }

  /**
   * A scrape in the format the Accept header asks for (OpenMetrics when it names application/openmetrics-text).
   * Single-flight: requests that arrive while a collection runs share its result instead of starting their own, and
   * under a scrape storm a finished response is reused for as long as it took to make (requests queued behind it on
   * the event loop arrived during it), so collection takes at most about half the exporter's time and requests never
   * pile up. At Prometheus's pace (one scrape a second or so) every scrape is fresh. ebpf_exporter's Go server
   * collects once per request instead (each on its own goroutine); the series are the same, only concurrent scrapes
   * may see one read of the maps rather than one each.
   */
  metricsText(accept = ""): Promise<{ contentType: string; body: string }> {
    const om = /application\/openmetrics-text/.test(accept) ? 1 : 0;
    const reg = om ? this.openMetrics : this.prometheus;
    const inFlight = this.inFlight[om];
    if (inFlight !== undefined) return inFlight;
    const last = this.lastRender[om];
    const now = performance.now();
    if (last !== undefined && now - last.at < last.took) return Promise.resolve({ contentType: reg.contentType, body: last.body });
    const p = this.render(om === 1).then((body) => {
      this.lastRender[om] = { at: performance.now(), took: performance.now() - now, body };
      return { contentType: reg.contentType, body };
    }).finally(() => { this.inFlight[om] = undefined; });
    this.inFlight[om] = p;
    return p;
  }

  private readonly inFlight: (Promise<{ contentType: string; body: string }> | undefined)[] = [undefined, undefined];

  /** One fresh scrape rendered as Prometheus text (or OpenMetrics). */
  async render(openMetrics = false): Promise<string> {
    this.scrape();
    return (openMetrics ? this.openMetrics : this.prometheus).metrics();
  }

  private readonly lastRender: ({ at: number; took: number; body: string } | undefined)[] = [undefined, undefined];

  /** Every map's raw rows with their decoded labels, in ebpf_exporter's /maps layout. */
  debugText(): string {
    let out = "";
    for (const b of this.bound) {
      out += `## Config: ${b.config.name} (${b.source.backend})\n\n`;
      for (const { metric, map, decoder } of b.metrics) {
        out += `### Map: ${map.name} (metric ${NAMESPACE}_${metric.name})\n\n\`\`\`\n`;
        const rows = map.read();
        for (let i = 0; i < rows.count; i++) {
          const key = rows.keys.slice(i * rows.keySize, (i + 1) * rows.keySize);
          let labels: string;
          try {
            const l = rows.cpus > 1 && metric.labels[metric.labels.length - 1]?.name === "cpu" ? undefined : decoder.decode(key);
            labels = l === undefined ? "(per cpu)" : l === SKIP ? "(skipped by regexp)" : `[${l.join(" ")}]`;
          } catch (e) {
            labels = `(error: ${(e as Error).message})`;
          }
          const v = new DataView(rows.values.buffer, rows.values.byteOffset);
          const vals: string[] = [];
          for (let c = 0; c < rows.cpus; c++) vals.push(v.getBigUint64((i * rows.cpus + c) * rows.stride, true).toString());
          out += `[]byte{${[...key].map((x) => "0x" + x.toString(16)).join(", ")}} (labels: ${labels}) -> ${vals.join(" ")}\n`;
        }
        out += "```\n\n";
      }
    }
    return out;
  }

  close(): void {
    for (const b of this.bound) b.source.close();
    this.bound.length = 0;
  }
}

function toFamily(metric: MetricConfig, r: CollectedMetric): Family {
  const name = `${NAMESPACE}_${metric.name}`;
  if (metric.kind === "counter") {
    const names = metric.labels.map((l) => l.name);
    const order = nameOrder(names);
    return { name, help: metric.help, type: "counter", values: r.counters.map((s) => ({ value: s.value, labels: labelObject(names, s.labels, order) })) };
  }
  const names = metric.labels.slice(0, -1).map((l) => l.name);
  const order = nameOrder(names);
  const values: Value[] = [];
  for (const h of r.histograms) {
    const labels = labelObject(names, h.labels, order);
    for (const [le, count] of h.buckets) values.push({ value: count, labels: { ...labels, le }, metricName: `${name}_bucket` });
    values.push({ value: h.count, labels: { ...labels, le: "+Inf" }, metricName: `${name}_bucket` });
    values.push({ value: h.sum, labels, metricName: `${name}_sum` });
    values.push({ value: h.count, labels, metricName: `${name}_count` });
  }
  return { name, help: metric.help, type: "histogram", values };
}
