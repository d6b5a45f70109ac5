// The bitesize demo in the real kernel: O_DIRECT writes with dd on the root block device must land in the histogram.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { kernelAvailable } from "./kernel.ts";
import { startBitesize } from "../../src/kernel/bitesize.ts";

const avail = kernelAvailable();

function blockBackedDir(): string | undefined {
  // dd oflag=direct needs a real block device under the file (not tmpfs/overlay without one)
  try {
    const src = execFileSync("findmnt", ["-n", "-o", "SOURCE", "-T", process.cwd()], { encoding: "utf8" }).trim();
    return src.startsWith("/dev/") ? process.cwd() : undefined;
  } catch {
    return undefined;
  }
}

test("bitesize: dd oflag=direct 64 KiB writes appear as [64K, 128K) / 64 -> 127 kbytes", (t) => {
  const dir = blockBackedDir();
  const why = avail !== true ? avail : dir === undefined ? "the working directory is not on a block device" : undefined;
  if (why !== undefined) {
    console.log(`SKIP bitesize: ${why}`);
    t.skip(why);
    return;
  }
  for (const style of ["bpftrace", "bcc"] as const) {
    const demo = startBitesize(style);
    const file = `${dir}/.bpfkit-bitesize-${process.pid}`;
    try {
      execFileSync("dd", ["if=/dev/zero", `of=${file}`, "bs=64k", "count=16", "oflag=direct"], { stdio: "ignore" });
      const counts = demo.takeCounts();
      const slot = style === "bpftrace" ? 18 : 7; // 2 + log2(65536) ; 1 + log2(64)
      assert.ok(counts[slot]! >= 16n, `${style}: slot ${slot} has ${counts[slot]} (${counts.join(",")})`);
      const text = demo.format(counts);
      assert.match(text, style === "bpftrace" ? /^@bytes: \n[\s\S]*\[64K, 128K\)\s+\d+ \|@+/m : /kbytes\s+: count\s+distribution\n[\s\S]*64 -> 127\s+: \d+/);
    } finally {
      demo.close();
      rmSync(file, { force: true });
    }
  }
});
