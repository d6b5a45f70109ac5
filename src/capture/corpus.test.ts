// Every file of the pcaps corpus reads like tcpdump 4.99.3 / libpcap 1.10.3 reads it (MANIFEST.tsv): the same
// packet count, snapshot length, first timestamp, and for the broken files the same error text after the same
// number of good packets.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { openCapture } from "./read.ts";
import { CaptureError } from "./types.ts";
import type { CapturePacket } from "./types.ts";

const DIR = fileURLToPath(new URL("../../../shared/corpora/pcaps/", import.meta.url));

interface Row { file: string; snaplen: string; packets: string; stderr: string; firstPacket: string; exit: string }

function manifest(): Row[] | null {
  if (!existsSync(DIR + "MANIFEST.tsv")) return null;
  const [head, ...lines] = readFileSync(DIR + "MANIFEST.tsv", "utf8").trimEnd().split("\n");
  const cols = head!.split("\t");
  return lines.map((l) => {
    const f = l.split("\t");
    const get = (c: string) => f[cols.indexOf(c)] ?? "";
    return { file: get("file"), snaplen: get("snaplen"), packets: get("packets"), stderr: get("stderr"),
      firstPacket: get("first_packet_e"), exit: get("exit_count") };
  });
}

interface Outcome { count: number; first?: CapturePacket; error?: CaptureError; snaplen?: number }

function readAll(bytes: Uint8Array | Uint8Array[]): Outcome {
  let count = 0;
  let first: CapturePacket | undefined;
  let snaplen: number | undefined;
  try {
    const cap = openCapture(bytes);
    snaplen = cap.info.snaplen;
    for (const p of cap.packets()) {
      if (count === 0) first = { ...p, data: p.data.slice() };
      count++;
    }
    return { count, ...(first ? { first } : {}), snaplen };
  } catch (e) {
    if (!(e instanceof CaptureError)) throw e;
    return { count, ...(first ? { first } : {}), error: e, ...(snaplen !== undefined ? { snaplen } : {}) };
  }
}

/** tcpdump's "HH:MM:SS.uuuuuu" for a timestamp, in UTC. */
const clock = (sec: number, nsec: number): string => {
  const d = ((sec % 86400) + 86400) % 86400;
  const p2 = (n: number) => String(n).padStart(2, "0");
  return `${p2(Math.floor(d / 3600))}:${p2(Math.floor(d / 60) % 60)}:${p2(d % 60)}.${String(Math.floor(nsec / 1000)).padStart(6, "0")}`;
};

const rows = manifest();

test("pcaps corpus: packet counts, snaplens, first timestamps and errors match tcpdump", (t) => {
  if (!rows) {
    console.log("SKIP pcaps corpus absent (../shared/corpora/pcaps)");
    t.skip("corpus absent");
    return;
  }
  const problems: string[] = [];
  for (const r of rows) {
    const bytes = new Uint8Array(readFileSync(DIR + r.file));
    const o = readAll(bytes);
    // tcpdump's filter compiler, not libpcap's reader, rejects this one's link type.
    const compileError = r.stderr.startsWith("tcpdump: unknown data link type");
    const expectedCount = r.packets === "" ? 0 : Number(r.packets);
    if (o.count !== expectedCount) problems.push(`${r.file}: ${o.count} packets, tcpdump ${expectedCount}`);
    const wantError = r.exit !== "0" && !compileError;
    if (wantError) {
      const want = r.stderr.split(" | ").find((s) => s.startsWith("tcpdump: ")) ?? r.stderr;
      const got = o.error?.tcpdumpText();
      if (got !== want) problems.push(`${r.file}: error ${JSON.stringify(got)}, tcpdump ${JSON.stringify(want)}`);
    } else if (o.error) {
      problems.push(`${r.file}: unexpected error ${o.error.message}`);
    }
    if (r.snaplen !== "" && o.snaplen !== Number(r.snaplen)) problems.push(`${r.file}: snaplen ${o.snaplen}, tcpdump ${r.snaplen}`);
    if (o.first && r.firstPacket) {
      const want = r.firstPacket.split(" ")[0];
      const got = clock(o.first.ts.sec, o.first.ts.nsec);
      if (got !== want) problems.push(`${r.file}: first timestamp ${got}, tcpdump ${want}`);
    }
  }
  assert.deepEqual(problems, []);
});

test("pcaps corpus: reading from 7-byte chunks gives the same packets as one buffer", (t) => {
  if (!rows) { t.skip("corpus absent"); return; }
  for (const file of ["tcpdump/dns_tcp.pcap", "derived/derived-pcapng-3if-be.pcapng", "derived/derived-trunc-record-data.pcap"]) {
    const bytes = new Uint8Array(readFileSync(DIR + file));
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 7) chunks.push(bytes.subarray(i, i + 7));
    const whole = readAll(bytes);
    const chunked = readAll(chunks);
    assert.equal(chunked.count, whole.count, file);
    assert.deepEqual(chunked.first?.data, whole.first?.data, file);
    assert.equal(chunked.error?.libpcapMessage, whole.error?.libpcapMessage, file);
  }
});

test("libpcap's savefiles: every filter test capture opens and reads to the end", (t) => {
  const dir = fileURLToPath(new URL("../../../shared/corpora/libpcap/savefiles/filter/", import.meta.url));
  if (!existsSync(dir)) {
    console.log("SKIP libpcap savefiles absent (../shared/corpora/libpcap/savefiles)");
    t.skip("corpus absent");
    return;
  }
  const files = readdirSync(dir);
  assert.ok(files.length > 30);
  for (const f of files) {
    const o = readAll(new Uint8Array(readFileSync(dir + f)));
    assert.equal(o.error, undefined, `${f}: ${o.error?.message}`);
    assert.ok(o.count > 0, f);
  }
});
