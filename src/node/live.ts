// Live capture for `bpfkit tcpdump -i` (Node edge): an AF_PACKET socket with the compiled filter attached in the
// kernel, packets printed (or written with -w) as they arrive, and tcpdump's closing counts from the kernel's
// PACKET_STATISTICS. Without Linux, root or koffi it says live capture needs the kernel.
import { readFileSync, readdirSync } from "node:fs";
import type { PrintOptions } from "../decode/index.ts";
import { PacketPrinter } from "../decode/index.ts";
import { compileFilter, cookedKernelProgram, linkTypeByName } from "../filter/index.ts";
import { runCbpf } from "../cbpf/index.ts";
import { BPF_RET, bpfStmt, encodeCbpf, type CbpfInsn } from "../isa/cbpf/insn.ts";
import { PcapDumpFile } from "./pcap-dump.ts";

export interface LiveOptions {
  readonly device: string | undefined;
  readonly expr: string;
  readonly optimize: boolean;
  readonly snaplen: number;
  readonly count: number;
  readonly print: PrintOptions;
  readonly write: string | undefined;
  readonly countOnly: boolean;
  readonly promisc: boolean;
  readonly direction: string | undefined;
  readonly perPacket: boolean;
  readonly listLinkTypes: boolean;
  readonly linktype: string | undefined;
  readonly hosts: ReadonlyMap<string, string>;
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
  readonly onError: (text: string) => never;
}

const plural = (n: number): string => (n === 1 ? "" : "s");

function ifindexOf(name: string): number | null {
  try {
    return Number(readFileSync(`/sys/class/net/${name}/ifindex`, "latin1"));
  } catch {
    return null;
  }
}

/** pcap_findalldevs' first choice, roughly: the first interface that is up and not loopback. */
function defaultDevice(): string | undefined {
  try {
    const names = readdirSync("/sys/class/net").sort();
    return names.find((n) => n !== "lo" && readFileSync(`/sys/class/net/${n}/operstate`, "latin1").trim() === "up") ?? names[0];
  } catch {
    return undefined;
  }
}

/** The cooked header libpcap builds from the sender's sockaddr_ll, then the packet, cut at the snapshot length. */
function cookedFrame(kind: "LINUX_SLL" | "LINUX_SLL2", sll: Uint8Array, data: Uint8Array, snaplen: number): Uint8Array {
  const v2 = kind === "LINUX_SLL2";
  const hdrlen = v2 ? 20 : 16;
  const out = new Uint8Array(Math.min(hdrlen + data.length, snaplen));
  // sockaddr_ll: family(2) protocol(2, network order) ifindex(4) hatype(2) pkttype(1) halen(1) addr(8)
  const halen = Math.min(sll[11]!, 8);
  if (v2) {
    out[0] = sll[2]!; out[1] = sll[3]!;
    out[4] = sll[7]!; out[5] = sll[6]!; out[6] = sll[5]!; out[7] = sll[4]!;
    out[8] = sll[9]!; out[9] = sll[8]!;
    out[10] = sll[10]!;
    out[11] = sll[11]!;
    out.set(sll.subarray(12, 20), 12);
  } else {
    // v1: pkttype(2) hatype(2) halen(2) addr(8) protocol(2), all in network order
    out[1] = sll[10]!;
    out[2] = sll[9]!; out[3] = sll[8]!;
    out[5] = sll[11]!;
    out.set(sll.subarray(12, 12 + halen), 6);
    out[14] = sll[2]!; out[15] = sll[3]!;
  }
  out.set(data.subarray(0, out.length - hdrlen), hdrlen);
  return out;
}

/**
 * A classic program as an eBPF socket_filter program in the kernel (its fd; the socket keeps its own reference), or
 * null when it reads an ancillary field __sk_buff does not offer.
 */
export async function loadSocketFilter(insns: readonly CbpfInsn[]): Promise<{ progFd: number; close(): void } | null> {
  const { cbpfToSocketFilter } = await import("../cbpf/index.ts");
  const { progLoad, closeFd } = await import("../kernel/index.ts");
  const ebpf = cbpfToSocketFilter(insns);
  if (ebpf === null) return null;
  const { fd } = progLoad({ progType: 1, insns: ebpf, license: "GPL", name: "bpfkit_tcpdump" });
  return { progFd: fd, close: () => closeFd(fd) };
}

let names: Map<number, string> | null = null;

/** if_indextoname through sysfs (re-read once when an index is new: interfaces come and go). */
function interfaceName(index: number): string | undefined {
  const scan = (): Map<number, string> => {
    const m = new Map<number, string>();
    try { for (const n of readdirSync("/sys/class/net")) { const i = ifindexOf(n); if (i !== null) m.set(i, n); } } catch { /* no sysfs */ }
    return m;
  };
  names ??= scan();
  if (!names.has(index)) names = scan();
  return names.get(index);
}

export async function liveCapture(o: LiveOptions): Promise<number> {
  const { nativeUnavailable } = await import("../kernel/index.ts");
  const why = nativeUnavailable();
  if (why !== undefined) return o.onError(`live capture needs the kernel: ${why}`);
  const device = o.device ?? defaultDevice();
  if (device === undefined) return o.onError("no interfaces available for capture");
  const header = `Data link types for ${device} (use option -y to set):\n`;
  const any = device === "any";
  if (any && o.listLinkTypes) { o.stderr(`${header}  LINUX_SLL (Linux cooked v1)\n  LINUX_SLL2 (Linux cooked v2)\n`); return 0; }
  const ifindex = any ? 0 : ifindexOf(device);
  if (ifindex === null) return o.onError(`${device}: No such device exists\n(No such device exists)`);
  if (process.getuid?.() !== 0) {
    return o.onError(`${device}: You don't have permission to perform this capture on that device\n(socket: Operation not permitted)`);
  }
  const sysfs = (f: string): string => { try { return readFileSync(`/sys/class/net/${device}/${f}`, "latin1").trim(); } catch { return ""; } };
  if (!any && (Number(sysfs("flags")) & 1) === 0) return o.onError(`${device}: That device is not up`);
  const loopback = !any && sysfs("type") === "772";
  // the link types libpcap offers: cooked v1/v2 on "any", Ethernet (and DOCSIS beside it on Ethernet devices)
  const offered = any ? ["LINUX_SLL", "LINUX_SLL2"] : sysfs("type") === "1" ? ["EN10MB", "DOCSIS"] : ["EN10MB"];
  if (o.listLinkTypes) {
    // on stderr, as tcpdump prints it
    o.stderr(header + (offered.includes("DOCSIS") ? "  EN10MB (Ethernet)\n  DOCSIS (DOCSIS) (printing not supported)\n" : "  EN10MB (Ethernet)\n"));
    return 0;
  }
  const dltName = o.linktype !== undefined ? linkTypeByName(o.linktype)![0] : any ? "LINUX_SLL2" : "EN10MB";
  if (!offered.includes(dltName)) return o.onError(`${dltName} is not one of the DLTs supported by this device`);
  // tcpdump sets (and names) the link type when -y asks for one, and always on "any" (cooked v2 over libpcap's v1)
  if (o.linktype !== undefined || any) o.stderr(`tcpdump: data link type ${dltName}\n`);
  const [, , dlt, desc] = linkTypeByName(dltName)!;
  const cooked = dltName === "LINUX_SLL" || dltName === "LINUX_SLL2" ? dltName : null;
  const prog = compileFilter(o.expr, { linktype: dltName, optimize: o.optimize, snaplen: o.snaplen });
  // The filter in the kernel; a cooked capture's is rewritten for the network layer the kernel shows it, and when a
  // load of the cooked header has no kernel equivalent the kernel accepts everything and the filter runs here
  const kernelProg = cooked === null ? prog.insns : cookedKernelProgram(prog.insns, cooked);
  const userFilter = kernelProg === null ? prog.insns : null;
  const { PacketSocket, PACKET_OUTGOING } = await import("../kernel/index.ts");
  const accept = [bpfStmt(BPF_RET, o.snaplen)]; // ret #snaplen: every packet
  // BPFKIT_SOCKET_FILTER=ebpf: the program translated to a verifier-checked eBPF socket_filter and loaded through
  // bpf(); the default attaches the classic program, which the kernel converts to eBPF and JITs (bench: tcpdump)
  const ebpf = process.env.BPFKIT_SOCKET_FILTER === "ebpf" ? await loadSocketFilter(kernelProg ?? accept) : null;
  const sock = new PacketSocket(ifindex, ebpf ?? encodeCbpf(kernelProg ?? accept), o.snaplen, o.promisc && !any, cooked !== null);
  if (ebpf !== null) ebpf.close();
  const loIndex = ifindexOf("lo");
  if (o.write === undefined && o.print.vflag === 0) o.stderr("tcpdump: verbose output suppressed, use -v[v]... for full protocol decode\n");
  else o.stderr("tcpdump: ");
  o.stderr(`listening on ${device}, link-type ${dltName} (${desc}), snapshot length ${o.snaplen} bytes\n`);
  const printer = o.write === undefined && !o.countOnly ? new PacketPrinter(dlt, o.print, { hosts: o.hosts, ifName: interfaceName }) : null;
  const dump = o.write !== undefined ? new PcapDumpFile(o.write, { linktype: dlt, snaplen: o.snaplen }) : null;
  const hdrlen = cooked === "LINUX_SLL2" ? 20 : cooked === "LINUX_SLL" ? 16 : 0;
  let captured = 0;
  let received = 0;
  let drops = 0;
  const stats = (): void => {
    const s = sock.statistics();
    received += s.packets;
    drops += s.drops;
  };
  await new Promise<void>((resolve) => {
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      process.off("SIGINT", finish);
      process.off("SIGTERM", finish);
      resolve();
    };
    process.on("SIGINT", finish);
    process.on("SIGTERM", finish);
    sock.watch(() => {
      for (let p = sock.receive(); p !== null && !done; p = sock.receive()) {
        // libpcap drops loopback's outgoing copies; -Q picks a direction
        if (p.pktType === PACKET_OUTGOING && (loopback || (any && p.sll[4]! + (p.sll[5]! << 8) + (p.sll[6]! << 16) === loIndex))) continue;
        if (o.direction === "in" && p.pktType === PACKET_OUTGOING) continue;
        if (o.direction === "out" && p.pktType !== PACKET_OUTGOING) continue;
        let data = p.data, len = p.len;
        if (cooked !== null) {
          data = cookedFrame(cooked, p.sll, p.data, o.snaplen);
          len += hdrlen;
        }
        if (userFilter !== null && runCbpf(userFilter, data, len) === 0) continue;
        const now = Date.now();
        const ts = { sec: Math.floor(now / 1000), nsec: (now % 1000) * 1_000_000 + (process.hrtime()[1] % 1000) * 1000 };
        captured++;
        if (printer !== null) o.stdout(printer.print({ ts, len, data }));
        if (dump !== null) {
          dump.record(ts.sec, Math.floor(ts.nsec / 1000), data, 0, data.length, len);
          if (o.perPacket) dump.flush();
        }
        if (captured >= o.count) { finish(); break; }
      }
    });
  });
  stats();
  sock.close();
  dump?.close();
  o.stderr(`${captured} packet${plural(captured)} captured\n${received} packet${plural(received)} received by filter\n` +
    `${drops} packet${plural(drops)} dropped by kernel\n`);
  return 0;
}
