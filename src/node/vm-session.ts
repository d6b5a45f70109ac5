// A VM System that outlives one `bpfkit --vm ...` command: what the commands did to it (objects loaded and pinned)
// is kept in a small journal file and replayed by the next command, so `bpfkit --vm prog load X.o /sys/fs/bpf/x`
// followed by `bpfkit --vm prog show` lists the program as bpftool lists it after `bpftool prog load`. Replaying
// the same steps in order gives the same ids, tags and load times; map contents start from the object's initial data.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { tmpdir } from "node:os";
import { BpfError } from "../errors.ts";
import { System, loadAndPin } from "../runtime/index.ts";
import type { Btf } from "../btf/parse.ts";
import { btfFromFileBytes } from "../object/btf-file.ts";
import { hostKconfig } from "../kernel/kconfig.ts";

/** One step of the journal: an object loaded, its first program (or all, under a directory) pinned. */
interface LoadStep {
  readonly op: "load" | "loadall";
  readonly file: string;
  readonly path: string;
  /** CLOCK_BOOTTIME ns at load, replayed as the programs' load_time */
  readonly bootNs: string;
}

interface Journal {
  readonly steps: LoadStep[];
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

  private constructor(readonly file: string) {
    this.journal = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Journal) : { steps: [] };
    // the VM models this host: its CPUs, its BTF for CO-RE, its kconfig
    this.system = new System({
      nCpus: possibleCpus(), uid: process.getuid?.() ?? 0, bootNs: () => this.clock ?? bootNs(),
      kernelBtf: hostBtf(), kconfig: hostKconfig(),
    });
    for (const step of this.journal.steps) this.apply(step);
  }

  /** The session in `file` (default sessionFile()), with every recorded step replayed. */
  static open(file = sessionFile()): VmSession {
    return new VmSession(file);
  }

  private apply(step: LoadStep): void {
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
    mkdirSync(dirname(this.file), { recursive: true });
    writeFileSync(this.file, JSON.stringify(this.journal, null, 1));
  }
}
