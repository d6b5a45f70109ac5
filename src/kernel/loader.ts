// Loading bpfkit programs into the kernel and attaching them. A program is Insn[] + type + map specs; lddw map
// references (src = BPF_PSEUDO_MAP_FD or MAP_VALUE) carry the index of the map in `maps`, replaced by the created
// map's fd at load time. Every attachment is an fd-backed object with close(): the kernel detaches a link or perf
// event when its last fd closes, so attachments also vanish when the process exits (nothing is pinned here).
import { readFileSync } from "node:fs";
import type { Insn } from "../isa/ebpf/insn.ts";
import type { CbpfInsn } from "../isa/cbpf/insn.ts";
import { BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE, BPF_PSEUDO_MAP_VALUE } from "../isa/ebpf/opcodes.ts";
import { BpfError } from "../errors.ts";
import { closeFd, linkCreate, mapCreate, progLoad, rawTracepointOpen } from "./bpf.ts";
import { addressOf, KernelError, rawSyscallSetsockopt } from "./libc.ts";
import { attachTypeId, mapTypeId, progTypeId } from "./names.ts";
import { openPerfEvent, openTracepoint, openUprobe, perfEventSetBpf, PERF_COUNT_SW_CPU_CLOCK, PERF_TYPE_SOFTWARE } from "./perf.ts";
import { elfFunctionOffset } from "./elf-symbol.ts";
import { KernelMap } from "./map-access.ts";

/** A map as the loader creates it (the maps engineer's MapSpec has these fields). */
export interface KernelMapSpec {
  readonly type: number | string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags?: number;
  readonly name?: string;
  readonly mapExtra?: bigint;
  readonly innerMapFd?: number;
}

export interface KernelProgramSpec {
  readonly insns: readonly Insn[];
  readonly progType: number | string;
  readonly maps?: readonly KernelMapSpec[];
  readonly license?: string;
  readonly name?: string;
  readonly expectedAttachType?: number | string;
  /** tracing programs (fentry/fexit/fmod_ret): the vmlinux BTF id of the target function */
  readonly attachBtfId?: number;
  readonly logLevel?: number;
  readonly progFlags?: number;
}

/** A program in the kernel with its maps; close() releases all of them. */
export interface LoadedProgram {
  readonly fd: number;
  readonly maps: readonly KernelMap[];
  readonly log: string;
  close(): void;
}

export function createKernelMap(m: KernelMapSpec): KernelMap {
  const type = mapTypeId(m.type);
  const fd = mapCreate({
    mapType: type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, mapFlags: m.flags ?? 0,
    name: m.name ?? "", mapExtra: m.mapExtra ?? 0n, innerMapFd: m.innerMapFd ?? 0,
  });
  return new KernelMap(fd, type, m.keySize, m.valueSize, m.maxEntries);
}

/** Replaces lddw map indices by fds (pc numbering is the kernel's: lddw is two slots). */
export function resolveMapIndices(insns: readonly Insn[], mapFds: readonly number[]): Insn[] {
  return insns.map((ins, pc) => {
    if (ins.code !== 0x18 || (ins.src !== BPF_PSEUDO_MAP_FD && ins.src !== BPF_PSEUDO_MAP_VALUE)) return ins;
    const fd = mapFds[ins.imm];
    if (fd === undefined) throw new BpfError("EINVAL", `insn ${pc}: lddw refers to map index ${ins.imm}, but the program has ${mapFds.length} maps`, { pc });
    return { ...ins, imm: fd };
  });
}

/** Creates the maps and loads the program; throws KernelError (code = errno, with the verifier log) when rejected. */
export function loadProgram(spec: KernelProgramSpec): LoadedProgram {
  const maps: KernelMap[] = [];
  try {
    for (const m of spec.maps ?? []) maps.push(createKernelMap(m));
    const fds = maps.map((m) => m.fd);
    const usesIdx = spec.insns.some((i) => i.code === 0x18 && (i.src === BPF_PSEUDO_MAP_IDX || i.src === BPF_PSEUDO_MAP_IDX_VALUE));
    const r = progLoad({
      progType: progTypeId(spec.progType), insns: resolveMapIndices(spec.insns, fds), license: spec.license ?? "GPL",
      name: spec.name, logLevel: spec.logLevel ?? 0, progFlags: spec.progFlags, attachBtfId: spec.attachBtfId,
      expectedAttachType: spec.expectedAttachType === undefined ? undefined : attachTypeId(spec.expectedAttachType),
      fdArray: usesIdx ? fds : undefined,
    });
    return {
      fd: r.fd, maps, log: r.log,
      close() { closeFd(r.fd); maps.forEach((m) => m.close()); },
    };
  } catch (e) {
    maps.forEach((m) => m.close());
    throw e;
  }
}

/** An attached program; close() detaches it. */
export interface Attachment {
  readonly kind: string;
  /** the link fd (BPF links) or perf event fd (legacy attachments) */
  readonly fd: number;
  /** extra fds held (the perf event under a perf_event link, per-cpu events) */
  readonly fds: readonly number[];
  close(): void;
}

function attachment(kind: string, fds: number[]): Attachment {
  let open = true;
  return {
    kind, fd: fds[0]!, fds,
    close() { if (open) fds.forEach(closeFd); open = false; },
  };
}

const BPF_PERF_EVENT = 41, BPF_XDP = 37, BPF_TCX_INGRESS = 46, BPF_TCX_EGRESS = 47;

/** Attaches a program to a perf event fd: a BPF perf_event link (default) or the legacy ioctl. */
function attachToPerfEvent(kind: string, progFd: number, perfFd: number, legacy: boolean): Attachment {
  try {
    if (legacy) {
      perfEventSetBpf(perfFd, progFd);
      return attachment(kind, [perfFd]);
    }
    const link = linkCreate({ progFd, target: perfFd, attachType: BPF_PERF_EVENT });
    return attachment(kind, [link, perfFd]);
  } catch (e) {
    closeFd(perfFd);
    throw e;
  }
}

/** A tracepoint program on CATEGORY:NAME (e.g. "syscalls", "sys_enter_openat"). */
export function attachTracepoint(progFd: number, category: string, name: string, opts: { legacy?: boolean } = {}): Attachment {
  return attachToPerfEvent("tracepoint", progFd, openTracepoint(category, name), opts.legacy ?? false);
}

/** A raw_tracepoint program on a raw tracepoint ("sched_switch"). */
export function attachRawTracepoint(progFd: number, name: string): Attachment {
  return attachment("raw_tracepoint", [rawTracepointOpen(progFd, name)]);
}

/** A tracing program (fentry/fexit/fmod_ret) loaded with its attach BTF id. */
export function attachTracing(progFd: number): Attachment {
  return attachment("tracing", [rawTracepointOpen(progFd, null)]);
}

/** A kprobe-type program on a uprobe/uretprobe at a symbol (or file offset) of an ELF file. */
export function attachUprobe(progFd: number, path: string, symbolOrOffset: string | number,
  opts: { retprobe?: boolean; pid?: number; legacy?: boolean; refCtrOffset?: number } = {}): Attachment {
  const offset = typeof symbolOrOffset === "number" ? symbolOrOffset : elfFunctionOffset(path, symbolOrOffset);
  const perfFd = openUprobe(path, offset, opts);
  return attachToPerfEvent(opts.retprobe ? "uretprobe" : "uprobe", progFd, perfFd, opts.legacy ?? false);
}

/** A perf_event program sampling at `freqHz` on each of `cpus` (cpu-clock software event). */
export function attachPerfEventTimer(progFd: number, cpus: readonly number[], freqHz: number): Attachment {
  return attachPerfEvent(progFd, cpus, { type: PERF_TYPE_SOFTWARE, config: PERF_COUNT_SW_CPU_CLOCK, freqHz });
}

/** A perf_event program on a software/hardware counter on each of `cpus`, sampling at `freqHz` or every `period` events. */
export function attachPerfEvent(progFd: number, cpus: readonly number[], ev: { type: number; config: number; freqHz?: number; period?: number }): Attachment {
  const fds: number[] = [];
  const freq = ev.period === undefined;
  try {
    for (const cpu of cpus) {
      const pfd = openPerfEvent({ type: ev.type, config: BigInt(ev.config), samplePeriod: BigInt(freq ? ev.freqHz ?? 0 : ev.period!), freq }, -1, cpu);
      fds.push(pfd);
      fds.unshift(linkCreate({ progFd, target: pfd, attachType: BPF_PERF_EVENT }));
    }
  } catch (e) {
    fds.forEach(closeFd);
    throw e;
  }
  return attachment("perf_event", fds);
}

export function ifindex(ifname: string): number {
  try {
    return Number.parseInt(readFileSync(`/sys/class/net/${ifname}/ifindex`, "utf8"), 10);
  } catch {
    throw new BpfError("ENOENT", `no network interface '${ifname}'`);
  }
}

/** An XDP program on an interface through a BPF link (flags: XDP_FLAGS_SKB_MODE = 2, DRV_MODE = 4). */
export function attachXdp(progFd: number, ifname: string | number, flags = 0): Attachment {
  return attachment("xdp", [linkCreate({ progFd, target: typeof ifname === "number" ? ifname : ifindex(ifname), attachType: BPF_XDP, flags })]);
}

/** A sched_cls program on an interface's tcx ingress or egress hook. */
export function attachTcx(progFd: number, ifname: string | number, direction: "ingress" | "egress"): Attachment {
  return attachment("tcx", [linkCreate({ progFd, target: typeof ifname === "number" ? ifname : ifindex(ifname), attachType: direction === "ingress" ? BPF_TCX_INGRESS : BPF_TCX_EGRESS })]);
}

const SOL_SOCKET = 1, SO_ATTACH_FILTER = 26, SO_ATTACH_BPF = 50;

/** A socket_filter program on a socket fd (setsockopt SO_ATTACH_BPF); the socket owns it from then on. */
export function attachSocketFilter(progFd: number, socketFd: number): void {
  const v = new Uint8Array(new Int32Array([progFd]).buffer);
  const r = rawSyscallSetsockopt(socketFd, SOL_SOCKET, SO_ATTACH_BPF, addressOf(v), 4);
  if (r < 0) throw new KernelError(-r, "setsockopt(SO_ATTACH_BPF)");
}

/** A classic BPF filter (e.g. compileFilter(...).insns) on a socket fd (setsockopt SO_ATTACH_FILTER, struct sock_fprog). */
export function attachClassicFilter(socketFd: number, insns: readonly CbpfInsn[]): void {
  const code = new DataView(new ArrayBuffer(insns.length * 8));
  insns.forEach((x, i) => {
    code.setUint16(i * 8, x.code, true); code.setUint8(i * 8 + 2, x.jt); code.setUint8(i * 8 + 3, x.jf);
    code.setUint32(i * 8 + 4, x.k, true);
  });
  const bytes = new Uint8Array(code.buffer);
  const fprog = new DataView(new ArrayBuffer(16));
  fprog.setUint16(0, insns.length, true);
  fprog.setBigUint64(8, addressOf(bytes), true);
  const r = rawSyscallSetsockopt(socketFd, SOL_SOCKET, SO_ATTACH_FILTER, addressOf(new Uint8Array(fprog.buffer)), 16);
  if (r < 0) throw new KernelError(-r, "setsockopt(SO_ATTACH_FILTER)");
}

/** The vmlinux BTF id of a kernel function, for fentry/fexit (`attachBtfId`). */
export async function vmlinuxFuncBtfId(func: string): Promise<number> {
  const { btfFromFileBytes } = await import("../object/btf-file.ts");
  const btf = btfFromFileBytes(readFileSync("/sys/kernel/btf/vmlinux"));
  const id = btf.findByName(func, 12);
  if (!id || id < 0) throw new BpfError("ENOENT", `no function '${func}' in the kernel's BTF`);
  return id;
}
