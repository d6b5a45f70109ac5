// The ELF/BTF fuzzer's worker: runs every entry point that parses an object or a BTF file on one input and reports
// what happened. It runs in a worker thread so the fuzzer's watchdog can stop it (a hang) or see it die of memory (a
// blow-up) without stopping the fuzzer.
import { parentPort } from "node:worker_threads";
import { readFileSync, existsSync } from "node:fs";
import { isBpfError } from "../../src/errors.ts";
import { loadObject, btfFromFileBytes, xlatedPlain, xlatedDot } from "../../src/object/index.ts";
import { dumpBtfC } from "../../src/btf/dump-c.ts";
import { dumpBtfRaw } from "../../src/btf/dump-raw.ts";
import type { Btf } from "../../src/btf/parse.ts";
import { System, openObject } from "../../src/runtime/index.ts";
import { objectSummary } from "../../src/cli/object.ts";
import { generateSkeleton } from "../../src/cli/gen.ts";
import { dumpBtfJson } from "../../src/cli/btf.ts";

export interface FuzzReply {
  readonly id: number;
  /** entry points that ended in a value or a BpfError */
  readonly ok: number;
  /** non-BpfError exceptions: entry point and stack */
  readonly crashes: string[];
  /** characters of output all entry points produced */
  readonly output: number;
  /** the entry point that printed the most, and how much */
  readonly most: readonly [string, number];
  /** heap growth over the input, bytes */
  readonly heap: number;
}

// parsed before the worker says it is ready, so no input's budget pays for it
const kernelBtf: Btf | undefined = existsSync("/sys/kernel/btf/vmlinux") ? btfFromFileBytes(readFileSync("/sys/kernel/btf/vmlinux")) : undefined;
const targetBtf = (): Btf | undefined => kernelBtf;

const PADDING = /\n\t+(?:long|int|short|char): -?\d+;/g;

function run(id: number, bytes: Uint8Array): Omit<FuzzReply, "id"> {
  const crashes: string[] = [];
  let ok = 0, output = 0, most: [string, number] = ["", 0];
  let here = 0, written = 0, reported = 0;
  // progress for the watchdog: streaming output (padding included) is work, not a hang
  const progress = (chars: number): void => {
    written += chars;
    if (written - reported >= 16 << 20) { reported = written; parentPort!.postMessage({ id, progress: written }); }
  };
  const sink = (s: string): void => { output += s.length; here += s.length; progress(s.length); };
  const heap0 = process.memoryUsage().heapUsed;
  const entry = (name: string, f: () => void): void => {
    const outerHere = here;
    here = 0;
    try {
      f();
      ok++;
    } catch (e) {
      if (isBpfError(e)) ok++;
      else crashes.push(`${name}: ${e instanceof Error ? (e.stack ?? "").split("\n").slice(0, 4).join(" | ") : String(e)}`);
    } finally {
      if (here > most[1]) most = [name, here];
      here = outerHere;
    }
  };
  // object show, prog dump xlated file, gen skeleton, btf dump of the object's BTF
  entry("loadObject", () => {
    const obj = loadObject(bytes, { fileName: "fuzz.o" });
    entry("object show", () => sink(JSON.stringify(objectSummary(obj, "fuzz.o"))));
    for (const p of obj.programs) {
      entry(`prog dump xlated ${p.name}`, () => { for (const l of xlatedPlain(p, obj.btf, { linum: true, opcodes: true })) sink(l); });
      entry(`prog dump xlated visual ${p.name}`, () => sink(xlatedDot(p)));
    }
    entry("gen skeleton", () => sink(generateSkeleton(obj, bytes, "fuzz.o", "runtime", "codecs")));
  });
  // btf dump file X [format raw|c], and -j
  entry("btf dump file", () => {
    const btf = btfFromFileBytes(bytes);
    entry("btf dump raw", () => dumpBtfRaw(btf, sink));
    // libbpf prints one `long: 64;` per 64 bits of a member offset gap, so a member offset near 2^32 prints millions of
    // them (bpftool 7.1 the same, byte for byte: src/btf/btf.test.ts); streamed, they are output but no blow-up
    entry("btf dump c", () => dumpBtfC(btf, (c) => { const kept = c.replace(PADDING, ""); sink(kept); progress(c.length - kept.length); }));
    entry("btf dump -j", () => sink(dumpBtfJson(btf, false)));
  });
  // openObject: CO-RE against the kernel's BTF, maps created, programs verified and loaded into the VM
  entry("openObject", () => {
    const o = openObject(new System({ kernelBtf: targetBtf }), bytes, { fileName: "fuzz.o" });
    o.close();
  });
  return { ok, crashes, output, most, heap: Math.max(0, process.memoryUsage().heapUsed - heap0) };
}

parentPort!.on("message", (m: { id: number; bytes: Uint8Array }) => {
  parentPort!.postMessage({ id: m.id, ...run(m.id, m.bytes) } satisfies FuzzReply);
});
parentPort!.postMessage({ ready: true });
