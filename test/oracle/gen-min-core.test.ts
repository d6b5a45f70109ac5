// Differential test: `bpfkit gen min_core_btf VMLINUX OUT OBJ...` against `bpftool gen min_core_btf` on this kernel's
// BTF: the same minimized BTF bytes for every object with CO-RE relocations (own corpus and elf-samples, one at a
// time and all own objects together), or the same refusal.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { genCommand } from "../../src/cli/gen-tool.ts";
import { buildOwnCorpus } from "../../test/fixtures/c/build.ts";

const VMLINUX = "/sys/kernel/btf/vmlinux";
const haveBpftool = spawnSync("bpftool", ["version"], { encoding: "utf8" }).status === 0;
const samples = process.env.BPFKIT_ELF_SAMPLES;

function compare(sets: string[][]): void {
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-mincore-"));
  const failures: string[] = [];
  let same = 0, refused = 0;
  try {
    sets.forEach((objs, i) => {
      const b = join(dir, `${i}.bpftool.btf`), k = join(dir, `${i}.bpfkit.btf`);
      const r = spawnSync("bpftool", ["gen", "min_core_btf", VMLINUX, b, ...objs], { encoding: "latin1" });
      const ours = genCommand(["min_core_btf", VMLINUX, k, ...objs], { json: false, pretty: false });
      if ((r.status === 0) !== (ours.code === 0)) failures.push(`${objs.join(" ")}: bpftool ${r.status}, bpfkit ${ours.code} ${ours.stderr.trim()}`);
      else if (r.status !== 0) refused++;
      else if (readFileSync(b).equals(readFileSync(k))) same++;
      else failures.push(`${objs.join(" ")}: minimized BTF differs`);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`gen min_core_btf: ${same} identical, ${refused} refused by both, ${failures.length} different`);
  assert.deepEqual(failures, []);
}

test("gen min_core_btf matches bpftool on the own corpus", (t) => {
  if (!haveBpftool) return void (console.log("SKIP: bpftool not installed"), t.skip("bpftool not installed"));
  if (!existsSync(VMLINUX)) return void (console.log("SKIP: no vmlinux BTF"), t.skip("no vmlinux BTF"));
  const built = buildOwnCorpus();
  if (typeof built === "string") return void (console.log(`SKIP: ${built}`), t.skip(built));
  const paths = built.map((o) => o.path);
  compare([...paths.map((p) => [p]), paths]);
});

test("gen min_core_btf matches bpftool on the elf-samples corpus", (t) => {
  if (!haveBpftool) return void (console.log("SKIP: bpftool not installed"), t.skip("bpftool not installed"));
  if (!existsSync(VMLINUX)) return void (console.log("SKIP: no vmlinux BTF"), t.skip("no vmlinux BTF"));
  if (!samples || !existsSync(samples)) return void (console.log("SKIP: BPFKIT_ELF_SAMPLES not set"), t.skip("BPFKIT_ELF_SAMPLES not set"));
  compare(readdirSync(samples).filter((n) => n.endsWith(".o")).sort().map((n) => [join(samples, n)]));
});
