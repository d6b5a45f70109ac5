// Live capture for `bpfkit tcpdump -i` (Node edge): an AF_PACKET socket with the compiled filter attached in the
// kernel, packets printed (or written with -w) as they arrive, and tcpdump's closing counts from the kernel's
// PACKET_STATISTICS. Without Linux, root or koffi it says live capture needs the kernel.
import { readFileSync, readdirSync } from "node:fs";
import type { PrintOptions } from "../decode/index.ts";
import { PacketPrinter } from "../decode/index.ts";
import { compileFilter } from "../filter/index.ts";
import { encodeCbpf } from "../isa/cbpf/insn.ts";
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

export async function liveCapture(o: LiveOptions): Promise<number> {
  const { nativeUnavailable } = await import("../kernel/index.ts");
  const why = nativeUnavailable();
  if (why !== undefined) return o.onError(`live capture needs the kernel: ${why}`);
  const device = o.device ?? defaultDevice();
  if (device === undefined) return o.onError("no interfaces available for capture");
  const header = `Data link types for ${device} (use option -y to set):\n`;
  if (device === "any") {
    if (o.listLinkTypes) { o.stderr(`${header}  LINUX_SLL (Linux cooked v1)\n  LINUX_SLL2 (Linux cooked v2)\n`); return 0; }
    return o.onError("any: live capture on every interface (LINUX_SLL2) is not supported by bpfkit yet");
  }
  const ifindex = ifindexOf(device);
  if (ifindex === null) return o.onError(`${device}: No such device exists\n(No such device exists)`);
  if (process.getuid?.() !== 0) {
    return o.onError(`${device}: You don't have permission to perform this capture on that device\n(socket: Operation not permitted)`);
  }
  const sysfs = (f: string): string => { try { return readFileSync(`/sys/class/net/${device}/${f}`, "latin1").trim(); } catch { return ""; } };
  if ((Number(sysfs("flags")) & 1) === 0) return o.onError(`${device}: That device is not up`);
  if (o.listLinkTypes) {
    // on stderr, as tcpdump prints it; libpcap offers DOCSIS beside Ethernet on Ethernet devices; loopback is Ethernet alone
    o.stderr(header + (sysfs("type") === "1" ? "  EN10MB (Ethernet)\n  DOCSIS (DOCSIS) (printing not supported)\n" : "  EN10MB (Ethernet)\n"));
    return 0;
  }
  // The filter in the kernel: compiled for the interface's link type (Ethernet, as Linux presents lo and veth).
  const prog = compileFilter(o.expr, { linktype: "EN10MB", optimize: o.optimize, snaplen: o.snaplen });
  const { PacketSocket, PACKET_OUTGOING } = await import("../kernel/index.ts");
  const sock = new PacketSocket(ifindex, encodeCbpf(prog.insns), o.snaplen, o.promisc);
  const loopback = readFileSync(`/sys/class/net/${device}/type`, "latin1").trim() === "772";
  if (o.write === undefined && o.print.vflag === 0) o.stderr("tcpdump: verbose output suppressed, use -v[v]... for full protocol decode\n");
  else o.stderr("tcpdump: ");
  o.stderr(`listening on ${device}, link-type EN10MB (Ethernet), snapshot length ${o.snaplen} bytes\n`);
  const printer = o.write === undefined && !o.countOnly ? new PacketPrinter(1, o.print, { hosts: o.hosts }) : null;
  const dump = o.write !== undefined ? new PcapDumpFile(o.write, { linktype: 1, snaplen: o.snaplen }) : null;
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
        if (loopback && p.pktType === PACKET_OUTGOING) continue;
        if (o.direction === "in" && p.pktType === PACKET_OUTGOING) continue;
        if (o.direction === "out" && p.pktType !== PACKET_OUTGOING) continue;
        const now = Date.now();
        const ts = { sec: Math.floor(now / 1000), nsec: (now % 1000) * 1_000_000 + Number(process.hrtime.bigint() % 1000n) * 1000 };
        captured++;
        if (printer !== null) o.stdout(printer.print({ ts, len: p.len, data: p.data }));
        if (dump !== null) {
          dump.record(ts.sec, Math.floor(ts.nsec / 1000), p.data, 0, p.data.length, p.len);
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
