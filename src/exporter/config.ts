// ebpf_exporter's config format (one NAME.yaml per config, its object NAME.bpf.o beside it): metrics.counters and
// metrics.histograms, each naming the map it reads (the metric name is the map name), with labels that cut the map key
// into fields (size, padding) and decoder chains. Parsed with the YAML core's failsafe schema so every scalar stays as
// written ("0x1" static_map keys keep their text, as Go's yaml.v2 keeps them for map[string]string); numbers and booleans
// are then read per field, and every error names the file and the field path. Pure: no node: imports.
import { parseDocument } from "yaml";
import { BpfError } from "../errors.ts";

/** "bpftrace" is internal (bpftrace-source.ts): hist() slots, 0 = negative, 1 = zero, k = [2^(k-2), 2^(k-1)) */
export type BucketType = "exp2" | "exp2zero" | "linear" | "fixed" | "bpftrace";

export interface DecoderConfig {
  readonly name: string;
  /** static_map: key text → value */
  readonly staticMap?: ReadonlyMap<string, string>;
  readonly regexps?: readonly string[];
  readonly allowUnknown: boolean;
}

export interface LabelConfig {
  readonly name: string;
  readonly size: number;
  readonly padding: number;
  readonly decoders: readonly DecoderConfig[];
}

export interface CounterConfig {
  readonly kind: "counter";
  readonly name: string;
  readonly help: string;
  readonly perfEventArray: boolean;
  readonly labels: readonly LabelConfig[];
}

export interface HistogramConfig {
  readonly kind: "histogram";
  readonly name: string;
  readonly help: string;
  readonly bucketType: BucketType;
  /** 1 when not given (ebpf_exporter treats 0 as 1) */
  readonly bucketMultiplier: number;
  readonly bucketMin: number;
  readonly bucketMax: number;
  readonly bucketKeys: readonly number[];
  /** the last label is the bucket */
  readonly labels: readonly LabelConfig[];
}

export type MetricConfig = CounterConfig | HistogramConfig;

export interface ExporterConfig {
  /** the config's name (NAME of NAME.yaml) */
  readonly name: string;
  readonly path: string;
  readonly counters: readonly CounterConfig[];
  readonly histograms: readonly HistogramConfig[];
  readonly kaddrs: readonly string[];
  /** fields ebpf_exporter knows but bpfkit does not act on, and unknown fields (yaml.v2 ignores those too) */
  readonly warnings: readonly string[];
}

export const DECODER_NAMES: ReadonlySet<string> = new Set([
  "cgroup", "dname", "errno", "hex", "ifname", "inet_ip", "kstack", "ksym", "majorminor", "pci_class", "pci_device",
  "pci_subclass", "pci_vendor", "regexp", "static_map", "string", "syscall", "uint",
]);
const BUCKET_TYPES: readonly BucketType[] = ["exp2", "exp2zero", "linear", "fixed"];
// Prometheus: metric and label names
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

type Node = unknown;

class Reader {
  readonly warnings: string[] = [];
  constructor(readonly path: string) {}

  fail(field: string, msg: string): never {
    throw new BpfError("PARSE", `${this.path}: ${field}: ${msg}`, { file: this.path });
  }

  map(v: Node, field: string, known: readonly string[], ignored: readonly string[] = []): Record<string, Node> {
    if (v === null || typeof v !== "object" || Array.isArray(v) || v instanceof Map) this.fail(field, "expected a mapping");
    const o = v as Record<string, Node>;
    for (const k of Object.keys(o)) {
      const at = field ? `${field}.${k}` : k;
      if (ignored.includes(k)) this.warnings.push(`${this.path}: ${at}: not supported by bpfkit exporter, ignored`);
      else if (!known.includes(k)) this.warnings.push(`${this.path}: ${at}: unknown field, ignored`);
    }
    return o;
  }

  list(v: Node, field: string): Node[] {
    if (v === undefined || v === "" || v === "~" || v === "null") return [];
    if (!Array.isArray(v)) this.fail(field, "expected a list");
    return v as Node[];
  }

  str(v: Node, field: string, required: boolean): string {
    if (v === undefined) {
      if (required) this.fail(field, "missing");
      return "";
    }
    if (typeof v !== "string") this.fail(field, "expected a string");
    return v as string;
  }

  int(v: Node, field: string, dflt: number, min = -Infinity): number {
    if (v === undefined) return dflt;
    const s = this.str(v, field, false);
    if (!/^[-+]?(0x[0-9a-fA-F]+|0o?[0-7]+|[0-9]+)$/.test(s)) this.fail(field, `'${s}' is not an integer`);
    const neg = s.startsWith("-");
    const body = s.replace(/^[-+]/, "");
    const n = body.startsWith("0x") ? parseInt(body.slice(2), 16) : /^0o?[0-7]+$/.test(body) && body.length > 1 ? parseInt(body.replace(/^0o?/, ""), 8) : Number(body);
    const r = neg ? -n : n;
    if (!Number.isSafeInteger(r) || r < min) this.fail(field, `'${s}' is out of range`);
    return r;
  }

  float(v: Node, field: string, dflt: number): number {
    if (v === undefined) return dflt;
    const s = this.str(v, field, false);
    const n = /^[-+]?0x[0-9a-fA-F]+$/.test(s) ? Number(s.replace(/^\+/, "")) : Number(s);
    if (s.trim() === "" || !Number.isFinite(n)) this.fail(field, `'${s}' is not a number`);
    return n;
  }

  bool(v: Node, field: string): boolean {
    if (v === undefined) return false;
    const s = this.str(v, field, false);
    // YAML 1.1 booleans, as yaml.v2 reads them
    if (/^(true|True|TRUE|yes|Yes|YES|on|On|ON|y|Y)$/.test(s)) return true;
    if (/^(false|False|FALSE|no|No|NO|off|Off|OFF|n|N)$/.test(s)) return false;
    return this.fail(field, `'${s}' is not a boolean`);
  }
}

function parseDecoder(r: Reader, v: Node, field: string): DecoderConfig {
  const o = r.map(v, field, ["name", "static_map", "regexps", "allow_unknown"]);
  const name = r.str(o.name, `${field}.name`, true);
  if (!DECODER_NAMES.has(name)) r.fail(`${field}.name`, `unknown decoder '${name}' (${[...DECODER_NAMES].join(", ")})`);
  let staticMap: Map<string, string> | undefined;
  if (o.static_map !== undefined) {
    const m = r.map(o.static_map, `${field}.static_map`, Object.keys(o.static_map as object));
    staticMap = new Map(Object.entries(m).map(([k, x]) => [k, r.str(x, `${field}.static_map.${k}`, true)]));
  }
  let regexps: string[] | undefined;
  if (o.regexps !== undefined) {
    regexps = r.list(o.regexps, `${field}.regexps`).map((x, i) => {
      const s = r.str(x, `${field}.regexps[${i}]`, true);
      try { new RegExp(goRegexp(s)); } catch (e) { r.fail(`${field}.regexps[${i}]`, `bad regexp '${s}': ${(e as Error).message}`); }
      return s;
    });
  }
  if (name === "regexp" && !regexps?.length) r.fail(`${field}.regexps`, "the regexp decoder needs a list of regexps");
  return { name, staticMap, regexps, allowUnknown: r.bool(o.allow_unknown, `${field}.allow_unknown`) };
}

function parseLabels(r: Reader, v: Node, field: string, bpftrace = false): LabelConfig[] {
  return r.list(v, field).map((x, i) => {
    const at = `${field}[${i}]`;
    const o = r.map(x, at, ["name", "size", "padding", "decoders"]);
    const name = r.str(o.name, `${at}.name`, true);
    if (!LABEL_NAME.test(name)) r.fail(`${at}.name`, `'${name}' is not a valid Prometheus label name`);
    // a bpftrace script's keys have their layout from the script: size 0 and no decoders mean "as the key's type says"
    const size = r.int(o.size, `${at}.size`, 0, 0);
    if (size === 0 && !bpftrace) r.fail(`${at}.size`, "size is zero or not set");
    const decoders = r.list(o.decoders, `${at}.decoders`).map((d, j) => parseDecoder(r, d, `${at}.decoders[${j}]`));
    if (decoders.length === 0 && !bpftrace) r.fail(`${at}.decoders`, "no decoders set");
    return { name, size, padding: r.int(o.padding, `${at}.padding`, 0, 0), decoders };
  });
}

function metricName(r: Reader, o: Record<string, Node>, at: string): string {
  const name = r.str(o.name, `${at}.name`, true);
  if (!name) r.fail(`${at}.name`, "lacks name");
  if (!METRIC_NAME.test(name)) r.fail(`${at}.name`, `'${name}' is not a valid Prometheus metric name`);
  if (!r.str(o.help, `${at}.help`, false)) r.fail(`${at}.help`, `metric '${name}' lacks help`);
  return name;
}

/**
 * Parses and validates one config file's text; `path` and `name` are for messages and the config's identity.
 * `bpftrace`: the config names a bpftrace script's maps (bpftrace-source.ts): label sizes and decoders and histogram
 * bucket settings may be left out, the script's key types and hist() slots give them.
 */
export function parseExporterConfig(text: string, path: string, name: string, opts: { bpftrace?: boolean } = {}): ExporterConfig {
  const bpft = opts.bpftrace ?? false;
  const r = new Reader(path);
  const doc = parseDocument(text, { schema: "failsafe", uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const pos = e.linePos?.[0];
    throw new BpfError("PARSE", `${path}${pos ? `:${pos.line}:${pos.col}` : ""}: ${e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "")}`, { file: path, line: pos?.line, column: pos?.col });
  }
  const root = r.map(doc.toJS() ?? {}, "", ["metrics", "kaddrs"], ["tracing", "cgroup_id_map"]);
  const metrics = root.metrics === undefined ? {} : r.map(root.metrics, "metrics", ["counters", "histograms"]);
  const counters = r.list(metrics.counters, "metrics.counters").map((x, i): CounterConfig => {
    const at = `metrics.counters[${i}]`;
    const o = r.map(x, at, ["name", "help", "labels", "perf_event_array"], ["flush_interval"]);
    const perfEventArray = r.bool(o.perf_event_array, `${at}.perf_event_array`);
    if (perfEventArray) r.fail(`${at}.perf_event_array`, "perf_event_array counters are not supported by bpfkit exporter");
    return { kind: "counter", name: metricName(r, o, at), help: r.str(o.help, `${at}.help`, true), perfEventArray, labels: parseLabels(r, o.labels, `${at}.labels`, bpft) };
  });
  const histograms = r.list(metrics.histograms, "metrics.histograms").map((x, i): HistogramConfig => {
    const at = `metrics.histograms[${i}]`;
    const o = r.map(x, at, ["name", "help", "labels", "bucket_type", "bucket_multiplier", "bucket_min", "bucket_max", "bucket_keys"]);
    const name = metricName(r, o, at);
    const bt = bpft && o.bucket_type === undefined ? "bpftrace" : r.str(o.bucket_type, `${at}.bucket_type`, true);
    if (bt !== "bpftrace" && !(BUCKET_TYPES as readonly string[]).includes(bt)) r.fail(`${at}.bucket_type`, `unknown histogram type '${bt}' (${BUCKET_TYPES.join(", ")})`);
    const bucketType = bt as BucketType;
    const mult = r.float(o.bucket_multiplier, `${at}.bucket_multiplier`, 1);
    const bucketMin = r.int(o.bucket_min, `${at}.bucket_min`, 0);
    const bucketMax = r.int(o.bucket_max, `${at}.bucket_max`, 0);
    const bucketKeys = r.list(o.bucket_keys, `${at}.bucket_keys`).map((k, j) => r.float(k, `${at}.bucket_keys[${j}]`, 0));
    if (bucketType === "fixed") {
      if (bucketKeys.length === 0) r.fail(`${at}.bucket_keys`, "fixed histograms need bucket_keys");
      for (let j = 1; j < bucketKeys.length; j++) {
        if (!(bucketKeys[j]! > bucketKeys[j - 1]!)) r.fail(`${at}.bucket_keys[${j}]`, "bucket keys must increase");
      }
    } else if (bucketMax <= bucketMin && bt !== "bpftrace") {
      r.fail(`${at}.bucket_max`, `histogram buckets have zero size: [bucket_min .. bucket_max] = [${bucketMin} .. ${bucketMax}]`);
    }
    const labels = parseLabels(r, o.labels, `${at}.labels`, bpft);
    if (labels.length === 0 && !bpft) r.fail(`${at}.labels`, "a histogram needs at least the bucket label (the last one)");
    return { kind: "histogram", name, help: r.str(o.help, `${at}.help`, true), bucketType, bucketMultiplier: mult === 0 ? 1 : mult, bucketMin, bucketMax, bucketKeys, labels };
  });
  if (counters.length === 0 && histograms.length === 0) r.fail("metrics", `neither metrics nor tracing are defined for config '${name}'`);
  const seen = new Set<string>();
  for (const m of [...counters, ...histograms]) {
    if (seen.has(m.name)) r.fail("metrics", `metric '${m.name}' is defined twice`);
    seen.add(m.name);
    const labelNames = new Set<string>();
    for (const l of m.kind === "histogram" ? m.labels.slice(0, -1) : m.labels) {
      if (labelNames.has(l.name)) r.fail("metrics", `metric '${m.name}' has label '${l.name}' twice`);
      if (l.name === "le" && m.kind === "histogram") r.fail("metrics", `histogram '${m.name}' may not use the label name 'le'`);
      labelNames.add(l.name);
    }
  }
  const kaddrs = r.list(root.kaddrs, "kaddrs").map((k, i) => r.str(k, `kaddrs[${i}]`, true));
  if (kaddrs.length) r.warnings.push(`${path}: kaddrs: not supported by bpfkit exporter, ignored`);
  return { name, path, counters, histograms, kaddrs, warnings: r.warnings };
}

/** Go's RE2 syntax in the forms configs use, for JavaScript's RegExp: (?P<name>…) groups become (?<name>…). */
export function goRegexp(s: string): string {
  return s.replace(/\(\?P</g, "(?<");
}
