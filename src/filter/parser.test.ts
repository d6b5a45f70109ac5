// The parser's reading of pcap-filter(7), as bison reads libpcap's grammar: one precedence level for and/or,
// qualifier inheritance for bare ids, arithmetic precedence (with % and ^ binding everything to their right),
// and libpcap's error precedence.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseFilter, buildBlockGraph, compileFilter } from "./index.ts";
import type { Node, Arth } from "./ast.ts";

function show(n: Node | null): string {
  if (n === null) return "<all>";
  switch (n.t) {
    case "and": case "or": return `(${show(n.left)} ${n.t} ${show(n.right)})`;
    case "not": return `!${show(n.operand)}`;
    case "scode": return `${n.name}@${n.q.addr}`;
    case "ncode": return `${n.s ?? n.v}@${n.q.addr}/${n.q.proto}`;
    case "abbrev": return `p${n.proto}`;
    case "relation": return `[${arth(n.left)} ${n.code}${n.reversed ? "!" : ""} ${arth(n.right)}]`;
    default: return n.t;
  }
}
function arth(a: Arth): string {
  switch (a.t) {
    case "loadi": return String(a.v);
    case "binary": return `(${arth(a.left)} ${a.op} ${arth(a.right)})`;
    case "neg": return `-${arth(a.operand)}`;
    case "load": return `p${a.proto}[${arth(a.index)}:${a.size}]`;
    case "len": return "len";
  }
}

test("and/or share one left-associative level; not binds tighter", () => {
  assert.equal(show(parseFilter("tcp or udp and icmp").root), "((p6 or p7) and p8)");
  assert.equal(show(parseFilter("not tcp and udp").root), "(!p6 and p7)");
  assert.equal(show(parseFilter("").root), "<all>");
});

test("a bare id after and/or inherits the previous qualifiers", () => {
  assert.equal(show(parseFilter("host 1.2.3.4 or 5.6.7.8").root), "(1.2.3.4@1/0 or 5.6.7.8@1/0)");
  assert.equal(show(parseFilter("tcp port 80 or 443").root), "(80@3/6 or 443@3/6)");
  assert.equal(show(parseFilter("host a and not b").root), "(a@1 and !b@1)");
});

test("arithmetic: * over +, and % and ^ take everything to their right (no precedence in grammar.y)", () => {
  const rel = (e: string): string => show(parseFilter(e).root);
  assert.equal(rel("1 + 2 * 3 = 7"), "[(1 0 (2 32 3)) 16 7]");
  assert.equal(rel("2 * 3 % 4 + 1 = 0"), "[(2 32 (3 144 (4 0 1))) 16 0]");
  assert.equal(rel("1 ^ 2 + 3 != 0"), "[(1 160 (2 0 3)) 16! 0]");
  assert.equal(rel("-1 + 2 > 0"), "[(-1 0 2) 32 0]");
});

test("errors: a grammar action's error beats the scanner's, which beats a syntax error", () => {
  const err = (e: string): string => { try { compileFilter(e); return "ok"; } catch (x) { return (x as Error).message; } };
  assert.equal(err("tcp host 1.2.3.4 and ("), "'tcp' modifier applied to host");
  assert.equal(err("host 1.2.3.4 and 09"), "number 09 contains non-octal digit");
  assert.equal(err("tcp and ("), "can't parse filter expression: syntax error");
  assert.equal(err("ip and not ip"), "expression rejects all packets");
});

test("the block graph between generator and optimizer is inspectable", () => {
  const { ic, noOptimize } = buildBlockGraph("tcp port 80");
  assert.equal(noOptimize, false);
  assert.equal(ic.root.s.code & 0x07, 0x05); // a jump block
  assert.ok(ic.root.et.succ !== null && ic.root.ef.succ !== null);
  assert.equal(compileFilter("tcp port 80", { optimize: false }).insns.length > compileFilter("tcp port 80").insns.length, true);
});

test("error recovery stays linear: 8000 `not`s before a bad token give the syntax error (was quadratic, 25 s)", () => {
  const r = parseFilter("not ".repeat(8000) + "and");
  assert.equal(r.error?.message, "can't parse filter expression: syntax error");
  const chain = Array.from({ length: 8000 }, (_, i) => `host 10.0.${(i >> 8) & 255}.${i & 255}`).join(" and ") + " and";
  assert.equal(parseFilter(chain).error?.message, "can't parse filter expression: syntax error");
});

test("nesting past the stack is libpcap's 'memory exhausted' error, never a RangeError", () => {
  for (const e of ["(".repeat(10000) + "tcp" + ")".repeat(10000), "(".repeat(20000), "tcp and (".repeat(5000) + "tcp"]) {
    const r = parseFilter(e);
    assert.equal(r.error?.message, "can't parse filter expression: memory exhausted");
  }
});

test("after a syntax error, only what bison had reduced raises its error (libpcap 1.10's texts)", () => {
  const cases: Array<[string, string]> = [
    ["ip[1] << 32 08", "shift by more than 31 bits"], // reduced on the bad token (a default reduction)
    ["ip[1:5] 08", "data size must be 1, 2, or 4"],
    ["ip6[3:5] < udp[4294967296]", "data size must be 1, 2, or 4"],
    ["13 % 0 >> multicast", "can't parse filter expression: syntax error"], // `%` shifted `>>`: never reduced
    ["(1 << (32 08", "number 08 contains non-octal digit"], // the inner group is still open
    ["tcp or 0 )", "syntax error in filter expression"], // a number before `)` is an id
    ["1=1 && 1 2", "can't parse filter expression: syntax error"], // ... before a number, nothing
    ["tcp and not 80 80", "can't parse filter expression: syntax error"],
  ];
  for (const [expr, message] of cases) assert.throws(() => compileFilter(expr), { message }, expr);
});

test("a term after and/or that does not end the phrase is kept where it ended: what follows is a syntax error", () => {
  // Each was accepted when the id reading was retried from the term's end (as `… and 3`, `… and 3=4`).
  for (const expr of ["host 1.2.3.4 and 1 = 2 3", "ip and 1=2 3=4", "tcp and 1 = 1 (2)"]) {
    assert.throws(() => compileFilter(expr), { message: "can't parse filter expression: syntax error" }, expr);
  }
});
