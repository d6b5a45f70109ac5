// Which map a map pointer designates. Every map owns a small read-only "map handle" region; its address is the value a
// program holds in a register after `lddw rX, map`. The registry is per AddressSpace (addresses only mean something
// inside one space) and also hands out map ids, like the kernel's map idr.

import type { AddressSpace } from "../vm/memory.ts";

/** What the registry needs from a map; BpfMap implements it. */
export interface RegisteredMap {
  readonly id: number;
  readonly address: number;
}

interface SpaceMaps {
  byAddress: Map<number, RegisteredMap>;
  byId: Map<number, RegisteredMap>;
  nextId: number;
}

const spaces = new WeakMap<AddressSpace, SpaceMaps>();

function of(space: AddressSpace): SpaceMaps {
  let s = spaces.get(space);
  if (s === undefined) {
    s = { byAddress: new Map(), byId: new Map(), nextId: 1 };
    spaces.set(space, s);
  }
  return s;
}

/** The next map id in this space (ids start at 1 and are never reused, as with the kernel's cyclic idr). */
export function allocateMapId(space: AddressSpace): number {
  return of(space).nextId++;
}

export function registerMap(space: AddressSpace, map: RegisteredMap): void {
  const s = of(space);
  s.byAddress.set(map.address, map);
  s.byId.set(map.id, map);
}

export function unregisterMap(space: AddressSpace, map: RegisteredMap): void {
  const s = of(space);
  if (s.byAddress.get(map.address) === map) s.byAddress.delete(map.address);
  if (s.byId.get(map.id) === map) s.byId.delete(map.id);
}

/** The map whose handle is at `addr` in `space` (the map pointer a program passes to a helper), if any. */
export function mapFromAddress<M extends RegisteredMap = RegisteredMap>(space: AddressSpace, addr: number): M | undefined {
  return spaces.get(space)?.byAddress.get(addr) as M | undefined;
}

/** The live map with this id in `space`, if any. */
export function mapFromId<M extends RegisteredMap = RegisteredMap>(space: AddressSpace, id: number): M | undefined {
  return spaces.get(space)?.byId.get(id) as M | undefined;
}

/** Every live map in `space`, lowest id first. */
export function mapsOf<M extends RegisteredMap = RegisteredMap>(space: AddressSpace): M[] {
  const s = spaces.get(space);
  return s === undefined ? [] : ([...s.byId.values()].sort((a, b) => a.id - b.id) as M[]);
}
