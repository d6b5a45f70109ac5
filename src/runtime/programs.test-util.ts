// Small programs the runtime's tests and benches share, assembled against a map fd: `accumulate` adds r6 (set by
// `load`, e.g. a context field) into the u64 at key 0 of an array map.
import { assemble } from "../isa/ebpf/index.ts";
import type { Insn } from "../isa/ebpf/insn.ts";

export function accumulateInsns(mapFd: number, load = "mov r6, 1"): Insn[] {
  return assemble(`
    ${load}
    mov r1, 0
    stxw [r10-4], r1
    mov r2, r10
    add r2, -4
    lddw r1, 0
    call 1
    jeq r0, 0, +1
    lock *(u64 *)(r0 + 0) += r6
    mov r0, 0
    exit`).map((x) => (x.code === 0x18 && x.dst === 1 && x.src === 0 && x.imm === 0 ? { ...x, src: 1, imm: mapFd } : x));
}
