// Naming helper calls of a kernel's xlated image as bpftool does: the kernel stores the helper's offset from
// __bpf_call_base in imm, and bpftool looks up __bpf_call_base + imm in /proc/kallsyms (first name at an address).
import { readFileSync } from "node:fs";

/** A callTarget-style lookup: imm of a helper call in an xlated image → the kernel symbol it calls. */
export function kallsymsCallTarget(): (imm: number) => string | undefined {
  const byAddr = new Map<bigint, string>();
  let base = 0n;
  for (const line of readFileSync("/proc/kallsyms", "utf8").split("\n")) {
    const [addr, , name] = line.split(/\s+/);
    if (!name || !addr) continue;
    const a = BigInt("0x" + addr);
    if (name === "__bpf_call_base") base = a;
    if (!byAddr.has(a)) byAddr.set(a, name);
  }
  return (imm) => byAddr.get(BigInt.asUintN(64, base + BigInt(imm)));
}
