// Explanation mode: turns a rejection into the path taken to the failing instruction and a hint at what would make
// the program pass, keyed on the kernel's message (the messages are greppable literals, so the hints are too).
import type { Insn } from "../isa/ebpf/insn.ts";
import { formatInsnKernel } from "../isa/ebpf/disasm-kernel.ts";
import type { VerifyResult } from "./verify.ts";

const HINTS: readonly [RegExp, string][] = [
  [/^R(\d+) !read_ok/, "R$1 is read before any instruction writes it on this path; initialize it first"],
  [/invalid mem access 'scalar'/, "the register holds a number, not a pointer; only ctx, stack, map values, packets and memory can be dereferenced"],
  [/invalid mem access '\w+_or_null'/, "the pointer may be NULL: test it (`if rX == 0 goto ...`) before the access"],
  [/invalid access to map value/, "the access leaves the map value: keep offset + size within value_size (bound variable offsets with a compare)"],
  [/invalid access to packet|offset is outside of the packet/, "prove the bytes exist first: compare `data + N` against `data_end` before reading N bytes"],
  [/(min|max) value is outside of the allowed memory range/, "the offset can leave the object: bound it (compare, or `&=` with a mask) so offset + size stays inside"],
  [/min value is negative/, "the offset may be negative: bound it from below (unsigned compare or `&=` with a mask)"],
  [/unbounded memory access/, "the offset has no upper bound: add `if rX > N goto out` or `rX &= mask` before using it"],
  [/invalid (read from|write to) stack/, "stack accesses must stay within fp-512 .. fp-1"],
  [/invalid bpf_context access/, "this program type's context has no field at that offset/size, or it is read-only"],
  [/Unreleased reference/, "every bpf_ringbuf_reserve must reach bpf_ringbuf_submit or bpf_ringbuf_discard on every path"],
  [/back-edge from insn/, "loops need CAP_BPF; unprivileged programs must be loop-free"],
  [/unreachable insn/, "remove the dead instructions or jump to them"],
  [/infinite loop detected/, "the loop's state does not change between iterations; make the exit condition depend on a changing counter"],
  [/BPF program is too large/, "too many paths: bound loops more tightly or reduce branching"],
  [/cannot use helper/, "this helper is not available to this program type"],
  [/jump out of range/, "a jump target lies outside the program or its subprogram"],
];

/** A human explanation of a result: verdict, the path to the failing instruction, and a hint. */
export function explain(insns: readonly Insn[], result: VerifyResult): string {
  if (result.accepted) return `accepted after ${result.processed} processed instructions`;
  const err = result.error!;
  const lines = [`rejected at insn ${err.pc}: ${err.message}`];
  const path = result.failingPath ?? [];
  if (path.length) {
    lines.push("path taken:");
    const shown = path.length > 40 ? path.slice(-40) : path;
    if (shown.length < path.length) lines.push(`  ... ${path.length - shown.length} earlier instructions`);
    for (const pc of shown) lines.push(`  ${pc}: ${formatInsnKernel(insns, pc)}`);
  }
  const hint = HINTS.find(([re]) => re.test(err.message));
  if (hint) lines.push(`to pass: ${err.message.replace(hint[0], hint[1]) === err.message ? hint[1] : hint[1].replace("$1", err.message.match(hint[0])?.[1] ?? "")}`);
  return lines.join("\n");
}
