// Differential test: `bpfkit prog dump xlated file X.o [linum|opcodes|visual]` against `bpftool prog dump xlated` of the
// same program loaded into the kernel by bpftool (libbpf). The kernel rewrites some instructions on load, and those
// are compared modulo the rewrite:
//   - map references: libbpf puts map fds in lddw (BPF_PSEUDO_MAP_FD/VALUE), the kernel reports map ids
//     (`map[id:N]`, `map[id:N][0]+off`); the file dump shows the object's map index (`map[idx:N]`, `map[idx:N]+off`).
//   - helper calls: the kernel replaces the helper id with the kernel function's offset from __bpf_call_base (and
//     bpftool names it by kallsyms: bpf_get_prandom_u32 → bpf_user_rnd_u32, bpf_map_update_elem → htab_map_update_elem).
//   - bpf-to-bpf calls: after JIT the kernel keeps the relative offset in `off` and a subprogram index in `imm`, and
//     bpftool appends the JIT symbol (`call pc+35#bpf_prog_<tag>_<name>`).
// Everything else (every other instruction, the func_info headers, the line_info annotations and the CFG's blocks and
// edges) must be byte-identical. The fixture avoids what the kernel rewrites with a different length (context field
// accesses, inlined map lookups, bpf_loop), which would shift every later instruction.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadObject } from "../../src/object/index.ts";
import { xlatedDot, xlatedPlain } from "../../src/object/xlated.ts";
import { buildOwnCorpus } from "../fixtures/c/build.ts";

const haveBpftool = spawnSync("bpftool", ["version"]).status === 0;
const isRoot = process.getuid?.() === 0;

function normalize(text: string): string[] {
  const lines = text.split("\n");
  const out: string[] = [];
  let maskNextOpcodes = false;
  for (let line of lines) {
    if (maskNextOpcodes && /^ {7}[0-9a-f]{2} /.test(line)) {
      line = line.slice(0, 9) + " <bytes>";
      maskNextOpcodes = false;
      out.push(line);
      continue;
    }
    maskNextOpcodes = false;
    const before = line;
    line = line
      .replace(/map\[id:\d+\]\[0\]\+(\d+)/g, "map[MAP]+$1")
      .replace(/map\[idx:\d+\]\+(\d+)/g, "map[MAP]+$1")
      .replace(/map\[id:\d+\]|map\[idx:\d+\]/g, "map[MAP]")
      .replace(/\(85\) call pc([+-]\d+)#\S+/, "(85) call pc$1")
      .replace(/\(85\) call [A-Za-z_][\w.]*#\d+/, "(85) call HELPER");
    if (line !== before || /\(85\) call pc/.test(line)) maskNextOpcodes = true;
    out.push(line);
  }
  return out;
}

test("prog dump xlated file matches bpftool on the kernel-loaded program (linum, opcodes, visual)", (t) => {
  if (!haveBpftool) return void (console.log("SKIP: bpftool not installed"), t.skip("bpftool not installed"));
  if (!isRoot) return void (console.log("SKIP: needs root to load programs"), t.skip("not root"));
  const built = buildOwnCorpus();
  if (typeof built === "string") return void (console.log(`SKIP: ${built}`), t.skip(built));
  const obj = built.find((o) => o.name === "xlated_cmp")!;
  const pin = `/sys/fs/bpf/bpfkit_xlated_${process.pid}`;
  const load = spawnSync("bpftool", ["prog", "load", obj.path, pin], { encoding: "utf8" });
  if (load.status !== 0) return void (console.log(`SKIP: kernel refused the program: ${load.stderr.slice(-300)}`), t.skip("load failed"));
  const kernel: Record<string, string> = {};
  try {
    for (const opt of ["linum", "opcodes", "visual"]) {
      const r = spawnSync("bpftool", ["prog", "dump", "xlated", "pinned", pin, opt], { encoding: "latin1" });
      assert.equal(r.status, 0, r.stderr);
      kernel[opt] = r.stdout;
    }
  } finally {
    rmSync(pin, { force: true });
  }
  const o = loadObject(readFileSync(obj.path), { fileName: obj.path });
  const prog = o.programs[0]!;
  const ours = {
    linum: xlatedPlain(prog, o.btf, { linum: true }).map((l) => l + "\n").join(""),
    opcodes: xlatedPlain(prog, o.btf, { opcodes: true }).map((l) => l + "\n").join(""),
    visual: xlatedDot(prog),
  };
  for (const opt of ["linum", "opcodes", "visual"] as const) {
    assert.deepEqual(normalize(ours[opt]), normalize(kernel[opt]!), `prog dump xlated ${opt}`);
  }
  const dir = mkdtempSync(join(tmpdir(), "bpfkit-dot-"));
  writeFileSync(join(dir, "g.dot"), ours.visual);
  const dot = spawnSync("dot", ["-Tsvg", join(dir, "g.dot"), "-o", join(dir, "g.svg")], { encoding: "utf8" });
  rmSync(dir, { recursive: true, force: true });
  if (dot.error) console.log("SKIP dot check: graphviz not installed");
  else assert.equal(dot.status, 0, `dot rejected the graph: ${dot.stderr}`);
});

/** Dump lines cut into segments at func headers and `;` source annotations: [annotation, instruction lines]. */
function segments(lines: readonly string[]): [string, string[]][] {
  const out: [string, string[]][] = [["", []]];
  for (const l of lines) {
    if (/^ *\d+: /.test(l)) out[out.length - 1]![1].push(normalize(l)[0]!.replace(/^ *\d+: /, ""));
    else out.push([l, []]);
  }
  return out;
}

test("prog dump xlated file agrees with the kernel outside the instructions it rewrites (sub-programs, maps, bpf_loop)", (t) => {
  if (!haveBpftool) return void (console.log("SKIP: bpftool not installed"), t.skip("bpftool not installed"));
  if (!isRoot) return void (console.log("SKIP: needs root to load programs"), t.skip("not root"));
  const built = buildOwnCorpus();
  if (typeof built === "string") return void (console.log(`SKIP: ${built}`), t.skip(built));
  let same = 0, rewritten = 0;
  for (const name of ["subprogs", "xdp_maps"]) {
    const o = built.find((b) => b.name === name)!;
    const dir = `/sys/fs/bpf/bpfkit_xlated_all_${process.pid}`;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    try {
      const load = spawnSync("bpftool", ["prog", "loadall", o.path, dir], { encoding: "utf8" });
      if (load.status !== 0) return void (console.log(`SKIP: kernel refused ${name}: ${load.stderr.slice(-200)}`), t.skip("load failed"));
      const obj = loadObject(readFileSync(o.path), { fileName: o.path });
      for (const p of obj.programs) {
        const k = spawnSync("bpftool", ["prog", "dump", "xlated", "pinned", join(dir, p.name), "linum"], { encoding: "latin1" }).stdout.split("\n").filter(Boolean);
        const ks = segments(k), os = segments(xlatedPlain(p, obj.btf, { linum: true }));
        // the kernel keeps every line_info and func_info record (moved with the instructions it patches)
        assert.deepEqual(os.map((s) => s[0]), ks.map((s) => s[0]), `${name}/${p.name}: annotations`);
        ks.forEach(([, kins], i) => {
          const oins = os[i]![1];
          if (JSON.stringify(kins) === JSON.stringify(oins)) same++;
          else rewritten++;
        });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(`object-xlated: ${same} source-line segments identical, ${rewritten} rewritten by the kernel (ctx accesses, inlined map lookups and bpf_loop)`);
  assert.ok(same > 2 * rewritten, `${same} identical vs ${rewritten} rewritten`);
});
