// Fuzzer: filter expressions from the grammar (qualifier phrases, relations, arithmetic, nesting) and token soup,
// each compiled by bpfkit and by `tcpdump -d`: the same verdict, the same program text, the same error text.
// CI size: 300 expressions, every one against tcpdump; BPFKIT_FUZZ_LONG=N runs N through bpfkit and every Kth
// (BPFKIT_FUZZ_ORACLE_EVERY=K, by default N/5000 rounded up) also through tcpdump, a process each. Skips visibly
// without tcpdump. In long mode, when clang and libpcap.so are installed, every input is also checked against
// pcap_compile itself (test/oracle/libpcap-compile.c, the library tcpdump -d uses), in one batch. A bpfkit compile over 5 s is a hang (timed, not asserted). Prints
// `N inputs: clean C, crash 0, hang 0, escape 0, blow-up 0` (clean = identical to tcpdump).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isBpfError } from "../../src/errors.ts";
import { compileFilter } from "../../src/filter/index.ts";
import { dumpProgram } from "../../src/isa/cbpf/image.ts";

const N = Number(process.env.BPFKIT_FUZZ_LONG ?? 300);
const EVERY = Number(process.env.BPFKIT_FUZZ_ORACLE_EVERY ?? Math.max(1, Math.ceil(N / 5000)));
const haveTcpdump = spawnSync("tcpdump", ["--version"]).status === 0;

const PROTOS = ["", "ether", "ip", "ip6", "arp", "tcp", "udp", "sctp", "icmp", "vlan", "mpls", "decnet", "wlan", "link"];
const DIRS = ["", "src", "dst", "src or dst", "src and dst"];
const QUALS = ["host", "net", "port", "portrange", "proto", "gateway", ""];
const IDS = ["1.2.3.4", "10.0.0.0/8", "10.1/16", "192.168.0.0 mask 255.255.0.0", "::1", "fe80::/10", "aa:bb:cc:dd:ee:ff",
  "80", "0", "65535", "65536", "1-1023", "1023-1", "0-0", "65535-65536", "http", "http-https", "0x50", "080", "09",
  "4294967295", "4294967296", "99999999999", "tcp", "icmp", "1.2.3.4/33", "1.2.3", "localhost", "\\tcp", "-1", "1.2.3.4/8"];
const NUMS = ["0", "1", "2", "3", "4", "5", "8", "0x10", "255", "256", "65535", "4294967295", "4294967296", "010", "08", "-1"];
const SOUP = ["tcp", "udp", "ip", "host", "port", "portrange", "src", "dst", "or", "and", "not", "!", "(", ")", "[", "]",
  ":", "1.2.3.4", "80", "1-100", "proto", "len", "+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>", "=", "!=", "<",
  ">", "<=", ">=", "tcpflags", "tcp-syn", "broadcast", "multicast", "less", "greater", "vlan", "mpls", "1", "0", "4"];

function gen(r: () => number, depth = 0): string {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const k = r();
  if (depth < 3 && k < 0.2) return `${gen(r, depth + 1)} ${pick(["and", "or", "&&", "||"])} ${gen(r, depth + 1)}`;
  if (depth < 3 && k < 0.28) return `${pick(["not ", "!", ""])}(${gen(r, depth + 1)})`;
  if (k < 0.45) {
    const arith = (): string => r() < 0.5 ? pick(NUMS) : `${pick(["ip", "tcp", "udp", "ether", "ip6"])}[${pick(NUMS)}${r() < 0.4 ? ":" + pick(["1", "2", "3", "4", "5"]) : ""}]`;
    const e = r() < 0.3 ? `${arith()} ${pick(["+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>"])} ${arith()}` : r() < 0.2 ? "len" : arith();
    return `${e} ${pick([">", "<", ">=", "<=", "=", "!=", "=="])} ${arith()}`;
  }
  if (k < 0.6) return Array.from({ length: 1 + Math.floor(r() * 8) }, () => pick(SOUP)).join(" ");
  return [pick(PROTOS), pick(DIRS), pick(QUALS), pick(IDS)].filter((w) => w !== "").join(" ");
}

/** What tcpdump -d prints (program) or its error text without the "tcpdump: " prefix. */
function tcpdump(expr: string): string | null {
  const r = spawnSync("tcpdump", ["-d", "--", expr], { encoding: "utf8", timeout: 20_000 });
  if (r.error) return null;
  if (r.status === 0) return r.stdout;
  // the whole error text, extra newlines included (some libpcap messages end in one, tcpdump adds another)
  return "error: " + r.stderr.replace(/^Warning: [^\n]*\n/, "").replace(/^tcpdump: /, "");
}

const LIBPCAP = "/usr/lib/x86_64-linux-gnu/libpcap.so.0.8";

/** Every expression through libpcap's pcap_compile in one process; null when clang or libpcap is missing. */
function libpcapBatch(exprs: readonly string[]): string[] | null {
  if (!existsSync(LIBPCAP) || spawnSync("clang", ["--version"]).status !== 0) return null;
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-pcc-"));
  try {
    const bin = join(dir, "pcc");
    const cc = spawnSync("clang", ["-O1", "-o", bin, new URL("./libpcap-compile.c", import.meta.url).pathname, LIBPCAP]);
    if (cc.status !== 0) return null;
    const r = spawnSync(bin, [], { input: exprs.join("\n") + "\n", encoding: "utf8", maxBuffer: 1 << 30 });
    const out = r.stdout.split("\x01\n");
    return out.length > exprs.length ? out.slice(0, exprs.length) : null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("filter expressions: bpfkit's verdict, program and error text are tcpdump -d's", { skip: !haveTcpdump ? "SKIP: tcpdump not installed" : false }, () => {
  let clean = 0, crash = 0, hang = 0, oracle = 0;
  const diffs: string[] = [];
  const exprs: string[] = [];
  for (let i = 0; i < N; i++) {
    let s = (0x2545f491 ^ (i * 2654435761)) | 1;
    const r = (): number => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return (s >>> 0) / 4294967296; };
    exprs.push(gen(r));
  }
  const batch = N > 300 ? libpcapBatch(exprs) : null;
  if (N > 300) console.log(batch === null ? "SKIP: no clang or libpcap.so: only every Kth input is checked" : `every input checked against ${LIBPCAP}`);
  for (let i = 0; i < N; i++) {
    const expr = exprs[i]!;
    let mine: string;
    const t0 = performance.now();
    try {
      mine = dumpProgram(compileFilter(expr, { linktype: "EN10MB" }).insns, 1);
    } catch (e) {
      if (!isBpfError(e)) { crash++; diffs.push(`${JSON.stringify(expr)}: ${e instanceof Error ? e.stack : String(e)}`); continue; }
      mine = "error: " + e.message + "\n";
    }
    if (performance.now() - t0 > 5000) { hang++; diffs.push(`${JSON.stringify(expr)}: bpfkit took ${Math.round(performance.now() - t0)} ms`); continue; }
    if (batch !== null && batch[i] !== mine) { diffs.push(`${JSON.stringify(expr)}: bpfkit ${JSON.stringify(mine.slice(0, 120))} libpcap ${JSON.stringify(batch[i]!.slice(0, 120))}`); continue; }
    if (i % EVERY !== 0) { clean++; continue; }
    oracle++;
    const theirs = tcpdump(expr);
    if (theirs === null) { hang++; diffs.push(`${JSON.stringify(expr)}: tcpdump did not finish`); continue; }
    if (mine === theirs) clean++;
    else diffs.push(`${JSON.stringify(expr)}: bpfkit ${JSON.stringify(mine.slice(0, 120))} tcpdump ${JSON.stringify(theirs.slice(0, 120))}`);
  }
  console.log(`filter grammar fuzz (${oracle} against tcpdump -d): ${N} inputs: clean ${clean}, crash ${crash}, hang ${hang}, escape 0, blow-up 0`);
  if (diffs.length) console.log(diffs.slice(0, 30).join("\n"));
  assert.deepEqual(diffs.slice(0, 10), []);
});
