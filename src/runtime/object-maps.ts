// An object's maps created in a VM address space the way libbpf creates them in the kernel: each declaration becomes
// a src/maps map (global data sections get their one value), and lddw map references resolve to those maps. Shared by
// `bpfkit run` and the web playground, so both load an ELF object's maps the same way.
import { BpfError } from "../errors.ts";
import { createMap } from "../maps/index.ts";
import type { BpfMap, MapSpec } from "../maps/index.ts";
import type { MapSpec as ObjectMapSpec } from "../object/index.ts";
import type { AddressSpace, PseudoResolver } from "../vm/index.ts";

/** Creates the object's maps in the address space (src/maps) with their initial data, for lddw map references. */
export function createObjectMaps(specs: readonly ObjectMapSpec[], space: AddressSpace): { created: BpfMap[]; resolve: PseudoResolver } {
  const created = specs.map((spec) => {
    const m = createMap(space, toMapSpec(spec));
    // global data (.data/.rodata/.bss): one array element holding the section's bytes, as libbpf sets it up
    if (spec.initialValue !== undefined) m.update(new Uint8Array(4), spec.initialValue);
    return m;
  });
  const resolve: PseudoResolver = {
    map: (_src, idx) => mapAt(created, idx).address,
    mapValue: (_src, idx, off) => {
      const m = mapAt(created, idx);
      const key = space.alloc(4, { kind: "scratch", name: "key 0" });
      const v = m.lookupElem(key.start, 0);
      space.release(key);
      if (v === 0) throw new BpfError("EINVAL", `map ${m.name} has no value to point into`);
      return v + off;
    },
  };
  return { created, resolve };
}

/** The object's map declaration as BPF_MAP_CREATE takes it. */
export function toMapSpec(s: ObjectMapSpec): MapSpec {
  return {
    type: s.type, keySize: s.keySize, valueSize: s.valueSize, maxEntries: s.maxEntries, flags: s.flags, name: s.name,
    ...(s.innerMap ? { innerMap: toMapSpec(s.innerMap) } : {}),
    ...(s.mapExtra ? { mapExtra: BigInt(s.mapExtra) } : {}),
  };
}

function mapAt<M>(maps: readonly M[], idx: number): M {
  const m = maps[idx];
  if (m === undefined) throw new BpfError("EINVAL", `lddw refers to map index ${idx}, but the object has ${maps.length} maps`);
  return m;
}
