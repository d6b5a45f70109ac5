// Load a clang-built object into bpfkit's VM (maps created, programs verified and loaded) and read its maps.
// Run: clang -O2 -g -target bpf -c examples/count.bpf.c -o count.o && npx tsx examples/object-vm.ts count.o
import { System } from "bpfkit";
import { countPackets } from "./count.ts";

countPackets(new System(), process.argv[2] ?? "count.o");
// sizes[small] = 2, sizes[large] = 1, bytes_by_proto[6] = 1560, bytes_by_proto[17] = 90
