// tcpdump -w's output (Node edge): pcap records appended to a file through one reused buffer (no allocation or
// system call per packet), verbatim byte runs copied straight from a read capture, and the size written so far
// (pcap_dump_ftell, for -C rotation). The record layout is the capture layer's PcapWriter's; this only streams it.
import { closeSync, openSync, writeSync } from "node:fs";
import { PcapWriter, type PcapWriteOptions } from "../capture/index.ts";

const CHUNK = 1 << 20;

export class PcapDumpFile {
  private readonly fd: number;
  private readonly buf = new Uint8Array(CHUNK);
  private at = 0;
  private written = 0;
  readonly snaplen: number;

  /** Opens (truncates) `path` ("-" is stdout) and writes the file header; throws the open error as Node reports it. */
  constructor(path: string, options: PcapWriteOptions) {
    this.fd = path === "-" ? 1 : openSync(path, "w");
    const header = new PcapWriter(options).header();
    this.snaplen = new DataView(header.buffer).getUint32(16, true);
    this.bytes(header, 0, header.length);
  }

  /** Bytes in the file so far, buffered ones included. */
  get size(): number {
    return this.written + this.at;
  }

  /** Appends src[start, end) as is (records already in this file's layout). */
  bytes(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (n >= CHUNK >> 1) {
      this.flush();
      let off = start;
      while (off < end) off += writeSync(this.fd, src, off, end - off);
      this.written += n;
      return;
    }
    if (this.at + n > CHUNK) this.flush();
    this.buf.set(src.subarray(start, end), this.at);
    this.at += n;
  }

  /** One record (little-endian microsecond layout): data[start, start + caplen), cut to the snapshot length. */
  record(sec: number, usec: number, data: Uint8Array, start: number, caplen: number, len: number): void {
    if (caplen > this.snaplen) caplen = this.snaplen;
    if (this.at + 16 + caplen > CHUNK) {
      this.flush();
      if (16 + caplen > CHUNK) {
        const head = new Uint8Array(16);
        put32(head, 0, sec); put32(head, 4, usec); put32(head, 8, caplen); put32(head, 12, len);
        this.bytes(head, 0, 16);
        this.bytes(data, start, start + caplen);
        return;
      }
    }
    const b = this.buf;
    const at = this.at;
    put32(b, at, sec); put32(b, at + 4, usec); put32(b, at + 8, caplen); put32(b, at + 12, len);
    b.set(caplen === data.length && start === 0 ? data : data.subarray(start, start + caplen), at + 16);
    this.at = at + 16 + caplen;
  }

  flush(): void {
    let off = 0;
    while (off < this.at) off += writeSync(this.fd, this.buf, off, this.at - off);
    this.written += this.at;
    this.at = 0;
  }

  private closed = false;

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.flush();
    if (this.fd !== 1) closeSync(this.fd);
  }
}

function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = v; b[at + 1] = v >>> 8; b[at + 2] = v >>> 16; b[at + 3] = v >>> 24;
}

/** tcpdump's -C/-G/-W: when to start the next file and how it is named. */
export interface Rotation {
  /** -C: bytes (the argument times 1,000,000); a file past this size is closed before the next packet. 0: off. */
  readonly fileSize: number;
  /** -G: seconds of wall-clock time per file; the name goes through strftime. 0: off. */
  readonly seconds: number;
  /** -W: how many files (-C wraps around, -G alone stops). 0: unlimited. */
  readonly files: number;
  /** Seconds since the epoch when -G was given (tcpdump's Gflag_time). */
  readonly start: number;
  /** The clock (seconds); tests pass their own. */
  readonly now?: () => number;
}

/** Digits of the file counter with -W N: those of N-1 (getWflagChars). */
function counterWidth(files: number): number {
  let c = 0;
  for (let x = files - 1; x > 0; x = Math.floor(x / 10)) c++;
  return c;
}

const pad = (v: number, n: number): string => String(v).padStart(n, "0");
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** strftime(3) in the local time zone, for the conversions a -G file name uses. */
export function strftime(format: string, seconds: number): string {
  const d = new Date(seconds * 1000);
  const yday = Math.floor((Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) - Date.UTC(d.getFullYear(), 0, 1)) / 86400000) + 1;
  return format.replace(/%([a-zA-Z%])/g, (all, c: string) => {
    switch (c) {
      case "Y": return String(d.getFullYear());
      case "y": return pad(d.getFullYear() % 100, 2);
      case "C": return pad(Math.floor(d.getFullYear() / 100), 2);
      case "m": return pad(d.getMonth() + 1, 2);
      case "d": return pad(d.getDate(), 2);
      case "e": return String(d.getDate()).padStart(2, " ");
      case "H": return pad(d.getHours(), 2);
      case "I": return pad(d.getHours() % 12 || 12, 2);
      case "M": return pad(d.getMinutes(), 2);
      case "S": return pad(d.getSeconds(), 2);
      case "j": return pad(yday, 3);
      case "s": return String(Math.floor(seconds));
      case "a": return DAYS[d.getDay()]!;
      case "A": return ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"][d.getDay()]!;
      case "b": case "h": return MONTHS[d.getMonth()]!;
      case "p": return d.getHours() < 12 ? "AM" : "PM";
      case "u": return String(d.getDay() || 7);
      case "w": return String(d.getDay());
      case "F": return `${d.getFullYear()}-${pad(d.getMonth() + 1, 2)}-${pad(d.getDate(), 2)}`;
      case "T": return `${pad(d.getHours(), 2)}:${pad(d.getMinutes(), 2)}:${pad(d.getSeconds(), 2)}`;
      case "R": return `${pad(d.getHours(), 2)}:${pad(d.getMinutes(), 2)}`;
      case "D": return `${pad(d.getMonth() + 1, 2)}/${pad(d.getDate(), 2)}/${pad(d.getFullYear() % 100, 2)}`;
      case "n": return "\n";
      case "t": return "\t";
      case "%": return "%";
      default: return all;
    }
  });
}

/**
 * The -w file set of -C/-G/-W: before each packet, beforePacket() closes the current file and opens the next one when
 * tcpdump would (time first, then size), naming it as tcpdump's MakeFilename does. Returns false when -G with -W has
 * made its last file (tcpdump then stops with "Maximum file limit reached").
 */
export class RotatingDump {
  private file: PcapDumpFile;
  private time: number;
  private timeCount = 0;
  private sizeCount = 0;
  private readonly width: number;
  constructor(private readonly base: string, private readonly options: PcapWriteOptions, private readonly r: Rotation) {
    this.time = r.start;
    this.width = r.files > 0 ? counterWidth(r.files) : 0;
    this.file = new PcapDumpFile(this.name(0, r.fileSize ? this.width : 0), options);
  }

  get current(): PcapDumpFile {
    return this.file;
  }

  private name(count: number, width: number): string {
    const base = this.r.seconds ? strftime(this.base, this.time) : this.base;
    return count === 0 && width === 0 ? base : base + String(count).padStart(width, "0");
  }

  beforePacket(): boolean {
    if (this.r.seconds) {
      const t = Math.floor((this.r.now ?? (() => Date.now() / 1000))());
      if (t - this.time >= this.r.seconds) {
        this.time = t;
        this.timeCount++;
        this.file.close();
        if (this.r.fileSize === 0 && this.r.files > 0 && this.timeCount >= this.r.files) return false;
        this.sizeCount = 0;
        this.file = new PcapDumpFile(this.name(0, this.r.fileSize ? this.width : 0), this.options);
      }
    }
    if (this.r.fileSize && this.file.size > this.r.fileSize) {
      this.file.close();
      this.sizeCount++;
      if (this.r.files > 0 && this.sizeCount >= this.r.files) this.sizeCount = 0;
      this.file = new PcapDumpFile(this.name(this.sizeCount, this.width), this.options);
    }
    return true;
  }

  close(): void {
    this.file.close();
  }
}
