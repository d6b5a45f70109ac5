// Differential test: `bpfkit btf dump file X [format c]` must be byte-identical to Debian's bpftool 7.1 for every
// object of the elf-samples corpus and the own C corpus, and for /sys/kernel/btf/vmlinux (raw and c).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { dumpBtfC } from "../../src/btf/dump-c.ts";
import { dumpBtfRaw } from "../../src/btf/dump-raw.ts";
import { btfFromFileBytes } from "../../src/object/btf-file.ts";
import { buildOwnCorpus } from "../../test/fixtures/c/build.ts";

const bpftool = spawnSync("bpftool", ["version"], { encoding: "utf8" });
const haveBpftool = bpftool.status === 0;
const samples = process.env.BPFKIT_ELF_SAMPLES;

function ours(path: string, format: "raw" | "c"): Buffer {
  const parts: string[] = [];
  const btf = btfFromFileBytes(readFileSync(path));
  if (format === "c") dumpBtfC(btf, (s) => parts.push(s));
  else dumpBtfRaw(btf, (s) => parts.push(s));
  return Buffer.from(parts.join(""), "latin1");
}

function theirs(path: string, format: "raw" | "c"): Buffer | undefined {
  const r = spawnSync("bpftool", ["btf", "dump", "file", path, "format", format], { maxBuffer: 1 << 30 });
  return r.status === 0 ? r.stdout : undefined;
}

function compareAll(t: { skip(msg: string): void }, files: string[]): void {
  let compared = 0;
  const failures: string[] = [];
  for (const f of files) {
    for (const format of ["raw", "c"] as const) {
      const want = theirs(f, format);
      if (want === undefined) continue; // no BTF: bpftool fails, checked in the loader tests
      compared++;
      const got = ours(f, format);
      if (!got.equals(want)) failures.push(`${f} format ${format}`);
    }
  }
  console.log(`btf-bpftool: ${compared - failures.length}/${compared} dumps byte-identical`);
  assert.deepEqual(failures, []);
}

test("btf dump file matches bpftool on the elf-samples corpus", (t) => {
  if (!haveBpftool) return void (console.log("SKIP: bpftool not installed"), t.skip("bpftool not installed"));
  if (!samples || !existsSync(samples)) return void (console.log("SKIP: BPFKIT_ELF_SAMPLES not set"), t.skip("BPFKIT_ELF_SAMPLES not set"));
  compareAll(t, readdirSync(samples).filter((n) => n.endsWith(".o")).sort().map((n) => join(samples, n)));
});

test("btf dump file matches bpftool on the own C corpus", (t) => {
  if (!haveBpftool) return void (console.log("SKIP: bpftool not installed"), t.skip("bpftool not installed"));
  const built = buildOwnCorpus();
  if (typeof built === "string") return void (console.log(`SKIP: ${built}`), t.skip(built));
  compareAll(t, built.map((o) => o.path));
});

for (const format of ["raw", "c"] as const) {
  test(`btf dump file /sys/kernel/btf/vmlinux format ${format} matches bpftool`, (t) => {
    if (!haveBpftool) return void (console.log("SKIP: bpftool not installed"), t.skip("bpftool not installed"));
    if (!existsSync("/sys/kernel/btf/vmlinux")) return void (console.log("SKIP: no /sys/kernel/btf/vmlinux"), t.skip("no vmlinux BTF"));
    const want = theirs("/sys/kernel/btf/vmlinux", format);
    assert.ok(want, "bpftool failed on vmlinux");
    const got = ours("/sys/kernel/btf/vmlinux", format);
    if (!got.equals(want)) {
      const a = got.toString("latin1").split("\n"), b = want.toString("latin1").split("\n");
      const i = a.findIndex((l, k) => l !== b[k]);
      assert.fail(`first difference at line ${i + 1}:\n ours:    ${a[i]}\n bpftool: ${b[i]}`);
    }
  });
}

test("btf dump file -j / -p matches bpftool's JSON", async (t) => {
  if (!haveBpftool) return void (console.log("SKIP: bpftool not installed"), t.skip("bpftool not installed"));
  const { dumpBtfJson } = await import("../../src/cli/btf.ts");
  const files: string[] = [];
  const built = buildOwnCorpus();
  if (typeof built !== "string") files.push(...built.map((o) => o.path));
  if (samples && existsSync(samples)) {
    files.push(...readdirSync(samples).filter((n) => /execsnoop|xdp-bench-2|btf_map_init-eb|xdpdump_bpf/.test(n)).map((n) => join(samples, n)));
  }
  if (!files.length) return void (console.log("SKIP: no objects (clang and BPFKIT_ELF_SAMPLES absent)"), t.skip("no objects"));
  for (const f of files) {
    for (const flag of ["-j", "-p"]) {
      const r = spawnSync("bpftool", [flag, "btf", "dump", "file", f], { maxBuffer: 1 << 28 });
      assert.equal(r.status, 0, `${f}: ${r.stderr}`);
      assert.equal(Buffer.from(dumpBtfJson(btfFromFileBytes(readFileSync(f)), flag === "-p"), "latin1").toString("latin1"), r.stdout.toString("latin1"), `${f} ${flag}`);
    }
  }
});
