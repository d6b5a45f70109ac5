// The seed's tools on Linux: `bpfkit tools lostupdates` (the per-CPU count equals the getppid() calls made; the shared
// hash's ++ is at most that) and `bpfkit tools bitehist` (O_DIRECT writes with dd show up in BCC's kbytes table).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { nativeUnavailable } from "../../src/kernel/libc.ts";

function missing(...tools: string[]): string | undefined {
  if (process.getuid?.() !== 0) return "not root";
  const n = nativeUnavailable();
  if (n) return n;
  for (const tool of tools) {
    try { execFileSync("which", [tool], { stdio: "ignore" }); } catch { return `${tool} not installed`; }
  }
  return undefined;
}

test("lostupdates: per-CPU count exact, shared hash reports its shortfall", async (t) => {
  const why = missing("perl");
  if (why) { console.log(`SKIP lostupdates: ${why}`); t.skip(why); return; }
  const { runLostUpdates, formatLostUpdates } = await import("../../src/kernel/lostupdates.ts");
  const r = await runLostUpdates(2, 50000);
  console.log(formatLostUpdates(r).trimEnd());
  assert.equal(r.perCpu, r.events);
  assert.ok(r.hash <= r.events && r.hash > 0n);
});

test("bitehist: O_DIRECT writes appear in the kbytes table", async (t) => {
  const why = missing("dd");
  if (why) { console.log(`SKIP bitehist: ${why}`); t.skip(why); return; }
  const dir = mkdtempSync(join(process.cwd(), ".bitehist-"));
  try {
    const child = spawn(process.execPath, [new URL("../../bin/bpfkit.mjs", import.meta.url).pathname, "tools", "bitehist", "3"], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    await new Promise<void>((res) => child.stdout.on("data", (d: Buffer) => { out += d; if (out.includes("Hit Ctrl-C")) res(); }));
    execFileSync("dd", ["if=/dev/zero", `of=${join(dir, "f")}`, "bs=64k", "count=16", "oflag=direct"], { stdio: "ignore" });
    await new Promise<void>((res) => child.on("exit", () => res()));
    assert.match(out, /kbytes\s+: count\s+distribution/);
    assert.match(out, /64 -> 127\s+: (\d+)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
