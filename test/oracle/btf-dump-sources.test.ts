// Differential test: `btf dump` with the sources that name kernel objects — `id N`, `map id|pinned|name … [key|value|
// kv|all]`, `prog id|pinned|name …` — in raw, C and JSON, and their error paths, against bpftool 7.1 on the same
// objects (the static-link fixture loaded by bpftool with its maps pinned). Identical stdout, stderr and exit status,
// except usage lines, which name the tool.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { genCommand } from "../../src/cli/gen-tool.ts";
import { buildOwnCorpus } from "../../test/fixtures/c/build.ts";

const BIN = fileURLToPath(new URL("../../bin/bpfkit.mjs", import.meta.url));
const LINK_DIR = fileURLToPath(new URL("../fixtures/c/link/", import.meta.url));
const haveBpftool = spawnSync("bpftool", ["version"], { encoding: "utf8" }).status === 0;

test("btf dump id/map/prog matches bpftool", (t) => {
  if (!haveBpftool) return void (console.log("SKIP: bpftool not installed"), t.skip("bpftool not installed"));
  if (process.getuid?.() !== 0) return void (console.log("SKIP: needs root (kernel objects)"), t.skip("needs root"));
  const built = buildOwnCorpus(LINK_DIR);
  if (typeof built === "string") return void (console.log(`SKIP: ${built}`), t.skip(built));
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-btfdump-"));
  const pin = `/sys/fs/bpf/bpfkit-btfdump-${process.pid}`;
  try {
    const obj = join(dir, "ab.o");
    assert.equal(genCommand(["object", obj, ...built.map((o) => o.path)], { json: false, pretty: false }).code, 0);
    spawnSync("mkdir", ["-p", pin]);
    const load = spawnSync("bpftool", ["prog", "loadall", obj, `${pin}/p`, "pinmaps", `${pin}/m`], { encoding: "utf8" });
    assert.equal(load.status, 0, load.stderr);
    const info = JSON.parse(spawnSync("bpftool", ["-j", "prog", "show", "pinned", `${pin}/p/link_filter`], { encoding: "utf8" }).stdout);
    const map = JSON.parse(spawnSync("bpftool", ["-j", "map", "show", "pinned", `${pin}/m/lib_hist`], { encoding: "utf8" }).stdout);
    const [P, B, M] = [String(info.id), String(info.btf_id), String(map.id)];
    const lines: string[][] = [
      ["btf", "dump", "id", B], ["btf", "dump", "id", B, "format", "c"], ["-j", "btf", "dump", "id", B], ["btf", "d", "i", B, "f", "raw"],
      ["btf", "dump", "map", "id", M], ["btf", "dump", "map", "id", M, "key"], ["btf", "dump", "map", "id", M, "value"],
      ["btf", "dump", "map", "id", M, "kv"], ["btf", "dump", "map", "id", M, "all"], ["btf", "dump", "map", "id", M, "format", "c"],
      ["btf", "dump", "map", "pinned", `${pin}/m/lib_hist`], ["btf", "dump", "map", "name", "lib_hist", "value"],
      ["-p", "btf", "dump", "map", "id", M, "value"], ["-j", "btf", "dump", "map", "id", M, "kv"], ["btf", "dump", "map", "id", M, "value", "-j"],
      ["btf", "dump", "prog", "id", P], ["btf", "dump", "prog", "pinned", `${pin}/p/link_filter`], ["btf", "dump", "prog", "id", P, "format", "c"],
      ["btf", "dump", "prog", "name", "link_filter"], ["btf", "dump", "id", "1", "format", "c"],
      // errors
      ["btf", "dump"], ["-j", "btf", "dump"], ["btf", "dump", "id"], ["btf", "dump", "id", "abc"], ["btf", "dump", "id", "999999"],
      ["-j", "btf", "dump", "id", "999999"], ["btf", "dump", "map", "id", "999999"], ["btf", "dump", "prog", "id", "999999"],
      ["btf", "dump", "map", "id"], ["btf", "dump", "map", "bogus", "1"], ["btf", "dump", "nope", "1"], ["btf", "dump", "id", B, "format", "x"],
      ["btf", "dump", "id", B, "format"], ["btf", "dump", "map", "id", M, "bogus"], ["-j", "btf", "dump", "id", B, "format", "c"],
    ];
    const diffs: string[] = [];
    for (const argv of lines) {
      const want = spawnSync("bpftool", argv, { encoding: "latin1", maxBuffer: 1 << 28 });
      const got = spawnSync(process.execPath, [BIN, ...argv], { encoding: "latin1", maxBuffer: 1 << 28 });
      const usage = (s: string) => s.replace(/^(Usage: |       )bpftool /gm, "$1bpfkit ");
      if (got.stdout !== want.stdout || got.stderr !== usage(want.stderr) || got.status !== want.status) {
        diffs.push(`${argv.join(" ")}: status ${got.status}/${want.status} ${got.stderr.slice(0, 120)}`);
      }
    }
    console.log(`btf dump sources: ${lines.length - diffs.length}/${lines.length} command lines identical to bpftool`);
    assert.deepEqual(diffs, []);
  } finally {
    spawnSync("rm", ["-rf", pin]);
    rmSync(dir, { recursive: true, force: true });
  }
});
