// `gen` errors against bpftool 7.1, through bpfkit's CLI: plain, -j and -p, compared whole — stdout (the JSON error
// objects, `{…},null` when usage follows, `{…},{…}` when bpftool reports twice), stderr (libbpf's own warning for a
// file that is not ELF, `Error:` lines, usage texts with bpftool's name replaced) and the exit status. Then every
// elf-samples object both tools refuse to make a skeleton of: the same JSON error and exit status.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildOwnCorpus } from "../fixtures/c/build.ts";
import { runBpfkitLines } from "./cli.ts";

const haveBpftool = spawnSync("bpftool", ["version"]).status === 0;
const samples = process.env.BPFKIT_ELF_SAMPLES;

/** bpfkit's own `gen skeleton` is TypeScript; `--c` asks for bpftool's C header, so it is added on bpfkit's side. */
const bpfkitArgs = (args: readonly string[]): string[] => (args.includes("skeleton") && args.length > 2 ? [...args, "--c"] : [...args]);

function compare(lines: readonly (readonly string[])[], cwd: string, whole: boolean): string[] {
  const ours = runBpfkitLines(lines.map(bpfkitArgs));
  const diffs: string[] = [];
  lines.forEach((args, i) => {
    const ref = spawnSync("bpftool", args, { encoding: "latin1", cwd, maxBuffer: 1 << 26 });
    const o = ours[i]!;
    const stderrSame = !whole || ref.stderr.replaceAll("bpftool", "bpfkit") === o.stderr;
    if (ref.stdout !== o.stdout || ref.status !== o.status || !stderrSame) {
      diffs.push(`${args.join(" ")}: bpftool ${ref.status} ${JSON.stringify(ref.stdout.slice(0, 200))} ${JSON.stringify(ref.stderr.slice(0, 200))}\n` +
        `  bpfkit ${o.status} ${JSON.stringify(o.stdout.slice(0, 200))} ${JSON.stringify(o.stderr.slice(0, 200))}`);
    }
  });
  return diffs;
}

test("gen errors: plain and JSON identical to bpftool", (t) => {
  if (!haveBpftool) return void (console.log("SKIP: gen error differential needs bpftool"), t.skip("bpftool not installed"));
  const built = buildOwnCorpus();
  if (typeof built === "string") return void (console.log(`SKIP: ${built}`), t.skip(built));
  const obj = built.find((b) => b.name.startsWith("globals"))?.path ?? built[0]!.path;
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-gen-err-"));
  try {
    const text = join(dir, "text.o"), tiny = join(dir, "tiny"), out = join(dir, "out.o"), btf = join(dir, "x.btf");
    writeFileSync(text, "not an object\n");
    writeFileSync(tiny, "x");
    const vmlinux = "/sys/kernel/btf/vmlinux";
    const cases: string[][] = [
      ["gen", "skeleton"], ["gen", "subskeleton"], ["gen", "object"], ["gen", "object", out], ["gen", "min_core_btf"],
      ["gen", "min_core_btf", vmlinux, btf], ["gen", "skeleton", "/nonexistent.o"], ["gen", "skeleton", dir],
      ["gen", "skeleton", obj, "name"], ["gen", "skeleton", obj, "bogus", "x"], ["gen", "skeleton", obj, "name", "a", "name", "b"],
      ["gen", "skeleton", text], ["gen", "skeleton", text, "name", "other"], ["gen", "skeleton", tiny], ["gen", "subskeleton", text],
      ["gen", "object", out, text], ["gen", "object", out, obj, text], ["gen", "object", out, "/nonexistent.o"],
      ["gen", "min_core_btf", "/nonexistent", btf, obj], ["gen", "min_core_btf", text, btf, obj], ["gen", "min_core_btf", dir, btf, obj],
      ["gen", "min_core_btf", tiny, btf, obj], ["gen", "min_core_btf", vmlinux, btf, "/nonexistent.o"],
      ["gen", "min_core_btf", vmlinux, btf, text], ["gen", "min_core_btf", vmlinux, btf, dir], ["gen", "min_core_btf", vmlinux, btf, tiny],
      ["gen", "min_core_btf", vmlinux, join(dir, "no", "x.btf"), obj], ["gen", "bogus"], ["gen", "sk"],
      // -L: bpftool refuses subskeletons with it, and bad input before any skeleton
      ["-L", "gen", "subskeleton", obj], ["gen", "subskeleton", obj, "--use-loader"], ["-L", "gen", "skeleton", text],
      ["-L", "gen", "skeleton", "/nonexistent.o"],
    ];
    const lines = cases.flatMap((c) => [c, ["-j", ...c], ["-p", ...c], [...c.slice(0, 2), "-j", ...c.slice(2)]]);
    const diffs = compare(lines, dir, true);
    console.log(`gen errors: ${lines.length - diffs.length}/${lines.length} command lines identical (stdout, stderr, status)`);
    assert.deepEqual(diffs, []);
    // a light skeleton of a good object: bpftool's header (test/oracle/gen-lskel.test.ts compares the corpora)
    const [light] = runBpfkitLines([["gen", "skeleton", "-L", obj, "--c"]]);
    const theirs = spawnSync("bpftool", ["gen", "skeleton", "-L", obj], { encoding: "latin1" });
    assert.equal(light!.status, theirs.status);
    assert.equal(light!.stdout, theirs.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("gen skeleton -j on the elf-samples both refuse: the same JSON error and status", (t) => {
  if (!haveBpftool) return void (console.log("SKIP: gen error differential needs bpftool"), t.skip("bpftool not installed"));
  if (!samples || !existsSync(samples)) return void (console.log("SKIP: BPFKIT_ELF_SAMPLES not set"), t.skip("BPFKIT_ELF_SAMPLES not set"));
  const files = readdirSync(samples).filter((n) => n.endsWith(".o")).sort().map((n) => join(samples, n));
  const refused = files.filter((f) => spawnSync("bpftool", ["gen", "skeleton", f], { maxBuffer: 1 << 28 }).status !== 0);
  const lines = refused.flatMap((f) => [["-j", "gen", "skeleton", f], ["-j", "gen", "subskeleton", f]]);
  const diffs = compare(lines, samples, false);
  console.log(`gen skeleton/subskeleton -j on refused elf-samples: ${lines.length - diffs.length}/${lines.length} identical (stdout, status)`);
  assert.deepEqual(diffs, []);
});
