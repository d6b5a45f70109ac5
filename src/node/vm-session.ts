// A VM System that outlives one `bpfkit --vm ...` command: what the commands did to it (objects loaded and pinned,
// maps created, updated, popped, frozen, pinned) is kept in a small journal file and replayed by the next command, so
// `bpfkit --vm prog load X.o /sys/fs/bpf/x`, `bpfkit --vm map update …` and then `bpfkit --vm map dump …` show what
// bpftool shows after the same commands on Linux. Replaying the same steps in order gives the same fds, ids, tags
// and load times; at the end of each replayed command the fds it left open are closed, as its process exit did.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { tmpdir } from "node:os";
import { BpfError } from "../errors.ts";
import { System, loadAndPin } from "../runtime/index.ts";
import type { Btf } from "../btf/parse.ts";
import { btfFromFileBytes } from "../object/btf-file.ts";
import { hostKconfig } from "../kernel/kconfig.ts";
import { deviceSpec, type DeviceSpec } from "../runtime/netdev.ts";
import { nativeUnavailable } from "../kernel/libc.ts";
import { rtnetlinkLinux } from "../kernel/netlink.ts";
import { NLM_F_DUMP, NLM_F_REQUEST, RTM_NEWLINK, linkDumpRequest, parseLink, parseMessages, type NetDevice } from "../netlink/index.ts";

/** One step of the journal: an object loaded, its first program (or all, under a directory) pinned. */
interface LoadStep {
  readonly op: "load" | "loadall";
  readonly file: string;
  readonly path: string;
  /** CLOCK_BOOTTIME ns at load, replayed as the programs' load_time */
  readonly bootNs: string;
}

/** One bpf() command a CLI command ran on the session's backend, with its arguments (bytes as hex). */
interface CallStep {
  readonly op: "call";
  /** which command (process) it belonged to: its fds are closed after its last step, as that process's exit did */
  readonly group: number;
  readonly name: string;
  readonly args: unknown[];
}

type Step = LoadStep | CallStep;

interface Journal {
  readonly steps: Step[];
  groups?: number;
}

// Backend methods that change the session's state (or allocate fds that later recorded calls name): recorded.
const RECORDED = new Set([
  "mapCreate", "mapUpdateElem", "mapDeleteElem", "mapLookupAndDeleteElem", "mapFreeze", "mapUpdateBatch",
  "mapDeleteBatch", "mapLookupAndDeleteBatch", "objPin", "objGet", "getFdById", "linkDetach", "close", "rtnetlink",
]);
// ... except rtnetlink dumps (NLM_F_DUMP requests), which only read, and requests that do not parse, which do nothing
function readsOnly(name: string, args: unknown[]): boolean {
  if (name !== "rtnetlink" || !(args[0] instanceof Uint8Array)) return false;
  const m = parseMessages(args[0])[0];
  return m === undefined || ((m.flags & NLM_F_REQUEST) !== 0 && (m.flags & NLM_F_DUMP) === NLM_F_DUMP);
}
// ... of which these only allocate an fd: a command that did nothing else leaves no trace in the journal
const FD_ONLY = new Set(["objGet", "getFdById", "close"]);
const FD_ALLOCATING = new Set(["mapCreate", "objGet", "getFdById"]);

function encode(v: unknown): unknown {
  if (v instanceof Uint8Array) return { hex: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex") };
  if (typeof v === "bigint") return { big: v.toString() };
  if (Array.isArray(v)) return v.map(encode);
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encode(x)]));
  return v;
}

function decode(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decode);
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (typeof o.hex === "string" && Object.keys(o).length === 1) return new Uint8Array(Buffer.from(o.hex, "hex"));
    if (typeof o.big === "string" && Object.keys(o).length === 1) return BigInt(o.big);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, decode(x)]));
  }
  return v;
}

/** Where the journal lives: $BPFKIT_VM_STATE, else a per-user file in the temp directory. */
export function sessionFile(): string {
  return process.env.BPFKIT_VM_STATE ?? join(tmpdir(), `bpfkit-vm-${process.getuid?.() ?? "user"}.json`);
}

/** The host's possible CPUs (/sys/devices/system/cpu/possible, "0-N"), so per-CPU sizes match the kernel's. */
function possibleCpus(): number {
  try {
    const last = readFileSync("/sys/devices/system/cpu/possible", "utf8").trim().split(/[-,]/).pop();
    return Number(last) + 1 || 1;
  } catch {
    return 1;
  }
}

function hostBtf(): Btf | undefined {
  try { return btfFromFileBytes(readFileSync("/sys/kernel/btf/vmlinux")); } catch { return undefined; }
}

/** This host's (network namespace's) devices, as the VM's: names, indexes, native XDP by link kind; lo without netlink. */
function hostDevices(): DeviceSpec[] | undefined {
  try {
    if (nativeUnavailable() !== undefined) return undefined;
    return rtnetlinkLinux(linkDumpRequest(1)).flatMap((m) => parseMessages(m)).filter((m) => m.type === RTM_NEWLINK)
      .map(parseLink).filter((d): d is NetDevice => d !== undefined).map(deviceSpec);
  } catch {
    return undefined;
  }
}

function bootNs(): bigint {
  // CLOCK_BOOTTIME as the kernel stamps load_time; without libc access, the monotonic clock since process start
  try {
    const s = readFileSync("/proc/uptime", "utf8").split(" ")[0]!;
    return BigInt(Math.round(Number(s) * 1e9));
  } catch {
    return BigInt(Math.round(performance.now() * 1e6));
  }
}

export class VmSession {
  readonly system: System;
  private readonly journal: Journal;
  private clock: bigint | undefined;
  /** this command's group number, given when its first call is recorded */
  private group: number | undefined;
  private pending: CallStep[] = [];

  private constructor(readonly file: string) {
    this.journal = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Journal) : { steps: [] };
    // the VM models this host: its CPUs, its BTF for CO-RE, its kconfig
    this.system = new System({
      nCpus: possibleCpus(), uid: process.getuid?.() ?? 0, bootNs: () => this.clock ?? bootNs(),
      kernelBtf: hostBtf, kconfig: hostKconfig(), devices: hostDevices(),
    });
    let open: number[] = [], group: number | undefined;
    const endGroup = () => {
      for (const fd of open) { try { this.system.close(fd); } catch { /* closed by a recorded close */ } }
      open = [];
    };
    for (const step of this.journal.steps) {
      if (step.op !== "call") { endGroup(); this.apply(step); continue; }
      if (step.group !== group) { endGroup(); group = step.group; }
      const r = (this.system as unknown as Record<string, (...a: unknown[]) => unknown>)[step.name]!.apply(this.system, decode(step.args) as unknown[]);
      if (FD_ALLOCATING.has(step.name)) open.push(r as number);
    }
    endGroup();
  }

  /**
   * The session's System as a Backend whose state-changing bpf() commands are journaled for the next command (a
   * command that only reads leaves the journal as it was).
   */
  backend(): System {
    const target = this.system as unknown as Record<string, unknown>;
    return new Proxy(this.system, {
      get: (sys, name, recv) => {
        const f = Reflect.get(sys, name, recv) as unknown;
        if (typeof f !== "function") return f;
        if (typeof name !== "string" || !RECORDED.has(name)) return (f as (...a: unknown[]) => unknown).bind(sys);
        return (...args: unknown[]) => {
          const r = (f as (...a: unknown[]) => unknown).apply(target, args);
          if (!readsOnly(name, args)) this.record(name, args);
          return r;
        };
      },
    });
  }

  private record(name: string, args: unknown[]): void {
    this.group ??= (this.journal.groups ?? 0) + 1;
    // the out-buffer of lookup-and-delete is replayed as a fresh buffer of the same size
    this.pending.push({ op: "call", group: this.group, name, args: args.map(encode) });
    if (FD_ONLY.has(name)) return;
    this.journal.groups = this.group;
    this.journal.steps.push(...this.pending);
    this.pending = [];
    this.save();
  }

  private save(): void {
    mkdirSync(dirname(this.file), { recursive: true });
    writeFileSync(this.file, JSON.stringify(this.journal, null, 1));
  }

  /** The session in `file` (default sessionFile()), with every recorded step replayed. */
  static open(file = sessionFile()): VmSession {
    return new VmSession(file);
  }

  private apply(step: LoadStep): void {
    this.pending = [];
    this.clock = BigInt(step.bootNs);
    try {
      let bytes: Uint8Array;
      try { bytes = new Uint8Array(readFileSync(step.file)); } catch {
        throw new BpfError("ENOENT", `VM session ${this.file}: object '${step.file}' is gone (remove the session file to start over)`);
      }
      loadAndPin(this.system, bytes, step.file, step.op, step.path);
    } finally {
      this.clock = undefined;
    }
  }

  /** `prog load FILE PATH` / `prog loadall FILE DIR`, recorded for the next command. */
  load(op: "load" | "loadall", file: string, path: string): void {
    const step: LoadStep = { op, file: resolve(file), path, bootNs: String(bootNs()) };
    this.apply(step);
    this.journal.steps.push(step);
    this.save();
  }
}
