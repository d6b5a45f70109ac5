// The asynchronous reader gives exactly what the synchronous one gives, whatever the chunk sizes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { openCapture, readCaptureAsync } from "./read.ts";
import { CaptureError } from "./types.ts";

const DIR = fileURLToPath(new URL("../../../shared/corpora/pcaps/", import.meta.url));
const FILES = ["tcpdump/dns_tcp.pcap", "tcpdump/nhrp.pcapng", "derived/derived-pcapng-3if-be.pcapng",
  "derived/derived-modified-pcap.pcap", "derived/derived-trunc-record-data.pcap", "derived/derived-trunc-record-header.pcap",
  "derived/derived-trunc-pcapng-block.pcapng", "derived/derived-trunc-global-header.pcap", "derived/derived-empty.pcap",
  "derived/derived-pcapng-mixed-linktypes.pcapng", "libpcap/shb-option-too-long.pcapng", "derived/derived-be-nanosecond.pcap"];

type Summary = { packets: string[]; error?: string };

function syncSummary(bytes: Uint8Array): Summary {
  const packets: string[] = [];
  try {
    for (const p of openCapture(bytes).packets()) packets.push(`${p.interface}@${p.ts.sec}.${p.ts.nsec}:${Buffer.from(p.data).toString("hex")}`);
    return { packets };
  } catch (e) {
    if (!(e instanceof CaptureError)) throw e;
    return { packets, error: e.message };
  }
}

async function asyncSummary(stream: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>): Promise<Summary> {
  const packets: string[] = [];
  try {
    for await (const p of readCaptureAsync(stream)) packets.push(`${p.interface}@${p.ts.sec}.${p.ts.nsec}:${Buffer.from(p.data).toString("hex")}`);
    return { packets };
  } catch (e) {
    if (!(e instanceof CaptureError)) throw e;
    return { packets, error: e.message };
  }
}

async function* chunked(bytes: Uint8Array, sizes: number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length]!;
    await Promise.resolve();
    yield bytes.subarray(at, at + n);
    at += n;
  }
}

test("async reading matches sync reading for chunks of 1, 3, 7, 100, 4096 bytes and ReadableStreams", async (t) => {
  if (!existsSync(DIR)) {
    console.log("SKIP pcaps corpus absent (../shared/corpora/pcaps)");
    t.skip("corpus absent");
    return;
  }
  for (const f of FILES) {
    const bytes = new Uint8Array(readFileSync(DIR + f));
    const want = syncSummary(bytes);
    for (const sizes of [[1], [3, 7], [100], [4096], [5, 0, 333]]) {
      assert.deepEqual(await asyncSummary(chunked(bytes, sizes)), want, `${f} in chunks of ${sizes}`);
    }
    const stream = new ReadableStream<Uint8Array>({
      start(c) { for (let i = 0; i < bytes.length; i += 512) c.enqueue(bytes.slice(i, i + 512)); c.close(); },
    });
    assert.deepEqual(await asyncSummary(stream), want, `${f} as a ReadableStream`);
  }
});
