// A worker CPU for the playground: filters its share of a capture's records (the file in a SharedArrayBuffer all
// workers read) with the same compiled filter the main thread would use, and posts back the counts and first matches.
import { compileFilter, compileOfflineFilterJs, linkTypeByFileValue, pcapLeHeader } from "../../src/filter/index.ts";
import { filterPcapRecords, summarizeRecord, type PacketRow } from "./playground.ts";

export interface FilterJob { readonly buffer: SharedArrayBuffer; readonly expr: string; readonly optimize: boolean; readonly from: number; readonly to: number; readonly firstN: number; readonly maxRows: number }
export interface FilterJobResult { readonly matched: number; readonly seen: number; readonly rows: PacketRow[]; readonly error?: string }

self.onmessage = (ev: MessageEvent<FilterJob>) => {
  const j = ev.data;
  const bytes = new Uint8Array(j.buffer);
  const rows: PacketRow[] = [];
  try {
    const hdr = pcapLeHeader(bytes)!;
    const row = linkTypeByFileValue(hdr.linktype);
    const prog = compileFilter(j.expr, { linktype: row ? row[1] : hdr.linktype, optimize: j.optimize, snaplen: hdr.snaplen, readingFile: true });
    const run = compileOfflineFilterJs(prog.insns);
    const r = filterPcapRecords(bytes, run, j.from, j.to, (off, end, n) => {
      if (rows.length < j.maxRows) rows.push(summarizeRecord(bytes, off, end, n, hdr.linktype));
    }, j.firstN);
    (self as unknown as Worker).postMessage(r ? { ...r, rows } : { matched: 0, seen: 0, rows, error: "irregular record" });
  } catch (e) {
    (self as unknown as Worker).postMessage({ matched: 0, seen: 0, rows, error: e instanceof Error ? e.message : String(e) });
  }
};
