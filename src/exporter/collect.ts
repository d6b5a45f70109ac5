// One scrape of one config's maps turned into metric series, as ebpf_exporter does it: every key decoded into labels
// (decoded label sets cached per key), equal label sets summed (a percpu map without a `cpu` label, or two ids that
// decode to one name), histograms regrouped on all labels but the last (the bucket) and rebuilt with every bucket from
// the config backfilled, cumulative, `le` printed as Go prints floats. Pure: map rows come in as bytes.
import { BpfError } from "../errors.ts";
import type { HistogramConfig, MetricConfig } from "./config.ts";
import { SKIP, type KeyDecoder } from "./decoders.ts";

/** A map's contents: `count` keys and values packed back to back (per-CPU maps: `cpus` values of `stride` bytes). */
export interface MapRows {
  readonly count: number;
  readonly keySize: number;
  readonly keys: Uint8Array;
  /** bytes per value in `values` (per CPU for per-CPU maps) */
  readonly stride: number;
  /** 1 for ordinary maps */
  readonly cpus: number;
  readonly values: Uint8Array;
}

export interface CounterSeries { readonly labels: readonly string[]; readonly value: number }
export interface HistogramSeries {
  readonly labels: readonly string[];
  /** [le, cumulative count] in increasing le */
  readonly buckets: readonly (readonly [string, number])[];
  readonly count: number;
  readonly sum: number;
}

export interface CollectedMetric {
  readonly config: MetricConfig;
  readonly counters: readonly CounterSeries[];
  readonly histograms: readonly HistogramSeries[];
  /** keys that failed to decode in this scrape (each counted once) */
  readonly errors: number;
  /** the first decoding error's text, for the log */
  readonly firstError?: string;
}

/** A u64 as a double (exact below 2^53), without BigInt. */
function u64At(v: DataView, off: number, le: boolean): number {
  const lo = v.getUint32(off + (le ? 0 : 4), le), hi = v.getUint32(off + (le ? 4 : 0), le);
  return hi * 4294967296 + lo;
}

/** Go's strconv.FormatFloat(f, 'g', -1, 64): shortest digits, exponent form below 1e-4 and from 1e6 (1.048576e+06). */
export function goFloat(f: number): string {
  if (f === Infinity) return "+Inf";
  if (f === -Infinity) return "-Inf";
  if (Number.isNaN(f)) return "NaN";
  if (f === 0) return Object.is(f, -0) ? "-0" : "0";
  const [mant, exp] = f.toExponential().split("e") as [string, string];
  const e = Number(exp);
  // shortest 'g' picks the exponent form with precision 6 (Go: "if precision was the shortest possible, use precision 6")
  if (e < -4 || e >= 6) return `${mant}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  return String(f);
}

/** The bucket boundary for bucket key `k`. */
function bucketBound(h: HistogramConfig, k: number): number {
  switch (h.bucketType) {
    case "exp2": return 2 ** k * h.bucketMultiplier;
    case "exp2zero": return k === 0 ? 0 : 2 ** (k - 1) * h.bucketMultiplier;
    // bpftrace's hist() slots hold integers, so each bucket's inclusive upper bound: -1, 0, 1, 3, 7, ...
    case "bpftrace": return k === 0 ? -1 : 2 ** (k - 1) - 1;
    default: return k * h.bucketMultiplier;
  }
}

/** The histogram's bucket keys in order (bucket_min..bucket_max, or bucket_keys) and the optional sum key. */
export function histogramKeys(h: HistogramConfig): { keys: number[]; sumKey: number; les: string[] } {
  const keys = h.bucketType === "fixed" ? [...h.bucketKeys] : Array.from({ length: h.bucketMax - h.bucketMin + 1 }, (_, i) => h.bucketMin + i);
  const sumKey = h.bucketType === "fixed" ? h.bucketKeys[h.bucketKeys.length - 1]! + 1 : h.bucketMax + 1;
  return { keys, sumKey, les: keys.map((k) => goFloat(bucketBound(h, k))) };
}

const CACHE_SLACK = 4096;

/** A key's labels and the id equal label sets share (their values joined), cached per key across scrapes. */
interface Decoded { readonly labels: string[]; readonly id: string }

/** Decodes one metric's map rows; holds the per-key label cache across scrapes. */
export class MetricCollector {
  /** per raw key (its bytes as a string): the decoded labels and their series id, computed once */
  private cache = new Map<string, Decoded | typeof SKIP>();
  private readonly hist: ReturnType<typeof histogramKeys> | undefined;
  private keyBuf: Uint8Array;

  constructor(readonly config: MetricConfig, private readonly decoder: KeyDecoder, readonly littleEndian = true,
    /** per-CPU maps: the last label is `cpu` (a u16 appended to the key), else CPUs are summed */
    private readonly cpuLabel = false) {
    this.hist = config.kind === "histogram" ? histogramKeys(config) : undefined;
    this.keyBuf = new Uint8Array(Math.max(decoder.keySize, 2));
  }

  private labelsOf(key: Uint8Array, id: string): Decoded | typeof SKIP {
    let r = this.cache.get(id);
    if (r === undefined) {
      const labels = this.decoder.decode(key);
      r = labels === SKIP ? SKIP : { labels, id: labels.length === 1 ? labels[0]! : labels.join("\u0000") };
      this.cache.set(id, r);
    }
    return r;
  }

  collect(rows: MapRows): CollectedMetric {
    // keys seen once and gone (LRU maps, short-lived pids) must not grow the cache without bound
    if (this.cache.size > rows.count * rows.cpus * 2 + CACHE_SLACK) this.cache.clear();
    const le = this.littleEndian;
    const vals = new DataView(rows.values.buffer, rows.values.byteOffset, rows.values.byteLength);
    const sums = new Map<string, { labels: string[]; value: number }>();
    let errors = 0;
    let firstError: string | undefined;
    const noLabels = this.config.labels.length === 0;
    const ks = rows.keySize;
    const perCpuKey = this.cpuLabel;
    // ebpf_exporter: a per-CPU map whose only label is `cpu` keeps just the CPU of a u32 0 key
    const cpuOnly = perCpuKey && this.config.labels.length === 1 && ks === 4;
    for (let i = 0; i < rows.count; i++) {
      const raw = rows.keys.subarray(i * ks, (i + 1) * ks);
      // ebpf_exporter: no labels and a single u32 0 key (a one-element array) is the label-less series
      if (noLabels && ks === 4 && raw[0] === 0 && raw[1] === 0 && raw[2] === 0 && raw[3] === 0) {
        let v = 0;
        for (let c = 0; c < rows.cpus; c++) v += u64At(vals, (i * rows.cpus + c) * rows.stride, le);
        add(sums, "", [], v);
        continue;
      }
      for (let c = 0; c < (perCpuKey ? rows.cpus : 1); c++) {
        let key = raw;
        if (cpuOnly && raw[0] === 0 && raw[1] === 0 && raw[2] === 0 && raw[3] === 0) {
          key = this.keyBuf.subarray(0, 2);
          key[0] = le ? c & 0xff : c >> 8;
          key[1] = le ? c >> 8 : c & 0xff;
        } else if (perCpuKey) {
          if (this.keyBuf.length < ks + 2) this.keyBuf = new Uint8Array(ks + 2);
          key = this.keyBuf.subarray(0, ks + 2);
          key.set(raw, 0);
          key[ks] = le ? c & 0xff : c >> 8;
          key[ks + 1] = le ? c >> 8 : c & 0xff;
        }
        // the key's bytes two at a time as UTF-16 units: half the concatenations of one char a byte, still one string
        // per key (keys of a collector have one length; an odd last byte is a unit of its own)
        let id = "";
        const kl = key.length;
        for (let b = 0; b + 1 < kl; b += 2) id += String.fromCharCode(key[b]! | (key[b + 1]! << 8));
        if (kl & 1) id += String.fromCharCode(key[kl - 1]!);
        let labels: Decoded | typeof SKIP;
        try {
          labels = this.labelsOf(key, id);
        } catch (e) {
          if (!(e instanceof BpfError)) throw e;
          errors++;
          firstError ??= e.message;
          continue;
        }
        if (labels === SKIP) continue;
        let v = 0;
        if (perCpuKey) v = u64At(vals, (i * rows.cpus + c) * rows.stride, le);
        else for (let cc = 0; cc < rows.cpus; cc++) v += u64At(vals, (i * rows.cpus + cc) * rows.stride, le);
        add(sums, labels.id, labels.labels, v);
      }
    }
    if (this.config.kind === "counter") {
      return { config: this.config, counters: [...sums.values()], histograms: [], errors, firstError };
    }
    const h = this.hist!;
    const groups = new Map<string, { labels: string[]; buckets: Map<number, number> }>();
    for (const { labels, value } of sums.values()) {
      const rest = labels.slice(0, -1);
      const bucketText = labels[labels.length - 1]!;
      const bucket = parseGoUint(bucketText);
      if (bucket === undefined) {
        errors++;
        firstError ??= `error parsing bucket '${bucketText}' of histogram '${this.config.name}' as an unsigned integer`;
        continue;
      }
      const id = rest.join("\u0000");
      let g = groups.get(id);
      if (g === undefined) groups.set(id, (g = { labels: rest, buckets: new Map() }));
      g.buckets.set(bucket, (g.buckets.get(bucket) ?? 0) + value);
    }
    const histograms: HistogramSeries[] = [];
    for (const g of groups.values()) {
      let count = 0;
      const buckets = h.keys.map((k, j) => { count += g.buckets.get(k) ?? 0; return [h.les[j]!, count] as const; });
      const sum = (g.buckets.get(h.sumKey) ?? 0) * (this.config as HistogramConfig).bucketMultiplier;
      histograms.push({ labels: g.labels, buckets, count, sum });
    }
    return { config: this.config, counters: [], histograms, errors, firstError };
  }
}

function add(sums: Map<string, { labels: string[]; value: number }>, id: string, labels: string[], v: number): void {
  const s = sums.get(id);
  if (s === undefined) sums.set(id, { labels, value: v });
  else s.value += v;
}

/** Go's strconv.ParseUint(s, 0, 64) for the values a uint decoder produces (decimal, 0x, 0o, 0b, leading-0 octal). */
function parseGoUint(s: string): number | undefined {
  const t = s.replace(/_/g, "");
  let n: number;
  if (/^[0-9]+$/.test(t)) n = t.length > 1 && t[0] === "0" ? parseInt(t.slice(1), 8) : Number(t);
  else if (/^0[xX][0-9a-fA-F]+$/.test(t)) n = parseInt(t.slice(2), 16);
  else if (/^0[oO][0-7]+$/.test(t)) n = parseInt(t.slice(2), 8);
  else if (/^0[bB][01]+$/.test(t)) n = parseInt(t.slice(2), 2);
  else return undefined;
  return Number.isFinite(n) ? n : undefined;
}
