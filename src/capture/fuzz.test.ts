// Random and mutated capture files: the readers end with packets or a BpfError, never another exception or a hang.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { isBpfError } from "../errors.ts";
import { readCapture } from "./read.ts";

const DIR = fileURLToPath(new URL("../../../shared/corpora/pcaps/", import.meta.url));
const SEEDS = ["tcpdump/dns_tcp.pcap", "tcpdump/nhrp.pcapng", "derived/derived-pcapng-3if-be.pcapng",
  "derived/derived-modified-pcap.pcap", "derived/derived-be-nanosecond.pcap", "tcpdump/time_2107.pcapng"];

function consume(bytes: Uint8Array): void {
  try {
    let n = 0;
    for (const p of readCapture(bytes)) {
      assert.equal(p.data.length, p.caplen);
      if (++n > 100_000) throw new Error("too many packets for the input size");
    }
  } catch (e) {
    if (!isBpfError(e)) throw e;
  }
}

test("random bytes never throw anything but BpfError", () => {
  const magic = fc.constantFrom([0xd4, 0xc3, 0xb2, 0xa1], [0xa1, 0xb2, 0xc3, 0xd4], [0x4d, 0x3c, 0xb2, 0xa1],
    [0x34, 0xcd, 0xb2, 0xa1], [0x0a, 0x0d, 0x0d, 0x0a]);
  fc.assert(fc.property(magic, fc.uint8Array({ maxLength: 400 }), (m, rest) => {
    consume(Uint8Array.from([...m, ...rest]));
    consume(rest);
  }), { numRuns: 2000 });
});

test("mutated real files never throw anything but BpfError", (t) => {
  if (!existsSync(DIR)) {
    console.log("SKIP pcaps corpus absent (../shared/corpora/pcaps)");
    t.skip("corpus absent");
    return;
  }
  const seeds = SEEDS.map((f) => new Uint8Array(readFileSync(DIR + f)));
  const mutation = fc.record({
    seed: fc.nat(seeds.length - 1),
    edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
    cut: fc.option(fc.nat()),
  });
  fc.assert(fc.property(mutation, ({ seed, edits, cut }) => {
    const src = seeds[seed]!;
    const bytes = src.slice(0, cut === null ? src.length : cut % (src.length + 1));
    for (const [at, v] of edits) if (bytes.length) bytes[at % bytes.length] = v;
    consume(bytes);
  }), { numRuns: 1500 });
});
