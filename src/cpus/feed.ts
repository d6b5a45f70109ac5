// The owner's side of sharing an address space with CPUs on other threads: what each CPU has not been told yet.
// The space's layout journal, its maps (by handle) and the programs a job needs are sent once per CPU, in order,
// so a CPU's view of the layout is always the owner's at the time of its latest job.
import { ProgArrayMap, mapsOf } from "../maps/index.ts";
import type { BpfMap, MapImage } from "../maps/index.ts";
import type { AddressSpace, LayoutOp, LoadedProgram } from "../vm/index.ts";
import { programImage } from "./cpu.ts";
import type { ProgramImage, SyncMessage } from "./cpu.ts";

/** The LoadedProgram behind a prog-array entry (a LoadedProgram, or a runtime object carrying one as `loaded`). */
function loadedOf(e: unknown): LoadedProgram | undefined {
  const x = e as (LoadedProgram & { loaded?: LoadedProgram }) | null;
  if (x?.loaded?.code !== undefined) return x.loaded;
  return x?.code !== undefined && x.op !== undefined ? x : undefined;
}

export class CpuFeed {
  private readonly journal: LayoutOp[];
  private readonly sentLayout: number[];
  private readonly sentMaps: Set<number>[];
  private readonly sentProgs: Set<number>[];

  constructor(readonly space: AddressSpace, readonly nCpus: number) {
    this.journal = space.journal();
    this.sentLayout = new Array<number>(nCpus).fill(0);
    this.sentMaps = Array.from({ length: nCpus }, () => new Set<number>());
    this.sentProgs = Array.from({ length: nCpus }, () => new Set<number>());
  }

  /** What CPU `cpu` must learn before running `progs`; marks it sent. */
  delta(cpu: number, progs: readonly LoadedProgram[]): SyncMessage {
    const layout = this.journal.slice(this.sentLayout[cpu]);
    this.sentLayout[cpu] = this.journal.length;
    const maps: MapImage[] = [];
    const unshared: { address: number; id: number; type: number }[] = [];
    const sentMaps = this.sentMaps[cpu]!;
    for (const m of mapsOf<BpfMap>(this.space)) {
      // by id: a map freed and another created at the same handle address is a new map
      if (sentMaps.has(m.id)) continue;
      sentMaps.add(m.id);
      if (m.shareable) maps.push(m.image());
      else unshared.push({ address: m.address, id: m.id, type: m.type });
    }
    const images: ProgramImage[] = [];
    const sentProgs = this.sentProgs[cpu]!;
    // tail-call targets travel with their callers: a CPU finds them by code address in the prog arrays
    const all = [...progs];
    for (const m of mapsOf<BpfMap>(this.space)) {
      if (!(m instanceof ProgArrayMap)) continue;
      for (const t of m.targets()) {
        const p = loadedOf(t);
        if (p !== undefined && !all.includes(p)) all.push(p);
      }
    }
    for (const p of all) {
      if (sentProgs.has(p.code.id)) continue;
      sentProgs.add(p.code.id);
      images.push(programImage(p));
    }
    return { layout, maps, unshared, progs: images };
  }
}
