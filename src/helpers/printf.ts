// The kernel's BPF printf dialect (kernel/bpf/helpers.c bpf_bprintf_prepare) for trace_printk and snprintf:
// flags [0+- ] and a width, then %d %i %u %x %X with l/ll, %c, %s, %p (%px %pK %pB %pi4 %pI4 %pks %pus), %%.
// Anything else, a missing NUL or too many arguments is -EINVAL, as in the kernel.
import type { HelperCall, HelperFn } from "./types.ts";
import { E, argNum, argPtr, argU64, latin1, probeBytes, probeString, readCString, retI32 } from "./args.ts";

const MAX_TRACE_PRINTK_ARGS = 3;
const MAX_SNPRINTF_VARARGS = 12;
const MAX_BPRINTF_BUF = 1024;

/** How %s and %pI4/%pI6 arguments are read: a NUL-terminated string, or raw bytes (undefined when unreadable). */
export interface FormatMemory {
  str(addr: bigint): string;
  bytes(addr: bigint, size: number): Uint8Array | undefined;
}

/** Formats `fmt` with 64-bit args, reading pointer arguments through `mem`. Returns undefined for an invalid format. */
export function bpfFormat(fmt: string, args: readonly bigint[], maxArgs: number, mem: FormatMemory): string | undefined {
  const str = (a: bigint): string => mem.str(a);
  let out = "";
  let n = 0;
  for (let i = 0; i < fmt.length; i++) {
    const ch = fmt[i]!;
    const code = ch.charCodeAt(0);
    if (!(code >= 0x20 && code < 0x7f) && !" \t\n\v\f\r".includes(ch)) return undefined;
    if (ch !== "%") { out += ch; continue; }
    if (fmt[i + 1] === "%") { out += "%"; i++; continue; }
    if (n === maxArgs) return undefined;
    i++;
    let flags = "";
    while ("0+- ".includes(fmt[i] ?? "x")) flags += fmt[i++];
    let width = 0;
    if (fmt[i] !== undefined && fmt[i]! >= "1" && fmt[i]! <= "9") {
      while (fmt[i] !== undefined && fmt[i]! >= "0" && fmt[i]! <= "9") width = width * 10 + Number(fmt[i++]);
    }
    const arg = args[n] ?? 0n;
    let body: string;
    let numeric = true;
    const c = fmt[i];
    if (c === "p") {
      const m = fmt[i + 1];
      numeric = false;
      if (m === undefined || isSpaceOrPunct(m)) {
        // plain %p: the kernel prints a hashed pointer; bpfkit prints it unhashed, as %px does
        body = arg.toString(16).padStart(16, "0");
      } else if ((m === "k" || m === "u") && fmt[i + 2] === "s") {
        i += 2;
        if (!endsString(fmt[i + 1])) return undefined;
        body = str(arg);
      } else if (m === "K" || m === "x" || m === "s" || m === "S" || m === "B") {
        i++;
        body = arg.toString(16).padStart(16, "0");
      } else if ((m === "i" || m === "I") && (fmt[i + 2] === "4" || fmt[i + 2] === "6")) {
        const v = fmt[i + 2];
        i += 2;
        // copy_from_kernel_nofault of 4 or 16 bytes; an unreadable address prints as zeros
        const ip = mem.bytes(arg, v === "4" ? 4 : 16) ?? new Uint8Array(v === "4" ? 4 : 16);
        body = v === "4" ? [...ip].join(".") : ipv6(ip, m === "I");
      } else return undefined;
    } else if (c === "s") {
      if (!endsString(fmt[i + 1])) return undefined;
      body = str(arg); numeric = false;
    }
    else if (c === "c") { body = String.fromCharCode(Number(arg & 0xffn)); numeric = false; }
    else {
      let longs = 0;
      while (fmt[i] === "l" && longs < 2) { longs++; i++; }
      const conv = fmt[i];
      const wide = longs > 0;
      const u = wide ? BigInt.asUintN(64, arg) : BigInt.asUintN(32, arg);
      const sgn = wide ? BigInt.asIntN(64, arg) : BigInt.asIntN(32, arg);
      if (conv === "d" || conv === "i") body = sgn.toString();
      else if (conv === "u") body = u.toString();
      else if (conv === "x") body = u.toString(16);
      else if (conv === "X") body = u.toString(16).toUpperCase();
      else return undefined;
      if (!body.startsWith("-") && (conv === "d" || conv === "i")) {
        if (flags.includes("+")) body = "+" + body; else if (flags.includes(" ")) body = " " + body;
      }
    }
    n++;
    if (body.length < width) {
      if (flags.includes("-")) body = body.padEnd(width, " ");
      else if (flags.includes("0") && numeric) {
        const sign = /^[-+ ]/.test(body) ? body[0]! : "";
        body = sign + body.slice(sign.length).padStart(width - sign.length, "0");
      } else body = body.padStart(width, " ");
    }
    out += body;
  }
  return out;
}

const isSpaceOrPunct = (ch: string): boolean => /^[\s!-\/:-@[-`{-~]$/.test(ch);
/** %s must be followed by the end, a space or punctuation (kernel: bpf_bprintf_prepare). */
const endsString = (next: string | undefined): boolean => next === undefined || isSpaceOrPunct(next);

function ipv6(ip: Uint8Array, colons: boolean): string {
  const words = Array.from({ length: 8 }, (_, k) => ((ip[2 * k]! << 8) | ip[2 * k + 1]!).toString(16).padStart(4, "0"));
  return words.join(colons ? ":" : "");
}

/** Pointer arguments read the way the kernel reads them (probe semantics; unreadable → empty or zeros). */
function memoryReader(h: HelperCall): FormatMemory {
  return {
    bytes: (addr, size) => probeBytes(h, addr, size),
    str: (addr) => probeString(h, addr, MAX_BPRINTF_BUF) ?? "",
  };
}

/** bpf_trace_printk(fmt, fmt_size, a1, a2, a3): formats and hands the line to HelperEnv.tracePrint. */
export const tracePrintk: HelperFn = (h) => {
  const size = argNum(h, 2);
  const fmtAddr = argPtr(h, 1, size, false);
  const bytes = h.space.sliceChecked(fmtAddr, size, h.pc);
  const nul = bytes.indexOf(0);
  if (nul < 0) return retI32(h, -E.EINVAL);
  const text = bpfFormat(latin1(bytes.subarray(0, nul)), [argU64(h, 3), argU64(h, 4), argU64(h, 5)], MAX_TRACE_PRINTK_ARGS, memoryReader(h));
  if (text === undefined) return retI32(h, -E.EINVAL);
  h.env.tracePrint(text.slice(0, MAX_BPRINTF_BUF - 1));
  retI32(h, text.length); // bstr_printf's count: the full length even when the buffer truncated it
};

/** bpf_snprintf(str, str_size, fmt, data, data_len): returns the bytes needed including the NUL. */
export const snprintf: HelperFn = (h) => {
  const strSize = argNum(h, 2);
  const dst = strSize > 0 ? argPtr(h, 1, strSize, true) : 0;
  const fmtAddr = argPtr(h, 3, 0, false);
  const dataLen = argNum(h, 5);
  if (dataLen % 8 !== 0 || dataLen / 8 > MAX_SNPRINTF_VARARGS) return retI32(h, -E.EINVAL);
  const data = dataLen > 0 ? argPtr(h, 4, dataLen, false) : 0;
  const args: bigint[] = [];
  for (let k = 0; k < dataLen / 8; k++) {
    args.push((BigInt(h.space.dv.getUint32(data + 8 * k + 4, true)) << 32n) | BigInt(h.space.dv.getUint32(data + 8 * k, true)));
  }
  const fmt = readCString(h, fmtAddr, 4096);
  const text = bpfFormat(fmt, args, dataLen / 8, memoryReader(h));
  if (text === undefined) return retI32(h, -E.EINVAL);
  if (strSize > 0) {
    const n = Math.min(text.length, strSize - 1);
    for (let k = 0; k < n; k++) h.space.u8[dst + k] = text.charCodeAt(k) & 0xff;
    h.space.u8[dst + n] = 0;
  }
  retI32(h, text.length + 1);
};
