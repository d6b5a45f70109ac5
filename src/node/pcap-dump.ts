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

  close(): void {
    this.flush();
    if (this.fd !== 1) closeSync(this.fd);
  }
}

function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = v; b[at + 1] = v >>> 8; b[at + 2] = v >>> 16; b[at + 3] = v >>> 24;
}
