// Histogram text against real bpftrace 0.17 output (fixture) and BCC's print_log2_hist layout.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { bccLog2Slot, bpftraceHistSlot, formatBccLog2Hist, formatBpftraceHistMap } from "./hist-format.ts";

test("bpftrace slots: negative, zero, one, powers of two", () => {
  assert.deepEqual([-1n, 0n, 1n, 3n, 4096n, 4097n, 8191n, 8192n, 1n << 20n].map(bpftraceHistSlot), [0, 1, 2, 3, 14, 14, 14, 15, 22]);
});

test("BCC slots: 0 and 1 share slot 1", () => {
  assert.deepEqual([0n, 1n, 2n, 3n, 4n, 64n, 127n, 128n].map(bccLog2Slot), [1, 1, 2, 2, 3, 7, 7, 8]);
});

test("bpftrace hist print equals bpftrace's own output byte for byte", () => {
  const text = readFileSync(new URL("../../test/fixtures/kernel/bpftrace-hist.txt", import.meta.url), "utf8");
  const block = text.slice(text.indexOf("@bytes: \n"));
  const lines = block.split("\n").slice(1).filter((l) => l.includes("|"));
  // the fixture starts at slot 0 "(..., 0)" and lists consecutive slots
  const counts = lines.map((l) => BigInt(l.slice(16, 24).trim()));
  assert.equal(formatBpftraceHistMap("bytes", counts), block);
});

test("BCC log2 hist: header, 0 -> 1 first row, 40-star bars", () => {
  const counts = [0n, 3n, 0n, 10n, 1n];
  assert.equal(formatBccLog2Hist(counts, "kbytes"), [
    "     kbytes              : count     distribution",
    "         0 -> 1          : 3        |************                            |",
    "         2 -> 3          : 0        |                                        |",
    "         4 -> 7          : 10       |****************************************|",
    "         8 -> 15         : 1        |****                                    |",
    "",
  ].join("\n"));
  assert.equal(formatBccLog2Hist([0n, 0n], "kbytes"), "");
});
