// The raw dumps tcpdump appends under a packet's line: -x (hex), -X (hex and ASCII), -A (ASCII).

import { hex2 } from "./context.ts";

const isGraph = (c: number): boolean => c > 0x20 && c < 0x7f;

/** -x: "\n\t0x0000:  4500 0054 ..." sixteen bytes a line (`indent` replaces "\n\t", as in hex_print). */
export function hexLines(b: Uint8Array, start: number, end: number, indent = "\n\t"): string {
  let s = "";
  for (let off = start; off < end; off += 16) {
    s += indent + "0x" + (off - start).toString(16).padStart(4, "0") + ": ";
    const stop = Math.min(end, off + 16);
    for (let i = off; i < stop; i += 2) {
      s += i + 1 < stop ? " " + hex2(b[i]!) + hex2(b[i + 1]!) : " " + hex2(b[i]!);
    }
  }
  return s;
}

/** -X: the hex column padded to 40 characters, two spaces, then printable bytes or '.'. */
export function hexAsciiLines(b: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let off = start; off < end; off += 16) {
    let hex = "";
    let asc = "";
    const stop = Math.min(end, off + 16);
    for (let i = off; i < stop; i += 2) {
      hex += i + 1 < stop ? " " + hex2(b[i]!) + hex2(b[i + 1]!) : " " + hex2(b[i]!);
      asc += isGraph(b[i]!) ? String.fromCharCode(b[i]!) : ".";
      if (i + 1 < stop) asc += isGraph(b[i + 1]!) ? String.fromCharCode(b[i + 1]!) : ".";
    }
    s += "\n\t0x" + (off - start).toString(16).padStart(4, "0") + ": " + hex.padEnd(40, " ") + "  " + asc;
  }
  return s;
}

/** -A: a newline, then the bytes as text (tabs, spaces and newlines kept; a CR dropped before LF or at the end). */
export function asciiText(b: Uint8Array, start: number, end: number): string {
  let s = "\n";
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (c === 0x0d) {
      if (end - (i + 1) > 1 && b[i + 1] !== 0x0a) s += ".";
    } else if (isGraph(c) || c === 0x09 || c === 0x20 || c === 0x0a) s += String.fromCharCode(c);
    else s += ".";
  }
  return s;
}
