// Shared by object-vm.ts and object-linux.ts: load count.o (clang -O2 -g -target bpf -c examples/count.bpf.c -o count.o)
// into a backend, run its XDP program over three packets, and read both maps back.
import { readFileSync } from "node:fs";
import { openObject } from "bpfkit";
import type { Backend } from "bpfkit";

export function countPackets(backend: Backend, objectFile: string): void {
  const obj = openObject(backend, new Uint8Array(readFileSync(objectFile)));
  try {
    const prog = obj.programs.get("count")!;
    const packet = (len: number, proto: number): Uint8Array => {
      const p = new Uint8Array(len);
      p[12] = 0x08; p[14] = 0x45; p[23] = proto; // IPv4, protocol byte
      return p;
    };
    for (const p of [packet(60, 6), packet(1500, 6), packet(90, 17)]) prog.testRun(p);

    const u32 = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset).getUint32(0, true);
    const u64 = (b: Uint8Array): bigint => new DataView(b.buffer, b.byteOffset).getBigUint64(0, true);
    const sizes = obj.maps.get("sizes")!;
    for (const [k, v] of sizes.entries()) console.log(`sizes[${u32(k) ? "large" : "small"}] = ${u64(v)}`);
    const bytes = [...obj.maps.get("bytes_by_proto")!.entries()].map(([k, v]) => [u32(k), u64(v)] as const);
    for (const [proto, n] of bytes.sort((a, b) => a[0] - b[0])) console.log(`bytes_by_proto[${proto}] = ${n}`);
  } finally {
    obj.close();
  }
}
