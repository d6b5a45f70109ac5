// uprobes on JavaScript functions: uprobe(sys, "name", fn) returns a wrapper that, on each call, runs the programs
// attached at uprobe:name with the arguments as pt_regs (x86-64 calling convention: rdi, rsi, rdx, rcx, r8, r9), calls
// fn, then runs uretprobe:name programs with the return value in rax. Numbers, bigints and booleans pass as values;
// strings and byte arrays are copied into VM memory and pass as pointers (readable with bpf_probe_read_user).
import type { System } from "../system.ts";
import { PT_REGS_SIZE } from "../layouts.ts";
import { fireHook } from "./hook.ts";

/** struct pt_regs offsets on x86-64 */
export const PT_REGS = {
  r15: 0, r14: 8, r13: 16, r12: 24, bp: 32, bx: 40, r11: 48, r10: 56, r9: 64, r8: 72, ax: 80, cx: 88, dx: 96,
  si: 104, di: 112, orig_ax: 120, ip: 128, cs: 136, flags: 144, sp: 152, ss: 160,
} as const;

export type RegValues = Partial<Record<keyof typeof PT_REGS, bigint | number>>;

const ARG_REGS = ["di", "si", "dx", "cx", "r8", "r9"] as const;

/** pt_regs bytes with the given registers set. */
export function encodeRegs(regs: RegValues): Uint8Array {
  const b = new Uint8Array(PT_REGS_SIZE);
  const dv = new DataView(b.buffer);
  for (const [k, v] of Object.entries(regs)) {
    if (v !== undefined) dv.setBigUint64(PT_REGS[k as keyof typeof PT_REGS], BigInt.asUintN(64, BigInt(v)), true);
  }
  return b;
}

function fire(sys: System, hook: string, regs: RegValues, cpu: number): void {
  if (sys.attached(hook).length) fireHook(sys, hook, encodeRegs(regs), cpu, "pt_regs");
}

const asReg = (v: unknown): bigint | undefined =>
  typeof v === "number" ? BigInt(Math.trunc(v)) : typeof v === "bigint" ? v : typeof v === "boolean" ? (v ? 1n : 0n) : undefined;

/** Wraps `fn` so that calling it fires uprobe:`name` (arguments) and uretprobe:`name` (return value). */
export function uprobe<A extends unknown[], R>(sys: System, name: string, fn: (...args: A) => R, opts: { cpu?: number } = {}): (...args: A) => R {
  const cpu = opts.cpu ?? 0;
  return (...args: A): R => {
    const regs: RegValues = {};
    const regions = [];
    try {
      for (let i = 0; i < Math.min(args.length, ARG_REGS.length); i++) {
        const a = args[i];
        let v = asReg(a);
        if (v === undefined && (typeof a === "string" || a instanceof Uint8Array)) {
          const bytes = typeof a === "string" ? new TextEncoder().encode(`${a}\0`) : a;
          const r = sys.space.alloc(Math.max(1, bytes.length), { kind: "scratch", name: `${name} arg ${i}`, writable: false });
          sys.space.u8.set(bytes, r.start);
          regions.push(r);
          v = BigInt(r.start);
        }
        regs[ARG_REGS[i]!] = v ?? 0n;
      }
      fire(sys, `uprobe:${name}`, regs, cpu);
    } finally {
      for (const r of regions) sys.space.release(r);
    }
    const ret = fn(...args);
    fire(sys, `uretprobe:${name}`, { ax: asReg(ret) ?? 0n }, cpu);
    return ret;
  };
}
