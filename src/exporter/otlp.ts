// `--otlp URL`: the same metrics pushed to an OpenTelemetry collector over OTLP/HTTP (JSON), through the
// OpenTelemetry JS SDK's own exporter. Each push is one scrape: counters become cumulative monotonic sums, gauges
// gauges, and histograms explicit-bucket histograms (the cumulative Prometheus buckets turned back into per-bucket
// counts, `+Inf` the overflow bucket). Node.
import { ValueType } from "@opentelemetry/api";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics } from "@opentelemetry/sdk-metrics";
import type { Exporter, ScrapeResult } from "./exporter.ts";
import { NAMESPACE } from "./exporter.ts";

type HrTime = [number, number];
const hr = (ms: number): HrTime => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];

/** One scrape as OTLP's data model. */
export function toResourceMetrics(scrape: ScrapeResult, startMs: number, nowMs: number): ResourceMetrics {
  const startTime = hr(startMs), endTime = hr(nowMs);
  const metrics: MetricData[] = [];
  const histogramNames = new Set(scrape.collected.filter((c) => c.result.config.kind === "histogram").map((c) => `${NAMESPACE}_${c.result.config.name}`));
  for (const f of scrape.families) {
    if (f.type === "histogram" || histogramNames.has(f.name)) continue;
    const descriptor = { name: f.name, description: f.help, unit: "", valueType: ValueType.DOUBLE };
    const dataPoints = f.values.map((v) => ({ startTime, endTime, attributes: v.labels, value: v.value }));
    if (f.type === "counter") metrics.push({ descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.SUM, isMonotonic: true, dataPoints });
    else metrics.push({ descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.GAUGE, dataPoints });
  }
  for (const { result } of scrape.collected) {
    const cfg = result.config;
    if (cfg.kind !== "histogram") continue;
    const names = cfg.labels.slice(0, -1).map((l) => l.name);
    metrics.push({
      descriptor: { name: `${NAMESPACE}_${cfg.name}`, description: cfg.help, unit: "", valueType: ValueType.DOUBLE },
      aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.HISTOGRAM,
      dataPoints: result.histograms.map((h) => {
        const counts: number[] = [];
        let prev = 0;
        for (const [, c] of h.buckets) { counts.push(c - prev); prev = c; }
        counts.push(h.count - prev);
        return {
          startTime, endTime, attributes: Object.fromEntries(names.map((n, i) => [n, h.labels[i]!])),
          value: { buckets: { boundaries: h.buckets.map(([le]) => Number(le)), counts }, sum: h.sum, count: h.count },
        };
      }),
    });
  }
  return {
    resource: resourceFromAttributes({ "service.name": "bpfkit-exporter" }),
    scopeMetrics: [{ scope: { name: "bpfkit.exporter" }, metrics }],
  };
}

/** Pushes a scrape to `url` (the collector's /v1/metrics) every `intervalMs`; errors go to `log`, never thrown. */
export function startOtlpPush(ex: Exporter, url: string, intervalMs: number, log: (line: string) => void): { push(): Promise<void>; stop(): Promise<void> } {
  const otlp = new OTLPMetricExporter({ url });
  const startMs = Date.now();
  const push = () => new Promise<void>((resolve) => {
    let data: ResourceMetrics;
    try { data = toResourceMetrics(ex.scrape(), startMs, Date.now()); } catch (e) { log(`otlp: ${(e as Error).message}`); resolve(); return; }
    otlp.export(data, (r) => {
      if (r.error) log(`otlp push to ${url} failed: ${r.error.message}`);
      resolve();
    });
  });
  const timer = setInterval(() => { void push(); }, intervalMs);
  return {
    push,
    async stop() { clearInterval(timer); await otlp.shutdown(); },
  };
}
