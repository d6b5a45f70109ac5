// Where a config's maps and programs live (object-source.ts: the running kernel or bpfkit's VM). The exporter reads
// maps and program statistics only through this interface, so both backends serve the same metrics.
import type { MapRows } from "./collect.ts";

export interface SourceMap {
  readonly name: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly perCpu: boolean;
  /** the map's id (kernel) for `bpftool map dump id N` */
  readonly id: number;
  /** the whole map; the buffers are reused by the next read */
  read(): MapRows;
}

export interface ProgramStatus {
  readonly name: string;
  readonly id: number;
  readonly tag: string;
  readonly attached: boolean;
  /** kernel.bpf_stats_enabled's counters (0 while it is off) */
  readonly runTimeNs: number;
  readonly runCount: number;
}

export interface MetricSource {
  readonly backend: "linux" | "vm";
  readonly maps: ReadonlyMap<string, SourceMap>;
  /** programs that loaded but could not be attached, with the reason */
  readonly attachErrors: readonly string[];
  programs(): ProgramStatus[];
  close(): void;
}
