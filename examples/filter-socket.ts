// Compile a tcpdump filter to classic BPF (as libpcap does), run it on packets in JavaScript, and attach it to a
// packet socket in the kernel (root). Run: npx tsx examples/filter-socket.ts 'udp port 53'
import { compileFilter, runCbpf } from "bpfkit";
import { cbpf } from "bpfkit/isa";

const { insns } = compileFilter(process.argv[2] ?? "udp port 53");
console.log(cbpf.disassembleCbpf(insns));

// Ethernet + IPv4 + UDP to port 53, and the same to port 80: the filter accepts the first (snap length), not the second.
const udp = (port: number): Uint8Array => {
  const p = new Uint8Array(42);
  p.set([0x08, 0x00], 12); p[14] = 0x45; p[23] = 17; p.set([port >> 8, port & 0xff], 36);
  return p;
};
console.log(`port 53: ${runCbpf(insns, udp(53))}, port 80: ${runCbpf(insns, udp(80))}`);

if (process.getuid?.() !== 0) {
  console.log("skipped: a packet socket needs root");
} else {
  const { openSocket, attachClassicFilter, closeNativeFd } = await import("bpfkit/linux");
  const AF_PACKET = 17, SOCK_RAW = 3, ETH_P_ALL_BE = 0x0300;
  const fd = openSocket(AF_PACKET, SOCK_RAW, ETH_P_ALL_BE);
  attachClassicFilter(fd, insns); // setsockopt(SO_ATTACH_FILTER): the kernel checked and accepted it
  console.log(`attached ${insns.length} instructions to packet socket ${fd}`);
  closeNativeFd(fd);
}
