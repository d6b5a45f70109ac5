// perf_event_open for the event sources BPF programs attach to: tracepoints (id from tracefs), uprobes/uretprobes
// (the uprobe PMU, a path and a file offset), software events (cpu-clock timers, the BPF output channel), plus the
// ioctls that enable an event and hand it a program. struct perf_event_attr as in uapi/linux/perf_event.h (size 136).
import { existsSync, readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { BpfError } from "../errors.ts";
import { addressOf, ioctlInt, perfEventOpen } from "./libc.ts";

export const PERF_TYPE_HARDWARE = 0, PERF_TYPE_SOFTWARE = 1, PERF_TYPE_TRACEPOINT = 2;
export const PERF_COUNT_SW_CPU_CLOCK = 0, PERF_COUNT_SW_BPF_OUTPUT = 10;
export const PERF_SAMPLE_RAW = 1 << 10;
const PERF_ATTR_SIZE = 136;
const PERF_FLAG_FD_CLOEXEC = 8;

// _IO('$', 0), _IO('$', 1), _IOW('$', 8, __u32)
export const PERF_EVENT_IOC_ENABLE = 0x2400, PERF_EVENT_IOC_DISABLE = 0x2401, PERF_EVENT_IOC_SET_BPF = 0x40042408;

export interface PerfEventAttr {
  readonly type: number;
  readonly config?: bigint;
  /** sample_period, or sample_freq when `freq` */
  readonly samplePeriod?: bigint;
  readonly freq?: boolean;
  readonly sampleType?: bigint;
  readonly disabled?: boolean;
  readonly wakeupEvents?: number;
  /** uprobe: pointer to the path; kprobe: pointer to the function name */
  readonly config1?: bigint;
  /** uprobe/kprobe: the offset */
  readonly config2?: bigint;
}

export function encodePerfEventAttr(a: PerfEventAttr): Uint8Array {
  const b = new Uint8Array(PERF_ATTR_SIZE);
  const v = new DataView(b.buffer);
  v.setUint32(0, a.type, true);
  v.setUint32(4, PERF_ATTR_SIZE, true);
  v.setBigUint64(8, a.config ?? 0n, true);
  v.setBigUint64(16, a.samplePeriod ?? 0n, true);
  v.setBigUint64(24, a.sampleType ?? 0n, true);
  let flags = 0n;
  if (a.disabled) flags |= 1n;
  if (a.freq) flags |= 1n << 10n;
  v.setBigUint64(40, flags, true);
  v.setUint32(48, a.wakeupEvents ?? 0, true);
  v.setBigUint64(56, a.config1 ?? 0n, true);
  v.setBigUint64(64, a.config2 ?? 0n, true);
  return b;
}

/** Opens a perf event (pid -1 = every process on `cpu`; cpu -1 = that pid on any cpu), close-on-exec. */
export function openPerfEvent(a: PerfEventAttr, pid = -1, cpu = 0, keep: unknown[] = []): number {
  const fd = perfEventOpen(encodePerfEventAttr(a), pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
  void keep;
  return fd;
}

/** PERF_EVENT_IOC_SET_BPF then PERF_EVENT_IOC_ENABLE: the legacy way to attach (bpftool perf lists it the same). */
export function perfEventSetBpf(perfFd: number, progFd: number): void {
  ioctlInt(perfFd, PERF_EVENT_IOC_SET_BPF, progFd, "ioctl(PERF_EVENT_IOC_SET_BPF)");
  ioctlInt(perfFd, PERF_EVENT_IOC_ENABLE, 0, "ioctl(PERF_EVENT_IOC_ENABLE)");
}

export function perfEventEnable(perfFd: number): void {
  ioctlInt(perfFd, PERF_EVENT_IOC_ENABLE, 0, "ioctl(PERF_EVENT_IOC_ENABLE)");
}

export function perfEventDisable(perfFd: number): void {
  ioctlInt(perfFd, PERF_EVENT_IOC_DISABLE, 0, "ioctl(PERF_EVENT_IOC_DISABLE)");
}

const TRACEFS_CANDIDATES = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

/** The tracefs root, mounting it at /sys/kernel/tracing when no tracefs is mounted (needs root). */
export function tracefsRoot(): string {
  for (const root of TRACEFS_CANDIDATES) if (existsSync(`${root}/events`)) return root;
  try {
    execFileSync("mount", ["-t", "tracefs", "nodev", "/sys/kernel/tracing"], { stdio: "ignore" });
  } catch (e) {
    throw new BpfError("UNSUPPORTED", `tracefs is not mounted and mounting it failed: ${(e as Error).message}`);
  }
  if (existsSync("/sys/kernel/tracing/events")) return "/sys/kernel/tracing";
  throw new BpfError("UNSUPPORTED", "tracefs has no events directory");
}

/** A tracepoint's id (tracefs events/CATEGORY/NAME/id). */
export function tracepointId(category: string, name: string): number {
  if (!/^[\w.-]+$/.test(category) || !/^[\w.-]+$/.test(name)) {
    throw new BpfError("EINVAL", `bad tracepoint name '${category}:${name}'`);
  }
  const path = `${tracefsRoot()}/events/${category}/${name}/id`;
  try {
    return Number.parseInt(readFileSync(path, "utf8"), 10);
  } catch {
    throw new BpfError("ENOENT", `no tracepoint ${category}:${name} (${path})`);
  }
}

/** A perf event on a tracepoint, for all processes (cpu 0 is where the event lives; the program runs on every cpu). */
export function openTracepoint(category: string, name: string): number {
  return openPerfEvent({ type: PERF_TYPE_TRACEPOINT, config: BigInt(tracepointId(category, name)), samplePeriod: 1n, wakeupEvents: 1 });
}

function pmuType(pmu: string): number {
  try {
    return Number.parseInt(readFileSync(`/sys/bus/event_source/devices/${pmu}/type`, "utf8"), 10);
  } catch {
    throw new BpfError("UNSUPPORTED", `the kernel has no ${pmu} PMU (/sys/bus/event_source/devices/${pmu})`);
  }
}

/** The config bit that makes a uprobe a uretprobe ("config:0" in the PMU's format/retprobe). */
function retprobeBit(pmu: string): bigint {
  try {
    const m = /config:(\d+)/.exec(readFileSync(`/sys/bus/event_source/devices/${pmu}/format/retprobe`, "utf8"));
    return m ? 1n << BigInt(m[1]!) : 1n;
  } catch {
    return 1n;
  }
}

/**
 * A uprobe (or uretprobe) perf event at `offset` in the file at `path`; pid -1 probes every process. `refCtrOffset`:
 * the file offset of a USDT semaphore the kernel increments while the probe exists (config bits 32-63).
 */
export function openUprobe(path: string, offset: number, opts: { retprobe?: boolean; pid?: number; refCtrOffset?: number } = {}): number {
  const pathBytes = new TextEncoder().encode(path + "\0");
  const pid = opts.pid ?? -1;
  return openPerfEvent({
    type: pmuType("uprobe"), config: (opts.retprobe ? retprobeBit("uprobe") : 0n) | (BigInt(opts.refCtrOffset ?? 0) << 32n),
    config1: addressOf(pathBytes), config2: BigInt(offset), samplePeriod: 1n, wakeupEvents: 1,
  }, pid, pid === -1 ? 0 : -1, [pathBytes]);
}

/** A cpu-clock software event on `cpu` sampling at `freqHz` (the perf_event program type's timer). */
export function openCpuClock(cpu: number, freqHz: number): number {
  return openPerfEvent({ type: PERF_TYPE_SOFTWARE, config: BigInt(PERF_COUNT_SW_CPU_CLOCK), samplePeriod: BigInt(freqHz), freq: true }, -1, cpu);
}
