// `bpfkit tcpdump -r` against the installed tcpdump over every capture of corpora/pcaps: the share of identical
// output lines per flag set and per protocol is printed, every line of the protocols bpfkit decodes must be identical,
// and the captures where a protocol bpfkit does not decode appears are named with their line counts. CI runs the
// flag set -nn over every capture, and -e -nn, -x -nn, -v -nn and a filter over a quarter of them; BPFKIT_FULL_ORACLE=1 runs
// every flag set (-v, -q, -X, -A, -tttt, ...) over every capture.
// Error paths (missing file, directory, bad flag, bad count, bad expression) must print tcpdump's message and status.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, readFileSync, readdirSync } from "node:fs";
import { writePcap } from "../../src/capture/index.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  compareOne, corpusFiles, FLAG_SETS, formatReport, newReport, runBpfkit, runTcpdump, tcpdumpPath,
} from "./tcpdump-diff.ts";
import { wifiCaptures } from "./wifi-frames.ts";

process.env.TZ = "UTC";
const bin = tcpdumpPath();
const full = process.env.BPFKIT_FULL_ORACLE === "1";

/** Protocols whose every line must match (the rest are reported). */
const ASSERTED = ["802.11", "tcp", "udp", "dns", "icmp", "igmp", "ntp", "http", "arp", "dhcp", "vxlan", "geneve", "icmp6", "mpls", "gre"];

test("tcpdump -r: identical lines over the corpus", { timeout: 900_000 }, async (t) => {
  if (bin === null) { console.log("SKIP: tcpdump not installed"); t.skip("tcpdump absent"); return; }
  const files = corpusFiles();
  if (files.length === 0) { console.log("SKIP: corpora/pcaps absent"); t.skip("corpus absent"); return; }
  // CI: -nn over every capture, the other flag sets over every fourth one
  const sets = full ? FLAG_SETS : [["-nn"], ["-e", "-nn"], ["-x", "-nn"], ["-v", "-nn"], ["-nn", "expr:tcp"]];
  const failures: string[] = [];
  for (const flags of sets) {
    const report = newReport();
    const subset = full || flags.length === 1 ? files : files.filter((_, i) => i % 4 === 0);
    for (const f of subset) await compareOne(bin, f, flags, report);
    console.log(`-- ${flags.join(" ") || "(no flags)"}\n${formatReport(report)}`);
    for (const p of ASSERTED) {
      const tally = report.byProto.get(p);
      if (tally && tally.same !== tally.total) failures.push(`${p} [${flags.join(" ")}]: ${tally.total - tally.same} differing lines\n${(report.examples.get(p) ?? []).slice(0, 3).join("\n")}`);
    }
    for (const [k, tl] of report.byFlags) if (k.endsWith("(stderr+status)") && tl.same !== tl.total) {
      failures.push(`${k}: ${tl.total - tl.same} files differ\n${(report.examples.get("stderr") ?? []).slice(0, 3).join("\n")}`);
    }
    const unclaimed = [...report.where].filter(([p]) => !ASSERTED.includes(p));
    if (unclaimed.length) {
      console.log("captures with protocols bpfkit does not decode (differing lines):");
      for (const [p, per] of unclaimed.sort()) console.log(`  ${p}: ${[...per].map(([f, n]) => `${f.split("/").slice(-2).join("/")} (${n})`).join(", ")}`);
    }
  }
  assert.deepEqual(failures, []);
});

test("tcpdump -r: 802.11 and radiotap frames of every kind print as tcpdump prints them", async (t) => {
  if (bin === null) { console.log("SKIP: tcpdump not installed"); t.skip("tcpdump absent"); return; }
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-tcpdump-wifi-"));
  try {
    const failures: string[] = [];
    for (const { linktype, frames } of wifiCaptures()) {
      const file = join(dir, `wifi-${linktype}.pcap`);
      writeFileSync(file, writePcap(frames.map((data, i) => ({ ts: { sec: 1_700_000_000 + i, nsec: 0 }, data })), { linktype }));
      for (const flags of [[], ["-nn"], ["-e"], ["-e", "-v", "-nn"], ["-x", "-nn"], ["-xx", "-e"], ["-X", "-nn"], ["-q", "-nn"]]) {
        const report = newReport();
        await compareOne(bin, file, flags, report);
        for (const [k, tl] of report.byFlags) {
          if (tl.same !== tl.total) failures.push(`${linktype} ${k}: ${tl.total - tl.same} differ\n${[...report.examples.values()].flat().slice(0, 3).join("\n")}`);
        }
      }
    }
    assert.deepEqual(failures, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("tcpdump -r: odd time stamps and short 802.3 frames print as tcpdump prints them", async (t) => {
  if (bin === null) { console.log("SKIP: tcpdump not installed"); t.skip("tcpdump absent"); return; }
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-tcpdump-odd-"));
  try {
    // seconds with bit 31 set ("[Error converting time]", also for such a difference), 0.000000 (an unset
    // reference for -ttt/-ttttt), differences past a day (hours wrap at 24)
    const arp = new Uint8Array(60);
    arp.set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x06]);
    const stamps: [number, number][] = [[0, 0], [5, 0], [1_700_000_000, 0], [0xffffffff, 1], [0x7fffffff, 2], [0x80000000, 3],
      [5, 4], [0, 0], [1_700_100_000, 5], [0xffffff9c, 6], [3, 7]];
    const times = join(dir, "times.pcap");
    writeFileSync(times, writePcap(stamps.map(([sec, us]) => ({ ts: { sec, nsec: us * 1000 }, data: arp })), { linktype: 1 }));
    // 802.3 frames whose length field leaves less than an LLC header (all-zero ones included), or more than the wire had
    const frames: Uint8Array[] = [];
    for (const [len, total, fill] of [[0, 60, 0], [0, 60, 0xaa], [1, 60, 0xaa], [2, 60, 0x42], [3, 60, 0x42], [0, 14, 0],
      [0, 15, 0], [2, 15, 0xaa], [100, 60, 0xaa], [4, 16, 0xaa], [46, 60, 0xe0]] as const) {
      const f = new Uint8Array(total).fill(fill);
      f.fill(0, 0, 12);
      f[6] = 2;
      f[12] = len >> 8;
      f[13] = len & 0xff;
      frames.push(f);
    }
    const llc = join(dir, "llc.pcap");
    writeFileSync(llc, writePcap(frames.map((data, i) => ({ ts: { sec: 1_700_000_000 + i, nsec: 0 }, data })), { linktype: 1 }));
    const failures: string[] = [];
    for (const [file, sets] of [[times, [["-nn"], ["-tt"], ["-ttt"], ["-tttt"], ["-ttttt"], ["--nano", "-ttt"]]],
      [llc, [["-nn"], ["-e", "-nn"], ["-v", "-nn"], ["-x", "-nn"], ["-e", "-X"], ["-q"]]]] as const) {
      for (const flags of sets) {
        const args = [...flags, "-r", file];
        const want = runTcpdump(bin, args), got = await runBpfkit(args);
        if (got.stdout !== want.stdout || got.status !== want.status) failures.push(`${args.join(" ")}\n--- tcpdump\n${want.stdout}--- bpfkit\n${got.stdout}`);
      }
    }
    assert.deepEqual(failures, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("tcpdump -r F -w OUT: the same file as tcpdump writes", { timeout: 300_000 }, async (t) => {
  if (bin === null) { console.log("SKIP: tcpdump not installed"); t.skip("tcpdump absent"); return; }
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-tcpdump-w-"));
  try {
    const files = corpusFiles().filter((_, i) => full || i % 4 === 1);
    for (const f of files) {
      for (const expr of [[], ["ip"]]) {
        const a = join(dir, "tcpdump.pcap"), b = join(dir, "bpfkit.pcap");
        const want = runTcpdump(bin, ["-r", f, "-w", a, ...expr]);
        const got = await runBpfkit(["-r", f, "-w", b, ...expr]);
        assert.equal(got.status, want.status, `status, -w of ${f} ${expr.join(" ")}`);
        if (want.status !== 0) continue;
        assert.ok(readFileSync(b).equals(readFileSync(a)), `-w of ${f} ${expr.join(" ")}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("tcpdump -r F -w OUT -C/-G/-W: the same file set as tcpdump writes", { timeout: 300_000 }, async (t) => {
  if (bin === null) { console.log("SKIP: tcpdump not installed"); t.skip("tcpdump absent"); return; }
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-tcpdump-rot-"));
  try {
    // 40,000 frames of 100 bytes: about 4.6 MB, so -C 1 makes five files
    const frame = new Uint8Array(100);
    frame.set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00, 0x45]);
    const input = join(dir, "in.pcap");
    writeFileSync(input, writePcap(Array.from({ length: 40_000 }, (_, i) => ({ ts: { sec: 1_700_000_000 + i, nsec: 0 }, data: frame })), { linktype: 1 }));
    for (const args of [["-C", "1"], ["-C", "1", "-W", "3"], ["-C", "1", "-W", "12"], ["-G", "3600"], ["-G", "3600", "-C", "2", "-W", "2"]]) {
      const sets: Map<string, string>[] = [];
      for (const run of ["tcpdump", "bpfkit"]) {
        const out = join(dir, run);
        mkdirSync(out);
        const name = join(out, args.includes("-G") ? "f-%Y%m%d-%H" : "f");
        // -Z root: tcpdump drops to its own user before opening rotated files
        const all = ["-Z", "root", "-r", input, "-w", name, ...args];
        const r: { status: number; stderr: string } = run === "tcpdump" ? runTcpdump(bin, all) : await runBpfkit(all);
        assert.equal(r.status, 0, `${run} ${args.join(" ")}: ${r.stderr}`);
        sets.push(new Map(readdirSync(out).map((f) => [f, readFileSync(join(out, f)).toString("base64")])));
        rmSync(out, { recursive: true });
      }
      assert.deepEqual([...sets[1]!.keys()].sort(), [...sets[0]!.keys()].sort(), `file names, -w with ${args.join(" ")}`);
      for (const [f, data] of sets[0]!) assert.ok(sets[1]!.get(f) === data, `${f}, -w with ${args.join(" ")}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("tcpdump error paths: tcpdump's message and exit status", async (t) => {
  if (bin === null) { console.log("SKIP: tcpdump not installed"); t.skip("tcpdump absent"); return; }
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-tcpdump-"));
  try {
    const file = corpusFiles().find((f) => f.endsWith("dns_udp.pcap"));
    const garbage = join(dir, "garbage.pcap");
    writeFileSync(garbage, "this is not a capture file at all");
    const cases: string[][] = [
      ["-r", join(dir, "missing.pcap")], ["-r", dir], ["-r", garbage], ["-Z"], ["--foo"], ["-c"], ["-c", "x", "-r", garbage],
      ["-s", "x"], ["-s", "300000"], ["-t", "-t", "-t", "-t", "-t", "-t", "-r", garbage], ["--time-stamp-precision=pico"],
      ["-y", "NOSUCH"], ["-Q", "sideways"], ["-W", "0"],
    ];
    if (file) cases.push(["-r", file, "tcp", "and"], ["-r", file, "port", "99999"], ["-r", file, "--count"], ["-r", file, "-c", "1"],
      ["-r", file, "-d", "udp"], ["-r", file, "-ddd", "ip"], ["-d", "tcp"], ["-r", file, "-F", join(dir, "nofile")]);
    for (const args of cases) {
      const want = runTcpdump(bin, args);
      const got = await runBpfkit(args);
      assert.equal(got.stderr, want.stderr, `stderr of tcpdump ${args.join(" ")}`);
      assert.equal(got.status, want.status, `status of tcpdump ${args.join(" ")}`);
      assert.equal(got.stdout, want.stdout, `stdout of tcpdump ${args.join(" ")}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
