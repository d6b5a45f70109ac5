// Filtering a little-endian microsecond pcap file as a stream (Node edge): the file is read in chunks into one reused
// buffer, a scanner walks and filters the complete records in it (the JIT's wasm scan over its own memory, or the same
// loop in JavaScript around libpcap's interpreter), and the matching records are copied verbatim to an output file.
// Nothing is allocated per packet. Shared by `bpfkit filter -r` and `bpfkit tcpdump -r -w`.
import { readSync, writeSync } from "node:fs";
import type { CbpfInsn } from "../isa/cbpf/insn.ts";
import { compileClassicFilter, SCAN_END, SCAN_IRREGULAR, SCAN_LIMIT, SCAN_NEXT, SCAN_OUT, SCAN_SEEN, SCAN_STATUS } from "../jit/cbpf.ts";

/** Bytes read at a time: small enough that the scan finds them still in the CPU's cache (measured: 256 KiB takes
 * 40% of the time 4 MiB does). The buffer also holds the partial record left from the previous read. */
const CHUNK = 1 << 18;
/** A record is at most 16 + snaplen <= 16 + 262144 bytes: a partial one plus a chunk fits. */
const BUFFER = CHUNK + 16 + 262144;

/**
 * Walks the complete pcap records in buffer[pos, end) and filters them, copying the matches to `out` unless it is 0
 * (see WasmClassicFilter.scan). Addresses are offsets in `buffer`; input and output areas are BUFFER bytes each.
 */
export interface PcapScanner {
  readonly buffer: Uint8Array;
  readonly inputAt: number;
  readonly outputAt: number;
  scan(pos: number, end: number, snaplen: number, limit: number, out: number): number;
  next(): number;
  seen(): number;
  status(): number;
  outEnd(): number;
}

/** The JIT's scanner: filter and walk in WebAssembly, one call per chunk. */
export function wasmScanner(insns: readonly CbpfInsn[]): PcapScanner {
  const f = compileClassicFilter(insns);
  const inputAt = 64, outputAt = inputAt + BUFFER;
  f.memory.grow(Math.ceil((outputAt + BUFFER) / 65536) - f.memory.buffer.byteLength / 65536);
  const buffer = new Uint8Array(f.memory.buffer);
  const words = new Uint32Array(f.memory.buffer, 0, 4);
  return {
    buffer, inputAt, outputAt, scan: f.scan,
    next: () => words[SCAN_NEXT >> 2]!, seen: () => words[SCAN_SEEN >> 2]!, status: () => words[SCAN_STATUS >> 2]!,
    outEnd: () => words[SCAN_OUT >> 2]!,
  };
}

/** The same walk in JavaScript around a filter function (libpcap's interpreter, compiled to JavaScript). */
export function jsScanner(run: (b: Uint8Array, wirelen: number, start: number, end: number) => number): PcapScanner {
  const buffer = new Uint8Array(2 * BUFFER);
  const view = new DataView(buffer.buffer);
  let next = 0, seen = 0, status = SCAN_END, outEnd = 0;
  return {
    buffer, inputAt: 0, outputAt: BUFFER,
    scan: (pos, end, snaplen, limit, out) => {
      let n = 0;
      seen = 0;
      status = SCAN_END;
      while (end - pos >= 16) {
        const caplen = view.getUint32(pos + 8, true);
        if (caplen > snaplen) { status = SCAN_IRREGULAR; break; }
        const rec = pos + 16 + caplen;
        if (rec > end) break;
        seen++;
        if (run(buffer, view.getUint32(pos + 12, true), pos + 16, rec) !== 0) {
          if (out !== 0) { buffer.copyWithin(out, pos, rec); out += rec - pos; }
          n++;
          if (n >= limit) { pos = rec; status = SCAN_LIMIT; break; }
        }
        pos = rec;
      }
      next = pos;
      outEnd = out;
      return n;
    },
    next: () => next, seen: () => seen, status: () => status, outEnd: () => outEnd,
  };
}

export interface ScanResult {
  readonly matched: number;
  readonly seen: number;
  /**
   * File offset of the first record not walked when the scan stopped early: a record whose caplen exceeds the
   * snapshot length, or a truncated last record (the caller's reader reports those); -1 when it walked to the end or
   * the limit.
   */
  readonly stoppedAt: number;
}

/**
 * Scans the records of `fd` from file offset `start` (after the 24-byte header) through `sc`, up to `limit` matches,
 * writing each match verbatim through `write` (omitted: nothing is copied).
 */
export function scanPcapStream(fd: number, start: number, snaplen: number, sc: PcapScanner, limit: number,
  write?: (b: Uint8Array, from: number, to: number) => void): ScanResult {
  const buf = sc.buffer;
  const at = sc.inputAt;
  const outAt = write !== undefined ? sc.outputAt : 0;
  let have = 0;
  let filePos = start;
  let eof = false;
  let matched = 0;
  let seen = 0;
  while (matched < limit) {
    if (!eof && have < BUFFER) {
      const n = readSync(fd, buf, at + have, Math.min(CHUNK, BUFFER - have), filePos);
      if (n === 0) eof = true;
      have += n;
      filePos += n;
    }
    // matching records are copied to outAt (none when not writing); a chunk's matches always fit there
    matched += sc.scan(at, at + have, snaplen, Math.min(limit - matched, 0x7fffffff), outAt);
    const next = sc.next() - at;
    seen += sc.seen();
    if (outAt !== 0 && sc.outEnd() > outAt) write!(buf, outAt, sc.outEnd());
    const status = sc.status();
    if (status === SCAN_IRREGULAR) return { matched, seen, stoppedAt: filePos - have + next };
    if (status === SCAN_END && eof) return { matched, seen, stoppedAt: next < have ? filePos - have + next : -1 };
    // keep the partial record and read on
    buf.copyWithin(at, at + next, at + have);
    have -= next;
  }
  return { matched, seen, stoppedAt: -1 };
}

/** writeSync until all of b[from, to) is written. */
export function writeAll(fd: number, b: Uint8Array, from: number, to: number): void {
  while (from < to) from += writeSync(fd, b, from, to - from);
}
