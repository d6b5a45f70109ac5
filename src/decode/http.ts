// Text protocols (HTTP): the first line when the payload is a request or a response, every text line under -v.

import { type Ctx, TRUNCATED } from "./context.ts";

export const HTTP_PORTS: ReadonlySet<number> = new Set([80, 8080]);

const HTTP_COMMANDS = new Set([
  "GET", "PUT", "COPY", "HEAD", "LOCK", "MOVE", "POLL", "POST", "BCOPY", "BMOVE", "MKCOL", "TRACE", "LABEL", "MERGE",
  "DELETE", "SEARCH", "UNLOCK", "REPORT", "UPDATE", "NOTIFY", "BDELETE", "CONNECT", "OPTIONS", "CHECKIN", "PROPFIND",
  "CHECKOUT", "CCM_POST", "SUBSCRIBE", "PROPPATCH", "BPROPFIND", "BPROPPATCH", "UNCHECKOUT", "MKACTIVITY", "MKWORKSPACE",
  "UNSUBSCRIBE", "RPC_CONNECT", "VERSION-CONTROL", "BASELINE-CONTROL",
]);

const isPrint = (c: number): boolean => c >= 0x20 && c < 0x7f;

/** A token and the index after it and its trailing blanks; 0 when there is none. */
function fetchToken(ctx: Ctx, p: number, idx: number, len: number): [number, string] {
  let tok = "";
  for (; idx < len; idx++) {
    if (p + idx >= ctx.end) return [0, ""];
    const c = ctx.b[p + idx]!;
    if (!isPrint(c)) return [0, ""];
    if (c === 0x20) break;
    if (tok.length < 127) tok += String.fromCharCode(c);
  }
  if (tok === "") return [0, ""];
  for (; idx < len; idx++) {
    if (p + idx >= ctx.end) break;
    const c = ctx.b[p + idx]!;
    if (c === 0x0d || c === 0x0a || !isPrint(c) || c !== 0x20) break;
  }
  return [idx, tok];
}

/** One text line with its prefix; returns the index after its end of line, or 0 to stop. */
function txtLine(ctx: Ctx, prefix: string, p: number, idx: number, len: number): number {
  const start = idx;
  while (idx < len) {
    const c = ctx.u8(p + idx);
    if (c === 0x0a) {
      ctx.out += prefix + latin1(ctx.b, p + start, p + idx);
      return idx + 1;
    }
    if (c === 0x0d) {
      if (idx + 1 >= len) return 0;
      if (ctx.u8(p + idx + 1) === 0x0a) {
        ctx.out += prefix + latin1(ctx.b, p + start, p + idx);
        return idx + 2;
      }
      return 0;
    }
    if (!isPrint(c) && c !== 0x09) return 0;
    idx++;
  }
  ctx.out += prefix + latin1(ctx.b, p + start, p + idx);
  throw TRUNCATED;
}

function latin1(b: Uint8Array, s: number, e: number): string {
  let out = "";
  for (let i = s; i < e; i++) out += String.fromCharCode(b[i]!);
  return out;
}

/** After tcp's ": ": "HTTP", then the first line (or every text line under -v) when it is a request or response. */
export function httpPrint(ctx: Ctx, p: number, len: number): void {
  ctx.proto = "http";
  let printThis = false;
  let [idx, tok] = fetchToken(ctx, p, 0, len);
  if (idx !== 0) {
    if (HTTP_COMMANDS.has(tok.toUpperCase())) printThis = true;
    [idx, tok] = fetchToken(ctx, p, idx, len);
    if (idx !== 0 && /^[0-9]{3}$/.test(tok)) printThis = true;
  }
  ctx.out += "HTTP";
  if (!printThis) return;
  if (ctx.o.vflag > 0) {
    ctx.out += `, length: ${len}`;
    for (let i = 0; i < len;) {
      const eol = txtLine(ctx, "\n\t", p, i, len);
      if (eol === 0) break;
      i = eol;
    }
  } else txtLine(ctx, ": ", p, 0, len);
}
