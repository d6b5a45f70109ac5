// `map event_pipe` against bpftool 7.1: both read the same pinned perf event array while `prog run` produces samples;
// the first sample each prints (text and -j) must match after its CPU and timestamp are normalised, and both stop on
// SIGINT the same way ("Stopping..." on stderr, exit 0).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildOwnCorpus } from "../fixtures/c/build.ts";
import { eventsMapId } from "./cli.ts";

const haveBpftool = spawnSync("bpftool", ["version"]).status === 0;
const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const BPFFS = "/sys/fs/bpf";
const FIXTURES = new URL("../fixtures/bpftool/", import.meta.url).pathname;

interface Result { stdout: string; stderr: string; status: number | null }

/**
 * Runs `map event_pipe`, producing one sample (with `prog run`) every half second until the reader has printed one,
 * then stops it with SIGINT. The reader's start-up time decides how many samples it sees: the first is compared.
 */
async function eventPipeRun(cmd: string[], pin: string, prog: string, data: string, json: boolean): Promise<Result> {
  const child = spawn(cmd[0]!, [...cmd.slice(1), ...(json ? ["-j"] : []), "map", "event_pipe", "pinned", pin], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "", stderr = "";
  child.stdout.on("data", (c: Buffer) => { stdout += c.toString(); });
  child.stderr.on("data", (c: Buffer) => { stderr += c.toString(); });
  for (let i = 0; i < 60 && stdout.replace(/^\[/, "").length === 0; i++) {
    spawnSync("bpftool", ["prog", "run", "pinned", prog, "data_in", data]);
    await new Promise((r) => setTimeout(r, 500));
  }
  child.kill("SIGINT");
  const status = await new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  return { stdout, stderr, status };
}

/** The first record of an event_pipe stream, with its CPU and time normalised. */
function firstRecord(s: string, json: boolean): string {
  if (json) {
    const first = (JSON.parse(s) as Record<string, unknown>[])[0] ?? {};
    return JSON.stringify({ ...first, cpu: "C", index: "C", timestamp: "T" });
  }
  return s.split("\n").slice(0, 2).join("\n").replace(/@\d+\.\d+ CPU: \d+ index: \d+/, "@T CPU: C index: C");
}

test("map event_pipe streams perf samples as bpftool 7.1 does", { timeout: 120_000 }, async (t) => {
  const built = buildOwnCorpus(FIXTURES);
  if (!haveBpftool || !isRoot || typeof built === "string") {
    console.log(`SKIP: event_pipe differential needs ${!haveBpftool ? "bpftool" : !isRoot ? "root" : built}`);
    t.skip("bpftool, root or clang absent");
    return;
  }
  const obj = built.find((b) => b.name.startsWith("objects"))!.path;
  const P = `${BPFFS}/bkpipe_${process.pid}`;
  const T = mkdtempSync(join(tmpdir(), "bkpipe-"));
  try {
    assert.equal(spawnSync("bpftool", ["prog", "loadall", obj, P]).status, 0);
    assert.equal(spawnSync("bpftool", ["map", "pin", "id", eventsMapId(`${P}/tc_emit`), `${P}/ev`]).status, 0);
    const data = join(T, "packet");
    writeFileSync(data, Uint8Array.from({ length: 64 }, (_, i) => i));
    const bin = new URL("../../bin/bpfkit.mjs", import.meta.url).pathname;
    for (const json of [false, true]) {
      const ref = await eventPipeRun(["bpftool"], `${P}/ev`, `${P}/tc_emit`, data, json);
      const ours = await eventPipeRun([process.execPath, bin], `${P}/ev`, `${P}/tc_emit`, data, json);
      assert.ok(ref.stdout.length > 3, "bpftool printed a sample");
      assert.equal(firstRecord(ours.stdout, json), firstRecord(ref.stdout, json), `first sample${json ? " (-j)" : ""}`);
      assert.equal(ours.stderr, ref.stderr);
      assert.equal(ours.status, ref.status);
    }
    console.log("map event_pipe: text and -j samples identical to bpftool's");
  } finally {
    rmSync(P, { recursive: true, force: true });
    rmSync(T, { recursive: true, force: true });
  }
});
