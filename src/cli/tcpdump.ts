// `bpfkit tcpdump` (also the `tcpdump` bin): tcpdump 4.99's command line over bpfkit's filter compiler, capture
// readers and packet printers. Messages on stderr and exit statuses are tcpdump's; -i captures live through an
// AF_PACKET socket with the filter attached in the kernel (src/kernel/live.ts).
import { readFileSync, readSync, openSync, writeSync, closeSync, statSync, readdirSync } from "node:fs";
import { isBpfError } from "../errors.ts";
// start-up: the filter compiler, the JIT and the printers load only when a command needs them (an expression, -d,
// printing); the link-type table is imported alone
import { linkTypeByFileValue, savefileLinktype } from "../filter/linktypes.ts";
import type { CbpfInsn } from "../isa/cbpf/insn.ts";
import { CaptureError, maxSnaplenForLinktype, openCapture } from "../capture/index.ts";
import { PcapDumpFile, RotatingDump, type Rotation } from "../node/pcap-dump.ts";
import type { PrintOptions } from "../decode/index.ts";

/** What `tcpdump --version` and the usage text start with (Debian's tcpdump 4.99.3 build, which bpfkit mirrors). */
const VERSION_TEXT = "tcpdump version 4.99.3\nlibpcap version 1.10.3 (with TPACKET_V3)\nOpenSSL 3.0.19 27 Jan 2026\n";
const USAGE = `Usage: tcpdump [-AbdDefhHIJKlLnNOpqStuUvxX#] [ -B size ] [ -c count ] [--count]
\t\t[ -C file_size ] [ -E algo:secret ] [ -F file ] [ -G seconds ]
\t\t[ -i interface ] [ --immediate-mode ] [ -j tstamptype ]
\t\t[ -M secret ] [ --number ] [ --print ] [ -Q in|out|inout ]
\t\t[ -r file ] [ -s snaplen ] [ -T type ] [ --version ]
\t\t[ -V file ] [ -w file ] [ -W filecount ] [ -y datalinktype ]
\t\t[ --time-stamp-precision precision ] [ --micro ] [ --nano ]
\t\t[ -z postrotate-command ] [ -Z user ] [ expression ]
`;

/** tcpdump's short options (getopt string); a ':' follows those taking a value. */
const SHORTOPTS = "aAbB:c:C:dDeE:fF:G:hHi:IjJKlLm:M:nNOpqQ:r:s:StT:uUvV:w:W:xXy:Yz:Z:#";
const TAKES_ARG = new Set<string>();
for (let i = 0; i < SHORTOPTS.length; i++) if (SHORTOPTS[i + 1] === ":") TAKES_ARG.add(SHORTOPTS[i]!);
TAKES_ARG.add("j");

const LONGOPTS: readonly (readonly [string, boolean, string])[] = [
  ["buffer-size", true, "B"], ["list-interfaces", false, "D"], ["help", false, "h"], ["interface", true, "i"],
  ["monitor-mode", false, "I"], ["time-stamp-type", true, "j"], ["list-time-stamp-types", false, "J"],
  ["micro", false, "micro"], ["nano", false, "nano"], ["time-stamp-precision", true, "precision"],
  ["dont-verify-checksums", false, "K"], ["list-data-link-types", false, "L"], ["no-optimize", false, "O"],
  ["no-promiscuous-mode", false, "p"], ["direction", true, "Q"], ["snapshot-length", true, "s"],
  ["absolute-tcp-sequence-numbers", false, "S"], ["packet-buffered", false, "U"], ["linktype", true, "y"],
  ["immediate-mode", false, "immediate"], ["debug-filter-parser", false, "Y"], ["relinquish-privileges", true, "Z"],
  ["count", false, "count"], ["fp-type", false, "fp-type"], ["number", false, "#"], ["print", false, "print"],
  ["version", false, "version"],
];

/** A tcpdump error: its message (printed after "tcpdump: ") and exit status. */
class TcpdumpExit extends Error {
  constructor(readonly text: string, readonly status = 1, readonly usage = false) { super(text); }
}
const fail = (text: string): never => { throw new TcpdumpExit(text); };

interface Options {
  flags: Map<string, number>;
  values: Map<string, string>;
  expr: string[];
}

/** getopt_long as glibc does it: options anywhere (arguments permuted), clustered short flags, "--" ends options. */
function getopt(args: readonly string[]): Options {
  const flags = new Map<string, number>();
  const values = new Map<string, string>();
  const expr: string[] = [];
  const bump = (k: string): void => { flags.set(k, (flags.get(k) ?? 0) + 1); };
  const set = (k: string, v: string): void => { bump(k); values.set(k, v); };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") { expr.push(...args.slice(i + 1)); break; }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const exact = LONGOPTS.find((o) => o[0] === name);
      const matches = exact ? [exact] : LONGOPTS.filter((o) => o[0].startsWith(name));
      if (matches.length === 0) throw new TcpdumpExit(`unrecognized option '${a}'`, 1, true);
      if (matches.length > 1) {
        throw new TcpdumpExit(`option '${a}' is ambiguous; possibilities:${matches.map((m) => ` '--${m[0]}'`).join("")}`, 1, true);
      }
      const [full, hasArg, key] = matches[0]!;
      if (hasArg) {
        let v: string | undefined = eq >= 0 ? a.slice(eq + 1) : args[++i];
        if (v === undefined) throw new TcpdumpExit(`option '--${full}' requires an argument`, 1, true);
        set(key, v);
      } else {
        if (eq >= 0) throw new TcpdumpExit(`option '--${full}' doesn't allow an argument`, 1, true);
        bump(key);
      }
      continue;
    }
    if (a.startsWith("-") && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        if (!SHORTOPTS.includes(c) || c === ":") throw new TcpdumpExit(`invalid option -- '${c}'`, 1, true);
        if (TAKES_ARG.has(c)) {
          let v = a.slice(j + 1);
          if (v === "") {
            const next = args[++i];
            if (next === undefined) throw new TcpdumpExit(`option requires an argument -- '${c}'`, 1, true);
            v = next;
          }
          set(c, v);
          break;
        }
        bump(c);
      }
      continue;
    }
    expr.push(a);
  }
  return { flags, values, expr };
}

/** C's atoi: leading blanks, optional sign, digits; anything else ends the number. */
function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  return m ? Math.max(-2147483648, Math.min(2147483647, Number(m[1]))) : 0;
}

/** strtol(s, &end, 0) accepting the whole string only; null when anything is left over. */
function strtol0(s: string): number | null {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)$/.exec(s);
  if (!m) return null;
  const body = m[2]!;
  const v = body.startsWith("0x") || body.startsWith("0X") ? parseInt(body, 16) : body.length > 1 && body[0] === "0" ? parseInt(body, 8) : Number(body);
  return m[1] === "-" ? -v : v;
}

function readHosts(): Map<string, string> {
  const m = new Map<string, string>();
  try {
    for (const line of readFileSync("/etc/hosts", "latin1").split("\n")) {
      const f = line.replace(/#.*/, "").trim().split(/\s+/);
      if (f.length >= 2 && !m.has(f[0]!)) m.set(f[0]!, f[1]!);
    }
  } catch { /* no hosts file: numeric addresses */ }
  return m;
}

function interfaceNames(): (i: number) => string | undefined {
  let byIndex: Map<number, string> | null = null;
  return (i) => {
    if (byIndex === null) {
      byIndex = new Map();
      try {
        for (const n of readdirSync("/sys/class/net")) {
          try { byIndex.set(Number(readFileSync(`/sys/class/net/${n}/ifindex`, "latin1")), n); } catch { /* gone */ }
        }
      } catch { /* no sysfs */ }
    }
    return byIndex.get(i);
  };
}

/** Where the command writes: the process's stdout and stderr, or a test's buffers. */
export interface TcpdumpIo {
  stdout(s: string): void;
  stderr(s: string): void;
}
const processIo: TcpdumpIo = {
  stdout: (s) => writeOut(1, s),
  stderr: (s) => { process.stderr.write(s); },
};
let io: TcpdumpIo = processIo;

function writeOut(fd: number, s: string): void {
  try { writeSync(fd, s, null, "latin1"); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EPIPE") throw new TcpdumpExit("", 0);
    if ((e as NodeJS.ErrnoException).code === "EAGAIN") { writeBlocking(fd, s); return; }
    throw e;
  }
}

/** stdout in large writes (tcpdump's stdio buffering); -l and -U flush per packet. */
class Output {
  private parts: string[] = [];
  private size = 0;
  constructor(private readonly perPacket: boolean) { }
  write(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.perPacket || this.size >= 1 << 16) this.flush();
  }
  flush(): void {
    if (this.size === 0) return;
    const s = this.parts.join("");
    this.parts = [];
    this.size = 0;
    io.stdout(s);
  }
}

function writeBlocking(fd: number, s: string): void {
  const buf = Buffer.from(s, "latin1");
  for (let off = 0; off < buf.length;) {
    try { off += writeSync(fd, buf, off); } catch (e) { if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e; }
  }
}

export function printOptions(o: Options): PrintOptions {
  const f = (k: string): number => o.flags.get(k) ?? 0;
  return {
    nflag: f("n"), eflag: f("e") > 0, qflag: f("q") > 0, vflag: f("v"), Sflag: f("S") > 0, tflag: f("t"),
    xflag: f("x"), Xflag: f("X"), Aflag: f("A"), number: f("#") > 0,
    nano: o.values.get("precision") === "nano" ? true : f("nano") > 0 && o.values.get("precision") !== "micro",
    suppressDefault: f("x") + f("X") + f("q") > 0,
  };
}

export default async function tcpdump(args: string[], sink: TcpdumpIo = processIo): Promise<number> {
  io = sink;
  try {
    return await run(args);
  } catch (e) {
    if (e instanceof TcpdumpExit) {
      if (e.text !== "") io.stderr(`tcpdump: ${e.text}\n`);
      if (e.usage) io.stderr(VERSION_TEXT + USAGE);
      return e.status;
    }
    if (e instanceof CaptureError) {
      io.stderr(e.tcpdumpText() + "\n");
      return 1;
    }
    if (isBpfError(e)) {
      io.stderr(`tcpdump: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

async function run(args: string[]): Promise<number> {
  const o = getopt(args);
  const f = (k: string): number => o.flags.get(k) ?? 0;
  const v = (k: string): string | undefined => o.values.get(k);
  if (f("version")) { io.stdout(VERSION_TEXT); return 0; }
  if (f("h")) { io.stdout(VERSION_TEXT + USAGE); return 0; }
  let count = Infinity;
  if (v("c") !== undefined) {
    const n = atoi(v("c")!);
    if (n <= 0) fail(`invalid packet count ${v("c")}`);
    count = n;
  }
  if (v("C") !== undefined) {
    const n = strtol0(v("C")!);
    if (n === null || n <= 0 || !/^\s*[+-]?\d+$/.test(v("C")!)) fail(`invalid file size ${v("C")}`);
  }
  if (v("G") !== undefined && atoi(v("G")!) < 0) fail(`invalid number of seconds ${v("G")}`);
  if (v("W") !== undefined && atoi(v("W")!) <= 0) fail(`invalid number of output files ${v("W")}`);
  if (v("B") !== undefined && atoi(v("B")!) * 1024 <= 0) fail(`invalid packet buffer size ${v("B")}`);
  let snaplen = 0;
  if (v("s") !== undefined) {
    const n = strtol0(v("s")!);
    if (n === null || n < 0 || n > 262144) fail(`invalid snaplen ${v("s")} (must be >= 0 and <= 262144)`);
    snaplen = n!;
  }
  const q = v("Q");
  if (q !== undefined && !["in", "out", "inout"].includes(q.toLowerCase())) fail(`unknown capture direction \`${q}'`);
  const y = v("y");
  if (y !== undefined && !/^[A-Za-z0-9_]+$/.test(y)) fail(`invalid data link type ${y}`);
  if (y !== undefined) {
    const { linkTypeByName } = await import("../filter/index.ts");
    if (linkTypeByName(y) === undefined) fail(`invalid data link type ${y}`);
  }
  const prec = v("precision");
  if (prec !== undefined && prec !== "micro" && prec !== "nano") fail("unsupported time stamp precision");
  if (f("t") > 5) fail("only -t, -tt, -ttt, -tttt and -ttttt are supported");
  const rfile = v("r");
  if (f("f") && rfile !== undefined) fail("-f can not be used with -V or -r");
  const po = printOptions(o);

  let exprText = o.expr.join(" ");
  // -F: the expression from a file ('#' comments blanked out), read after the capture is opened as tcpdump does
  const readExprFile = (): string => {
    const file = v("F");
    if (file === undefined) return exprText;
    let text = "";
    try { text = readFileSync(file, "latin1"); } catch (e) { fail(`can't open ${file}: ${errnoText(e)}`); }
    return text.replace(/#[^\n]*/g, (c) => " ".repeat(c.length));
  };

  if (rfile === undefined) {
    if (f("d")) {
      exprText = readExprFile();
      const dlt = y ?? "EN10MB";
      if (y === undefined) io.stderr("Warning: assuming Ethernet\n");
      const { compileFilter } = await import("../filter/compile.ts");
      const { dumpProgram } = await import("../isa/cbpf/image.ts");
      const prog = compileFilter(exprText, { linktype: dlt, optimize: !f("O"), snaplen: snaplen || 262144 });
      io.stdout(dumpProgram(prog.insns, Math.min(3, f("d")) as 1 | 2 | 3));
      return 0;
    }
    const { liveCapture } = await import("../node/live.ts");
    exprText = readExprFile();
    return liveCapture({
      device: v("i"), expr: exprText, optimize: !f("O"), snaplen: snaplen || 262144, count, print: po,
      write: v("w"), countOnly: f("count") > 0, promisc: !f("p"), direction: q, perPacket: f("l") + f("U") > 0,
      listLinkTypes: f("L") > 0, linktype: y,
      hosts: po.nflag === 0 ? readHosts() : new Map(),
      stdout: (s: string) => io.stdout(s), stderr: (s: string) => io.stderr(s),
      onError: (text: string) => fail(text),
    });
  }
  return await readFile(rfile, o, po, count, snaplen, exprText, readExprFile);
}

function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT": return "No such file or directory";
    case "EACCES": return "Permission denied";
    case "EISDIR": return "Is a directory";
    case "ENOTDIR": return "Not a directory";
    case "ELOOP": return "Too many levels of symbolic links";
    default: return (e as Error).message;
  }
}

async function readFile(rfile: string, o: Options, po: PrintOptions, count: number, _snaplen: number, exprText0: string,
  readExprFile: () => string): Promise<number> {
  const f = (k: string): number => o.flags.get(k) ?? 0;
  let bytes: Uint8Array;
  if (rfile === "-") {
    bytes = readFileSync(0);
  } else {
    try {
      const st = statSync(rfile);
      if (st.isDirectory()) fail("error reading dump file: Is a directory");
      // -w alone streams a little-endian microsecond pcap file (writeMatches): only its head is read here
      bytes = o.values.get("w") !== undefined && !f("print") && st.isFile() && rotation(o) === null ? streamHead(rfile) : readFileSync(rfile);
    } catch (e) {
      if (e instanceof TcpdumpExit) throw e;
      if ((e as NodeJS.ErrnoException).code === "EISDIR") fail("error reading dump file: Is a directory");
      return fail(`${rfile}: ${errnoText(e)}`);
    }
  }
  const cap = openCapture(bytes);
  const info = cap.info;
  const row = linkTypeByFileValue(info.linktype);
  const dltName = row?.[0];
  const desc = row?.[3];
  io.stderr(`reading from file ${rfile}${dltName ? `, link-type ${dltName} (${desc})` : `, link-type ${info.linktype}`}, snapshot length ${info.snaplen}\n`);
  if (row?.[1] === 276) io.stderr("Warning: interface names might be incorrect\n");
  void exprText0;
  const exprText = readExprFile();
  // no expression: every packet, no program (unless -d asks for it, or the link type is one libpcap may refuse)
  let insns: readonly CbpfInsn[] | null = null;
  if (exprText.trim() !== "" || f("d") || row === undefined) {
    const { compileFilter } = await import("../filter/compile.ts");
    const prog = compileFilter(exprText, { linktype: row ? row[1] : info.linktype, optimize: !f("O"), snaplen: info.snaplen,
      readingFile: true, swapped: info.byteOrder === "be" });
    if (f("d")) {
      const { dumpProgram } = await import("../isa/cbpf/image.ts");
      io.stdout(dumpProgram(prog.insns, Math.min(3, f("d")) as 1 | 2 | 3));
      return 0;
    }
    if (exprText.trim() !== "") insns = prog.insns;
  }
  // WebAssembly, bpf_filter's semantics
  const run = insns === null ? null : (await import("../jit/cbpf.ts")).compileClassicFilter(insns).run;
  const wfile = o.values.get("w");
  const countOnly = f("count") > 0;
  if (wfile !== undefined && !f("print")) {
    const rot = rotation(o);
    if (rot !== null) return writeRotating(cap, run, wfile, count, countOnly, rot);
    return await writeMatches(rfile, bytes, cap, run, insns, wfile, count, countOnly);
  }
  const out = new Output(f("l") + f("U") > 0);
  // the printers are loaded only when packets are printed (-w and --count never need them)
  const { PacketPrinter } = await import("../decode/index.ts");
  const printer = countOnly ? null : new PacketPrinter(savefileLinktype(info.linktype), po, {
    hosts: po.nflag === 0 ? readHosts() : undefined, ifName: interfaceNames(),
  });
  let n = 0;
  let error: unknown = null;
  try {
    for (const p of cap.packets()) {
      if (run !== null && run(p.data, p.len) === 0) continue;
      n++;
      if (printer !== null) out.write(printer.print(p));
      if (n >= count) break;
    }
  } catch (e) {
    error = e;
  }
  out.flush();
  if (error !== null) {
    if (error instanceof CaptureError) {
      io.stderr(error.tcpdumpText() + "\n");
      if (countOnly) io.stdout(`${n} packet${n === 1 ? "" : "s"}\n`);
      return 1;
    }
    throw error;
  }
  if (countOnly) io.stdout(`${n} packet${n === 1 ? "" : "s"}\n`);
  return 0;
}

/** -C/-G/-W as given, or null without -C and -G (-W alone changes nothing). */
function rotation(o: Options): Rotation | null {
  const v = (k: string): string | undefined => o.values.get(k);
  const size = v("C") === undefined ? 0 : Number.parseInt(v("C")!, 10) * 1_000_000;
  const seconds = v("G") === undefined ? 0 : Number.parseInt(v("G")!, 10) || 0;
  if (size === 0 && seconds === 0) return null;
  return { fileSize: size, seconds, files: v("W") === undefined ? 0 : Number.parseInt(v("W")!, 10) || 0, start: startTime };
}
/** When the command started (tcpdump takes -G's first time when it parses the option). */
const startTime = Math.floor(Date.now() / 1000);

/** -w with -C/-G/-W: each matching record through the file set, which rotates before the record as tcpdump does. */
function writeRotating(cap: ReturnType<typeof openCapture>, run: ((p: Uint8Array, len: number) => number) | null,
  wfile: string, count: number, countOnly: boolean, rot: Rotation): number {
  const info = cap.info;
  const options = { linktype: (savefileLinktype(info.linktype) | info.linktypeExt) >>> 0, snaplen: info.snaplen };
  let files: RotatingDump;
  try { files = new RotatingDump(wfile, options, rot); } catch (e) { return fail(`${wfile}: ${errnoText(e)}`); }
  let n = 0;
  let status = 0;
  try {
    for (const p of cap.packets()) {
      if (run !== null && run(p.data, p.len) === 0) continue;
      n++;
      if (!files.beforePacket()) {
        io.stderr(`Maximum file limit reached: ${rot.files}\npcap_stats: Statistics aren't available from savefiles\n`);
        return 0;
      }
      files.current.record(p.ts.sec, Math.trunc(p.ts.nsec / 1000), p.data, 0, p.data.length, p.len);
      if (n >= count) break;
    }
  } catch (e) {
    if (!(e instanceof CaptureError)) throw e;
    io.stderr(e.tcpdumpText() + "\n");
    status = 1;
  } finally {
    files.close();
  }
  if (countOnly) io.stdout(`${n} packet${n === 1 ? "" : "s"}\n`);
  return status;
}

/** STREAM_CHUNK bytes of a file that starts as a little-endian microsecond pcap 2.4 file (to be streamed), else all of it. */
function streamHead(file: string): Uint8Array {
  const fd = openSync(file, "r");
  try {
    const head = new Uint8Array(24);
    const n = readSync(fd, head, 0, 24, 0);
    const v = new DataView(head.buffer);
    if (n === 24 && v.getUint32(0, true) === 0xa1b2c3d4 && v.getUint16(4, true) === 2 && v.getUint16(6, true) === 4) return head;
  } finally {
    closeSync(fd);
  }
  return readFileSync(file);
}

const STREAM_CHUNK = 4 << 20;

/**
 * -w: matching records copied to a pcap file as tcpdump writes them (microsecond stamps, the file's link type and
 * snapshot length). A little-endian microsecond pcap 2.4 file holds its records exactly as they are written: they are
 * streamed through one buffer and matching ones copied verbatim (adjacent ones in one piece) until a record needs the
 * reader's checks (over-long, short or bad), from where the capture reader takes over.
 */
async function writeMatches(rfile: string, bytes: Uint8Array, cap: ReturnType<typeof openCapture>,
  run: ((p: Uint8Array, len: number, s?: number, e?: number) => number) | null, insns: readonly CbpfInsn[] | null,
  wfile: string, count: number, countOnly: boolean): Promise<number> {
  const info = cap.info;
  let dump: PcapDumpFile;
  // libpcap writes the link-type field with its upper (FCS) bits as read
  try { dump = new PcapDumpFile(wfile, { linktype: (savefileLinktype(info.linktype) | info.linktypeExt) >>> 0, snaplen: info.snaplen }); } catch (e) {
    return fail(`${wfile}: ${errnoText(e)}`);
  }
  let n = 0;
  let off = 0;
  const streamed = bytes.length === 24 && rfile !== "-";
  if (info.format === "pcap" && info.byteOrder === "le" && info.tsPrecision === "us" && info.versionMajor === 2 &&
    info.versionMinor === 4) {
    const snap = Math.min(info.snaplen, maxSnaplenForLinktype(savefileLinktype(info.linktype)));
    const fd = streamed ? openSync(rfile, "r") : -1;
    if (streamed && insns !== null) {
      const { scanPcapStream, wasmScanner } = await import("../node/pcap-scan.ts");
      // the JIT walks and filters the records chunk by chunk in its own memory; matches are written verbatim
      const r = scanPcapStream(fd, 24, snap, wasmScanner(insns), count, (b, from, to) => dump.bytes(b, from, to));
      closeSync(fd);
      n = r.matched;
      off = r.stoppedAt >= 0 ? r.stoppedAt : 0;
    } else {
      const b = streamed ? new Uint8Array(STREAM_CHUNK) : bytes;
      const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
      // b[0, have) holds the file's bytes from `base` on; `at` is the next record's place in b
      let base = streamed ? 24 : 0, have = streamed ? 0 : b.length, at = streamed ? 0 : 24;
      for (;;) {
        if (streamed) {
          // keep the unfinished record, fill the rest
          b.copyWithin(0, at, have);
          base += at; have -= at; at = 0;
          const got = readSync(fd, b, have, b.length - have, base + have);
          if (got === 0) break;
          have += got;
        }
        let runStart = at, runEnd = at;
        while (n < count && at + 16 <= have) {
          const caplen = v.getUint32(at + 8, true);
          const rec = at + 16;
          if (caplen > snap || caplen + 16 > b.length) { off = base + at; break; }
          if (rec + caplen > have) break;
          if (run === null || run(b, v.getUint32(at + 12, true), rec, rec + caplen) !== 0) {
            n++;
            if (at !== runEnd) {
              dump.bytes(b, runStart, runEnd);
              runStart = at;
            }
            runEnd = rec + caplen;
          }
          at = rec + caplen;
        }
        dump.bytes(b, runStart, runEnd);
        if (off !== 0 || n >= count || !streamed) break;
      }
      if (fd >= 0) closeSync(fd);
      // bytes left that are not a whole record: the reader reports them
      if (off === 0 && at < have) off = base + at;
    }
  } else off = -1;
  let status = 0;
  if (n < count && off !== 0) {
    try {
      const rest = streamed ? openCapture(readFileSync(rfile)) : cap;
      for (const p of rest.packets()) {
        if (p.offset < off) continue;
        if (run !== null && run(p.data, p.len) === 0) continue;
        n++;
        dump.record(p.ts.sec, Math.trunc(p.ts.nsec / 1000), p.data, 0, p.data.length, p.len);
        if (n >= count) break;
      }
    } catch (e) {
      if (!(e instanceof CaptureError)) throw e;
      io.stderr(e.tcpdumpText() + "\n");
      status = 1;
    }
  }
  dump.close();
  if (countOnly) io.stdout(`${n} packet${n === 1 ? "" : "s"}\n`);
  return status;
}
