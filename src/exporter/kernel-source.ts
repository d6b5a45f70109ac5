// A config's object in the running kernel (Node, Linux backend): DIR/NAME.bpf.o loaded through src/kernel's object
// loader, each program attached by its section name as libbpf's auto-attach does (tracepoint/tp, raw_tracepoint/
// raw_tp, tp_btf/fentry/fexit/fmod_ret/lsm, uprobe/uretprobe), and maps read for a scrape in batches
// (BPF_MAP_LOOKUP_BATCH, falling back to get_next_key + lookup where the kernel has no batch op for the map type).
import { readFileSync } from "node:fs";
import { BpfError } from "../errors.ts";
import { loadObject } from "../object/index.ts";
import { loadObjectIntoKernel, type LoadedObject } from "../kernel/object-loader.ts";
import { attachRawTracepoint, attachTracepoint, attachTracing, attachUprobe, type Attachment } from "../kernel/loader.ts";
import { mapLookupBatch } from "../kernel/bpf.ts";
import { KernelError } from "../kernel/libc.ts";
import { progInfo, mapInfo } from "../kernel/info.ts";
import type { KernelMap } from "../kernel/map-access.ts";
import type { ExporterConfig } from "./config.ts";
import type { MapRows } from "./collect.ts";
import type { MetricSource, ProgramStatus, SourceMap } from "./source.ts";

/** Attaches one loaded program the way libbpf's bpf_program__attach reads its section name. */
function attachBySection(fd: number, section: string): Attachment {
  const [kind, ...rest] = section.split("/");
  const arg = rest.join("/");
  switch (kind) {
    case "tracepoint": case "tp": {
      const [cat, name] = rest;
      if (!cat || !name) throw new BpfError("EINVAL", `section '${section}': expected tracepoint/<category>/<name>`);
      return attachTracepoint(fd, cat, name);
    }
    case "raw_tracepoint": case "raw_tp": case "raw_tracepoint.w": case "raw_tp.w":
      if (!arg) throw new BpfError("EINVAL", `section '${section}': expected raw_tp/<tracepoint>`);
      return attachRawTracepoint(fd, arg);
    case "tp_btf": case "fentry": case "fexit": case "fmod_ret": case "lsm": case "fentry.s": case "fexit.s": case "lsm.s":
      return attachTracing(fd);
    case "uprobe": case "uretprobe": {
      const m = /^(.+):([^:+]+)(?:\+(\d+|0x[0-9a-f]+))?$/.exec(arg);
      if (!m) throw new BpfError("EINVAL", `section '${section}': expected ${kind}/<path>:<function>`);
      return attachUprobe(fd, m[1]!, m[3] ? Number(m[3]) : m[2]!, { retprobe: kind === "uretprobe" });
    }
    default:
      throw new BpfError("UNSUPPORTED", `section '${section}': bpfkit exporter cannot attach ${kind} programs on the Linux backend`);
  }
}

class KernelSourceMap implements SourceMap {
  private batchOk = true;
  private keys: Uint8Array;
  private values: Uint8Array;
  private readonly token: Uint8Array;
  private readonly token2: Uint8Array;
  readonly keySize: number;
  readonly valueSize: number;
  readonly perCpu: boolean;

  constructor(readonly name: string, private readonly map: KernelMap) {
    this.keySize = map.keySize;
    this.valueSize = map.valueSize;
    this.perCpu = map.perCpu;
    const n = Math.min(map.maxEntries, 1024);
    this.keys = new Uint8Array(n * map.keySize);
    this.values = new Uint8Array(n * map.stride * map.cpus);
    this.token = new Uint8Array(Math.max(map.keySize, 8));
    this.token2 = new Uint8Array(Math.max(map.keySize, 8));
  }

  get id(): number { return mapInfo(this.map.fd).id; }

  read(): MapRows {
    const m = this.map;
    const elem = m.stride * m.cpus;
    if (this.batchOk) {
      try {
        let count = 0;
        let inTok: Uint8Array | null = null;
        let outTok = this.token;
        for (;;) {
          const room = this.keys.length / m.keySize - count;
          if (room < 64) this.grow(count * 2 + 1024);
          const chunk = this.keys.length / m.keySize - count;
          let r;
          try {
            r = mapLookupBatch(m.fd, inTok, outTok, this.keys.subarray(count * m.keySize), this.values.subarray(count * elem), chunk);
          } catch (e) {
            // a hash bucket holds more than `chunk` elements: retry with room for it
            if (e instanceof KernelError && e.code === "ENOSPC") { this.grow(this.keys.length / m.keySize * 2); continue; }
            throw e;
          }
          count += r.count;
          if (r.done) break;
          inTok = outTok;
          outTok = outTok === this.token ? this.token2 : this.token;
        }
        return { count, keySize: m.keySize, keys: this.keys, stride: m.stride, cpus: m.cpus, values: this.values };
      } catch (e) {
        if (!(e instanceof KernelError) || !["EINVAL", "ENOTSUPP", "EOPNOTSUPP"].includes(e.code)) throw e;
        this.batchOk = false;
      }
    }
    const ks: Uint8Array[] = [];
    const vs: Uint8Array[] = [];
    for (const [k, v] of m.entries()) { ks.push(k); vs.push(v); }
    const keys = new Uint8Array(ks.length * m.keySize);
    const values = new Uint8Array(ks.length * elem);
    ks.forEach((k, i) => { keys.set(k, i * m.keySize); values.set(vs[i]!, i * elem); });
    return { count: ks.length, keySize: m.keySize, keys, stride: m.stride, cpus: m.cpus, values };
  }

  private grow(entries: number): void {
    const m = this.map;
    const k = new Uint8Array(entries * m.keySize);
    k.set(this.keys.subarray(0, Math.min(this.keys.length, k.length)));
    const v = new Uint8Array(entries * m.stride * m.cpus);
    v.set(this.values.subarray(0, Math.min(this.values.length, v.length)));
    this.keys = k;
    this.values = v;
  }
}

interface AttachedProgram { name: string; section: string; fd: number; attachment?: Attachment; error?: string }

/** Loads `config`'s object (DIR/NAME.bpf.o) into the kernel and attaches its programs. */
export async function kernelSource(config: ExporterConfig, objectPath: string): Promise<MetricSource> {
  let bytes: Uint8Array;
  try { bytes = readFileSync(objectPath); } catch (e) {
    throw new BpfError("ENOENT", `config '${config.name}': cannot read object ${objectPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file: objectPath });
  }
  const obj = loadObject(bytes, { fileName: objectPath });
  const loaded: LoadedObject = await loadObjectIntoKernel(obj);
  const programs: AttachedProgram[] = [];
  try {
    const skipped = [...loaded.skipped];
    if (skipped.length) {
      const [name, why] = skipped[0]!;
      const sec = obj.programs.find((p) => p.name === name)?.section ?? "?";
      throw new BpfError("VERIFY", `config '${config.name}': program '${name}' (section '${sec}') of ${objectPath} was not loaded: ${why}`, { file: objectPath, section: sec });
    }
    for (const p of obj.programs) {
      const fd = loaded.programs.get(p.name)!;
      const ap: AttachedProgram = { name: p.name, section: p.section, fd };
      try { ap.attachment = attachBySection(fd, p.section); } catch (e) {
        if (!(e instanceof BpfError) && !(e instanceof KernelError)) throw e;
        ap.error = e.message;
      }
      programs.push(ap);
    }
  } catch (e) {
    for (const p of programs) p.attachment?.close();
    loaded.close();
    throw e;
  }
  const maps = new Map<string, SourceMap>();
  for (const [name, m] of loaded.maps) maps.set(name, new KernelSourceMap(name, m));
  return {
    backend: "linux",
    maps,
    attachErrors: programs.filter((p) => p.error).map((p) => `program '${p.name}' (section '${p.section}'): ${p.error}`),
    programs(): ProgramStatus[] {
      return programs.map((p) => {
        const info = progInfo(p.fd);
        return { name: p.name, id: info.id, tag: info.tag, attached: p.attachment !== undefined, runTimeNs: Number(info.runTimeNs), runCount: Number(info.runCnt) };
      });
    },
    close() {
      for (const p of programs) p.attachment?.close();
      loaded.close();
    },
  };
}
