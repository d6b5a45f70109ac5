// `feature probe` as bpftool 7.1 prints it — plain text, `macros [prefix P]` (C #defines) and JSON — written once over a
// FeatureProber, which answers each question for one backend: src/kernel/feature-probe.ts asks the Linux kernel the way
// libbpf 1.1 does, or bpfkit's VM what it supports. The sections, their order, the names and the misc probe programs
// are bpftool's; which program/map types and helpers exist is libbpf 1.1's cut of src/uapi's tables (LIBBPF_1_1).
// Pure: no node: imports.
import { insn, type Insn } from "../isa/ebpf/insn.ts";
import { HELPER_NAMES, MAP_TYPE_NAMES, PROG_TYPE_NAMES } from "../uapi/index.ts";
import { JsonWriter } from "./json-writer.ts";

/**
 * How far libbpf 1.1 (bpftool 7.1's) knows each uapi table: names below these indexes (prog types to syscall, maps to
 * user_ringbuf, attach types to lsm_cgroup, link types to struct_ops, helpers to user_ringbuf_drain).
 */
export const LIBBPF_1_1 = { progTypes: 32, mapTypes: 32, attachTypes: 44, linkTypes: 10, helpers: 210 } as const;

/** The sysctls bpftool reads from /proc/sys, in its order. */
export type Sysctl = "unprivileged_bpf_disabled" | "bpf_jit_enable" | "bpf_jit_harden" | "bpf_jit_kallsyms" | "bpf_jit_limit";

/** One backend's answers to bpftool's questions. ifindex 0: the kernel; else a device (offload). */
export interface FeatureProber {
  /** whether /proc is procfs (bpftool skips the sysctls otherwise) */
  procfs(): boolean;
  /** a /proc/sys value, -1 when it cannot be read */
  sysctl(name: Sysctl): number;
  /** CONFIG_* values as the config file writes them, or why it could not be read (bpftool's info line) */
  kernelConfig(): { readonly values: ReadonlyMap<string, string> } | { readonly info: string };
  bpfSyscall(): boolean;
  progType(type: number, ifindex: number): boolean;
  mapType(type: number, ifindex: number): boolean;
  /** whether `helper` may be called from programs of `progType` (only asked for types progType said yes to) */
  helper(progType: number, helper: number, ifindex: number): boolean;
  /** whether a socket filter made of these instructions loads (bpftool's misc probes) */
  loads(insns: readonly Insn[], ifindex: number): boolean;
}

export interface FeatureProbeOptions {
  /** "kernel"/unspecified print the system configuration; "dev" probes the device `ifindex` only */
  readonly component: "unspec" | "kernel" | "dev";
  readonly ifindex: number;
  readonly full: boolean;
  /** macros mode with this prefix ("" for plain `macros`); undefined for plain text */
  readonly macroPrefix: string | undefined;
  readonly json: boolean;
  readonly pretty: boolean;
}

// bpftool's kernel configuration options in its order; `true`: also dumped as a macro.
const CONFIG_OPTIONS: readonly (readonly [string, boolean?])[] = [
  ["CONFIG_BPF"], ["CONFIG_BPF_SYSCALL"], ["CONFIG_HAVE_EBPF_JIT"], ["CONFIG_BPF_JIT"], ["CONFIG_BPF_JIT_ALWAYS_ON"],
  ["CONFIG_DEBUG_INFO_BTF"], ["CONFIG_DEBUG_INFO_BTF_MODULES"], ["CONFIG_CGROUPS"], ["CONFIG_CGROUP_BPF"],
  ["CONFIG_CGROUP_NET_CLASSID"], ["CONFIG_SOCK_CGROUP_DATA"], ["CONFIG_BPF_EVENTS"], ["CONFIG_KPROBE_EVENTS"],
  ["CONFIG_UPROBE_EVENTS"], ["CONFIG_TRACING"], ["CONFIG_FTRACE_SYSCALLS"], ["CONFIG_FUNCTION_ERROR_INJECTION"],
  ["CONFIG_BPF_KPROBE_OVERRIDE"], ["CONFIG_NET"], ["CONFIG_XDP_SOCKETS"], ["CONFIG_LWTUNNEL_BPF"], ["CONFIG_NET_ACT_BPF"],
  ["CONFIG_NET_CLS_BPF"], ["CONFIG_NET_CLS_ACT"], ["CONFIG_NET_SCH_INGRESS"], ["CONFIG_XFRM"], ["CONFIG_IP_ROUTE_CLASSID"],
  ["CONFIG_IPV6_SEG6_BPF"], ["CONFIG_BPF_LIRC_MODE2"], ["CONFIG_BPF_STREAM_PARSER"], ["CONFIG_NETFILTER_XT_MATCH_BPF"],
  ["CONFIG_BPFILTER"], ["CONFIG_BPFILTER_UMH"], ["CONFIG_TEST_BPF"], ["CONFIG_HZ", true],
];

// The plain-text wording of each sysctl value, as bpftool words it (-1: unreadable; others: "unknown value").
const SYSCTL_TEXT: readonly (readonly [Sysctl, Readonly<Record<number, string>>, (v: number) => string])[] = [
  ["unprivileged_bpf_disabled", {
    0: "bpf() syscall for unprivileged users is enabled",
    1: "bpf() syscall restricted to privileged users (without recovery)",
    2: "bpf() syscall restricted to privileged users (admin can change)",
    [-1]: "Unable to retrieve required privileges for bpf() syscall",
  }, (v) => `bpf() syscall restriction has unknown value ${v}`],
  ["bpf_jit_enable", {
    0: "JIT compiler is disabled",
    1: "JIT compiler is enabled",
    2: "JIT compiler is enabled with debugging traces in kernel logs",
    [-1]: "Unable to retrieve JIT-compiler status",
  }, (v) => `JIT-compiler status has unknown value ${v}`],
  ["bpf_jit_harden", {
    0: "JIT compiler hardening is disabled",
    1: "JIT compiler hardening is enabled for unprivileged users",
    2: "JIT compiler hardening is enabled for all users",
    [-1]: "Unable to retrieve JIT hardening status",
  }, (v) => `JIT hardening status has unknown value ${v}`],
  ["bpf_jit_kallsyms", {
    0: "JIT compiler kallsyms exports are disabled",
    1: "JIT compiler kallsyms exports are enabled for root",
    [-1]: "Unable to retrieve JIT kallsyms export status",
  }, (v) => `JIT kallsyms exports status has unknown value ${v}`],
  ["bpf_jit_limit", {
    [-1]: "Unable to retrieve global memory limit for JIT compiler for unprivileged users",
  }, (v) => `Global memory limit for JIT compiler for unprivileged users is ${v} bytes`],
];

const BPF_MAXINSNS = 4096;
const mov0 = (k: number): Insn => insn(0xb7, 0, 0, 0, k);
const EXIT = insn(0x95);

// bpftool's misc probes: socket filters that load only where the feature exists.
const MISC: readonly (readonly [string, string, string, () => Insn[]])[] = [
  // Linux 5.3: programs past BPF_MAXINSNS
  ["have_large_insn_limit", "Large program size limit", "LARGE_INSN_LIMIT",
    () => [...Array.from({ length: BPF_MAXINSNS }, () => mov0(1)), EXIT]],
  // Linux 5.3: bounded loops (a back edge)
  ["have_bounded_loops", "Bounded loop support", "BOUNDED_LOOPS",
    () => [mov0(10), insn(0x17, 0, 0, 0, 1), insn(0x55, 0, 0, -2, 0), EXIT]],
  // BPF_JLT and friends
  ["have_v2_isa_extension", "ISA extension v2", "V2_ISA_EXTENSION",
    () => [mov0(0), insn(0xa5, 0, 0, 1, 0), mov0(1), EXIT]],
  // BPF_JMP32
  ["have_v3_isa_extension", "ISA extension v3", "V3_ISA_EXTENSION",
    () => [mov0(0), insn(0xa6, 0, 0, 1, 0), mov0(1), EXIT]],
];

// Helpers whose probe writes to the kernel log: probed only in `full` mode.
const NOISY_HELPERS: ReadonlySet<string> = new Set(["trace_printk", "trace_vprintk", "probe_write_user"]);
// Offload (dev NAME) probes only these program and map types.
const OFFLOAD_PROG_TYPES: ReadonlySet<string> = new Set(["sched_cls", "xdp"]);
const OFFLOAD_MAP_TYPES: ReadonlySet<string> = new Set(["hash", "array"]);

/** Runs bpftool's `feature probe` over a prober: what it prints on stdout and stderr. */
export function featureProbe(p: FeatureProber, o: FeatureProbeOptions): { stdout: string; stderr: string } {
  const json = o.json ? new JsonWriter(o.pretty) : undefined;
  const prefix = json ? undefined : o.macroPrefix;
  let out = "", err = "";
  const info = (msg: string): void => { if (!json) err += `${msg}\n`; };
  const section = (jsonTitle: string, plain: string, comment: string): void => {
    if (json) json.name(jsonTitle).startObject();
    else out += `${prefix !== undefined ? comment : plain}\n`;
  };
  const endSection = (): void => { if (json) json.endObject(); else out += "\n"; };
  const bool = (feat: string, plain: string, define: string, res: boolean): void => {
    if (json) json.field(feat, res);
    else if (prefix !== undefined) out += `#define ${prefix}${res ? "" : "NO_"}HAVE_${define}\n`;
    else out += `${plain} is ${res ? "" : "NOT "}available\n`;
  };
  const ifindex = o.component === "dev" ? o.ifindex : 0;

  json?.startObject();
  if (o.component !== "dev") {
    section("system_config", "Scanning system configuration...", "/*** Misc kernel config items ***/");
    if (prefix === undefined) {
      if (p.procfs()) {
        for (const [name, texts, other] of SYSCTL_TEXT) {
          const v = p.sysctl(name);
          if (json) json.field(name, v);
          else out += `${texts[v] ?? other(v)}\n`;
        }
      } else info("/* procfs not mounted, skipping related probes */");
    }
    const config = p.kernelConfig();
    if ("info" in config) info(config.info);
    for (const [name, macro] of CONFIG_OPTIONS) {
      if (prefix !== undefined && !macro) continue;
      const value = "values" in config ? config.values.get(name) : undefined;
      // bpftool's JSON keeps every value a string: its number check looks for a newline the reader already cut
      if (json) {
        if (value === undefined) json.name(name).raw("null");
        else json.field(name, value);
      } else if (prefix !== undefined) out += value !== undefined ? `#define ${prefix}${name} ${value}\n` : `/* ${prefix}${name} is not set */\n`;
      else out += value !== undefined ? `${name} is set to ${value}\n` : `${name} is not set\n`;
    }
    endSection();
  }

  section("syscall_config", "Scanning system call availability...", "/*** System call availability ***/");
  const syscall = p.bpfSyscall();
  bool("have_bpf_syscall", "bpf() syscall", "BPF_SYSCALL", syscall);
  endSection();

  if (syscall) {
    const progTypes = PROG_TYPE_NAMES.slice(1, LIBBPF_1_1.progTypes).map((name, i) => ({ name, type: i + 1, ok: false }));
    section("program_types", "Scanning eBPF program types...", "/*** eBPF program types ***/");
    for (const t of progTypes) {
      if (ifindex && !OFFLOAD_PROG_TYPES.has(t.name)) continue;
      t.ok = p.progType(t.type, ifindex);
      bool(`have_${t.name}_prog_type`, `eBPF program_type ${t.name}`, `${t.name.toUpperCase()}_PROG_TYPE`, t.ok);
    }
    endSection();

    section("map_types", "Scanning eBPF map types...", "/*** eBPF map types ***/");
    MAP_TYPE_NAMES.slice(1, LIBBPF_1_1.mapTypes).forEach((name, i) => {
      if (ifindex && !OFFLOAD_MAP_TYPES.has(name)) return;
      bool(`have_${name}_map_type`, `eBPF map_type ${name}`, `${name.toUpperCase()}_MAP_TYPE`, p.mapType(i + 1, ifindex));
    });
    endSection();

    section("helpers", "Scanning eBPF helper functions...", "/*** eBPF helper functions ***/");
    if (prefix !== undefined) {
      out += "/*\n"
        + ` * Use ${prefix}HAVE_PROG_TYPE_HELPER(prog_type_name, helper_name)\n`
        + " * to determine if <helper_name> is available for <prog_type_name>,\n"
        + " * e.g.\n"
        + ` *\t#if ${prefix}HAVE_PROG_TYPE_HELPER(xdp, bpf_redirect)\n`
        + " *\t\t// do stuff with this helper\n"
        + " *\t#elif\n"
        + " *\t\t// use a workaround\n"
        + " *\t#endif\n"
        + " */\n"
        + `#define ${prefix}HAVE_PROG_TYPE_HELPER(prog_type, helper)\t\\\n`
        + `\t${prefix}BPF__PROG_TYPE_ ## prog_type ## __HELPER_ ## helper\n`;
    }
    for (const t of progTypes) {
      if (ifindex && !OFFLOAD_PROG_TYPES.has(t.name)) continue;
      if (json) json.name(`${t.name}_available_helpers`).startArray();
      else if (prefix === undefined) out += `eBPF helpers supported for program type ${t.name}:`;
      let any = false;
      for (let id = 1; id < LIBBPF_1_1.helpers; id++) {
        const helper = HELPER_NAMES[id]!;
        if (!o.full && NOISY_HELPERS.has(helper)) continue;
        const res = t.ok && p.helper(t.type, id, ifindex);
        any ||= res;
        if (json) { if (res) json.string(`bpf_${helper}`); }
        else if (prefix !== undefined) out += `#define ${prefix}BPF__PROG_TYPE_${t.name}__HELPER_bpf_${helper} ${res ? 1 : 0}\n`;
        else if (res) out += `\n\t- bpf_${helper}`;
      }
      if (json) json.endArray();
      else if (prefix === undefined) {
        out += "\n";
        if (!any) out += t.ok ? "\tCould not determine which helpers are available\n" : "\tProgram type not supported\n";
      }
    }
    endSection();

    section("misc", "Scanning miscellaneous eBPF features...", "/*** eBPF misc features ***/");
    for (const [feat, plain, define, program] of MISC) bool(feat, plain, define, p.loads(program(), ifindex));
    endSection();
  }
  if (json) out += json.endObject().finish();
  return { stdout: out, stderr: err };
}
