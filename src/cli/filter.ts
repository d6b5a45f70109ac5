// `bpfkit filter`: tcpdump's filter compiler and offline filtering.
//   bpfkit filter [-y LINKTYPE] [-O] [-s SNAPLEN] -d|-dd|-ddd EXPR...      print the program as tcpdump -d/-dd/-ddd
//   bpfkit filter -r FILE [-w OUT] [-c N] [--count] [--engine jit|interp|ebpf] EXPR...
// Engines: jit (default) compiles the filter to WebAssembly (src/jit/cbpf.ts), interp runs libpcap's interpreter
// (as a generated JavaScript function), ebpf runs the kernel's cBPF→eBPF conversion on the eBPF interpreter.
// The expression may be split over several arguments (joined with spaces, as tcpdump does), or read with -F FILE
// ('#' comments blanked out as tcpdump's read_infile does; command-line expression words are then ignored).
import { readFileSync, openSync, readSync, writeSync, closeSync } from "node:fs";
import { BpfError } from "../errors.ts";
import { compileFilter } from "../filter/compile.ts";
// `-d` needs only the compiler; reading files (-r) loads the offline matcher (and with it the VM) on demand
let compileOfflineFilterJs: typeof import("../filter/offline-js.ts").compileOfflineFilterJs;
let pcapLeHeader: typeof import("../filter/scan.ts").pcapLeHeader;
import { linkTypeByFileValue, savefileLinktype } from "../filter/linktypes.ts";
import { dumpProgram } from "../isa/cbpf/image.ts";
import type { CbpfInsn } from "../isa/cbpf/insn.ts";
import type { PcapScanner } from "../node/pcap-scan.ts";
// the classic-BPF JIT (with its wasm encoder) and the pcap scan are only needed to read files: loaded then, like the modules above
let jit: typeof import("../jit/cbpf.ts");
let scan: typeof import("../node/pcap-scan.ts");

interface Options {
  linktype: string;
  linktypeGiven: boolean;
  optimize: boolean;
  dump: 0 | 1 | 2 | 3;
  snaplen: number | undefined;
  read: string | undefined;
  write: string | undefined;
  count: number | undefined;
  countOnly: boolean;
  engine: "interp" | "ebpf" | "jit";
  exprFile: string | undefined;
  expr: string;
}

function usage(msg: string): never {
  throw new BpfError("EINVAL", `${msg}\nusage: bpfkit filter [-y LINKTYPE] [-O] [-s SNAPLEN] [-F FILE] -d|-dd|-ddd EXPR | -r FILE [-w OUT] [-c N] [--count] [--engine jit|interp|ebpf] EXPR`);
}

function parseArgs(args: string[]): Options {
  const o: Options = { linktype: "EN10MB", linktypeGiven: false, optimize: true, dump: 0, snaplen: undefined, read: undefined,
    write: undefined, count: undefined, countOnly: false, engine: "jit", exprFile: undefined, expr: "" };
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string => {
      const v = args[++i];
      if (v === undefined) usage(`option ${a} requires an argument`);
      return v;
    };
    if (a === "--") { rest.push(...args.slice(i + 1)); break; }
    if (a === "-y") { o.linktype = value(); o.linktypeGiven = true; }
    else if (a === "-O") o.optimize = false;
    else if (/^-d{1,3}$/.test(a)) o.dump = Math.min(3, a.length - 1) as 1 | 2 | 3;
    else if (a === "-s") o.snaplen = Number(value());
    else if (a === "-r") o.read = value();
    else if (a === "-F") o.exprFile = value();
    else if (a === "-w") o.write = value();
    else if (a === "-c") o.count = Number(value());
    else if (a === "--count") o.countOnly = true;
    else if (a === "--engine") {
      const e = value();
      if (e !== "interp" && e !== "ebpf" && e !== "jit") usage(`unknown engine '${e}'`);
      o.engine = e;
    } else if (a.startsWith("-") && a.length > 1 && rest.length === 0) usage(`unknown option ${a}`);
    else rest.push(a);
  }
  o.expr = rest.join(" ");
  if (o.exprFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(o.exprFile, "latin1");
    } catch (e) {
      throw new BpfError("ENOENT", `can't open ${o.exprFile}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "No such file or directory" : (e as Error).message}`);
    }
    o.expr = text.replace(/#[^\n]*/g, (c) => " ".repeat(c.length));
  }
  return o;
}

export default async function filter(args: string[]): Promise<number> {
  const o = parseArgs(args);
  if (o.read !== undefined) return filterFile(o);
  if (o.dump === 0) usage("one of -d, -dd, -ddd or -r is required");
  // tcpdump -d without an interface or -y compiles for Ethernet and says so on stderr.
  if (!o.linktypeGiven) process.stderr.write("Warning: assuming Ethernet\n");
  // tcpdump -s 0 means the maximum snapshot length.
  const snaplen = o.snaplen === undefined || o.snaplen === 0 ? 262144 : o.snaplen;
  const prog = compileFilter(o.expr, { linktype: o.linktype, optimize: o.optimize, snaplen });
  process.stdout.write(dumpProgram(prog.insns, o.dump));
  return 0;
}

let captureModule: typeof import("../capture/index.ts") | undefined;

async function filterFile(o: Options): Promise<number> {
  // loaded on first use (not for -d) and kept: a module loader's resolve hooks can cost more than a whole capture
  const { openCapture, PcapWriter } = captureModule ??= await import("../capture/index.ts");
  ({ compileOfflineFilterJs } = await import("../filter/offline-js.ts"));
  ({ pcapLeHeader } = await import("../filter/scan.ts"));
  jit = await import("../jit/cbpf.ts");
  scan = await import("../node/pcap-scan.ts");
  if (o.engine !== "ebpf") {
    const streamed = filterPcapStream(o, openCapture, o.engine === "jit" ? scan.wasmScanner : (insns) => scan.jsScanner(compileOfflineFilterJs(insns)));
    if (streamed !== null) return streamed;
  }
  // The file is read in chunks and matches are written as they come: memory stays flat, files of any size.
  const input = openSync(o.read!, "r");
  const chunks = function* (): Generator<Uint8Array> {
    for (let pos = 0; ;) {
      const chunk = new Uint8Array(1 << 22);
      const n = readSync(input, chunk, 0, chunk.length, pos);
      if (n === 0) return;
      pos += n;
      yield n === chunk.length ? chunk : chunk.subarray(0, n);
    }
  };
  try {
    return await filterCapture(o, openCapture(chunks()), PcapWriter);
  } finally {
    closeSync(input);
  }
}

async function filterCapture(o: Options, cap: import("../capture/index.ts").OpenCapture,
  PcapWriter: typeof import("../capture/index.ts").PcapWriter): Promise<number> {
  const row = linkTypeByFileValue(cap.info.linktype);
  const dlt = row ? row[1] : cap.info.linktype;
  const prog = compileFilter(o.expr, { linktype: dlt, optimize: o.optimize, snaplen: cap.info.snaplen, readingFile: true,
    swapped: cap.info.byteOrder === "be" });
  let run: (pkt: Uint8Array, len: number, start?: number, end?: number) => number;
  if (o.engine === "ebpf") {
    // converted to eBPF (the kernel's conversion), on the eBPF interpreter
    const { runConvertedCbpf } = await import("../cbpf/vmrun.ts");
    run = (pkt, len, start = 0, end = pkt.length) => runConvertedCbpf(prog.insns, pkt.subarray(start, end), len, undefined, "interp");
  } else if (o.engine === "jit") {
    // compiled to WebAssembly with bpf_filter's semantics (src/jit/cbpf.ts)
    run = jit.compileClassicFilter(prog.insns).run;
  } else {
    // libpcap's own interpreter semantics, as tcpdump -r uses (backward jumps for protochain, no ancillary loads),
    // compiled to a JavaScript function.
    run = compileOfflineFilterJs(prog.insns);
  }
  const limit = o.count ?? Infinity;
  // tcpdump -w: pcap_dump_open writes the link type with its FCS bits, the adjusted snapshot length and, as tcpdump
  // reads at microsecond precision by default, microsecond timestamps (nanosecond input truncated).
  const writer = o.write !== undefined
    ? new PcapWriter({ linktype: savefileLinktype(cap.info.linktype), linktypeExt: cap.info.linktypeExt, snaplen: cap.info.snaplen }) : null;
  const out = writer ? new BufferedFile(o.write!) : null;
  out?.write(writer!.header());
  let seen = 0;
  let matched = 0;
  let error: unknown = null;
  try {
    for (const p of cap.packets()) {
      seen++;
      // libpcap runs the filter over the captured bytes with the wire length (bpf_filter(pc, p, wirelen, caplen)).
      if (run(p.data, p.len) !== 0) {
        matched++;
        if (writer) out!.write(writer.record({ ts: p.ts, data: p.data, len: p.len }));
        if (matched >= limit) break;
      }
    }
  } catch (e) {
    error = e;
  }
  out?.close();
  report(o, matched, seen);
  if (error !== null) throw error instanceof Error ? new BpfError("IO", error.message) : error;
  return 0;
}

/**
 * The fast path for classic little-endian microsecond pcap: matching records are copied verbatim (byte-identical
 * to tcpdump -w for such files). The file is read in 4 MiB chunks into one reused buffer (no whole-file
 * allocation), a scanner walks and filters the complete records in it, and matches are written through a 1 MiB
 * buffer; nothing is allocated per packet. Returns null when the file is not a plain little-endian pcap or turns
 * out irregular; the caller then redoes everything with the general reader (which rewrites any partial output).
 */
function filterPcapStream(o: Options, openCapture: typeof import("../capture/index.ts").openCapture,
  newScanner: (insns: readonly CbpfInsn[]) => PcapScanner): number | null {
  const fd = openSync(o.read!, "r");
  let outFd = -1;
  try {
    const header = new Uint8Array(24);
    if (readSync(fd, header, 0, 24, 0) !== 24) return null;
    const hdr = pcapLeHeader(header);
    if (hdr === null) return null;
    const info = openCapture(header).info;
    // copied verbatim only when tcpdump would write the same bytes
    if (info.tsPrecision !== "us" || savefileLinktype(info.linktype) !== info.linktype) return null;
    const row = linkTypeByFileValue(info.linktype);
    const prog = compileFilter(o.expr, { linktype: row ? row[1] : info.linktype, optimize: o.optimize,
      snaplen: info.snaplen, readingFile: true });
    const sc = newScanner(prog.insns);
    if (o.write !== undefined) {
      outFd = openSync(o.write, "w");
      writeSync(outFd, header);
    }
    const r = scan.scanPcapStream(fd, 24, hdr.snaplen, sc, o.count ?? Infinity,
      o.write !== undefined ? (b, from, to) => scan.writeAll(outFd, b, from, to) : undefined);
    if (r.stoppedAt >= 0) return null; // irregular or a truncated last record: the general reader reports it
    const { matched, seen } = r;
    return report(o, matched, seen);
  } finally {
    closeSync(fd);
    if (outFd >= 0) closeSync(outFd);
  }
}

function report(o: Options, matched: number, seen: number): number {
  if (o.countOnly) process.stdout.write(`${matched}\n`);
  process.stderr.write(`${matched} packets matched of ${seen}\n`);
  return 0;
}

/** Output written through a 1 MiB buffer. */
class BufferedFile {
  private readonly fd: number;
  private readonly buf = new Uint8Array(1 << 20);
  private len = 0;
  constructor(path: string) { this.fd = openSync(path, "w"); }
  write(b: Uint8Array): void {
    if (this.len + b.length > this.buf.length) this.flush();
    if (b.length > this.buf.length) { writeSync(this.fd, b); return; }
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  close(): void { this.flush(); closeSync(this.fd); }
  private flush(): void { if (this.len > 0) writeSync(this.fd, this.buf, 0, this.len); this.len = 0; }
}
