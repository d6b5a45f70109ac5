// The questions of `feature probe` (src/kernel/feature-report.ts) answered by a backend: libbpf 1.1's probes — a tiny
// program of each type, a map of each type, `call HELPER; exit` per program type, each loaded through the Backend's
// bpf() — and the host around it (procfs sysctls, the kernel config, capabilities, network devices). On Linux the
// verdicts are read as libbpf 1.1 reads them, so the output is bpftool's; on bpfkit's VM a helper counts only when the
// VM's verifier lets that program type call it and the VM has an implementation of it.
import { readFileSync, statfsSync } from "node:fs";
import { insn, type Insn } from "../isa/ebpf/insn.ts";
import type { HelperTable } from "../helpers/index.ts";
import { errnoOf, type Backend, type MapCreateAttr, type ProgLoadAttr } from "../runtime/backend.ts";
import { ERRNO, HELPER_IDS, MAP_TYPE_NAMES, PROG_TYPE_NAMES, attachTypeOf, progTypeOf, BPF_F_NO_PREALLOC, BPF_MAP_TYPE_HASH } from "../uapi/index.ts";
import type { FeatureProber, Sysctl } from "./feature-report.ts";
import { hostKconfig, readKernelConfig } from "./kconfig.ts";
import { dropEffectiveCaps, nativeUnavailable, strerror } from "./libc.ts";
import { ifindex } from "./loader.ts";

const { EPERM, EINVAL, ENOSYS, ENOTSUPP } = ERRNO;
const SOCKET_FILTER = progTypeOf("socket_filter"), TAIL_CALL = HELPER_IDS.get("tail_call")!;
const BPF_F_SLEEPABLE = 1 << 4;
const PAGE_SIZE = 4096;
// libbpf's probe log buffer
const LOG_SIZE = 4096;

/** What a probe load or create did: success, or the errno and the verifier log. */
interface Attempt { readonly ok: boolean; readonly errno: number; readonly log: string }

// libbpf 1.1's per-type load attributes, and the error (with log text) that means "supported" for types that cannot
// load without a target.
interface ProgProbe {
  readonly attr?: Partial<ProgLoadAttr>;
  readonly expect?: { readonly errno: number; readonly log?: string };
}
function progProbe(type: string, kernVersion: number): ProgProbe | undefined {
  switch (type) {
    case "cgroup_sock_addr": return { attr: { expectedAttachType: attachTypeOf("cgroup_inet4_connect") } };
    case "cgroup_sockopt": return { attr: { expectedAttachType: attachTypeOf("cgroup_getsockopt") } };
    case "sk_lookup": return { attr: { expectedAttachType: attachTypeOf("sk_lookup") } };
    case "kprobe": return { attr: { kernVersion } };
    case "lirc_mode2": return { attr: { expectedAttachType: attachTypeOf("lirc_mode2") } };
    case "tracing": return { attr: { expectedAttachType: attachTypeOf("trace_fentry"), attachBtfId: 1 }, expect: { errno: EINVAL, log: "attach_btf_id 1 is not a function" } };
    case "lsm": return { attr: { expectedAttachType: attachTypeOf("modify_return"), attachBtfId: 1 }, expect: { errno: EINVAL, log: "attach_btf_id 1 is not a function" } };
    case "ext": return { attr: { attachBtfId: 1 }, expect: { errno: EINVAL, log: "Cannot replace kernel functions" } };
    case "syscall": return { attr: { progFlags: BPF_F_SLEEPABLE } };
    case "struct_ops": return { expect: { errno: ENOTSUPP } };
    // the rest up to raw_tracepoint_writable load as they are; later types are unknown to libbpf 1.1's probe
    default: { const t = PROG_TYPE_NAMES.indexOf(type as never); return t >= 0 && t <= progTypeOf("raw_tracepoint_writable") ? {} : undefined; }
  }
}

// The BTF libbpf loads for local-storage maps: int, struct bpf_spin_lock { int val; }, struct val { int cnt; struct
// bpf_spin_lock l; } — key type 1, value type 3.
function localStorageBtf(): Uint8Array {
  const strings = "\0bpf_spin_lock\0val\0cnt\0l\0";
  const types = [
    0, 0x01000000, 4, 0x01000020, // [1] int, signed 32 bits
    1, 0x04000001, 4, 15, 1, 0, // [2] struct bpf_spin_lock, 4 bytes: val (int) at 0
    15, 0x04000002, 8, 19, 1, 0, 23, 2, 32, // [3] struct val, 8 bytes: cnt (int) at 0, l at bit 32
  ];
  const out = new Uint8Array(24 + types.length * 4 + strings.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, 0xeb9f, true); v.setUint8(2, 1); v.setUint32(4, 24, true);
  v.setUint32(8, 0, true); v.setUint32(12, types.length * 4, true);
  v.setUint32(16, types.length * 4, true); v.setUint32(20, strings.length, true);
  types.forEach((t, i) => v.setUint32(24 + i * 4, t, true));
  for (let i = 0; i < strings.length; i++) out[24 + types.length * 4 + i] = strings.charCodeAt(i);
  return out;
}

// libbpf 1.1's map probe attributes per type (key 4, value 4, one entry unless said otherwise).
function mapProbe(type: string): { attr: Partial<MapCreateAttr>; storageBtf?: boolean; inner?: boolean; expect?: number } | undefined {
  switch (type) {
    case "stack_trace": return { attr: { valueSize: 8 } };
    case "lpm_trie": return { attr: { keySize: 8, valueSize: 8, mapFlags: BPF_F_NO_PREALLOC } };
    // struct bpf_cgroup_storage_key: u64 inode id, u32 attach type, padded to 16
    case "cgroup_storage": case "percpu_cgroup_storage": return { attr: { keySize: 16, valueSize: 8, maxEntries: 0 } };
    case "queue": case "stack": return { attr: { keySize: 0 } };
    case "sk_storage": case "inode_storage": case "task_storage": case "cgrp_storage":
      return { attr: { valueSize: 8, maxEntries: 0, mapFlags: BPF_F_NO_PREALLOC, btfKeyTypeId: 1, btfValueTypeId: 3 }, storageBtf: true };
    case "ringbuf": case "user_ringbuf": return { attr: { keySize: 0, valueSize: 0, maxEntries: PAGE_SIZE } };
    // a struct_ops map needs a vmlinux value type: id 1 is none, and ENOTSUPP says the map type exists
    case "struct_ops": return { attr: { btfVmlinuxValueTypeId: 1 }, expect: ENOTSUPP };
    case "bloom_filter": return { attr: { keySize: 0 } };
    case "array_of_maps": case "hash_of_maps": return { attr: {}, inner: true };
    case "hash": case "array": case "prog_array": case "perf_event_array": case "percpu_hash": case "percpu_array":
    case "cgroup_array": case "lru_hash": case "lru_percpu_hash": case "devmap": case "devmap_hash": case "sockmap":
    case "cpumap": case "xskmap": case "sockhash": case "reuseport_sockarray":
      return { attr: {} };
    default: return undefined;
  }
}

/** The host around a backend: what bpftool reads outside bpf(). */
export interface ProbeHost {
  procfs(): boolean;
  sysctl(name: Sysctl): number;
  kernelConfig(): ReturnType<FeatureProber["kernelConfig"]>;
  /** LINUX_VERSION_CODE for kprobe programs */
  readonly kernVersion: number;
}

/** How helper probes are read: libbpf 1.1's way (Linux), or strictly, against an implementation table (the VM). */
export type HelperVerdict = { readonly kind: "libbpf" } | { readonly kind: "implemented"; readonly helpers: HelperTable };

/** libbpf 1.1's probes over a backend. `unprivileged`: an EPERM counts as "no", as bpftool built with libcap counts it. */
class BackendProber implements FeatureProber {
  constructor(
    private readonly backend: Backend, private readonly host: ProbeHost,
    private readonly verdict: HelperVerdict = { kind: "libbpf" }, private readonly unprivileged = false,
  ) {}

  procfs(): boolean { return this.host.procfs(); }
  sysctl(name: Sysctl): number { return this.host.sysctl(name); }
  kernelConfig() { return this.host.kernelConfig(); }

  private load(a: ProgLoadAttr): Attempt {
    try {
      const r = this.backend.progLoad(a);
      this.backend.close(r.fd);
      return { ok: true, errno: 0, log: r.log };
    } catch (e) {
      return { ok: false, errno: errnoOf(e) ?? EINVAL, log: (e as { log?: string }).log ?? "" };
    }
  }

  private create(a: MapCreateAttr): Attempt {
    try {
      this.backend.close(this.backend.mapCreate(a));
      return { ok: true, errno: 0, log: "" };
    } catch (e) {
      return { ok: false, errno: errnoOf(e) ?? EINVAL, log: "" };
    }
  }

  bpfSyscall(): boolean {
    // no program at all: any answer but ENOSYS says the syscall exists
    return this.load({ progType: 0, insns: [] }).errno !== ENOSYS;
  }

  /** libbpf's probe_prog_load: 1 loaded (or failed the expected way), 0 not, undefined for types it cannot probe. */
  private probeLoad(type: number, insns: readonly Insn[], withLog: boolean): { res: boolean | undefined; attempt?: Attempt } {
    const probe = progProbe(PROG_TYPE_NAMES[type] ?? "", this.host.kernVersion);
    if (probe === undefined) return { res: undefined };
    const log = withLog || probe.expect?.log !== undefined;
    const attempt = this.load({ progType: type, insns, license: "GPL", ...(log ? { logLevel: 1, logSize: LOG_SIZE } : {}), ...probe.attr });
    if (probe.expect) {
      const res = !attempt.ok && attempt.errno === probe.expect.errno && (probe.expect.log === undefined || attempt.log.includes(probe.expect.log));
      return { res, attempt };
    }
    return { res: attempt.ok, attempt };
  }

  progType(type: number, ifindex: number): boolean {
    if (ifindex) return this.load({ progType: type, insns: [insn(0xb7, 0, 0, 0, 2), insn(0x95)], license: "GPL", ifindex }).ok;
    const { res, attempt } = this.probeLoad(type, [insn(0xb7), insn(0x95)], false);
    if (this.unprivileged && attempt?.errno === EPERM) return false;
    return res === true;
  }

  mapType(type: number, ifindex: number): boolean {
    const base = { mapType: type, keySize: 4, valueSize: 4, maxEntries: 1 };
    if (ifindex) return this.create({ ...base, ifindex }).ok;
    const probe = mapProbe(MAP_TYPE_NAMES[type] ?? "");
    if (probe === undefined) return false;
    const cleanup: number[] = [];
    try {
      const attr: MapCreateAttr = { ...base, ...probe.attr };
      let extra: Partial<MapCreateAttr> = {};
      if (probe.storageBtf) {
        const btfFd = this.backend.btfLoad(localStorageBtf());
        cleanup.push(btfFd);
        extra = { btfFd };
      }
      if (probe.inner) {
        const inner = this.backend.mapCreate({ ...base, mapType: BPF_MAP_TYPE_HASH });
        cleanup.push(inner);
        extra = { innerMapFd: inner };
      }
      const r = this.create({ ...attr, ...extra });
      return probe.expect !== undefined ? !r.ok && r.errno === probe.expect : r.ok;
    } catch {
      return false;
    } finally {
      for (const fd of cleanup) this.backend.close(fd);
    }
  }

  helper(progType: number, helper: number, ifindex: number): boolean {
    const program = [insn(0x85, 0, 0, 0, helper), insn(0x95)];
    if (ifindex) {
      const a = this.load({ progType, insns: program, license: "GPL", ifindex, logLevel: 1, logSize: LOG_SIZE });
      return !a.log.includes("invalid func ") && !a.log.includes("unknown func ");
    }
    // libbpf cannot load these types without a target, so it does not say
    const name = PROG_TYPE_NAMES[progType];
    if (name === "tracing" || name === "ext" || name === "lsm" || name === "struct_ops") return false;
    const { res, attempt } = this.probeLoad(progType, program, true);
    if (res === undefined || attempt === undefined) return false;
    if (this.verdict.kind === "implemented") {
      return !/invalid func |unknown func |cannot use helper /.test(attempt.log) && (helper === TAIL_CALL /* the VM's own, not a table entry */ || this.verdict.helpers[helper] !== undefined);
    }
    // libbpf 1.1: only "invalid func"/"unknown func" in the log of a failed load says no; anything else, supported
    if (!res && (attempt.log.includes("invalid func ") || attempt.log.includes("unknown func "))) return false;
    return !(this.unprivileged && attempt.errno === EPERM);
  }

  loads(insns: readonly Insn[], ifindex: number): boolean {
    const a = this.load({ progType: SOCKET_FILTER, insns, license: "GPL", ...(ifindex ? { ifindex } : {}) });
    return a.ok;
  }
}

// ---- the Linux host ----

const PROC_SUPER_MAGIC = 0x9fa0;
const SYSCTL_PATHS: Readonly<Record<Sysctl, string>> = {
  unprivileged_bpf_disabled: "/proc/sys/kernel/unprivileged_bpf_disabled",
  bpf_jit_enable: "/proc/sys/net/core/bpf_jit_enable",
  bpf_jit_harden: "/proc/sys/net/core/bpf_jit_harden",
  bpf_jit_kallsyms: "/proc/sys/net/core/bpf_jit_kallsyms",
  bpf_jit_limit: "/proc/sys/net/core/bpf_jit_limit",
};

/** The kernel config's CONFIG_ lines as bpftool reads them: the first value of each name, the text after `=` as is. */
function configValues(text: string): ReadonlyMap<string, string> {
  const values = new Map<string, string>();
  const lines = text.split("\n");
  for (const line of lines) {
    if (!line.startsWith("CONFIG_")) continue;
    const eq = line.indexOf("=");
    if (eq < 0 || eq === line.length - 1) continue;
    const name = line.slice(0, eq);
    if (!values.has(name)) values.set(name, line.slice(eq + 1));
  }
  return values;
}

/** The running Linux host as bpftool reads it. */
const linuxHost: ProbeHost = {
  procfs(): boolean {
    try { return statfsSync("/proc").type === PROC_SUPER_MAGIC; } catch { return false; }
  },
  sysctl(name: Sysctl): number {
    // bpftool reads one line and wants a decimal number ending it
    try {
      const m = /^(-?\d+)\n/.exec(readFileSync(SYSCTL_PATHS[name], "utf8"));
      return m ? Number(m[1]) : -1;
    } catch { return -1; }
  },
  kernelConfig() {
    const c = readKernelConfig();
    if ("errno" in c) return { info: `skipping kernel config, can't open file: ${strerror(ERRNO[c.errno as keyof typeof ERRNO] ?? 2)}` };
    const lines = c.text.split("\n", 2);
    if (lines.length < 2) return { info: "skipping kernel config, can't read from file: Success" };
    if (lines[1] !== "# Automatically generated file; DO NOT EDIT.") return { info: "skipping kernel config, can't find correct file" };
    return { values: configValues(c.text) };
  },
  get kernVersion() { return Number(hostKconfig().LINUX_KERNEL_VERSION ?? 0); },
};

// ---- privileges ----

const CAP_SYS_ADMIN = 21, CAP_NET_ADMIN = 12, CAP_PERFMON = 38, CAP_BPF = 39;
const BPF_CAPS: readonly (readonly [number, string])[] = [
  [CAP_SYS_ADMIN, "CAP_SYS_ADMIN"], [CAP_BPF, "CAP_BPF"], [CAP_NET_ADMIN, "CAP_NET_ADMIN"], [CAP_PERFMON, "CAP_PERFMON"],
];

/**
 * bpftool's handle_perms: a full probe needs all four BPF capabilities (or CAP_SYS_ADMIN on kernels without CAP_BPF);
 * `unprivileged` drops the ones held from the effective set. Returns an error message, or undefined to go on.
 */
function preparePrivileges(unprivileged: boolean): string | undefined {
  let eff = 0n;
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
    eff = m ? BigInt(`0x${m[1]}`) : 0n;
  } catch { /* no procfs: nothing held */ }
  let capBpfKnown = true;
  try { capBpfKnown = Number(readFileSync("/proc/sys/kernel/cap_last_cap", "utf8")) >= CAP_BPF; } catch { /* assume a modern kernel */ }
  const caps = capBpfKnown ? BPF_CAPS : BPF_CAPS.slice(0, 1);
  const held = caps.filter(([c]) => (eff >> BigInt(c)) & 1n);
  if (unprivileged ? held.length === 0 : held.length === caps.length) return undefined;
  if (!unprivileged) {
    if (!capBpfKnown) return `missing ${caps[0]![1]}, required for full feature probing; run as root or use 'unprivileged'`;
    const missing = caps.filter((c) => !held.includes(c)).map(([, n]) => `${n}, `).join("");
    return `missing ${missing}required for full feature probing; run as root or use 'unprivileged'`;
  }
  try {
    dropEffectiveCaps(held.map(([c]) => c));
  } catch (e) {
    return `failed to drop capabilities: ${(e as Error).message}`;
  }
  return undefined;
}

/** The ifindex of a network device as if_nametoindex finds it (its names are below IFNAMSIZ), or undefined. */
export function deviceIndex(name: string): number | undefined {
  if (name.length >= 16 || name.includes("/") || name === "." || name === "..") return undefined;
  try { return ifindex(name); } catch { return undefined; }
}

/**
 * The prober `feature probe` runs: bpfkit's VM with --vm or where bpf() cannot be called (`notice` says so), else the
 * kernel's once the privileges are as asked (`error` when they cannot be).
 */
export async function openProber(vm: boolean, unprivileged: boolean): Promise<{ prober: FeatureProber; notice?: string } | { error: string }> {
  const why = vm ? undefined : nativeUnavailable();
  if (vm || why !== undefined) {
    const { VmSession } = await import("../node/vm-session.ts");
    const { defaultHelpers } = await import("../helpers/index.ts");
    // the session's System itself, not its journaled backend: probes leave nothing behind for the next command
    const system = VmSession.open().system;
    const prober = new BackendProber(system, vmHost(system), { kind: "implemented", helpers: defaultHelpers });
    return why === undefined ? { prober } : { prober, notice: `bpfkit: bpf() cannot be called here (${why}); probing bpfkit's VM\n` };
  }
  const error = preparePrivileges(unprivileged);
  if (error !== undefined) return { error };
  const { linux } = await import("./backend.ts");
  return { prober: new BackendProber(linux, linuxHost, { kind: "libbpf" }, unprivileged) };
}

// ---- bpfkit's VM ----

/**
 * The VM as a host: no sysctls of its own beyond what it does (bpf() open to every user, programs compiled to
 * WebAssembly and named in its kallsyms, no hardening, no JIT memory limit), and the kernel config it models.
 */
function vmHost(backend: Backend): ProbeHost {
  const sysctls: Readonly<Record<Sysctl, number>> = {
    unprivileged_bpf_disabled: 0, bpf_jit_enable: 1, bpf_jit_harden: 0, bpf_jit_kallsyms: 1, bpf_jit_limit: -1,
  };
  return {
    procfs: () => true,
    sysctl: (name) => sysctls[name],
    kernelConfig() {
      const values = new Map<string, string>();
      for (const [k, v] of Object.entries(backend.kconfig() ?? {})) {
        if (k.startsWith("CONFIG_")) values.set(k, typeof v === "string" && !/^[ynm]$/.test(v) ? `"${v}"` : String(v));
      }
      return { values };
    },
    kernVersion: Number(backend.kconfig()?.LINUX_KERNEL_VERSION ?? 0),
  };
}
