// The outside world as helpers see it: clocks, the current task, the CPU, randomness, memory that probe_read
// may read, and where trace_printk output goes. Injected so tests are deterministic and browsers need no Node.

export interface HelperEnv {
  /** CLOCK_MONOTONIC in ns (bpf_ktime_get_ns). */
  ktimeNs(): bigint;
  /** CLOCK_BOOTTIME in ns (bpf_ktime_get_boot_ns). */
  bootNs(): bigint;
  /** tgid << 32 | pid as bpf_get_current_pid_tgid returns it. */
  pid: number;
  tgid: number;
  uid: number;
  gid: number;
  /** Task name, at most 15 bytes are visible (TASK_COMM_LEN 16 with the NUL). */
  comm: string;
  /** 32 random bits (bpf_get_prandom_u32). */
  random(): number;
  /**
   * Memory outside the address space that probe_read may read (kernel or user addresses), or undefined when the
   * address is not readable: the helper then zero-fills and returns -EFAULT, as the kernel does.
   */
  readForeign(addr: bigint, size: number, user: boolean): Uint8Array | undefined;
  /** One line of trace_printk output (without the trace_pipe prefix), as it would appear in trace_pipe. */
  tracePrint(line: string): void;
  /** Stack of instruction pointers for get_stackid/get_stack, innermost first. */
  stack(): ArrayLike<bigint>;
  /** The current task's cgroup v2 id (bpf_get_current_cgroup_id); default 1, the root cgroup. */
  cgroupId?: number;
}

/** A deterministic environment: fixed clock that advances 1000 ns per read, fixed task, xorshift random. */
export function deterministicEnv(overrides: Partial<HelperEnv> = {}): HelperEnv & { readonly printed: string[] } {
  let clock = 1_000_000_000n;
  let seed = 0x12345678;
  const printed: string[] = [];
  const env: HelperEnv & { printed: string[] } = {
    ktimeNs: () => (clock += 1000n),
    bootNs: () => (clock += 1000n),
    pid: 4242,
    tgid: 4242,
    uid: 1000,
    gid: 1000,
    comm: "bpfkit",
    random: () => {
      seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
      return seed >>> 0;
    },
    readForeign: () => undefined,
    tracePrint: (line) => { printed.push(line); },
    stack: () => [],
    printed,
    ...overrides,
  };
  return env;
}

/** An environment backed by the host: performance.now for clocks, Math.random; comm/pid are placeholders. */
export function hostEnv(overrides: Partial<HelperEnv> = {}): HelperEnv {
  const origin = BigInt(Math.round(Date.now() * 1e6)) - BigInt(Math.round(performance.now() * 1e6));
  const now = (): bigint => origin + BigInt(Math.round(performance.now() * 1e6));
  return {
    ktimeNs: now,
    bootNs: now,
    pid: 1, tgid: 1, uid: 0, gid: 0,
    comm: "bpfkit",
    random: () => (Math.random() * 0x100000000) >>> 0,
    readForeign: () => undefined,
    tracePrint: () => {},
    stack: () => [],
    ...overrides,
  };
}
