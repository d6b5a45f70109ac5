// The VM kernel's /proc/kallsyms: addresses for the kernel functions a rewritten program calls (helpers, map ops),
// the variables it reads (jiffies, cpu_number) and each loaded (sub)program's image (bpf_prog_TAG_NAME), so the
// listings resolve `call` lines and jited_ksyms exactly as bpftool does against Linux. The addresses are bpfkit's
// own: only the names can match the kernel's.

/** What bpftool's kernel_syms_load reads: __bpf_call_base and a symbol per address. */
export interface KernelSymbolTable {
  readonly callBase: bigint;
  readonly byAddress: ReadonlyMap<bigint, string>;
}

const CALL_BASE = 0xffffffff81200000n;
const PROG_BASE = 0xffffffffc0000000n;

export class KernelSymbols implements KernelSymbolTable {
  readonly callBase = CALL_BASE;
  readonly byAddress = new Map<bigint, string>([[CALL_BASE, "__bpf_call_base"]]);
  private readonly byName = new Map<string, bigint>();
  private nextFn = CALL_BASE + 0x10000n;
  private nextProg = PROG_BASE;

  /** The address of a kernel function or variable, allocated on first use. */
  address(name: string): bigint {
    let a = this.byName.get(name);
    if (a === undefined) {
      a = this.nextFn;
      this.nextFn += 0x40n;
      this.byName.set(name, a);
      this.byAddress.set(a, name);
    }
    return a;
  }

  /** A call instruction's imm for a kernel function: its address minus __bpf_call_base. */
  callImm(name: string): number {
    return Number(this.address(name) - CALL_BASE);
  }

  /** Registers a program image symbol; returns its address. */
  addProgram(name: string): bigint {
    const a = this.nextProg;
    this.nextProg += 0x1000n;
    this.byAddress.set(a, name);
    return a;
  }

  removeProgram(address: bigint): void {
    this.byAddress.delete(address);
  }
}
