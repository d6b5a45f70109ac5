// A clang-built object into the kernel: src/runtime's openObject (the one libbpf-style loader) over the Linux
// backend, with the shape earlier callers use (maps by kernel name, programs as fds).
import type { BpfObject } from "../object/index.ts";
import { openObject } from "../runtime/object.ts";
import type { BpfMap } from "../runtime/model.ts";
import { linux } from "./backend.ts";

export interface LoadedObject {
  /** the object's BTF in the kernel (-1 when it has none or the kernel refused it) */
  readonly btfFd: number;
  /** by the name the kernel sees (`xdp_maps.bss`, `counters`) */
  readonly maps: ReadonlyMap<string, BpfMap>;
  /** program name → fd */
  readonly programs: ReadonlyMap<string, number>;
  /** programs not loaded, with the reason (unknown section type, kfuncs, the verifier's refusal) */
  readonly skipped: ReadonlyMap<string, string>;
  close(): void;
}

/** Creates the object's maps and loads its programs; a program the kernel refuses is reported in `skipped`. */
export async function loadObjectIntoKernel(obj: BpfObject): Promise<LoadedObject> {
  const o = openObject(linux, obj);
  return {
    btfFd: o.btfFd,
    maps: new Map(obj.maps.map((m) => [m.name, o.maps.get(m.realName)!])),
    programs: new Map([...o.programs].map(([n, p]) => [n, p.fd])),
    skipped: o.skipped,
    close: () => o.close(),
  };
}
