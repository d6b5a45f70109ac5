// Soundness on real clang-built objects: every program of the elf-samples corpus ($BPFKIT_ELF_SAMPLES, gathered by
// .ci/run) that bpfkit's verifier accepts must load into the running kernel too. Maps whose size libbpf or the user
// supplies at load time (max_entries 0: perf event arrays, ring buffers, arrays resized by the loader) get a size the
// kernel accepts, on both sides alike, so that every object has a kernel verdict.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { type BpfObject, loadObject } from "../object/index.ts";
import { BPF_MAP_TYPE } from "../uapi/index.ts";
import { kernelAvailable } from "../../test/oracle/kernel.ts";
import { verify } from "./index.ts";

function sized(obj: BpfObject): BpfObject {
  const maps = obj.maps.map((m) => {
    if (m.maxEntries && !(m.type === BPF_MAP_TYPE.STACK_TRACE && m.valueSize === 0)) return m;
    const maxEntries = m.maxEntries || (m.type === BPF_MAP_TYPE.PERF_EVENT_ARRAY ? availableParallelism() : m.type === BPF_MAP_TYPE.RINGBUF ? 4096 : 1);
    const valueSize = m.type === BPF_MAP_TYPE.STACK_TRACE && m.valueSize === 0 ? 8 * 127 : m.valueSize;
    return { ...m, maxEntries, valueSize };
  });
  return { ...obj, maps };
}

test("elf-samples: every program bpfkit accepts, the kernel accepts", async (t) => {
  const dir = process.env.BPFKIT_ELF_SAMPLES;
  if (!dir || !existsSync(dir)) { console.log("skipping elf-samples soundness: BPFKIT_ELF_SAMPLES not set (.ci/run gathers them)"); t.skip("no corpus"); return; }
  const ok = kernelAvailable();
  if (ok !== true) { console.log(`skipping elf-samples soundness: ${ok}`); t.skip(ok); return; }
  const { loadObjectIntoKernel } = await import("../kernel/object-loader.ts");
  let programs = 0, accepted = 0, kernelAccepted = 0, noVerdict = 0;
  const unsound: string[] = [];
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".o")).sort()) {
    let obj: BpfObject;
    // legacy `maps` sections: libbpf 1.x refuses the object, but its programs still exercise the verifier
    try { obj = loadObject(new Uint8Array(readFileSync(join(dir, f))), { fileName: f, allowLegacyMaps: true }); } catch { continue; }
    if (!obj.littleEndian) continue;
    obj = sized(obj);
    const ours = new Set<string>();
    for (const p of obj.programs) {
      if (p.progType <= 0) continue;
      programs++;
      const r = verify(p.insns, { progType: p.progType, maps: obj.maps, nrCpus: availableParallelism(), btfFuncInfo: p.funcInfo.length > 0, license: obj.license });
      if (r.accepted) ours.add(p.name);
    }
    accepted += ours.size;
    if (ours.size === 0) continue; // nothing to check: bpfkit refused every program of this object
    let loaded;
    try { loaded = await loadObjectIntoKernel(obj); } catch { noVerdict += ours.size; continue; }
    try {
      for (const name of ours) {
        if (loaded.programs.has(name)) kernelAccepted++;
        else unsound.push(`${f}:${name}: kernel ${loaded.skipped.get(name)?.split("\n").filter((l) => l && !/^\d+: |^;/.test(l)).slice(-2, -1)[0] ?? "refused"}`);
      }
    } finally { loaded.close(); }
  }
  console.log(`elf-samples: bpfkit accepts ${accepted}/${programs} programs; the kernel accepts ${kernelAccepted} of them, ${unsound.length} refused, ${noVerdict} without a kernel verdict`);
  assert.deepEqual(unsound, []);
  assert.ok(accepted >= 238, `bpfkit accepts ${accepted} (was 238)`);
});
