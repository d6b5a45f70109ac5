// Log2 histograms printed the way their tools print them: bpftrace's hist() (v0.17 text output: 16-column label,
// 8-column count, a 52-column bar of '@') and BCC's print_log2_hist (`kbytes : count distribution`, 40 stars).
// Slot numbering is each tool's own: bpftrace 0 = negative, 1 = zero, 2 + floor(log2 v) otherwise;
// BCC 1 + floor(log2 v) with 0 and 1 sharing slot 1 (its bpf_log2l).

/** bpftrace's hist() slot of a value. */
export function bpftraceHistSlot(v: bigint): number {
  if (v < 0n) return 0;
  if (v === 0n) return 1;
  return 2 + v.toString(2).length - 1;
}

/** BCC's bpf_log2l slot of a value. */
export function bccLog2Slot(v: bigint): number {
  return v <= 1n ? 1 : v.toString(2).length;
}

function powerLabel(power: number): string {
  // bpftrace 0.17 stops at T: 2^50 prints as 1024T
  const suffixes = ["", "K", "M", "G", "T"];
  const unit = Math.min(Math.floor(power / 10), suffixes.length - 1);
  return `${1n << BigInt(power - unit * 10)}${suffixes[unit]}`;
}

export function bpftraceLabel(slot: number): string {
  if (slot === 0) return "(..., 0)";
  if (slot === 1) return "[0]";
  if (slot === 2) return "[1]";
  return `[${powerLabel(slot - 2)}, ${powerLabel(slot - 1)})`;
}

/** The lines of one bpftrace hist() map print (without the "@name: " header), from the first to the last non-zero slot. */
export function formatBpftraceHist(counts: readonly bigint[]): string {
  let min = -1, max = -1;
  let top = 0n;
  counts.forEach((c, i) => {
    if (c > 0n) { if (min < 0) min = i; max = i; }
    if (c > top) top = c;
  });
  if (max < 0) return "";
  let s = "";
  for (let i = min; i <= max; i++) {
    const c = counts[i] ?? 0n;
    // bpftrace: bar width = value / (float)max * 52, truncated
    const bar = Math.trunc(Math.fround(Math.fround(Math.fround(Number(c)) / Math.fround(Number(top))) * 52));
    s += bpftraceLabel(i).padEnd(16) + String(c).padStart(8) + " |" + "@".repeat(bar).padEnd(52) + "|\n";
  }
  return s;
}

/** bpftrace's print(@name) of a hist map: "@name: ", the lines, then an empty line. */
export function formatBpftraceHistMap(name: string, counts: readonly bigint[]): string {
  return `@${name}: \n${formatBpftraceHist(counts)}\n`;
}

function bccStars(val: bigint, max: bigint, width: number): string {
  let text = "";
  for (let i = 0; ; i++) {
    if (i > width * Number(val) / Number(max) - 1 || i > width - 1) break;
    text += "*";
  }
  if (val > max) text = text.slice(0, -1) + "+";
  return text;
}

/** BCC's print_log2_hist(vals, valType): header when any slot above 0 is set, then slots 1..last non-zero. */
export function formatBccLog2Hist(counts: readonly bigint[], valType: string): string {
  let idxMax = -1;
  let valMax = 0n;
  counts.forEach((v, i) => {
    if (v > 0n) idxMax = i;
    if (v > valMax) valMax = v;
  });
  const wide = idxMax > 32;
  const stars = wide ? 20 : 40;
  let s = "";
  if (idxMax > 0) s += wide ? `               ${valType.padEnd(29)} : count     distribution\n` : `     ${valType.padEnd(19)} : count     distribution\n`;
  for (let i = 1; i <= idxMax; i++) {
    let low = (1n << BigInt(i)) >> 1n;
    const high = (1n << BigInt(i)) - 1n;
    if (low === high) low -= 1n;
    const v = counts[i] ?? 0n;
    const w = wide ? 20 : 10;
    s += `${String(low).padStart(w)} -> ${String(high).padEnd(w)} : ${String(v).padEnd(8)} |${bccStars(v, valMax, stars).padEnd(stars)}|\n`;
  }
  return s;
}
