// ELF corpus runner: every object of the elf-samples corpus (BPFKIT_ELF_SAMPLES) and of the own C corpus
// (test/fixtures/c, built with clang) must load or be rejected with a BpfError naming a real defect. Rejections
// are checked against the defects known for the corpus; an unexpected rejection or a crash is a failure.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isBpfError } from "../src/errors.ts";
import { loadObject } from "../src/object/index.ts";
import { buildOwnCorpus } from "../test/fixtures/c/build.ts";
import type { CorpusResult } from "./types.ts";

/** Objects libbpf 1.1 refuses too (bpftool gen skeleton's verdict), with the defect our message must name. */
const EXPECTED_REJECTIONS: readonly (readonly [RegExp, RegExp])[] = [
  [/-eb\.o$/, /endianness mismatch/],
  [/cilium-ebpf-dev__loader-clang-(9|14)-el\.o$/, /program 'static_fn' is static and not supported/],
  [/cilium-ebpf-dev__(loader-clang-7|invalid_map|invalid_map_static|iproute2_map_compat|subprog_reloc)-el\.o$|^qemu-system-x86__qemu-system-x86_64\.o$|^legacy_maps\b/,
    /legacy map definitions in 'maps' section are not supported by libbpf v1\.0\+/],
  [/cilium-ebpf-dev__fwd_decl-el\.o$/, /failed to find BTF for extern 'fwd'/],
];

function runCorpus(name: string, files: readonly string[]): CorpusResult {
  let loaded = 0, rejected = 0, programs = 0;
  const failures: string[] = [];
  const notes: string[] = [];
  for (const f of files) {
    const base = f.slice(f.lastIndexOf("/") + 1);
    const expected = EXPECTED_REJECTIONS.find(([re]) => re.test(base));
    try {
      const obj = loadObject(readFileSync(f), { fileName: base });
      loaded++;
      programs += obj.programs.length;
      if (expected) failures.push(`${base}: loaded, but libbpf rejects it (${expected[1].source})`);
    } catch (e) {
      if (!isBpfError(e)) {
        failures.push(`${base}: crash: ${(e as Error).stack?.split("\n").slice(0, 2).join(" ")}`);
        continue;
      }
      rejected++;
      notes.push(`rejected ${base}: ${e.message}`);
      if (!expected || !expected[1].test(e.message)) failures.push(`${base}: unexpected rejection: ${e.message}`);
    }
  }
  notes.unshift(`${programs} programs in the loaded objects`);
  return { name, passed: files.length - failures.length, failed: failures.length, failures, notes, summary: `${name}: ${loaded} loaded, ${rejected} rejected` };
}

export async function run(): Promise<CorpusResult[]> {
  const out: CorpusResult[] = [];
  const dir = process.env.BPFKIT_ELF_SAMPLES;
  if (!dir || !existsSync(dir)) {
    out.push({ name: "elf-samples", passed: 0, failed: 0, failures: [], skipped: "BPFKIT_ELF_SAMPLES not set or missing (run shared/corpora/elf-samples/install.sh)" });
  } else {
    out.push(runCorpus("elf-samples", readdirSync(dir).filter((n) => n.endsWith(".o")).sort().map((n) => join(dir, n))));
  }
  const own = buildOwnCorpus();
  if (typeof own === "string") out.push({ name: "elf-own", passed: 0, failed: 0, failures: [], skipped: own });
  else out.push(runCorpus("elf-own", own.map((o) => o.path)));
  return out;
}
