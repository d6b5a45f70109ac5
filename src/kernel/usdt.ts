// USDT probes on Linux: the .note.stapsdt notes of an ELF file (src/object/usdt.ts) attached as uprobes at each
// matching note's address, with the note's semaphore as the uprobe's reference counter (the kernel increments it
// in every process that maps the file while the probe is attached, as libbpf does with ref_ctr_offset).
import { readFileSync, statSync } from "node:fs";
import { BpfError } from "../errors.ts";
import type { Attachment } from "../runtime/backend.ts";
import { usdtNotes, matchUsdt, type UsdtNote } from "../object/usdt.ts";
import { attachUprobe } from "./loader.ts";

const cache = new Map<string, { mtime: number; notes: UsdtNote[] }>();

/** The USDT notes of the ELF file at `path` (cached while the file is unchanged). */
export function readUsdtNotes(path: string): UsdtNote[] {
  let mtime = 0;
  try { mtime = statSync(path).mtimeMs; } catch { return []; }
  const hit = cache.get(path);
  if (hit && hit.mtime === mtime) return hit.notes;
  let notes: UsdtNote[] = [];
  try { notes = usdtNotes(new Uint8Array(readFileSync(path))); } catch { notes = []; }
  cache.set(path, { mtime, notes });
  return notes;
}

/** Attaches a kprobe-type program at every location of PROVIDER:NAME in `path` (provider "" matches any). */
export function attachUsdt(progFd: number, path: string, provider: string, name: string, pid?: number): Attachment {
  const notes = matchUsdt(readUsdtNotes(path), provider, name);
  if (notes.length === 0) throw new BpfError("ENOENT", `usdt probe ${provider ? `${provider}:` : ""}${name} not found in ${path}`);
  const parts: Attachment[] = [];
  try {
    for (const n of notes) {
      parts.push(attachUprobe(progFd, path, n.offset, { pid, ...(n.semaphoreOffset ? { refCtrOffset: n.semaphoreOffset } : {}) }));
    }
  } catch (e) {
    for (const p of parts) p.close();
    throw e;
  }
  return { kind: "usdt", close() { for (const p of parts) p.close(); } };
}
