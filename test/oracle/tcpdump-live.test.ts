// Live capture against tcpdump on a veth pair whose far end lives in a network namespace the test creates: both
// capture `-c N udp port P` on the near end while the namespace sends UDP datagrams to P and to another port. The
// printed lines must be identical (-t: timestamps aside), the -w files must hold the same packets, and the kernel must
// have run the filter: "packets received by filter" counts only the matching datagrams (the others never reached
// user space). Needs root, iproute2 and tcpdump; skips visibly otherwise.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readCapture } from "../../src/capture/index.ts";

const BIN = join(import.meta.dirname, "..", "..", "bin", "tcpdump.mjs");
const N = 5;

function why(): string | null {
  if (process.platform !== "linux") return "needs Linux";
  if (process.getuid?.() !== 0) return "needs root";
  if (spawnSync("ip", ["-V"]).status !== 0) return "needs iproute2 (ip)";
  if (spawnSync("tcpdump", ["--version"]).status !== 0) return "needs tcpdump";
  return null;
}

const sh = (cmd: string): void => {
  const r = spawnSync("sh", ["-c", cmd], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
};

interface Run { stdout: string; stderr: string; status: number | null; ready: Promise<void>; done: Promise<void> }

function capture(cmd: string, args: string[]): Run {
  const child = spawn(cmd, args, { env: { ...process.env, TZ: "UTC" } });
  const run: Run = { stdout: "", stderr: "", status: null, ready: Promise.resolve(), done: Promise.resolve() };
  run.ready = new Promise((resolve) => {
    child.stderr.on("data", (d: Buffer) => { run.stderr += d.toString("latin1"); if (run.stderr.includes("listening on")) resolve(); });
  });
  child.stdout.on("data", (d: Buffer) => { run.stdout += d.toString("latin1"); });
  run.done = new Promise((resolve) => child.on("close", (code) => { run.status = code; resolve(); }));
  setTimeout(() => child.kill("SIGINT"), 60_000).unref();
  return run;
}

test("live capture on a veth pair: same lines, same -w packets, filter in the kernel", { timeout: 120_000 }, async (t) => {
  const reason = why();
  if (reason !== null) { console.log(`SKIP tcpdump live: ${reason}`); t.skip(reason); return; }
  const tag = `bk${process.pid % 100000}`;
  const ns = `${tag}ns`, near = `${tag}a`, far = `${tag}b`;
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-live-"));
  const port = 20000 + (process.pid % 20000);
  try {
    sh(`ip netns add ${ns} && ip link add ${near} type veth peer name ${far} && ip link set ${far} netns ${ns}`);
    sh(`ip addr add 10.201.0.1/24 dev ${near} && ip link set ${near} up`);
    sh(`ip netns exec ${ns} sh -c 'ip addr add 10.201.0.2/24 dev ${far} && ip link set ${far} up && ip link set lo up'`);
    // a static neighbour entry on both sides: no ARP in the capture window
    const mac = readFileSync(`/sys/class/net/${near}/address`, "latin1").trim();
    const farMac = spawnSync("ip", ["netns", "exec", ns, "cat", `/sys/class/net/${far}/address`], { encoding: "utf8" }).stdout.trim();
    sh(`ip neigh replace 10.201.0.2 lladdr ${farMac} dev ${near} && ip netns exec ${ns} ip neigh replace 10.201.0.1 lladdr ${mac} dev ${far}`);
    const expr = `udp port ${port}`;
    const theirs = capture("tcpdump", ["-i", near, "-c", String(N), "-nn", "-t", "-e", expr]);
    const ours = capture(process.execPath, [BIN, "-i", near, "-c", String(N), "-nn", "-t", "-e", expr]);
    const theirsW = capture("tcpdump", ["-i", near, "-c", String(N), "-w", join(dir, "tcpdump.pcap"), expr]);
    const oursW = capture(process.execPath, [BIN, "-i", near, "-c", String(N), "-w", join(dir, "bpfkit.pcap"), expr]);
    await Promise.all([theirs.ready, ours.ready, theirsW.ready, oursW.ready]);
    await new Promise((r) => setTimeout(r, 300));
    // interleave non-matching datagrams (another port) with the matching ones
    const send = Array.from({ length: N }, (_, i) =>
      `echo other${i} > /dev/udp/10.201.0.1/${port + 1}; echo packet-${i} > /dev/udp/10.201.0.1/${port}; sleep 0.05`).join("; ");
    sh(`ip netns exec ${ns} bash -c '${send}'`);
    await Promise.all([theirs.done, ours.done, theirsW.done, oursW.done]);
    assert.equal(ours.status, 0, ours.stderr);
    assert.equal(ours.stdout, theirs.stdout, "printed lines");
    // the kernel's "received by filter" counter may include a packet that arrived while the other tool was closing
    // (seen once under load: tcpdump 6, bpfkit 5, both capturing 5): compared with the count masked, checked below
    const mask = (s: string) => s.replace(/^\d+ packets received by filter$/m, "N packets received by filter");
    assert.equal(mask(ours.stderr), mask(theirs.stderr), "listening line and counts");
    const a = [...readCapture(readFileSync(join(dir, "tcpdump.pcap")))];
    const b = [...readCapture(readFileSync(join(dir, "bpfkit.pcap")))];
    assert.equal(b.length, a.length);
    b.forEach((p, i) => assert.deepEqual(Buffer.from(p.data), Buffer.from(a[i]!.data), `-w packet ${i}`));
    // the kernel ran the filter: only the N matching datagrams passed it
    assert.match(ours.stderr, new RegExp(`\\n${N} packets received by filter\\n`));
  } finally {
    spawnSync("ip", ["link", "del", near]);
    spawnSync("ip", ["netns", "del", ns]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("tcpdump -L -i IF: the link types tcpdump lists (loopback, Ethernet, any, a device that is down)", (t) => {
  const reason = why();
  if (reason !== null) { console.log(`SKIP: tcpdump -L: ${reason}`); t.skip(reason); return; }
  const dev = (type: string, up: boolean): string | undefined => {
    for (const n of readdirSync("/sys/class/net")) {
      const flags = Number(readFileSync(`/sys/class/net/${n}/flags`, "latin1"));
      if (readFileSync(`/sys/class/net/${n}/type`, "latin1").trim() === type && ((flags & 1) === 1) === up) return n;
    }
    return undefined;
  };
  for (const name of ["lo", "any", dev("1", true), dev("1", false)]) {
    if (name === undefined) continue;
    const want = spawnSync("tcpdump", ["-L", "-i", name], { encoding: "utf8" });
    const got = spawnSync(process.execPath, [BIN, "-L", "-i", name], { encoding: "utf8" });
    assert.equal(got.stdout, want.stdout, `stdout of -L -i ${name}`);
    assert.equal(got.stderr, want.stderr, `stderr of -L -i ${name}`);
    assert.equal(got.status, want.status, `status of -L -i ${name}`);
  }
});
