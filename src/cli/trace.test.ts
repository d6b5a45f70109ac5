// `bpfkit trace --vm --replay FILE`: the workload of the Linux differential test (20 getppid() calls, then writes of
// 100..1200 bytes, by a process named w2) as a replay file prints exactly what Debian's bpftrace 0.17 printed for the
// real workload (test/fixtures/trace/vm-replay.json, text and -f json). The scripts' `/pid == cpid/` filter is dropped:
// the VM has no -c child, and every replayed event is the workload's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import trace from "./trace.ts";

const fx = JSON.parse(readFileSync(new URL("../../test/fixtures/trace/vm-replay.json", import.meta.url), "utf8")) as {
  cases: { script: string; mode: string; stdout: string }[];
};
const BIN = fileURLToPath(new URL("../../bin/bpfkit.mjs", import.meta.url));

/** The workload as replay events (runtime/attach/replay.ts's JSON lines). */
export function workloadReplay(): string {
  const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
  const lines = [JSON.stringify({ tracepoint: "syscalls/sys_enter_getppid", comm: "w2", pid: 4242, record: hex(new Uint8Array(16)), repeat: 20 })];
  for (let i = 1; i <= 12; i++) {
    const rec = new Uint8Array(48);
    new DataView(rec.buffer).setBigUint64(32, BigInt(i * 100), true);
    lines.push(JSON.stringify({ tracepoint: "syscalls/sys_enter_write", comm: "w2", pid: 4242, record: hex(rec) }));
  }
  return lines.join("\n") + "\n";
}

async function capture(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "", err = "";
  const w = process.stdout.write, e = process.stderr.write, ce = console.error;
  // strings only: the test runner's own messages to its parent are buffers
  process.stdout.write = ((s: string | Uint8Array, ...r: unknown[]) => { if (typeof s !== "string") return (w as (...a: unknown[]) => boolean).call(process.stdout, s, ...r); out += s; return true; }) as typeof w;
  process.stderr.write = ((s: string | Uint8Array, ...r: unknown[]) => { if (typeof s !== "string") return (e as (...a: unknown[]) => boolean).call(process.stderr, s, ...r); err += s; return true; }) as typeof e;
  console.error = (...a: unknown[]) => { err += a.join(" ") + "\n"; };
  try {
    return { code: await trace(args), out, err };
  } finally {
    process.stdout.write = w; process.stderr.write = e; console.error = ce;
  }
}

const dir = mkdtempSync(join(tmpdir(), "bpfkit-trace-cli-"));
const replayFile = join(dir, "workload.jsonl");
writeFileSync(replayFile, workloadReplay());
const noCpid = (s: string) => s.replaceAll("/pid == cpid/ ", "");

test("bpfkit trace --vm --replay FILE prints what bpftrace printed for the real workload (every recorded case, text and json)", async () => {
  let same = 0;
  for (const k of fx.cases) {
    const r = await capture(["--vm", "--replay", replayFile, ...(k.mode === "json" ? ["-f", "json"] : []), "-e", noCpid(k.script)]);
    assert.equal(r.err, "", k.script);
    assert.equal(r.out, k.stdout, `${k.mode}: ${k.script}`);
    assert.equal(r.code, 0);
    same++;
  }
  console.log(`bpfkit trace --vm --replay: ${same}/${fx.cases.length} recorded bpftrace outputs reproduced`);
});

test("bpfkit trace as a command: --replay implies the VM; a bad replay line is an error naming file:line; interval probes tick in real time until exit()", () => {
  const k = fx.cases.find((c) => c.mode === "text" && c.script.includes("hist("))!;
  const r = spawnSync(process.execPath, [BIN, "trace", "--replay", replayFile, "-e", noCpid(k.script)], { encoding: "utf8", timeout: 120_000 });
  assert.equal(r.stdout, k.stdout);
  assert.equal(r.status, 0);
  const bad = join(dir, "bad.jsonl");
  writeFileSync(bad, '{"tracepoint":"syscalls/sys_enter_write","record":"zz"}\n');
  const b = spawnSync(process.execPath, [BIN, "trace", "--replay", bad, "-e", "tracepoint:syscalls:sys_enter_write { @c = count(); }"], { encoding: "utf8", timeout: 120_000 });
  assert.equal(b.status, 1);
  assert.match(b.stderr, /bad\.jsonl:1: record: expected the record's bytes in hex/);
  const t = spawnSync(process.execPath, [BIN, "trace", "--vm", "-e", "interval:ms:10 { @n++; if (@n == 3) { exit(); } } END { printf(\"done\\n\"); }"], { encoding: "utf8", timeout: 120_000 });
  assert.equal(t.stdout, "Attaching 2 probes...\ndone\n\n\n@n: 3\n");
  assert.equal(t.status, 0);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test("bpfkit trace --vm -l lists the VM's attach points: the tracepoints it has formats for, filtered like bpftrace's -l", async () => {
  const { BUNDLED_FORMATS } = await import("../runtime/attach/tracepoint-formats.ts");
  const sched = Object.keys(BUNDLED_FORMATS).filter((t) => t.startsWith("sched:")).map((t) => `tracepoint:${t}`).sort();
  const r = await capture(["--vm", "-l", "tracepoint:sched:*"]);
  assert.equal(r.code, 0);
  assert.equal(r.out, sched.join("\n") + "\n");
  const word = await capture(["--vm", "-l", "block_rq"]);
  assert.equal(word.out, "tracepoint:block:block_rq_complete\ntracepoint:block:block_rq_issue\n");
  assert.equal((await capture(["--vm", "-l", "tracepoint:nosuch:*"])).out, "");
});
