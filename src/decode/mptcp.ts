// Multipath TCP options (RFC 6824/8684) inside TCP's option list: "mptcp LEN SUBTYPE details".

import { type Ctx, hex2 } from "./context.ts";

const u64 = (ctx: Ctx, off: number): bigint => (BigInt(ctx.u32(off)) << 32n) | BigInt(ctx.u32(off + 4));
const TH_SYN = 0x02, TH_ACK = 0x10;

type Sub = (ctx: Ctx, opt: number, len: number, flags: number) => boolean;

const capable: Sub = (ctx, opt, len, flags) => {
  if (!((len === 12 || len === 4) && flags & TH_SYN) && !((len === 20 || len === 22) && (flags & (TH_SYN | TH_ACK)) === TH_ACK)) return false;
  const version = ctx.u8(opt + 2) & 0xf;
  if (version > 1) { ctx.out += ` Unknown Version (${version})`; return true; }
  ctx.out += ` v${version}`;
  if (ctx.u8(opt + 3) & 0x80) ctx.out += " csum";
  if (len === 12 || len >= 20) {
    ctx.out += ` {0x${u64(ctx, opt + 4).toString(16)}`;
    if (len >= 20) ctx.out += `,0x${u64(ctx, opt + 12).toString(16)}`;
    ctx.out += "}";
  }
  return true;
};

const join: Sub = (ctx, opt, len, flags) => {
  if (!(len === 12 && (flags & TH_SYN)) && !(len === 16 && (flags & (TH_SYN | TH_ACK)) === (TH_SYN | TH_ACK)) && !(len === 24 && (flags & TH_ACK))) return false;
  if (len !== 24) {
    if (ctx.u8(opt + 2) & 1) ctx.out += " backup";
    ctx.out += ` id ${ctx.u8(opt + 3)}`;
  }
  if (len === 12) ctx.out += ` token 0x${ctx.u32(opt + 4).toString(16)} nonce 0x${ctx.u32(opt + 8).toString(16)}`;
  else if (len === 16) ctx.out += ` hmac 0x${u64(ctx, opt + 4).toString(16)} nonce 0x${ctx.u32(opt + 12).toString(16)}`;
  else {
    // tcpdump 4.99 reads the ACK's 20-byte HMAC without a bounds check
    ctx.out += " hmac 0x";
    for (let i = 0; i < 20; i++) ctx.out += hex2(ctx.b[opt + 4 + i] ?? 0);
  }
  return true;
};

const dss: Sub = (ctx, opt, len, flags) => {
  if (len < 4 || flags & TH_SYN) return false;
  const f = ctx.u8(opt + 3);
  if (f & 0x10) ctx.out += " fin";
  opt += 4;
  len -= 4;
  if (f & 0x01) {
    ctx.out += " ack ";
    if (f & 0x02) { if (len < 8) return false; ctx.out += u64(ctx, opt).toString(); opt += 8; len -= 8; }
    else { if (len < 4) return false; ctx.out += ctx.u32(opt); opt += 4; len -= 4; }
  }
  if (f & 0x04) {
    ctx.out += " seq ";
    if (f & 0x08) { if (len < 8) return false; ctx.out += u64(ctx, opt).toString(); opt += 8; len -= 8; }
    else { if (len < 4) return false; ctx.out += ctx.u32(opt); opt += 4; len -= 4; }
    if (len < 4) return false;
    ctx.out += ` subseq ${ctx.u32(opt)}`;
    opt += 4; len -= 4;
    if (len < 2) return false;
    ctx.out += ` len ${ctx.u16(opt)}`;
    opt += 2; len -= 2;
    if (len >= 2) { ctx.out += ` csum 0x${ctx.u16(opt).toString(16)}`; len -= 2; }
  }
  return len === 0;
};

const ADDR_ECHO: ReadonlyMap<number, string> = new Map([[6, "v0-ip6"], [4, "v0-ip4"], [1, "v1-echo"], [0, "v1"]]);

const addAddr: Sub = (ctx, opt, len) => {
  if (![8, 10, 16, 18, 20, 22, 28, 30].includes(len)) return false;
  ctx.out += ` ${ADDR_ECHO.get(ctx.u8(opt + 2) & 0xf) ?? "[bad version/echo]"} id ${ctx.u8(opt + 3)}`;
  if (len <= 18) {
    ctx.out += ` ${ctx.ip4(opt + 4)}`;
    if (len === 10 || len === 18) ctx.out += `:${ctx.u16(opt + 8)}`;
    if (len === 16) ctx.out += ` hmac 0x${u64(ctx, opt + 8).toString(16)}`;
    if (len === 18) ctx.out += ` hmac 0x${u64(ctx, opt + 10).toString(16)}`;
  } else {
    ctx.out += ` ${ctx.ip6(opt + 4)}`;
    if (len === 22 || len === 30) ctx.out += `:${ctx.u16(opt + 20)}`;
    if (len === 28) ctx.out += ` hmac 0x${u64(ctx, opt + 20).toString(16)}`;
    if (len === 30) ctx.out += ` hmac 0x${u64(ctx, opt + 22).toString(16)}`;
  }
  return true;
};

const removeAddr: Sub = (ctx, opt, len) => {
  if (len < 4) return false;
  ctx.out += " id";
  for (let i = 0; i < len - 3; i++) ctx.out += ` ${ctx.u8(opt + 3 + i)}`;
  return true;
};

const prio: Sub = (ctx, opt, len) => {
  if (len !== 3 && len !== 4) return false;
  ctx.out += ctx.u8(opt + 2) & 1 ? " backup" : " non-backup";
  if (len === 4) ctx.out += ` id ${ctx.u8(opt + 3)}`;
  return true;
};

const fail: Sub = (ctx, opt, len) => {
  if (len !== 12) return false;
  ctx.out += ` seq ${u64(ctx, opt + 4)}`;
  return true;
};

const fastClose: Sub = (ctx, opt, len) => {
  if (len !== 12) return false;
  ctx.out += ` key 0x${u64(ctx, opt + 4).toString(16)}`;
  return true;
};

const SUBTYPES: readonly (readonly [string, Sub])[] = [
  ["capable", capable], ["join", join], ["dss", dss], ["add-addr", addAddr], ["rem-addr", removeAddr], ["prio", prio],
  ["fail", fail], ["fast-close", fastClose], ["unknown", () => true],
];

/** Prints after "mptcp"; false when the option is malformed (tcp then prints "[bad opt]"). */
export function mptcpPrint(ctx: Ctx, cp: number, len: number, flags: number): boolean {
  ctx.proto = "mptcp";
  if (len < 3) return false;
  const sub = Math.min(ctx.u8(cp + 2) >> 4, 8);
  ctx.out += ` ${len} ${SUBTYPES[sub]![0]}`;
  return SUBTYPES[sub]![1](ctx, cp, len, flags);
}
