// Random bytes and random token sequences through the lexer, parser and compiler: every outcome is a program or a
// BpfError, never another exception or a hang.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { compileFilter, tokenize } from "./index.ts";
import { isBpfError } from "../errors.ts";

const TOKENS = ["tcp", "udp", "ip", "ip6", "host", "net", "port", "portrange", "src", "dst", "or", "and", "not", "!",
  "(", ")", "[", "]", ":", "1.2.3.4", "10.0.0.0/8", "::1", "fe80::/10", "aa:bb:cc:dd:ee:ff", "80", "0x10", "1-100",
  "proto", "protochain", "ether", "vlan", "mpls", "pppoes", "geneve", "less", "greater", "len", "+", "-", "*", "/",
  "%", "&", "|", "^", "<<", ">>", "=", "!=", "<", ">", "<=", ">=", "tcpflags", "tcp-syn", "icmp", "broadcast",
  "multicast", "llc", "type", "subtype", "mgt", "data", "byte", "inbound", "mask", "255.0.0.0", "gateway", "\\tcp",
  "domain", "http", "localhost", "foo", "09", "99999999999", "1:2:3:4:5", "wlan", "arp", "rarp", "decnet", "iso", "l1"];

function outcome(expr: string, linktype: string): void {
  try {
    compileFilter(expr, { linktype });
  } catch (e) {
    if (!isBpfError(e)) throw e;
    assert.ok(e.message.length > 0);
  }
}

test("random strings compile or fail with a BpfError", () => {
  fc.assert(fc.property(fc.string({ maxLength: 40 }), (s) => { tokenize(s); outcome(s, "EN10MB"); }), { numRuns: 400 });
});

test("random token sequences compile or fail with a BpfError on several link types", () => {
  const lts = ["EN10MB", "RAW", "LINUX_SLL", "IEEE802_11_RADIO", "PPP", "NULL"];
  fc.assert(fc.property(fc.array(fc.constantFrom(...TOKENS), { maxLength: 12 }), fc.constantFrom(...lts),
    (toks, lt) => outcome(toks.join(" "), lt)), { numRuns: 600 });
});

test("very deep nesting fails cleanly (bison's 'memory exhausted'), long or-chains compile", () => {
  assert.throws(() => compileFilter("(".repeat(20000) + "tcp" + ")".repeat(20000)),
    (e: unknown) => isBpfError(e) && e.message === "can't parse filter expression: memory exhausted");
  const p = compileFilter(Array(300).fill("tcp").join(" or "));
  assert.ok(p.insns.length > 0);
});
