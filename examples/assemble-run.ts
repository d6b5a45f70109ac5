// Assemble eBPF and run it on bpfkit's VM: the program is verified on load, as BPF_PROG_LOAD does, then test-run
// over a packet (BPF_PROG_TEST_RUN). Run: npx tsx examples/assemble-run.ts
import { System, assemble, disassembleKernel, loadProgram } from "bpfkit";

const insns = assemble(`
  r2 = *(u32 *)(r1 + 0)
  r3 = *(u32 *)(r1 + 4)
  r0 = r3
  r0 -= r2
  exit
`); // an XDP program returning the packet's length (data_end - data)

const sys = new System();
const prog = loadProgram(sys, insns, { type: "xdp", name: "pkt_len" });
const { retval } = prog.testRun(new Uint8Array(64));
console.log(disassembleKernel(insns).join("\n"));
console.log(`${prog.info().tag}: returned ${retval}`); // returned 64
prog.close();
