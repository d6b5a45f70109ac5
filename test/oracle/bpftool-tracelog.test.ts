// `prog tracelog` against bpftool 7.1. The kernel's trace pipe is shared and consumed by whoever reads it, so each tool
// reads a trace instance of its own: four instances get the bpf_trace_printk event enabled, one program run writes a
// unique marker (the event lands in every instance), and each reader runs in a private mount namespace where its
// instance is bind-mounted over /sys/kernel/tracing (where both tools look for the pipe); a reader is done with the
// event once its instance no longer holds it. The lines are compared byte
// for byte, plain and -j, except the timestamp: each instance's ring buffer stamps the event as it records it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { insn, type Insn } from "../../src/isa/ebpf/insn.ts";

const TRACEFS = "/sys/kernel/tracing";
const BIN = fileURLToPath(new URL("../../bin/bpfkit.mjs", import.meta.url));
const haveTools = ["bpftool", "unshare", "stdbuf", "mount"].every((t) => spawnSync("sh", ["-c", `command -v ${t}`]).status === 0);
const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

/** A socket filter that bpf_trace_printk's a 15-character marker (plus NUL, 16 bytes on the stack) and returns 0. */
function markerProgram(marker: string): Insn[] {
  const bytes = Buffer.alloc(16);
  bytes.write(marker, "latin1");
  const half = (o: number): Insn[] => [insn(0x18, 1, 0, 0, bytes.readInt32LE(o)), insn(0, 0, 0, 0, bytes.readInt32LE(o + 4)), insn(0x7b, 10, 1, -16 + o, 0)];
  return [
    ...half(0), ...half(8),
    insn(0xbf, 1, 10), insn(0x07, 1, 0, 0, -16), insn(0xb7, 2, 0, 0, 16), insn(0x85, 0, 0, 0, 6),
    insn(0xb7, 0, 0, 0, 0), insn(0x95),
  ];
}

interface Reader { readonly child: ChildProcess; stdout: string; stderr: string; readonly done: Promise<number | null> }

/** A tool's `prog tracelog` reading `instance` as its tracefs, line-buffered so the marker can be waited for. */
function reader(instance: string, argv: readonly string[]): Reader {
  const script = `mount --bind "$1" ${TRACEFS} && shift && exec stdbuf -oL "$@"`;
  const child = spawn("unshare", ["-m", "sh", "-c", script, "sh", instance, ...argv], { stdio: ["ignore", "pipe", "pipe"] });
  const r = { child, stdout: "", stderr: "" } as Reader & { done: Promise<number | null> };
  child.stdout!.on("data", (d: Buffer) => { r.stdout += d.toString("latin1"); });
  child.stderr!.on("data", (d: Buffer) => { r.stderr += d.toString("latin1"); });
  r.done = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
  return r;
}

async function until(cond: () => boolean, limitMs: number): Promise<boolean> {
  for (const start = Date.now(); Date.now() - start < limitMs;) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}

// Each instance's buffer stamps the event on its own: the timestamp, and the latency flags the kernel samples at that
// moment (need-resched `n`/`N`, irq/softirq state), may differ between the two reads of one event.
const stamp = (s: string): string => s.replace(/ \[(\d{3})\] [^ ]{5} (\d+)\.(\d{6}): /g, " [$1] FLAGS TS: ").replace(/ (\d+)\.(\d{6}): /g, " TS: ");

test("prog tracelog: the same trace lines as bpftool, plain and -j", async (t) => {
  if (!haveTools || !isRoot || !existsSync(`${TRACEFS}/instances`)) {
    console.log(`SKIP: prog tracelog differential needs root, tracefs instances, bpftool, unshare, stdbuf and mount`);
    t.skip("root, tracefs or tools absent");
    return;
  }
  const { linux } = await import("../../src/kernel/backend.ts");
  const marker = `tl-${randomBytes(6).toString("hex")}`;
  const names = ["plain-bpftool", "plain-bpfkit", "json-bpftool", "json-bpfkit"].map((n) => `${TRACEFS}/instances/bpfkit-${process.pid}-${n}`);
  const readers: Reader[] = [];
  try {
    for (const dir of names) {
      mkdirSync(dir);
      writeFileSync(`${dir}/events/bpf_trace/bpf_trace_printk/enable`, "1");
    }
    // one event, recorded by every instance's buffer
    const { fd } = linux.progLoad({ progType: 1, insns: markerProgram(marker), license: "GPL" });
    try { linux.progTestRun(fd, { dataIn: new Uint8Array(64) }); } finally { linux.close(fd); }

    readers.push(
      reader(names[0]!, ["bpftool", "prog", "tracelog"]),
      reader(names[1]!, [process.execPath, BIN, "prog", "tracelog"]),
      reader(names[2]!, ["bpftool", "-j", "prog", "tracelog"]),
      reader(names[3]!, [process.execPath, BIN, "prog", "-j", "tracelog"]),
    );
    // a reader has the line once its instance no longer holds it (`trace` shows what the pipe has not consumed yet;
    // bpftool's JSON writer flushes only at exit, so its stdout cannot be waited on)
    for (const [i, r] of readers.entries()) {
      const seen = await until(() => !readFileSync(`${names[i]}/trace`, "latin1").includes(marker), 60_000);
      assert.ok(seen, `${r.child.spawnargs.join(" ")} did not read the marker: ${r.stderr}`);
    }
    for (const r of readers) r.child.kill("SIGINT");
    const codes = await Promise.all(readers.map((r) => r.done));
    const [pt, pk, jt, jk] = readers.map((r) => stamp(r.stdout));
    assert.equal(pk, pt, "plain lines");
    assert.equal(jk, jt, "JSON array of lines");
    assert.deepEqual([codes[1], codes[3]], [codes[0], codes[2]], "exit statuses");
    assert.equal(readers[1]!.stderr, readers[0]!.stderr);
    assert.ok(pt!.includes(`bpf_trace_printk: ${marker}`), pt);
    if (process.env.BPFKIT_DEBUG) for (const r of readers) console.log(JSON.stringify(r.stdout));
    console.log(`prog tracelog: plain and -j identical to bpftool (timestamps aside): ${JSON.stringify(pk!.trim())}`);
  } finally {
    for (const r of readers) if (r.child.exitCode === null) r.child.kill("SIGKILL");
    await Promise.all(readers.map((r) => r.done));
    for (const dir of names) { try { rmdirSync(dir); } catch { /* not created */ } }
  }
});
