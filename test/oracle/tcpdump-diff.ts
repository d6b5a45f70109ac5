// Differential comparison of `bpfkit tcpdump` with the installed tcpdump over capture files: the share of identical
// output lines per flag set and per protocol (classified from tcpdump's own line). Used by tcpdump-print.test.ts
// and, for the whole corpus with a full report, by `node --import tsx test/oracle/tcpdump-diff.ts [--all]`.
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import tcpdump from "../../src/cli/tcpdump.ts";
import { openCapture } from "../../src/capture/index.ts";
import { DECODED_LINKTYPES } from "../../src/decode/index.ts";
import { linkTypeByFileValue } from "../../src/filter/index.ts";

/** 802.11 link types (plain, Prism, radiotap, AVS): their packets are reported under "802.11". */
const WIRELESS = new Set([105, 119, 127, 163]);

/**
 * The protocol a file's packets are reported under when its link type decides it: "link:NAME" when bpfkit has no
 * printer for the link type, "802.11" for wireless captures, else null (classified line by line).
 */
function linkClass(file: string): string | null {
  try {
    const lt = openCapture(readFileSync(file)).info.linktype;
    if (WIRELESS.has(lt)) return "802.11";
    return DECODED_LINKTYPES.has(lt) ? null : `link:${linkTypeByFileValue(lt)?.[0] ?? lt}`;
  } catch { return null; }
}

export const CORPUS = join(import.meta.dirname, "..", "..", "..", "..", "shared", "corpora", "pcaps");
const corpusRoot = existsSync(CORPUS) ? CORPUS : "/work/shared/corpora/pcaps";

export function corpusFiles(): string[] {
  const out: string[] = [];
  for (const d of ["tcpdump", "derived", "libpcap"]) {
    const dir = join(corpusRoot, d);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) if (/\.(pcap|pcapng)$/.test(f)) out.push(join(dir, f));
  }
  return out;
}

export function tcpdumpPath(): string | null {
  for (const p of ["/usr/bin/tcpdump", "/usr/sbin/tcpdump"]) if (existsSync(p)) return p;
  return null;
}

/** Protocols bpfkit decodes, each recognised in tcpdump's line; the first match names a packet's protocol. */
export const CLAIMED: readonly (readonly [string, RegExp])[] = [
  ["vxlan", /VXLAN, flags/], ["geneve", /Geneve, Flags/], ["gre", /GREv[01]/], ["mpls", /MPLS \(label/],
  ["dhcp", /BOOTP\/DHCP/], ["ntp", /NTPv\d/], ["http", /: HTTP/], ["dns", /\.(53|domain|5353|mdns): |\.(53|domain|5353|mdns) > .*: \d+/],
  ["icmp6", /ICMP6, /], ["icmp", /: ICMP /], ["igmp", /: igmp /], ["arp", /ARP, |ethertype (ARP|Reverse ARP) /],
  ["tcp", /\.\S+ > \S+: (Flags \[|tcp \d+)/], ["udp", /UDP, (bad )?length/],
];

/** Protocols tcpdump decodes inside the claimed ones that bpfkit does not (yet): named in the report, not asserted. */
const UNCLAIMED = /(OSPFv\d|PIMv\d|pimv1|RT6 |mobility|router renumbering|node information|who-are-you|Arista|SLARP|ESP\(|AH\(|sctp|VRRPv|RIPv|RADIUS|LDP|LSP-PING|sFlow|isakmp|NONESP|UDP-encap|SYSLOG|TFTP|NFS|babel|ipx|IPX|OpenFlow|STP|LLDP|CDP|EAP|LACP|PPPoE|DTP|VTP|LLC|802\.3|BFD|AHCP|dhcp6|HNCP|QUIC|lwres|RESP|DCCP|CARP|Geneve.*OAM|ERSPAN|SNMP|NBT|NetBIOS|mdns|DSA |EDSA|BRCM|unknown PPP|LCP|IPCP|CHAP|PAP|frag \(|ICMP6, (router renumbering|who-are-you|node)|Loopback|OSI|CLNP|IS-IS|ES-IS|DECnet|AARP|atalk|NTPv\d, Control|mode 7|truncated-ip|bad-len|bad-hlen|IP6, wrong|version error|\(invalid\))/;

const HEXDUMP = /^\t0x[0-9a-f]{4}: /;

function classify(line: string): string {
  const u = UNCLAIMED.exec(line);
  if (u) return `other:${u[1]!.trim().replace(/[(\\]/g, "")}`;
  // TCP carrying an application tcpdump decodes and bpfkit does not
  const app = /\.\S+ > \S+: Flags \[.*, length \d+: ([A-Za-z][A-Za-z0-9-]*)/.exec(line);
  if (app && !["HTTP", "SSH"].includes(app[1]!)) return `other:tcp-${app[1]}`;
  for (const [name, re] of CLAIMED) if (re.test(line)) return name;
  const m = /: ([A-Za-z][A-Za-z0-9/_-]*)/.exec(line.replace(/^\S+ /, ""));
  return "other:" + (m ? m[1] : "?");
}

export interface Tally { same: number; total: number; }
export interface Report {
  byFlags: Map<string, Tally>;
  byProto: Map<string, Tally>;
  /** protocol → file → differing lines */
  where: Map<string, Map<string, number>>;
  examples: Map<string, string[]>;
}

export function newReport(): Report {
  return { byFlags: new Map(), byProto: new Map(), where: new Map(), examples: new Map() };
}

const add = (m: Map<string, Tally>, k: string, same: boolean): void => {
  const t = m.get(k) ?? { same: 0, total: 0 };
  t.total++;
  if (same) t.same++;
  m.set(k, t);
};

const STAMP = /^(\s*\d+  )?(\d\d:\d\d:\d\d\.\d{6,9} |\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6,9} )/;

function records(text: string): string[][] {
  const out: string[][] = [];
  for (const line of text.split("\n")) {
    if (line === "" && out.length === 0) continue;
    if (STAMP.test(line) || out.length === 0) out.push([line]);
    else out[out.length - 1]!.push(line);
  }
  if (out.length && out[out.length - 1]!.length > 1 && out[out.length - 1]!.at(-1) === "") out[out.length - 1]!.pop();
  return out;
}

export async function runBpfkit(args: string[]): Promise<{ stdout: string; stderr: string; status: number }> {
  let stdout = "", stderr = "";
  const status = await tcpdump(args, { stdout: (s) => { stdout += s; }, stderr: (s) => { stderr += s; } });
  return { stdout, stderr, status };
}

export function runTcpdump(bin: string, args: string[]): { stdout: string; stderr: string; status: number } {
  const r = spawnSync(bin, args, { argv0: "tcpdump", encoding: "latin1", env: { ...process.env, TZ: "UTC" }, maxBuffer: 1 << 28 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
}

/** Compares one file under one flag set, adding to the report; returns the number of differing lines. */
export async function compareOne(bin: string, file: string, flags: readonly string[], report: Report): Promise<number> {
  const args = [...flags.filter((f) => !f.includes(" ") && !f.startsWith("expr:")), "-r", file, ...flags.filter((f) => f.startsWith("expr:")).map((f) => f.slice(5))];
  const want = runTcpdump(bin, args);
  const got = await runBpfkit(args);
  const key = flags.join(" ") || "(none)";
  const wr = records(want.stdout);
  const gr = records(got.stdout);
  let bad = 0;
  const verbose = flags.includes("-v");
  const link = linkClass(file);
  for (let i = 0; i < wr.length; i++) {
    const w = wr[i]!;
    const g = gr[i] ?? [];
    // -v puts the upper layers on the record's further lines: a record is named by the innermost protocol tcpdump
    // prints (an OSPF packet inside GRE is OSPF's); without -v further lines are payload dumps, not protocol text
    const proto = link ?? classify(verbose ? w.filter((l) => !HEXDUMP.test(l)).join(" ") : w[0]!);
    for (let j = 0; j < w.length; j++) {
      const same = w[j] === g[j];
      add(report.byFlags, key, same);
      add(report.byProto, proto, same);
      if (!same) {
        bad++;
        const per = report.where.get(proto) ?? new Map<string, number>();
        per.set(file, (per.get(file) ?? 0) + 1);
        report.where.set(proto, per);
        const ex = report.examples.get(proto) ?? [];
        if (ex.length < 40) ex.push(`${file.split("/").slice(-1)[0]} [${key}]\n  want: ${w[j]}\n  got:  ${g[j]}`);
        report.examples.set(proto, ex);
      }
    }
  }
  // stderr and exit status are part of the output too
  add(report.byFlags, key + " (stderr+status)", want.stderr === got.stderr && want.status === got.status);
  if (want.stderr !== got.stderr || want.status !== got.status) {
    const ex = report.examples.get("stderr") ?? [];
    if (ex.length < 6) ex.push(`${file} [${key}]\n  want: ${JSON.stringify(want.stderr)} ${want.status}\n  got:  ${JSON.stringify(got.stderr)} ${got.status}`);
    report.examples.set("stderr", ex);
  }
  return bad;
}

export const FLAG_SETS: readonly (readonly string[])[] = [
  [], ["-nn"], ["-e", "-nn"], ["-q", "-nn"], ["-tttt", "-nn"], ["-x", "-nn"], ["-X", "-nn"], ["-A", "-nn"], ["-v", "-nn"],
  ["-nn", "expr:tcp"], ["-nn", "expr:udp port 53"], ["-nn", "expr:not arp and not ip6"],
];

export function formatReport(r: Report): string {
  const pct = (t: Tally): string => `${(100 * t.same / Math.max(1, t.total)).toFixed(1)}% (${t.same}/${t.total})`;
  const lines: string[] = ["identical lines per flag set:"];
  for (const [k, t] of r.byFlags) lines.push(`  ${k.padEnd(34)} ${pct(t)}`);
  lines.push("identical lines per protocol:");
  for (const [k, t] of [...r.byProto].sort((a, b) => b[1].total - a[1].total)) lines.push(`  ${k.padEnd(34)} ${pct(t)}`);
  return lines.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const bin = tcpdumpPath();
  if (bin === null) { console.log("tcpdump not installed"); process.exit(0); }
  const only = process.argv.slice(2).filter((a) => !a.startsWith("--"));
  const files = corpusFiles().filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
  const setArg = process.argv.find((a) => a.startsWith("--set="));
  const sets = setArg ? [setArg.slice(6).split(",").filter((x) => x !== "")] : process.argv.includes("--quick") ? [["-nn"]] : FLAG_SETS;
  const report = newReport();
  for (const flags of sets) for (const f of files) await compareOne(bin, f, flags, report);
  console.log(formatReport(report));
  for (const [p, ex] of report.examples) {
    if (process.argv.includes("--examples") || process.argv.includes("--ex=" + p)) console.log(`== ${p}\n${ex.join("\n")}`);
  }
  void readFileSync;
}
