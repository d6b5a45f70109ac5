// bpfkit exporter (Node edge): serves BPF maps as Prometheus/OpenMetrics metrics from configs in Cloudflare
// ebpf_exporter's format. config.ts, decoders.ts and collect.ts are pure (config parsing, key decoders, series
// building); env.ts (machine tables), kernel-source.ts (object load/attach/read on Linux), exporter.ts (prom-client
// registries) and server.ts (HTTP) are Node. May import the core and src/kernel.
export { parseExporterConfig, type ExporterConfig, type MetricConfig, type CounterConfig, type HistogramConfig } from "./config.ts";
export { compileLabels, SKIP, parsePciIds, inetIp, type DecoderEnv, type KeyDecoder } from "./decoders.ts";
export { MetricCollector, goFloat, histogramKeys, type MapRows, type CollectedMetric } from "./collect.ts";
export { Exporter, readConfigs, NAMESPACE } from "./exporter.ts";
export { machineEnv, Kallsyms } from "./env.ts";
export { kernelSource } from "./kernel-source.ts";
export { startServer, parseListenAddress } from "./server.ts";
export type { MetricSource, SourceMap, ProgramStatus } from "./source.ts";
