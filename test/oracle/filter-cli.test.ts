// `bpfkit filter` against tcpdump, through the command line: -d/-dd/-ddd, -y, -O, -s, an expression split over
// several arguments, error text and exit status, and -r/-w output that is byte-identical to tcpdump -w.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const BIN = new URL("../../bin/bpfkit.mjs", import.meta.url).pathname;
const haveTcpdump = spawnSync("tcpdump", ["--version"]).status === 0;
const bpfkit = (args: string[]) => spawnSync(process.execPath, [BIN, "filter", ...args], { encoding: "utf8" });
const tcpdump = (args: string[]) => spawnSync("tcpdump", args, { encoding: "utf8" });

test("dumps, options and errors match tcpdump", (t) => {
  if (!haveTcpdump) { console.log("SKIP: tcpdump not installed"); t.skip("tcpdump absent"); return; }
  const runs: string[][] = [
    ["-d", "tcp", "port", "80"], ["-dd", "host 1.2.3.4"], ["-y", "linux_sll", "-ddd", "arp"],
    ["-O", "-s", "96", "-y", "RAW", "-d", "tcp[13] & 2 != 0"],
  ];
  for (const args of runs) {
    const a = bpfkit(args);
    const b = tcpdump(args);
    assert.equal(a.stdout, b.stdout, args.join(" "));
    assert.equal(a.stderr, b.stderr, args.join(" "));
    assert.equal(a.status, b.status, args.join(" "));
  }
  for (const lt of ["DLT_RAW"]) {
    const a = bpfkit(["-y", lt, "-d", "ip"]);
    assert.equal(a.status, 1);
    assert.equal(a.stderr, `bpfkit filter: invalid data link type ${lt}\n`);
  }
  for (const expr of ["tcp host 1.2.3.4", "("]) {
    const a = bpfkit(["-d", expr]);
    const b = tcpdump(["-d", expr]);
    assert.equal(a.status, 1);
    assert.equal(b.status, 1);
    assert.equal(a.stderr.replace(/^bpfkit filter: /m, ""), b.stderr.replace(/^tcpdump: /m, ""), expr);
  }
});

test("-r/-w writes the same capture as tcpdump -w, --count prints the count", (t) => {
  if (!haveTcpdump) { console.log("SKIP: tcpdump not installed"); t.skip("tcpdump absent"); return; }
  const file = new URL("../../../shared/corpora/pcaps/tcpdump/dns_tcp.pcap", import.meta.url).pathname;
  if (!existsSync(file)) { console.log("SKIP: corpora/pcaps absent"); t.skip("corpus absent"); return; }
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-filter-cli-"));
  try {
    for (const expr of ["tcp[tcpflags] & tcp-syn != 0"]) {
      const ours = bpfkit(["-r", file, "-w", join(dir, "a.pcap"), expr]);
      assert.equal(ours.status, 0);
      assert.equal(tcpdump(["-r", file, "-w", join(dir, "b.pcap"), expr]).status, 0);
      assert.deepEqual(readFileSync(join(dir, "a.pcap")), readFileSync(join(dir, "b.pcap")), expr);
      const count = bpfkit(["-r", file, "--count", expr]);
      assert.match(count.stderr, /^\d+ packets matched of 11\n$/);
      assert.equal(count.stdout, `${/^(\d+) packets/.exec(tcpdump(["-r", file, "--count", expr]).stdout)![1]}\n`);
    }
    // a few more captures of the corpus (big, little, VLAN, IPv6), written through the streaming fast path
    for (const name of ["tcpdump/arp-oobr.pcap", "tcpdump/MSTP_Intra-Region_BPDUs.pcap", "tcpdump/dhcpv6-mud.pcap"]) {
      const f = new URL(`../../../shared/corpora/pcaps/${name}`, import.meta.url).pathname;
      const expr = "vlan or ip6 or arp";
      assert.equal(bpfkit(["-r", f, "-w", join(dir, "c.pcap"), expr]).status, 0);
      assert.equal(tcpdump(["-r", f, "-w", join(dir, "d.pcap"), expr]).status, 0);
      assert.deepEqual(readFileSync(join(dir, "c.pcap")), readFileSync(join(dir, "d.pcap")), name);
    }
    // the default engine is the WebAssembly JIT; libpcap's interpreter and the converted eBPF program agree with it
    const want = bpfkit(["-r", file, "--count", "tcp port 53"]).stdout;
    for (const engine of ["jit", "interp", "ebpf"]) {
      const r = bpfkit(["-r", file, "--engine", engine, "--count", "tcp port 53"]);
      assert.equal(r.status, 0, engine);
      assert.equal(r.stdout, want, engine);
    }
    assert.equal(bpfkit(["-r", file, "-w", join(dir, "i.pcap"), "--engine", "interp", "tcp[tcpflags] & tcp-syn != 0"]).status, 0);
    assert.deepEqual(readFileSync(join(dir, "i.pcap")), readFileSync(join(dir, "b.pcap")), "--engine interp -w");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
