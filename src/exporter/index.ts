// bpfkit exporter (Node edge): serves BPF maps as Prometheus/OpenMetrics metrics from configs in Cloudflare
// ebpf_exporter's format, on the kernel or the VM. Pure: config.ts, decoders.ts, collect.ts (parsing, key decoders,
// series), object-source.ts (object load/attach/read through a runtime Backend), the runtime's replay.ts (events into the VM).
// bpftrace-source.ts (a NAME.bt script's count/sum/hist maps as metrics, loaded through the tracer on either backend).
// Node: env.ts (machine tables), exporter.ts (prom-client registries), server.ts (HTTP), otlp.ts (OTLP push).
// Imports the core.
export { parseExporterConfig, type ExporterConfig, type MetricConfig, type CounterConfig, type HistogramConfig } from "./config.ts";
export { compileLabels, SKIP, parsePciIds, inetIp, type DecoderEnv, type KeyDecoder } from "./decoders.ts";
export { MetricCollector, goFloat, histogramKeys, type MapRows, type CollectedMetric } from "./collect.ts";
export { Exporter, readConfigs, openConfigSource, openBpftraceConfig, NAMESPACE, type BpftraceSource } from "./exporter.ts";
export { machineEnv, Kallsyms } from "./env.ts";
export { objectSource } from "./object-source.ts";
export { replay, parseReplay, sysEnterRecord, type ReplayEvent } from "../runtime/attach/replay.ts";
export { bpftraceConfig, traceSource, vmTraceSource, replayTrace } from "./bpftrace-source.ts";
export { startServer, parseListenAddress } from "./server.ts";
export { startOtlpPush, toResourceMetrics } from "./otlp.ts";
export type { MetricSource, SourceMap, ProgramStatus } from "./source.ts";
