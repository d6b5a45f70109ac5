// A config's object in a backend (the running kernel or bpfkit's VM), through the runtime's one object loader:
// NAME.bpf.o opened with openObject, every program attached by its section name as libbpf's auto-attach does, and
// maps read for a scrape in batches (BPF_MAP_LOOKUP_BATCH, falling back to get_next_key + lookup where the backend
// has no batch op for the map type). Pure: the caller reads the file and picks the backend.
import { BpfError } from "../errors.ts";
import { openObject, type Backend, type BpfMap, type Link, type LoadedObject } from "../runtime/index.ts";
import type { ExporterConfig } from "./config.ts";
import type { MapRows } from "./collect.ts";
import type { MetricSource, ProgramStatus, SourceMap } from "./source.ts";

const errnoName = (e: unknown): string | undefined => (e as { code?: string }).code;

class BatchReader implements SourceMap {
  private batchOk = true;
  private keys: Uint8Array;
  private values: Uint8Array;
  private readonly tokens: [Uint8Array, Uint8Array];
  readonly keySize: number;
  readonly valueSize: number;
  readonly perCpu: boolean;

  constructor(readonly name: string, private readonly backend: Backend, private readonly map: BpfMap) {
    this.keySize = map.keySize;
    this.valueSize = map.valueSize;
    this.perCpu = map.perCpu;
    const n = Math.min(Math.max(map.maxEntries, 1), 1024);
    this.keys = new Uint8Array(n * map.keySize);
    this.values = new Uint8Array(n * map.stride * map.cpus);
    // the resume token: a u32 bucket for hash maps, a key for generic batches
    this.tokens = [new Uint8Array(Math.max(map.keySize, 8)), new Uint8Array(Math.max(map.keySize, 8))];
  }

  get id(): number { return this.backend.mapInfo(this.map.fd).id; }

  private grow(entries: number): void {
    const m = this.map;
    const k = new Uint8Array(entries * m.keySize);
    k.set(this.keys.subarray(0, Math.min(this.keys.length, k.length)));
    const v = new Uint8Array(entries * m.stride * m.cpus);
    v.set(this.values.subarray(0, Math.min(this.values.length, v.length)));
    this.keys = k;
    this.values = v;
  }

  read(): MapRows {
    const m = this.map;
    const elem = m.stride * m.cpus;
    if (this.batchOk) {
      try {
        let count = 0, t = 0;
        let inTok: Uint8Array | null = null;
        for (;;) {
          if (this.keys.length / m.keySize - count < 64) this.grow(count * 2 + 1024);
          const room = this.keys.length / m.keySize - count;
          let r;
          try {
            r = this.backend.mapLookupBatch(m.fd, inTok, this.tokens[t]!, this.keys.subarray(count * m.keySize), this.values.subarray(count * elem), room);
          } catch (e) {
            // a hash bucket holds more elements than there is room for: retry with more
            if (errnoName(e) === "ENOSPC") { this.grow((this.keys.length / m.keySize) * 2); continue; }
            throw e;
          }
          count += r.count;
          if (r.done) break;
          inTok = this.tokens[t]!;
          t ^= 1;
        }
        return { count, keySize: m.keySize, keys: this.keys, stride: m.stride, cpus: m.cpus, values: this.values };
      } catch (e) {
        if (!["EINVAL", "ENOTSUPP", "EOPNOTSUPP"].includes(errnoName(e) ?? "")) throw e;
        this.batchOk = false;
      }
    }
    const rows: [Uint8Array, Uint8Array][] = [...m.entries()];
    const keys = new Uint8Array(rows.length * m.keySize);
    const values = new Uint8Array(rows.length * elem);
    rows.forEach(([k, v], i) => { keys.set(k, i * m.keySize); values.set(v, i * elem); });
    return { count: rows.length, keySize: m.keySize, keys, stride: m.stride, cpus: m.cpus, values };
  }
}

/** Opens `config`'s object (its bytes, read from `objectPath`) in `backend` and attaches its programs. */
export function objectSource(backend: Backend, config: ExporterConfig, objectPath: string, bytes: Uint8Array): MetricSource {
  const loaded: LoadedObject = openObject(backend, bytes, { fileName: objectPath });
  const links = new Map<string, Link>();
  const attachErrors: string[] = [];
  try {
    const skipped = [...loaded.skipped];
    if (skipped.length) {
      const [name, why] = skipped[0]!;
      const sec = loaded.object.programs.find((p) => p.name === name)?.section ?? "?";
      throw new BpfError("VERIFY", `config '${config.name}': program '${name}' (section '${sec}') of ${objectPath} was not loaded: ${why}`, { file: objectPath, section: sec });
    }
    for (const [name, p] of loaded.programs) {
      try { links.set(name, loaded.attach(name)); } catch (e) {
        if (!(e instanceof Error)) throw e;
        attachErrors.push(`config '${config.name}': program '${name}' (section '${p.section}') not attached: ${e.message}`);
      }
    }
  } catch (e) {
    for (const l of links.values()) l.close();
    loaded.close();
    throw e;
  }
  const maps = new Map<string, SourceMap>();
  for (const [name, m] of loaded.maps) maps.set(name, new BatchReader(name, backend, m));
  return {
    backend: backend.kind,
    maps,
    attachErrors,
    programs(): ProgramStatus[] {
      return [...loaded.programs].map(([name, p]) => {
        const info = p.info();
        return { name, id: info.id, tag: info.tag, attached: links.has(name), runTimeNs: Number(info.runTimeNs), runCount: Number(info.runCnt) };
      });
    },
    close() {
      for (const l of links.values()) l.close();
      loaded.close();
    },
  };
}
