// Differential test of offline filtering: for captures of corpora/pcaps (MANIFEST.tsv, files tcpdump reads cleanly),
// the number of packets bpfkit's compiled filter accepts must equal `tcpdump -r FILE --count EXPR`, and both must
// refuse the same expressions. By default each capture gets 2 of the 30 expressions (all 30 are covered across
// files); BPFKIT_FULL_ORACLE=1 runs every capture with every expression.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { compileFilter, compileOfflineFilterJs, linkTypeByFileValue } from "../../src/filter/index.ts";
import { openCapture } from "../../src/capture/index.ts";

const run = promisify(execFile);
const PCAPS = new URL("../../../shared/corpora/pcaps/", import.meta.url);
export const CAPTURE_EXPRESSIONS = [
  "ip", "ip6", "arp", "tcp", "udp", "icmp", "icmp6", "tcp port 80", "udp port 53", "port 53", "host 192.168.1.1",
  "net 10.0.0.0/8", "not ip", "tcp[tcpflags] & tcp-syn != 0", "ip[8] < 64", "greater 200", "less 100", "vlan",
  "vlan and ip", "mpls", "pppoes", "ether broadcast", "ether multicast", "ip multicast", "ip proto 47", "esp or ah",
  "portrange 1-1023", "ip6 protochain 58", "ip and udp[8:2] > 0", "len > 500 and (tcp or udp)",
];

function bpfkitCount(file: string, expr: string): number | "error" {
  const cap = openCapture(readFileSync(file));
  const row = linkTypeByFileValue(cap.info.linktype);
  let f;
  try {
    f = compileOfflineFilterJs(compileFilter(expr, { linktype: row ? row[1] : cap.info.linktype, snaplen: cap.info.snaplen, readingFile: true, swapped: cap.info.byteOrder === "be" }).insns);
  } catch {
    return "error";
  }
  let n = 0;
  try {
    for (const p of cap.packets()) if (f(p.data, p.len) !== 0) n++;
  } catch { /* a truncated tail: tcpdump counts the packets before it */ }
  return n;
}

async function tcpdumpCount(file: string, expr: string): Promise<number | "error"> {
  try {
    const r = await run("tcpdump", ["-r", file, "--count", "--", expr], { encoding: "utf8" });
    const m = /^(\d+) packets?/m.exec(r.stdout);
    return m ? Number(m[1]) : "error";
  } catch (e) {
    const out = (e as { stdout?: string }).stdout ?? "";
    const m = /^(\d+) packets?/m.exec(out);
    return m ? Number(m[1]) : "error";
  }
}

test("offline filtering counts equal tcpdump -r --count on the capture corpus", async (t) => {
  if (spawnSync("tcpdump", ["--version"]).status !== 0) { console.log("SKIP: tcpdump not installed"); t.skip("tcpdump absent"); return; }
  const manifest = new URL("MANIFEST.tsv", PCAPS);
  if (!existsSync(manifest)) { console.log("SKIP: corpora/pcaps absent"); t.skip("corpus absent"); return; }
  const rows = readFileSync(manifest, "utf8").split("\n").slice(1).filter(Boolean).map((l) => l.split("\t"))
    .filter((c) => c[10] === "0");
  const full = process.env.BPFKIT_FULL_ORACLE === "1";
  const jobs: Array<[string, string]> = [];
  rows.forEach((r, i) => {
    const file = new URL(r[0]!, PCAPS).pathname;
    const exprs = full ? CAPTURE_EXPRESSIONS : [0, 1].map((j) => CAPTURE_EXPRESSIONS[(i * 2 + j) % CAPTURE_EXPRESSIONS.length]!);
    for (const e of exprs) jobs.push([file, e]);
  });
  const failures: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const [file, expr] = jobs[next++]!;
      const want = await tcpdumpCount(file, expr);
      const got = bpfkitCount(file, expr);
      if (got !== want) failures.push(`${file.replace(/.*pcaps\//, "")} '${expr}': bpfkit ${got}, tcpdump ${want}`);
    }
  };
  await Promise.all([worker(), worker()]);
  console.log(`filter -r: ${jobs.length - failures.length}/${jobs.length} (capture, expression) pairs agree with tcpdump`);
  assert.deepEqual(failures, []);
});
