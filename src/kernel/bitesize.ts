// The bitesize demo: a program built here instruction by instruction, attached to block:block_rq_issue, counting
// request sizes into log2 slots of an in-kernel array map (bpftrace's hist() slots of bytes, or BCC bitehist's
// bpf_log2l slots of bytes / 1024), read and cleared from user space each interval.
import { readFileSync } from "node:fs";
import { insn, type Insn } from "../isa/ebpf/insn.ts";
import { BpfError } from "../errors.ts";
import { tracefsRoot } from "./perf.ts";
import { loadProgram, attachTracepoint, type Attachment, type LoadedProgram } from "./loader.ts";
import { formatBccLog2Hist, formatBpftraceHistMap } from "../trace/hist-format.ts";

export const HIST_SLOTS = 66;

/** The byte offset of a field in a tracepoint's record, from tracefs's format file. */
export function tracepointFieldOffset(category: string, name: string, field: string): { offset: number; size: number } {
  const text = readFileSync(`${tracefsRoot()}/events/${category}/${name}/format`, "utf8");
  const re = new RegExp(`field:[^;]*[ *]${field}(\\[\\d+\\])?;\\s*offset:(\\d+);\\s*size:(\\d+);`);
  const m = re.exec(text);
  if (!m) throw new BpfError("ENOENT", `tracepoint ${category}:${name} has no field '${field}'`);
  return { offset: Number(m[2]), size: Number(m[3]) };
}

/**
 * r1 = ctx. Loads the u32 at `bytesOffset`, computes its slot, and adds 1 to slot's u64 in map 0.
 * bpftrace: 0 → 1, else 2 + floor(log2 v). BCC: v >>= 10 (kbytes), then 1 + floor(log2 v) with 0 → 1.
 */
export function bitesizeProgram(bytesOffset: number, style: "bpftrace" | "bcc"): Insn[] {
  const p: Insn[] = [];
  p.push(insn(0x61, 1, 1, bytesOffset, 0)); // r1 = *(u32 *)(r1 + bytes)
  if (style === "bcc") p.push(insn(0x77, 1, 0, 0, 10)); // r1 >>= 10
  p.push(insn(0xbf, 3, 1)); // r3 = value (kept to test for zero)
  p.push(insn(0xb7, 2, 0, 0, 0)); // r2 = log2 accumulator
  for (const shift of [16, 8, 4, 2, 1]) {
    // if r1 <= (1 << shift) - 1 skip; else r1 >>= shift; r2 += shift
    p.push(insn(0xb5, 1, 0, 2, (1 << shift) - 1), insn(0x77, 1, 0, 0, shift), insn(0x07, 2, 0, 0, shift));
  }
  if (style === "bpftrace") {
    p.push(insn(0x07, 2, 0, 0, 2)); // slot = log2 + 2
    p.push(insn(0x55, 3, 0, 1, 0)); // if value != 0 keep it
    p.push(insn(0xb7, 2, 0, 0, 1)); // value 0 → slot 1
  } else {
    p.push(insn(0x07, 2, 0, 0, 1)); // slot = log2 + 1 (0 and 1 share slot 1)
  }
  p.push(
    insn(0x63, 10, 2, -4, 0), // *(u32 *)(r10 - 4) = slot
    insn(0xbf, 2, 10), insn(0x07, 2, 0, 0, -4),
    insn(0x18, 1, 1, 0, 0), insn(0), // r1 = map 0
    insn(0x85, 0, 0, 0, 1), // bpf_map_lookup_elem
    insn(0x15, 0, 0, 2, 0), // if r0 == 0 goto out
    insn(0xb7, 1, 0, 0, 1),
    insn(0xdb, 0, 1, 0, 0), // lock *(u64 *)(r0 + 0) += 1
    insn(0xb7, 0, 0, 0, 0), insn(0x95), // out: return 0
  );
  return p;
}

export interface Bitesize {
  readonly program: LoadedProgram;
  readonly link: Attachment;
  /** reads the slots and zeroes them (bpftrace's print + clear) */
  takeCounts(): bigint[];
  /** the interval's text in the chosen style */
  format(counts: readonly bigint[]): string;
  close(): void;
}

export function startBitesize(style: "bpftrace" | "bcc"): Bitesize {
  let field: { offset: number; size: number };
  try {
    field = tracepointFieldOffset("block", "block_rq_issue", "bytes");
  } catch (e) {
    throw new BpfError("UNSUPPORTED", `block:block_rq_issue has no 'bytes' field here: ${(e as Error).message}`);
  }
  const program = loadProgram({
    insns: bitesizeProgram(field.offset, style), progType: "tracepoint", name: "bitesize",
    maps: [{ type: "array", keySize: 4, valueSize: 8, maxEntries: HIST_SLOTS, name: "bitesize_hist" }],
  });
  let link: Attachment;
  try {
    link = attachTracepoint(program.fd, "block", "block_rq_issue");
  } catch (e) {
    program.close();
    throw e;
  }
  const map = program.maps[0]!;
  const zero = new Uint8Array(8);
  return {
    program, link,
    takeCounts() {
      const counts: bigint[] = [];
      for (let i = 0; i < HIST_SLOTS; i++) {
        const key = new Uint8Array(new Uint32Array([i]).buffer);
        const v = map.lookup(key)!;
        counts.push(new DataView(v.buffer).getBigUint64(0, true));
        if (counts[i]) map.update(key, zero);
      }
      return counts;
    },
    format(counts) {
      return style === "bcc" ? formatBccLog2Hist(counts, "kbytes") : formatBpftraceHistMap("bytes", counts);
    },
    close() {
      link.close();
      program.close();
    },
  };
}
