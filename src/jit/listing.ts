// `prog dump jited` for the JIT: the WebAssembly text of each compiled function, every run of wasm instructions
// headed by the eBPF instruction (pc and kernel-format disassembly) it came from, as bpftool's jited dump heads native
// code with source lines; `opcodes` adds each wasm instruction's bytes.
import type { Insn } from "../isa/ebpf/insn.ts";
import { formatInsnKernel } from "../isa/ebpf/index.ts";
import { AddressSpace } from "../vm/memory.ts";
import { JitVm } from "./engine.ts";

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");

/** The wasm text of a program as the JIT compiles it (maps stand in as placeholder addresses; checks all on). */
export function jitedText(insns: readonly Insn[], opts: { opcodes?: boolean; name?: string } = {}): string[] {
  const space = new AddressSpace();
  const jit = new JitVm(space, {});
  const placeholder = space.alloc(8, { kind: "map_value", name: "map placeholder", writable: false }).start;
  const prog = jit.load(insns, { name: opts.name ?? "prog", resolve: { map: () => placeholder, mapValue: () => placeholder } });
  const out: string[] = [];
  const module = jit.compile(prog, 0, true);
  for (const fn of module.listing ?? []) {
    out.push(`;; function at pc ${fn.entry} (${module.bytes.length} bytes of wasm in the module)`);
    let pc = -2;
    for (const l of fn.lines) {
      if (l.pc !== pc) {
        pc = l.pc;
        if (pc >= 0 && pc < insns.length) out.push(`; ${String(pc).padStart(4)}: ${formatInsnKernel(insns, pc)}`);
      }
      out.push(opts.opcodes && l.bytes.length ? `${l.text.padEnd(40)} ;; ${hex(l.bytes)}` : l.text);
    }
  }
  return out;
}
