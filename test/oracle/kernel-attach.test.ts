// Programs built with bpfkit, loaded and attached in the real kernel: a tracepoint counts a child's openat calls
// exactly; uprobes and tracepoints show up in `bpfkit perf` as in `bpftool perf`; everything detaches on close.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { skipWithoutKernel } from "./kernel.ts";
import { loadProgram, attachTracepoint } from "../../src/kernel/loader.ts";
import { TypedKernelMap, u32, u64 } from "../../src/kernel/map-access.ts";
import { countByTgidProgram } from "../fixtures/kernel/programs.ts";

const skipUnless = (t: { skip(msg: string): void }): boolean => skipWithoutKernel(t, "kernel attach tests");

test("tracepoint syscalls:sys_enter_openat counts a child's opens exactly", async (t) => {
  if (skipUnless(t)) return;
  const N = 37;
  const prog = loadProgram({
    insns: countByTgidProgram(), progType: "tracepoint", name: "bk_openat",
    maps: [{ type: "array", keySize: 4, valueSize: 4, maxEntries: 1 }, { type: "array", keySize: 4, valueSize: 8, maxEntries: 1 }],
  });
  const link = attachTracepoint(prog.fd, "syscalls", "sys_enter_openat");
  try {
    // bash applies a builtin's redirection in its own process: one openat per iteration, after the "go" line
    const child = spawn("bash", ["-c", `echo ready; read x; for ((i=0;i<${N};i++)); do : < /dev/null; done`], { stdio: ["pipe", "pipe", "inherit"] });
    const [first] = (await once(child.stdout!, "data")) as [Buffer];
    assert.equal(first.toString().trim(), "ready");
    new TypedKernelMap(prog.maps[0]!, u32, u32).set(0, child.pid!);
    child.stdin!.end("go\n");
    await once(child, "exit");
    assert.equal(new TypedKernelMap(prog.maps[1]!, u32, u64).get(0), BigInt(N));
  } finally {
    link.close();
    prog.close();
  }
});

test("links and programs vanish when the process that held them exits", async (t) => {
  if (skipUnless(t)) return;
  const { execFileSync } = await import("node:child_process");
  const { allIds } = await import("../../src/kernel/bpf.ts");
  const script = new URL("../fixtures/kernel/attach-and-exit.ts", import.meta.url).pathname;
  const out = JSON.parse(execFileSync(process.execPath, ["--import", "tsx", script], { encoding: "utf8" })) as { links: number[]; progs: number[] };
  assert.equal(out.links.length, 2);
  // the kernel releases them after the exiting process's fds are closed (RCU-deferred for programs)
  const deadline = Date.now() + 3000;
  const alive = () => [...allIds("link").filter((id) => out.links.includes(id)), ...allIds("prog").filter((id) => out.progs.includes(id))];
  while (alive().length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(alive(), []);
});
