// Map helpers against the kernel: random sequences of bpf_map_update_elem/lookup_elem/delete_elem (hash, array) and
// push/pop/peek (queue, stack) with random keys, values and flags, on a small map so E2BIG/EEXIST/ENOENT paths are hit.
// Every helper result (and every value read) is folded into r0; the kernel's retval must equal bpfkit's.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Insn } from "../../src/isa/ebpf/insn.ts";
import { AddressSpace, Vm } from "../../src/vm/index.ts";
import { defaultHelpers, deterministicEnv } from "../../src/helpers/index.ts";
import { createMap } from "../../src/maps/index.ts";
import { kernelAvailable, kernelLoad, kernelTestRun } from "./kernel.ts";

const i = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({ code, dst, src, off, imm });
const MAP: Insn[] = [i(0x18, 1, 1, 0, 0), i(0)]; // lddw r1, map 0
const FOLD: Insn[] = [i(0x27, 6, 0, 0, 31), i(0x0f, 6, 0)]; // r6 = r6 * 31 + r0

function rng(seed: number): () => number {
  let s = Math.imul(seed, 0x9e3779b1) | 1;
  return () => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return s >>> 0; };
}

function genKeyed(seed: number): Insn[] {
  const r = rng(seed);
  const out: Insn[] = [i(0xb7, 6, 0, 0, 0)];
  for (let k = 0; k < 40; k++) {
    out.push(i(0x62, 10, 0, -4, r() % 6), i(0x7a, 10, 0, -16, r() | 0), ...MAP, i(0xbf, 2, 10), i(0x07, 2, 0, 0, -4));
    const kind = r() % 3;
    if (kind === 0) out.push(i(0xbf, 3, 10), i(0x07, 3, 0, 0, -16), i(0xb7, 4, 0, 0, r() % 3), i(0x85, 0, 0, 0, 2));
    else if (kind === 1) out.push(i(0x85, 0, 0, 0, 1), i(0x55, 0, 0, 2, 0), i(0xb7, 0, 0, 0, 0xdead), i(0x05, 0, 0, 1), i(0x79, 0, 0, 0));
    else out.push(i(0x85, 0, 0, 0, 3));
    out.push(...FOLD);
  }
  out.push(i(0xbf, 0, 6), i(0x77, 6, 0, 0, 32), i(0xaf, 0, 6), i(0x95));
  return out;
}

function genQueue(seed: number): Insn[] {
  const r = rng(seed);
  const out: Insn[] = [i(0xb7, 6, 0, 0, 0)];
  for (let k = 0; k < 40; k++) {
    out.push(i(0x7a, 10, 0, -16, r() | 0), ...MAP, i(0xbf, 2, 10), i(0x07, 2, 0, 0, -16));
    const kind = r() % 3;
    // push(map, value, flags: 0 or BPF_EXIST to overwrite the oldest when full); pop/peek write the value back
    if (kind === 0) out.push(i(0xb7, 3, 0, 0, r() % 2 ? 2 : 0), i(0x85, 0, 0, 0, 87));
    else out.push(i(0x85, 0, 0, 0, kind === 1 ? 88 : 89));
    out.push(...FOLD, i(0x79, 0, 10, -16), ...FOLD);
  }
  out.push(i(0xbf, 0, 6), i(0x77, 6, 0, 0, 32), i(0xaf, 0, 6), i(0x95));
  return out;
}

const avail = kernelAvailable();
const CASES = [
  { type: "hash", id: 1, keySize: 4, valueSize: 8, gen: genKeyed },
  { type: "array", id: 2, keySize: 4, valueSize: 8, gen: genKeyed },
  { type: "queue", id: 22, keySize: 0, valueSize: 8, gen: genQueue },
  { type: "stack", id: 23, keySize: 0, valueSize: 8, gen: genQueue },
] as const;

for (const c of CASES) {
  test(`${c.type} map helpers: random operation sequences agree with the kernel`, (t) => {
    if (avail !== true) { console.log(`SKIP vm-maps: ${avail}`); t.skip(avail); return; }
    for (let seed = 1; seed <= 25; seed++) {
      const insns = c.gen(seed * 7919);
      const spec = { keySize: c.keySize, valueSize: c.valueSize, maxEntries: 4 };
      const loaded = kernelLoad(insns, { progType: "socket_filter", name: "mapdiff", maps: [{ type: c.type, ...spec }] });
      assert.ok(loaded.accepted, `seed ${seed}: the kernel rejected the program:\n${loaded.log}`);
      let kernel: number;
      try {
        kernel = kernelTestRun(loaded.fd!, { data: new Uint8Array(64) }).retval >>> 0;
      } finally {
        loaded.close();
      }
      const space = new AddressSpace();
      const map = createMap(space, { type: c.id, ...spec });
      const vm = new Vm(space, { helpers: defaultHelpers, env: deterministicEnv() });
      const ours = vm.run(vm.load(insns, { resolve: { map: () => map.address } })).lo;
      assert.equal(ours, kernel, `seed ${seed}: bpfkit 0x${ours.toString(16)}, kernel 0x${kernel.toString(16)}`);
    }
  });
}
