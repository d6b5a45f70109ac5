// The C-like syntaxes: llvm-objdump (`r1 = *(u64 *)(r0 + 0x8)`) and the kernel's (`(63) *(u32 *)(r10 -4) = r1`).

import type { AsmContext } from "./asm-context.ts";

export function assembleCLine(ctx: AsmContext, text: string, column: number): void {
  const word = /^\S+/.exec(text)![0];
  ctx.fail(/^[A-Za-z_]\w*$/.test(word) && !/^[rw]\d+$/.test(word) ? `unknown instruction '${word}'` : `cannot parse '${text}'`, column);
}
