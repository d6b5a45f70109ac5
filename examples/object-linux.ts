// The same object, the same calls, in the running kernel: linuxBackend() is bpf(2) (Node, root).
// Run: clang -O2 -g -target bpf -c examples/count.bpf.c -o count.o && sudo npx tsx examples/object-linux.ts count.o
import { linuxBackend } from "bpfkit";
import { countPackets } from "./count.ts";

if (process.getuid?.() !== 0) {
  console.log("skipped: loading into the kernel needs root");
} else {
  countPackets(await linuxBackend(), process.argv[2] ?? "count.o");
}
