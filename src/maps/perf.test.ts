import assert from "node:assert/strict";
import { test } from "node:test";
import { BpfError } from "../errors.ts";
import { AddressSpace } from "../vm/memory.ts";
import { createMap } from "./create.ts";
import { PerfBuffer } from "./perf.ts";
import type { PerfEventArrayMap } from "./perf.ts";
import { BPF_F_CURRENT_CPU, ERRNO, u32Bytes } from "./types.ts";

const code = (f: () => unknown): string => {
  try { f(); return "ok"; } catch (e) { if (e instanceof BpfError) return e.code; throw e; }
};

test("perf_event_array: samples go to the named CPU's buffer with the kernel's padded size", () => {
  const space = new AddressSpace();
  const m = createMap(space, { type: 4, keySize: 4, valueSize: 4, maxEntries: 4 }, { nCpus: 2 }) as PerfEventArrayMap;
  const data = space.alloc(64, { kind: "stack" });
  space.u8.set([1, 2, 3, 4, 5], data.start);
  assert.equal(m.perfOutput(0, BPF_F_CURRENT_CPU, data.start, 5), -ERRNO.ENOENT, "no event in the slot");
  const [b0, b1] = m.openBuffers(1);
  assert.equal(m.perfOutput(0, BPF_F_CURRENT_CPU, data.start, 5), 0);
  assert.equal(m.perfOutput(1, 0, data.start, 5), -ERRNO.EOPNOTSUPP, "slot 0's event lives on CPU 0");
  assert.equal(m.perfOutput(0, 4, data.start, 5), -ERRNO.E2BIG);
  assert.equal(m.perfOutput(0, 2, data.start, 5), -ERRNO.ENOENT);
  assert.equal(m.perfOutput(0, 2 ** 32, data.start, 5), -ERRNO.EINVAL, "flags beyond the index");
  assert.equal(m.perfOutput(1, 1, data.start, 4), 0);
  const got: [number[], number][] = [];
  b0!.read((d, cpu) => got.push([[...d], cpu]));
  b1!.read((d, cpu) => got.push([[...d], cpu]));
  // raw size = round_up(4 + size, 8) - 4: 5 bytes report 12, 4 bytes report 4.
  assert.deepEqual(got, [[[1, 2, 3, 4, 5, 0, 0, 0, 0, 0, 0, 0], 0], [[1, 2, 3, 4], 1]]);
  assert.equal(b0!.head, 8 + 16, "PERF_RECORD_SAMPLE header + u32 size + data, 8-aligned");
});

test("perf buffer: a full buffer loses samples and reports them in a PERF_RECORD_LOST before the next sample", () => {
  const space = new AddressSpace();
  const m = createMap(space, { type: 4, keySize: 4, valueSize: 4, maxEntries: 1 }) as PerfEventArrayMap;
  const [b] = m.openBuffers(1);
  const data = space.alloc(2048, { kind: "stack" });
  assert.equal(m.perfOutput(0, BPF_F_CURRENT_CPU, data.start, 2000), 0);
  assert.equal(m.perfOutput(0, BPF_F_CURRENT_CPU, data.start, 2000), 0);
  assert.equal(m.perfOutput(0, BPF_F_CURRENT_CPU, data.start, 2000), -ERRNO.ENOSPC);
  assert.equal(m.perfOutput(0, BPF_F_CURRENT_CPU, data.start, 2000), -ERRNO.ENOSPC);
  const events: string[] = [];
  b!.read((d) => events.push(`sample ${d.length}`), (lost) => events.push(`lost ${lost}`));
  assert.equal(m.perfOutput(0, BPF_F_CURRENT_CPU, data.start, 8), 0);
  m.consume((d) => events.push(`sample ${d.length}`), (lost) => events.push(`lost ${lost}`));
  assert.deepEqual(events, ["sample 2004", "sample 2004", "lost 2", "sample 12"]);
  assert.equal(b!.totalLost, 2);
});

test("perf_event_array: user-space lookup is ENOTSUPP; slots take perf buffers through resolveFd", () => {
  const space = new AddressSpace();
  const buf = new PerfBuffer(space, 0, 1);
  const m = createMap(space, { type: 4, keySize: 4, valueSize: 4, maxEntries: 2 }, { resolveFd: (fd) => (fd === 3 ? buf : undefined) });
  assert.equal(code(() => m.lookup(u32Bytes(0))), "ENOTSUPP");
  assert.equal(code(() => m.delete(u32Bytes(0))), "ENOENT");
  assert.equal(code(() => m.update(u32Bytes(0), u32Bytes(4))), "EBADF");
  m.update(u32Bytes(0), u32Bytes(3));
  assert.equal((m as PerfEventArrayMap).buffer(0), buf);
  assert.throws(() => new PerfBuffer(space, 0, 3), (e: unknown) => e instanceof BpfError && e.code === "EINVAL");
});
