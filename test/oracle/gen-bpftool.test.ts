// Differential test: `bpfkit gen skeleton FILE --c` and `gen subskeleton FILE` against bpftool 7.1's `gen skeleton` and
// `gen subskeleton` on the own C corpus and the elf-samples objects: the same verdict (header or error) on every
// object, byte-identical headers, and the same `Error:` line where both refuse.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { genCommand } from "../../src/cli/gen-tool.ts";
import { buildOwnCorpus } from "../../test/fixtures/c/build.ts";

const haveBpftool = spawnSync("bpftool", ["version"], { encoding: "utf8" }).status === 0;
const samples = process.env.BPFKIT_ELF_SAMPLES;

const errorLine = (s: string): string => s.split("\n").find((l) => l.startsWith("Error: ")) ?? "";

function compare(files: string[], verb: "skeleton" | "subskeleton"): void {
  const failures: string[] = [];
  let same = 0, refused = 0;
  const errDiffs: string[] = [];
  for (const f of files) {
    const r = spawnSync("bpftool", ["gen", verb, f], { maxBuffer: 1 << 28 });
    const ours = genCommand([verb, f, "--c"], { json: false, pretty: false });
    const theirOk = r.status === 0, ourOk = ours.code === 0;
    if (theirOk !== ourOk) {
      failures.push(`${f}: bpftool exit ${r.status}, bpfkit exit ${ours.code} ${errorLine(ours.stderr)}`);
      continue;
    }
    if (!theirOk) {
      refused++;
      const want = errorLine(r.stderr.toString("latin1")), got = errorLine(ours.stderr);
      if (want !== got) errDiffs.push(`${f}: bpftool '${want}' bpfkit '${got}'`);
      continue;
    }
    if (!Buffer.from(ours.stdout, "latin1").equals(r.stdout)) failures.push(`${f}: ${verb} header differs`);
    // libbpf's notes on the sections it skips, bpftool's warnings on maps it cannot name
    else if (verb === "skeleton" && !Buffer.from(ours.stderr, "latin1").equals(r.stderr)) failures.push(`${f}: skeleton stderr differs`);
    else same++;
  }
  console.log(`gen ${verb}: ${same} headers identical, ${refused} refused by both, ${failures.length} different; ` +
    `error lines differ on ${errDiffs.length}`);
  for (const d of errDiffs) console.log(`  error text: ${d}`);
  assert.deepEqual(failures, []);
}

for (const verb of ["skeleton", "subskeleton"] as const) {
  test(`gen ${verb} matches bpftool on the own C corpus`, (t) => {
    if (!haveBpftool) return void (console.log("SKIP: bpftool not installed"), t.skip("bpftool not installed"));
    const built = buildOwnCorpus();
    if (typeof built === "string") return void (console.log(`SKIP: ${built}`), t.skip(built));
    compare(built.map((o) => o.path), verb);
  });

  test(`gen ${verb} matches bpftool on the elf-samples corpus`, (t) => {
    if (!haveBpftool) return void (console.log("SKIP: bpftool not installed"), t.skip("bpftool not installed"));
    if (!samples || !existsSync(samples)) return void (console.log("SKIP: BPFKIT_ELF_SAMPLES not set"), t.skip("BPFKIT_ELF_SAMPLES not set"));
    compare(readdirSync(samples).filter((n) => n.endsWith(".o")).sort().map((n) => join(samples, n)), verb);
  });
}

test("gen skeleton argument errors match bpftool", (t) => {
  if (!haveBpftool) return void (console.log("SKIP: bpftool not installed"), t.skip("bpftool not installed"));
  const built = buildOwnCorpus();
  if (typeof built === "string") return void (console.log(`SKIP: ${built}`), t.skip(built));
  const obj = built[0]!.path;
  for (const args of [["skeleton"], ["skeleton", "/nonexistent.o"], ["skeleton", obj, "name"], ["skeleton", obj, "bogus", "x"],
    ["skeleton", obj, "name", "a", "name", "b"], ["subskeleton"], ["skeleton", "/etc/hostname"]]) {
    const r = spawnSync("bpftool", ["gen", ...args], { encoding: "latin1" });
    const ours = genCommand(args, { json: false, pretty: false });
    assert.equal(ours.code, r.status, `gen ${args.join(" ")}: exit status`);
    assert.equal(errorLine(ours.stderr), errorLine(r.stderr), `gen ${args.join(" ")}: error line`);
  }
});
