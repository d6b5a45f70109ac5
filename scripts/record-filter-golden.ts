// Records the golden corpus of test/fixtures/filter/golden.jsonl from Debian's tcpdump (4.99.3 / libpcap 1.10.3):
// for each expression of expressions.txt and each link type below, `tcpdump -y LT [-O] -d|-dd|-ddd -- EXPR`:
// stdout of the three dumps, stderr (without the `tcpdump: ` prefix) and the exit status.
// Usage: npx tsx scripts/record-filter-golden.ts   (needs tcpdump; no network, no privileges)
import { readFileSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";

const dir = new URL("../test/fixtures/filter/", import.meta.url);
const exprs = readFileSync(new URL("expressions.txt", dir), "utf8").split("\n").filter((l) => l.trim() !== "");
/** Every expression on Ethernet, optimized and not; a common subset on the other link types. */
const LINK_TYPES = ["RAW", "LINUX_SLL", "LINUX_SLL2", "NULL", "LOOP", "PPP", "IEEE802_11_RADIO", "C_HDLC", "IEEE802_11",
  "FRELAY", "ARCNET_LINUX", "IPV4", "IPV6", "PPP_SERIAL", "JUNIPER_ETHER", "ATM_RFC1483", "NFLOG", "MFR"];
const SUBSET_EVERY = 6;

function tcpdump(lt: string, optimize: boolean, flag: string, expr: string): { out: string; err: string; status: number } {
  const r = spawnSync("tcpdump", ["-y", lt, ...(optimize ? [] : ["-O"]), flag, "--", expr], { encoding: "utf8" });
  return { out: r.stdout, err: r.stderr.replace(/^tcpdump: /gm, ""), status: r.status ?? -1 };
}

const lines: string[] = [];
const record = (expr: string, linktype: string, optimize: boolean): void => {
  const d = tcpdump(linktype, optimize, "-d", expr);
  const dd = d.status === 0 ? tcpdump(linktype, optimize, "-dd", expr).out : "";
  const ddd = d.status === 0 ? tcpdump(linktype, optimize, "-ddd", expr).out : "";
  lines.push(JSON.stringify({ expr, linktype, optimize, d: d.out, dd, ddd, stderr: d.err, status: d.status }));
};
exprs.forEach((e) => { record(e, "EN10MB", true); record(e, "EN10MB", false); });
for (const lt of LINK_TYPES) exprs.forEach((e, i) => { if (i % SUBSET_EVERY === LINK_TYPES.indexOf(lt) % SUBSET_EVERY) record(e, lt, true); });
// Link-type specific expressions ("LT<TAB>expr" lines), optimized and with -O.
for (const line of readFileSync(new URL("linktype-expressions.txt", dir), "utf8").split("\n")) {
  if (line.trim() === "" || line.startsWith("#")) continue;
  const [lt, expr] = line.split("\t") as [string, string];
  record(expr, lt, true);
  record(expr, lt, false);
}
writeFileSync(new URL("golden.jsonl", dir), lines.join("\n") + "\n");
console.log(`recorded ${lines.length} cases`);
